//! `Client.run_batch` and `AsyncClient.run_batch`: orders from a file (a
//! path) or any iterable of dicts, paid by the core's batch runner; results
//! come back as dicts, as each order finishes.

use std::sync::Arc;

use aopay_core::batch::{BatchOptions, BatchRun, Order, OrderStream, RowError, batch_option_in};
use aopay_core::{Lang, ValidationError};
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::asyncio::{AsyncCall, Payload};
use crate::convert::{self, invalid, json_to_py};
use crate::errors::to_py_err;
use crate::options::value_from_py;

type Shared = Arc<tokio::sync::Mutex<BatchRun>>;

/// The options of `run_batch`, each converted by the kind the core's table
/// gives it (`aopay_core::batch::BATCH_OPTIONS`) and checked by its rules
/// before anything is read or sent. `None` means the default.
pub(crate) fn options(keywords: Option<&Bound<'_, PyDict>>) -> PyResult<BatchOptions> {
    let mut o = BatchOptions::default();
    for (name, obj) in keywords.into_iter().flat_map(|k| k.iter()) {
        let name = name.cast::<PyString>()?.to_cow()?.into_owned();
        let option = batch_option_in(Lang::Python, &name).map_err(invalid)?;
        if obj.is_none() {
            continue;
        }
        if let Some(value) = value_from_py(option.name, option.kind, &obj)? {
            o = o.set(option.name, value).map_err(invalid)?;
        }
    }
    Ok(o)
}

/// `run_batch` of either client: the options checked, the orders opened
/// (inside `rt`, which reads a file on its blocking threads), the batch
/// started on `rt`.
pub(crate) fn begin(
    client: &aopay_core::Client,
    rt: &tokio::runtime::Runtime,
    orders_in: &Bound<'_, PyAny>,
    keywords: Option<&Bound<'_, PyDict>>,
) -> PyResult<BatchRun> {
    let options = options(keywords)?;
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
