//! `Client` (blocking) and `AsyncClient` (asyncio): the hand-written
//! methods of both (the generated ones are in `aopay/_endpoints.py`, over
//! the generic `_call`).

use aopay_core::{MobileRecharge, WaitOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::asyncio::{AsyncCall, BATCHES, Payload};
use crate::convert::{self, json_to_py, mobile_recharge_from_py, py_repr};
use crate::errors::to_py_err;
use crate::recharge::PyRecharge;
use crate::runtime::{self, block_on_interruptibly, blocking_runtime, runtime};
use crate::{asyncio, batch, journal, logging, options};

fn wait_options(
    timeout: Option<&Bound<'_, PyAny>>,
    initial_interval: Option<&Bound<'_, PyAny>>,
    max_interval: Option<&Bound<'_, PyAny>>,
) -> PyResult<WaitOptions> {
    use convert::duration_from_py;
    // Absent: the core's defaults.
    let d = WaitOptions::default();
    Ok(
        WaitOptions::with_timeout(duration_from_py("timeout", timeout, d.timeout)?).intervals(
            duration_from_py("initial_interval", initial_interval, d.initial_interval)?,
            duration_from_py("max_interval", max_interval, d.max_interval)?,
        ),
    )
}

fn client_repr(py: Python<'_>, name: &str, c: &aopay_core::Client) -> String {
    // Header names only: values are credentials.
    let headers: Vec<String> = c.header_names().map(|h| py_repr(py, Some(h))).collect();
    format!(
        "{name}(registration_id={}, base_url={}, timeout={}, headers=[{}])",
        py_repr(py, Some(c.registration_id().as_str())),
        py_repr(py, Some(c.base_url())),
        c.timeout().as_secs_f64(),
        headers.join(", ")
    )
}

/// A blocking client. Share one per process: it is thread-safe, and every
/// call releases the GIL.
#[pyclass(frozen, subclass, module = "aopay._aopay", name = "Client")]
#[derive(Debug)]
pub struct PyClient {
    inner: aopay_core::Client,
    rt: aopay_core::PerProcess<runtime::OwnRuntime>,
}

#[pymethods]
impl PyClient {
    #[new]
    /// The positional arguments, then any option of
    /// `aopay_core::CLIENT_OPTIONS` by keyword (`None`: its default).
    #[pyo3(signature = (registration_id, base_url=None, timeout=None, connect_timeout=None, headers=None, **options))]
    fn new(
        registration_id: &Bound<'_, PyAny>,
        base_url: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        connect_timeout: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let positional = [
            Some(registration_id),
            base_url,
            timeout,
            connect_timeout,
            headers,
        ];
        logging::_refresh_logging(registration_id.py())?;
        let inner = options::build_client(positional, options, "sync")?;
        Ok(Self {
            inner,
            rt: blocking_runtime()?,
        })
    }

    #[pyo3(signature = (*, product_id, amount, customer_number, geocode, idempotency_key=None))]
    fn mobile_recharge(
        &self,
        py: Python<'_>,
        product_id: &Bound<'_, PyAny>,
        amount: &Bound<'_, PyAny>,
        customer_number: &Bound<'_, PyAny>,
        geocode: &Bound<'_, PyAny>,
        idempotency_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyRecharge> {
        let req = mobile_recharge_from_py(
            product_id,
            amount,
            customer_number,
            geocode,
            idempotency_key,
        )?;
        let client = self.inner.clone();
        block_on_interruptibly(py, runtime::this_process(&self.rt)?, async move {
            client.mobile_recharge(&req).await
        })
        .map(PyRecharge::from)
    }

    fn recharge_status(
        &self,
        py: Python<'_>,
        reference_id: &Bound<'_, PyAny>,
    ) -> PyResult<PyRecharge> {
        let client = self.inner.clone();
        let reference = convert::text_from_py("reference_id", reference_id)?;
        block_on_interruptibly(py, runtime::this_process(&self.rt)?, async move {
            client.recharge_status(&reference).await
        })
        .map(PyRecharge::from)
    }

    /// The one generic call behind the generated methods (`aopay._endpoints`):
    /// `method` is an endpoint of the core's table, `args` its keyword
    /// arguments; the answer comes back as a dict of its fields.
    fn _call<'py>(
        &self,
        py: Python<'py>,
        method: &Bound<'py, PyAny>,
        args: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let method = convert::text_from_py("endpoint", method)?;
        let call = self
            .inner
            .prepare(&method, &convert::args_from_py(args)?)
            .map_err(to_py_err)?;
        let v = block_on_interruptibly(py, runtime::this_process(&self.rt)?, call)?;
        json_to_py(py, &v)
    }

    /// `wait_for_final` for a `Payment` (the generated wrapper calls it):
    /// polls `status_call` for `reference_id`; a dict of the `Payment`.
    #[pyo3(signature = (status_call, reference_id, timeout=None, initial_interval=None, max_interval=None))]
    fn _wait_payment<'py>(
        &self,
        py: Python<'py>,
        status_call: &Bound<'py, PyAny>,
        reference_id: &Bound<'py, PyAny>,
        timeout: Option<&Bound<'py, PyAny>>,
        initial_interval: Option<&Bound<'py, PyAny>>,
        max_interval: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (status_call, reference, opts) = payment_wait(
            status_call,
            reference_id,
            timeout,
            initial_interval,
            max_interval,
        )?;
        let client = self.inner.clone();
        let v = block_on_interruptibly(py, runtime::this_process(&self.rt)?, async move {
            let p = client
                .wait_for_payment(&status_call, &reference, opts)
                .await?;
            Ok::<_, aopay_core::Error>(aopay_core::Answer::to_json_value(&p))
        })?;
        json_to_py(py, &v)
    }

    #[pyo3(signature = (reference_id, timeout=None, *, initial_interval=None, max_interval=None))]
    fn wait_for_final(
        &self,
        py: Python<'_>,
        reference_id: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
        initial_interval: Option<&Bound<'_, PyAny>>,
        max_interval: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyRecharge> {
        let opts = wait_options(timeout, initial_interval, max_interval)?;
        let client = self.inner.clone();
        let reference = convert::text_from_py("reference_id", reference_id)?;
        block_on_interruptibly(py, runtime::this_process(&self.rt)?, async move {
            client.wait_for_final(&reference, opts).await
        })
        .map(PyRecharge::from)
    }

    /// Pay every order once through the journal (docs/protocol.md §9);
    /// an iterator of result dicts, as each order finishes. The options
    /// are `aopay_core::batch::BATCH_OPTIONS`, by keyword.
    #[pyo3(signature = (orders, **options))]
    fn run_batch(
        slf: &Bound<'_, Self>,
        orders: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<batch::PyBatchRun> {
        let this = slf.get();
        let rt = this.runtime()?;
        let run = batch::begin(&this.inner, rt, orders, options)?;
        Ok(batch::PyBatchRun::new(run, slf.clone().unbind()))
    }

    /// Journal entries that are not final, as dicts (oldest first).
    fn journal_pending<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        let v = block_on_interruptibly(py, runtime::this_process(&self.rt)?, async move {
            journal::pending_json(&client).await
        })?;
        convert::json_to_py(py, &v)
    }

    /// Check every unresolved entry that has a reference; one dict each.
    fn reconcile_journal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        let v = block_on_interruptibly(py, runtime::this_process(&self.rt)?, async move {
            journal::reconcile_json(&client).await
        })?;
        convert::json_to_py(py, &v)
    }

    /// Settle by hand an entry neither final nor in flight, with what the
    /// AOPay statement shows; kept with who, when and why. The entry.
    #[pyo3(signature = (key, *, status, note, reference_id = None))]
    fn journal_settle<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        status: &Bound<'py, PyAny>,
        note: &Bound<'py, PyAny>,
        reference_id: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = [
            ("status", Some(status)),
            ("note", Some(note)),
            ("reference_id", reference_id),
        ];
        self.by_hand(py, journal::by_hand_of("settle", key, &options)?)
    }

    /// Release by hand an entry neither final nor in flight (never paid,
    /// says the statement): the next call with its key sends. The entry.
    #[pyo3(signature = (key, *, note))]
    fn journal_release<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        note: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.by_hand(
            py,
            journal::by_hand_of("release", key, &[("note", Some(note))])?,
        )
    }

    /// What was settled or released by hand for `key`: who, when, why.
    fn journal_audit<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.by_hand(py, journal::by_hand_of("audit", key, &[])?)
    }

    /// Close the client: no new call is taken; the calls in flight end
    /// (their outcomes recorded); the journal is left whole in its file.
    /// Closing twice is closing once.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let client = self.inner.clone();
        block_on_interruptibly(py, runtime::this_process(&self.rt)?, async move {
            client.close().await;
            Ok::<(), aopay_core::Error>(())
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<()> {
        self.close(py)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        client_repr(py, "Client", &self.inner)
    }
}

impl PyClient {
    /// This process's runtime of the client (a forked child gets its own).
    pub(crate) fn runtime(&self) -> PyResult<&tokio::runtime::Runtime> {
        runtime::this_process(&self.rt)
    }

    fn by_hand<'py>(
        &self,
        py: Python<'py>,
        action: aopay_core::ByHand,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        let v = block_on_interruptibly(py, self.runtime()?, async move {
            journal::by_hand_json(&client, action).await
        })?;
        convert::json_to_py(py, &v)
    }
}

impl PyAsyncClient {
    fn by_hand(&self, name: &'static str, action: aopay_core::ByHand) -> AsyncCall {
        let client = self.inner.clone();
        AsyncCall::new(
            name,
            async move {
                journal::by_hand_json(&client, action)
                    .await
                    .map(Payload::Json)
            },
            true,
        )
    }
}

/// An asyncio client: the same methods as coroutines; many calls may be in
/// flight at once on one client.
#[pyclass(frozen, subclass, module = "aopay._aopay", name = "AsyncClient")]
#[derive(Debug)]
pub struct PyAsyncClient {
    inner: aopay_core::Client,
}

#[pymethods]
impl PyAsyncClient {
    #[new]
    /// The positional arguments, then any option of
    /// `aopay_core::CLIENT_OPTIONS` by keyword (`None`: its default).
    #[pyo3(signature = (registration_id, base_url=None, timeout=None, connect_timeout=None, headers=None, **options))]
    fn new(
        registration_id: &Bound<'_, PyAny>,
        base_url: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        connect_timeout: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let positional = [
            Some(registration_id),
            base_url,
            timeout,
            connect_timeout,
            headers,
        ];
        logging::_refresh_logging(registration_id.py())?;
        let inner = options::build_client(positional, options, "async")?;
        Ok(Self { inner })
    }

    #[pyo3(signature = (*, product_id, amount, customer_number, geocode, idempotency_key=None))]
    fn mobile_recharge(
        &self,
        product_id: &Bound<'_, PyAny>,
        amount: &Bound<'_, PyAny>,
        customer_number: &Bound<'_, PyAny>,
        geocode: &Bound<'_, PyAny>,
        idempotency_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<AsyncCall> {
        let req: MobileRecharge = mobile_recharge_from_py(
            product_id,
            amount,
            customer_number,
            geocode,
            idempotency_key,
        )?;
        let client = self.inner.clone();
        let call = async move { client.mobile_recharge(&req).await.map(Payload::Recharge) };
        Ok(AsyncCall::new("mobile_recharge", call, false))
    }

    fn recharge_status(&self, reference_id: &Bound<'_, PyAny>) -> PyResult<AsyncCall> {
        let client = self.inner.clone();
        let reference = convert::text_from_py("reference_id", reference_id)?;
        aopay_core::ReferenceId::new(reference.as_str()).map_err(|e| to_py_err(e.into()))?;
        let call = async move {
            client
                .recharge_status(&reference)
                .await
                .map(Payload::Recharge)
        };
        Ok(AsyncCall::new("recharge_status", call, true))
    }

    /// The one generic call behind the generated methods: checked now,
    /// sent when first awaited; resolves to a dict of the answer's fields.
    fn _call(&self, method: &Bound<'_, PyAny>, args: &Bound<'_, PyAny>) -> PyResult<AsyncCall> {
        let method = convert::text_from_py("endpoint", method)?;
        let call = self
            .inner
            .prepare(&method, &convert::args_from_py(args)?)
            .map_err(to_py_err)?;
        let spec = aopay_core::endpoint(&method);
        let name = spec.map_or("call", |e| e.method);
        // A cancelled read may stop at once; a write runs to its outcome.
        let abort = spec.is_some_and(|e| e.effect == aopay_core::Effect::Read);
        Ok(AsyncCall::new(
            name,
            async move { call.await.map(Payload::Json) },
            abort,
        ))
    }

    /// `wait_for_final` for a `Payment`, as a coroutine (see `Client`).
    #[pyo3(signature = (status_call, reference_id, timeout=None, initial_interval=None, max_interval=None))]
    fn _wait_payment(
        &self,
        status_call: &Bound<'_, PyAny>,
        reference_id: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
        initial_interval: Option<&Bound<'_, PyAny>>,
        max_interval: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<AsyncCall> {
        let (status_call, reference, opts) = payment_wait(
            status_call,
            reference_id,
            timeout,
            initial_interval,
            max_interval,
        )?;
        let client = self.inner.clone();
        let call = async move {
            let p = client
                .wait_for_payment(&status_call, &reference, opts)
                .await?;
            Ok(Payload::Json(aopay_core::Answer::to_json_value(&p)))
        };
        Ok(AsyncCall::new("wait_for_final", call, true))
    }

    #[pyo3(signature = (reference_id, timeout=None, *, initial_interval=None, max_interval=None))]
    fn wait_for_final(
        &self,
        reference_id: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
        initial_interval: Option<&Bound<'_, PyAny>>,
        max_interval: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<AsyncCall> {
        let opts = wait_options(timeout, initial_interval, max_interval)?;
        let client = self.inner.clone();
        let reference = convert::text_from_py("reference_id", reference_id)?;
        aopay_core::ReferenceId::new(reference.as_str()).map_err(|e| to_py_err(e.into()))?;
        let call = async move {
            client
                .wait_for_final(&reference, opts)
                .await
                .map(Payload::Recharge)
        };
        Ok(AsyncCall::new("wait_for_final", call, true))
    }

    /// Journal entries that are not final, as dicts (oldest first).
    fn journal_pending(&self) -> PyResult<AsyncCall> {
        let client = self.inner.clone();
        Ok(AsyncCall::new(
            "journal_pending",
            async move { journal::pending_json(&client).await.map(Payload::Json) },
            true,
        ))
    }

    /// Pay every order once through the journal; an async iterator of
    /// result dicts, as each order finishes.
    /// The options are `aopay_core::batch::BATCH_OPTIONS`, by keyword.
    #[pyo3(signature = (orders, **options))]
    fn run_batch(
        &self,
        orders: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<batch::PyAsyncBatchRun> {
        let run = batch::begin(&self.inner, runtime()?, orders, options)?;
        Ok(batch::PyAsyncBatchRun::new(run))
    }

    /// Check every unresolved entry that has a reference; one dict each.
    fn reconcile_journal(&self) -> PyResult<AsyncCall> {
        let client = self.inner.clone();
        Ok(AsyncCall::new(
            "reconcile_journal",
            async move { journal::reconcile_json(&client).await.map(Payload::Json) },
            true,
        ))
    }

    /// Settle by hand an entry neither final nor in flight (awaitable).
    #[pyo3(signature = (key, *, status, note, reference_id = None))]
    fn journal_settle(
        &self,
        key: &Bound<'_, PyAny>,
        status: &Bound<'_, PyAny>,
        note: &Bound<'_, PyAny>,
        reference_id: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<AsyncCall> {
        let options = [
            ("status", Some(status)),
            ("note", Some(note)),
            ("reference_id", reference_id),
        ];
        Ok(self.by_hand(
            "journal_settle",
            journal::by_hand_of("settle", key, &options)?,
        ))
    }

    /// Release by hand an entry neither final nor in flight (awaitable).
    #[pyo3(signature = (key, *, note))]
    fn journal_release(
        &self,
        key: &Bound<'_, PyAny>,
        note: &Bound<'_, PyAny>,
    ) -> PyResult<AsyncCall> {
        let action = journal::by_hand_of("release", key, &[("note", Some(note))])?;
        Ok(self.by_hand("journal_release", action))
    }

    /// What was settled or released by hand for `key` (awaitable).
    fn journal_audit(&self, key: &Bound<'_, PyAny>) -> PyResult<AsyncCall> {
        Ok(self.by_hand("journal_audit", journal::by_hand_of("audit", key, &[])?))
    }

    /// Close the client (awaitable): no new call is taken; the calls in
    /// flight end (their outcomes recorded); the journal is left whole in
    /// its file.
    fn aclose<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        BATCHES.spawn(
            py,
            async move {
                client.close().await;
                Ok(Payload::Unit)
            },
            false,
        )
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let obj: Py<PyAny> = slf.into_any().unbind();
        asyncio::ready(py, obj.into_bound(py))
    }

    #[pyo3(signature = (*_args))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _args: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.aclose(py)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        client_repr(py, "AsyncClient", &self.inner)
    }
}

/// `_wait_payment`'s arguments, checked (both clients).
fn payment_wait(
    status_call: &Bound<'_, PyAny>,
    reference_id: &Bound<'_, PyAny>,
    timeout: Option<&Bound<'_, PyAny>>,
    initial_interval: Option<&Bound<'_, PyAny>>,
    max_interval: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String, aopay_core::WaitOptions)> {
    Ok((
        convert::text_from_py("status_call", status_call)?,
        convert::text_from_py("reference_id", reference_id)?,
        wait_options(timeout, initial_interval, max_interval)?,
    ))
}
