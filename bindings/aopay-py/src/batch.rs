//! `Client.run_batch` and `AsyncClient.run_batch`: orders from a file (a
//! path) or any iterable of dicts, paid by the core's batch runner; results
//! come back as dicts, as each order finishes.

use std::sync::Arc;

use aopay_core::batch::{BatchOptions, BatchRun, Order, OrderStream, RowError};
use aopay_core::{Lang, ValidationError};
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::asyncio::{AsyncCall, Payload};
use crate::convert::{self, invalid, json_to_py};
use crate::errors::to_py_err;

type Shared = Arc<tokio::sync::Mutex<BatchRun>>;

/// The options of `run_batch`, checked (by the core's rules) before
/// anything is read or sent.
pub(crate) fn options(
    concurrency: i64,
    rate: Option<&Bound<'_, PyAny>>,
    wait_timeout: Option<&Bound<'_, PyAny>>,
    attempts: i64,
    geocode: Option<&Bound<'_, PyAny>>,
    resend_unarrived: Option<&Bound<'_, PyAny>>,
    create_journal: Option<&Bound<'_, PyAny>>,
) -> PyResult<BatchOptions> {
    let mut o = BatchOptions::default()
        .with_concurrency(concurrency)
        .and_then(|o| o.with_attempts(attempts))
        .map_err(invalid)?;
    let flag = |name: &'static str, v: Option<&Bound<'_, PyAny>>| -> PyResult<Option<bool>> {
        match v {
            None => Ok(None),
            Some(v) => match v.cast::<pyo3::types::PyBool>() {
                Ok(b) => Ok(Some(b.is_true())),
                Err(_) => Err(convert::wrong_type(name, "True or False", v)),
            },
        }
    };
    if let Some(r) = flag("resend_unarrived", resend_unarrived)? {
        o = o.with_resend_unarrived(r);
    }
    if let Some(c) = flag("create_journal", create_journal)? {
        o = o.with_create_journal(c);
    }
    match rate {
        None => {}
        Some(r) if r.is_none() => {}
        Some(r) if r.is_instance_of::<PyString>() => {
            o = o
                .with_rate_text(&convert::text_from_py("rate", r)?)
                .map_err(invalid)?;
        }
        Some(r) if r.is_instance_of::<pyo3::types::PyBool>() => {
            return Err(convert::wrong_type(
                "rate",
                "a str (\"200/s\") or a number per second",
                r,
            ));
        }
        Some(r) => {
            let per_second: f64 = r.extract().map_err(|_| {
                convert::wrong_type("rate", "a str (\"200/s\") or a number per second", r)
            })?;
            o = o.with_rate_per_second(per_second).map_err(invalid)?;
        }
    }
    match wait_timeout {
        Some(w) if w.is_none() => o.wait = None,
        Some(w) => {
            o = o
                .with_wait_secs("wait_timeout", convert::seconds_from_py("wait_timeout", w)?)
                .map_err(invalid)?;
        }
        None => {}
    }
    if let Some(g) = convert::opt_text_from_py("geocode", geocode)? {
        o = o.with_geocode(g);
    }
    Ok(o)
}

/// `run_batch` of either client: the options checked, the orders opened
/// (inside `rt`, which reads a file on its blocking threads), the batch
/// started on `rt`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn begin(
    client: &aopay_core::Client,
    rt: &tokio::runtime::Runtime,
    orders_in: &Bound<'_, PyAny>,
    concurrency: i64,
    rate: Option<&Bound<'_, PyAny>>,
    wait_timeout: Option<&Bound<'_, PyAny>>,
    attempts: i64,
    geocode: Option<&Bound<'_, PyAny>>,
    resend_unarrived: Option<&Bound<'_, PyAny>>,
    create_journal: Option<&Bound<'_, PyAny>>,
) -> PyResult<BatchRun> {
    let options = options(
        concurrency,
        rate,
        wait_timeout,
        attempts,
        geocode,
        resend_unarrived,
        create_journal,
    )?;
    // Checked before the orders are touched: a refused batch reads none.
    client.check_batch(&options).map_err(to_py_err)?;
    let _entered = rt.enter();
    let stream = orders(orders_in)?;
    client.run_batch(stream, options).map_err(to_py_err)
}

/// One order from a dict: `order_id`, `kind` (optional) and the write's
/// keyword arguments.
fn order_from_py(line: u64, obj: &Bound<'_, PyAny>) -> Result<Order, RowError> {
    let row_error = |e: PyErr| RowError {
        line,
        order_id: None,
        error: ValidationError::new("order", e.to_string()).into(),
    };
    let dict = obj.cast::<PyDict>().map_err(|_| RowError {
        line,
        order_id: None,
        error: ValidationError::new("order", "must be a dict").into(),
    })?;
    let mut order_id = String::new();
    let mut kind = None;
    let mut fields = Vec::new();
    for (k, v) in dict.iter() {
        let name: String = k.extract().map_err(row_error)?;
        match name.as_str() {
            "order_id" if v.is_instance_of::<pyo3::types::PyInt>() => {
                order_id = v.str().map_err(row_error)?.to_string();
            }
            "order_id" => order_id = convert::text_from_py("order_id", &v).map_err(row_error)?,
            "kind" if v.is_none() => {}
            "kind" => kind = Some(convert::text_from_py("kind", &v).map_err(row_error)?),
            _ => fields.push((name, convert::arg_from_py(&v).map_err(row_error)?)),
        }
    }
    Order::new(line, &order_id, kind.as_deref(), Lang::Python, fields)
}

/// The orders: a path (`str` or `os.PathLike`) is read as a file; anything
/// else is iterated, on a thread of its own, a few orders ahead.
pub(crate) fn orders(orders: &Bound<'_, PyAny>) -> PyResult<OrderStream> {
    let py = orders.py();
    let os = py.import("os")?;
    if orders.is_instance_of::<PyString>() || orders.is_instance(&os.getattr("PathLike")?)? {
        let path: String = os.call_method1("fspath", (orders,))?.extract()?;
        return OrderStream::open(std::path::Path::new(&path), None).map_err(|e| {
            invalid(ValidationError::new(
                "orders",
                format!("cannot read {path}: {e}"),
            ))
        });
    }
    let iter = orders
        .try_iter()
        .map_err(|_| convert::wrong_type("orders", "a path or an iterable of dicts", orders))?
        .unbind();
    let (tx, stream) = OrderStream::channel(256);
    std::thread::Builder::new()
        .name("aopay-batch-orders".into())
        .spawn(move || {
            for line in 1u64.. {
                let item = crate::asyncio::attach_from_worker(|py| {
                    let mut it = iter.bind(py).clone();
                    it.next().map(|r| match r {
                        Ok(obj) => order_from_py(line, &obj),
                        Err(e) => Err(RowError {
                            line,
                            order_id: None,
                            error: ValidationError::new(
                                "orders",
                                format!("the iterable raised {e}; no order after it is read"),
                            )
                            .into(),
                        }),
                    })
                });
                let Some(Some(item)) = item else { break };
                let end = item
                    .as_ref()
                    .is_err_and(|e| e.error.field() == Some("orders"));
                if tx.blocking_send(item).is_err() || end {
                    break;
                }
            }
        })
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    Ok(stream)
}

/// The results of a batch of the sync `Client`: an iterator of dicts.
#[pyclass(frozen, module = "aopay._aopay", name = "BatchRun")]
pub(crate) struct PyBatchRun {
    run: Shared,
    stop: aopay_core::batch::BatchStop,
    /// The client whose runtime (one per process) runs the batch: it
    /// progresses while the loop waits for its next result.
    client: Py<crate::PyClient>,
}

impl std::fmt::Debug for PyBatchRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BatchRun")
    }
}

impl PyBatchRun {
    pub(crate) fn new(run: BatchRun, client: Py<crate::PyClient>) -> Self {
        Self {
            stop: run.stopper(),
            run: Arc::new(tokio::sync::Mutex::new(run)),
            client,
        }
    }
}

#[pymethods]
impl PyBatchRun {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let run = Arc::clone(&self.run);
        let rt = self.client.get().runtime()?;
        let next = crate::runtime::block_on_interruptibly(py, rt, async move {
            Ok(run.lock().await.next().await)
        })?;
        match next {
            Some(r) => json_to_py(py, &r.to_json_value()),
            None => Err(PyStopIteration::new_err(())),
        }
    }

    /// Take no new order; the ones in flight finish (Ctrl-C in the loop
    /// abandons them: the next run settles them).
    fn stop(&self) {
        self.stop.stop();
    }
}

/// The results of a batch of `AsyncClient`: an async iterator of dicts.
#[pyclass(frozen, module = "aopay._aopay", name = "AsyncBatchRun")]
pub(crate) struct PyAsyncBatchRun {
    run: Shared,
    stop: aopay_core::batch::BatchStop,
}

impl std::fmt::Debug for PyAsyncBatchRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AsyncBatchRun")
    }
}

impl PyAsyncBatchRun {
    pub(crate) fn new(run: BatchRun) -> Self {
        let stop = run.stopper();
        Self {
            run: Arc::new(tokio::sync::Mutex::new(run)),
            stop,
        }
    }
}

#[pymethods]
impl PyAsyncBatchRun {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__(&self) -> AsyncCall {
        let run = Arc::clone(&self.run);
        AsyncCall::new(
            "run_batch",
            async move {
                Ok(match run.lock().await.next().await {
                    Some(r) => Payload::Json(r.to_json_value()),
                    None => Payload::EndOfIteration,
                })
            },
            // Cancelling one wait for a result leaves the batch running.
            false,
        )
    }

    /// Take no new order; the ones in flight finish.
    fn stop(&self) {
        self.stop.stop();
    }
}
