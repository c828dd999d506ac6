//! Python bindings: conversion of values and errors only. Every rule lives
//! in aopay-core.

mod asyncio;
mod batch;

use crate::asyncio::{AsyncCall, BATCHES, Payload};
mod convert;
mod credentials;
mod errors;
mod journal;
mod logging;
mod observe;
mod options;
mod runtime;
mod signer;

use std::time::Duration;

use aopay_core::{MobileRecharge, WaitOptions};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::convert::{json_to_py, mobile_recharge_from_py};
use crate::errors::to_py_err;
use crate::runtime::{block_on_interruptibly, blocking_runtime, runtime};

/// The outcome of a call that reached the API and got a readable answer.
#[pyclass(frozen, module = "aopay", name = "Recharge")]
#[derive(Debug)]
pub struct PyRecharge {
    inner: aopay_core::Recharge,
}

#[pymethods]
impl PyRecharge {
    /// "SUCCESS", "PENDING", "FAILED" or "UNKNOWN".
    #[getter]
    fn status(&self) -> &'static str {
        self.inner.status.as_str()
    }
    #[getter]
    fn reference_id(&self) -> Option<&str> {
        self.inner.reference_id.as_deref()
    }
    #[getter]
    fn txn_id(&self) -> Option<&str> {
        self.inner.txn_id.as_deref()
    }
    #[getter]
    fn ackno(&self) -> Option<&str> {
        self.inner.ackno.as_deref()
    }
    #[getter]
    fn message(&self) -> Option<&str> {
        self.inner.message.as_deref()
    }
    #[getter]
    fn api_code(&self) -> Option<i64> {
        self.inner.api_code
    }
    #[getter]
    fn http_status(&self) -> u16 {
        self.inner.http_status
    }
    #[getter]
    fn is_final(&self) -> bool {
        self.inner.is_final()
    }
    /// The whole JSON body (a new dict on every access: the Recharge itself
    /// stays immutable).
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.inner.raw)
    }
    /// Every field as a dict (`raw` included), e.g. to store it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.inner.to_json_value())
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        let r = &self.inner;
        format!(
            "Recharge(status={}, reference_id={}, txn_id={}, message={}, api_code={}, http_status={})",
            py_repr(py, Some(r.status.as_str())),
            py_repr(py, r.reference_id.as_deref()),
            py_repr(py, r.txn_id.as_deref()),
            py_repr(py, r.message.as_deref()),
            r.api_code
                .map_or_else(|| "None".to_owned(), |c| c.to_string()),
            r.http_status
        )
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyRecharge>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }
}

impl From<aopay_core::Recharge> for PyRecharge {
    fn from(inner: aopay_core::Recharge) -> Self {
        Self { inner }
    }
}

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

/// `repr(s)` as Python writes it.
fn py_repr(py: Python<'_>, s: Option<&str>) -> String {
    s.and_then(|s| PyString::new(py, s).repr().ok().map(|r| r.to_string()))
        .unwrap_or_else(|| "None".to_owned())
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
    fn runtime(&self) -> PyResult<&tokio::runtime::Runtime> {
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

/// A sandbox setting in seconds (zero allowed: no delay).
fn sandbox_seconds(field: &'static str, secs: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(secs).map_err(|_| {
        to_py_err(
            aopay_core::ValidationError::new(field, "must be a non-negative number of seconds")
                .into(),
        )
    })
}

/// The AOPay-compatible sandbox, running in this process on a free
/// loopback port until `stop()` (or the end of a `with` block).
#[pyclass(module = "aopay", name = "Sandbox")]
#[derive(Debug)]
pub struct PySandbox {
    inner: Option<aopay_sandbox::Sandbox>,
    url: String,
    ca_pem: Option<String>,
    /// The process serving it: a forked child inherits the object, not the
    /// server, which keeps running in (and belongs to) the parent.
    pid: u32,
}

impl PySandbox {
    fn running(&self) -> PyResult<&aopay_sandbox::Sandbox> {
        if self.pid != std::process::id() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                "this sandbox is served by process {} (this is a forked child): \
                 call it through its url, or start a Sandbox in this process",
                self.pid
            )));
        }
        self.inner
            .as_ref()
            .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("the sandbox is stopped"))
    }

    /// The server, if this process may stop it; in a forked child the
    /// parent's is forgotten untouched (stopping it here would signal a
    /// task of the parent's runtime, which this process does not run).
    fn take_own(&mut self) -> Option<aopay_sandbox::Sandbox> {
        let sb = self.inner.take()?;
        if self.pid == std::process::id() {
            Some(sb)
        } else {
            std::mem::forget(sb);
            None
        }
    }
}

impl Drop for PySandbox {
    fn drop(&mut self) {
        // Dropping signals the server to stop: only the owner does.
        drop(self.take_own());
    }
}

#[pymethods]
impl PySandbox {
    #[new]
    #[pyo3(signature = (*, slow_delay=3.0, pending_checks=2, tls=false, require_tokens=false, wallet_payments=None, require_jwt_secret=None, require_jwt_public_key=None, jwt_header="Token"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        slow_delay: f64,
        pending_checks: u32,
        tls: bool,
        require_tokens: bool,
        wallet_payments: Option<u64>,
        require_jwt_secret: Option<&Bound<'_, PyAny>>,
        require_jwt_public_key: Option<&Bound<'_, PyAny>>,
        jwt_header: &str,
    ) -> PyResult<Self> {
        let delay = sandbox_seconds("slow_delay", slow_delay)?;
        let mut config = aopay_sandbox::SandboxConfig::default()
            .slow_delay(delay)
            .pending_checks(pending_checks)
            .require_tokens(require_tokens);
        if let Some(n) = wallet_payments {
            config = config.wallet_payments(n);
        }
        match (
            signer::bytes_from_py("require_jwt_secret", require_jwt_secret)?,
            signer::bytes_from_py("require_jwt_public_key", require_jwt_public_key)?,
        ) {
            (Some(secret), None) => {
                config = config.require_jwt(aopay_sandbox::JwtKey::Hs256(secret))
            }
            (None, Some(pem)) => {
                config = config.require_jwt(aopay_sandbox::JwtKey::Rs256PublicPem(pem));
            }
            (None, None) => {}
            (Some(_), Some(_)) => {
                return Err(convert::invalid(aopay_core::ValidationError::new(
                    "require_jwt_secret",
                    "give a secret (HS256) or a public key (RS256), not both",
                )));
            }
        }
        config = config.jwt_header(jwt_header);
        runtime::not_inside_a_call()?;
        let rt = runtime()?;
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let sb = py
            .detach(|| {
                rt.block_on(async {
                    if tls {
                        aopay_sandbox::Sandbox::start_tls_with(config, addr).await
                    } else {
                        aopay_sandbox::Sandbox::start_with(config, addr).await
                    }
                })
            })
            .map_err(|e| match e.kind() {
                // A JWT key it cannot use: an invalid argument.
                std::io::ErrorKind::InvalidInput => convert::invalid(
                    aopay_core::ValidationError::new("require_jwt", e.to_string()),
                ),
                _ => pyo3::exceptions::PyOSError::new_err(format!("cannot start the sandbox: {e}")),
            })?;
        Ok(Self {
            url: sb.url().to_owned(),
            ca_pem: sb.ca_pem().map(str::to_owned),
            inner: Some(sb),
            pid: std::process::id(),
        })
    }

    /// `http://127.0.0.1:PORT` (`https://` with `tls=True`): pass it as the
    /// client's `base_url`.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// With `tls=True`, the PEM of the throwaway CA behind the sandbox's
    /// certificate: pass it as the client's `root_certificates`.
    #[getter]
    fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Counts of what was received so far.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = serde_json::to_value(self.running()?.stats()).unwrap_or_default();
        Ok(json_to_py(py, &s)?.cast_into::<PyDict>()?)
    }

    /// How many recharge requests named this customer number.
    fn recharges_for(&self, customer_number: &Bound<'_, PyAny>) -> PyResult<u64> {
        let n = convert::customer_number_from_py(customer_number)?;
        Ok(self.running()?.recharges_for(n.get()))
    }

    /// How many payments (DoRecharge, bill payments, FASTag top-ups) are
    /// recorded for this account (`canumber`); a write refused for a
    /// reused reference is not one.
    fn recorded_payments_for(&self, account: &str) -> PyResult<u64> {
        Ok(self.running()?.recorded_payments_for(account))
    }

    /// A bearer token valid for `lifetime` seconds, for a sandbox started
    /// with `require_tokens=True` (what a token service would give).
    #[pyo3(signature = (lifetime=600.0))]
    fn issue_token(&self, lifetime: f64) -> PyResult<String> {
        Ok(self
            .running()?
            .issue_token(sandbox_seconds("lifetime", lifetime)?))
    }

    /// Invalidate every token issued so far: the next call with one gets 401.
    fn revoke_tokens(&self) -> PyResult<()> {
        self.running()?.revoke_tokens();
        Ok(())
    }

    /// Forget every transaction and zero the counts.
    fn reset(&self) -> PyResult<()> {
        self.running()?.reset();
        Ok(())
    }

    /// Top the wallet up: it covers `payments` more referenced payments
    /// (`None`: no limit).
    #[pyo3(signature = (payments=None))]
    fn top_up(&self, payments: Option<u64>) -> PyResult<()> {
        self.running()?.top_up(payments);
        Ok(())
    }

    /// Stop serving (idempotent).
    fn stop(&mut self, py: Python<'_>) -> PyResult<()> {
        runtime::not_inside_a_call()?;
        if let Some(sb) = self.take_own() {
            let rt = runtime()?;
            py.detach(|| rt.block_on(sb.stop()));
        }
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(
        &mut self,
        py: Python<'_>,
        _args: &Bound<'_, pyo3::types::PyTuple>,
    ) -> PyResult<()> {
        self.stop(py)
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let obj: Py<PyAny> = slf.into_any().unbind();
        asyncio::ready(py, obj.into_bound(py))
    }

    #[pyo3(signature = (*_args))]
    fn __aexit__<'py>(
        &mut self,
        py: Python<'py>,
        _args: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let sb = self.take_own();
        BATCHES.spawn(
            py,
            async move {
                if let Some(sb) = sb {
                    sb.stop().await;
                }
                Ok(Payload::Unit)
            },
            false,
        )
    }

    fn __repr__(&self) -> String {
        let state = if self.inner.is_some() {
            "running"
        } else {
            "stopped"
        };
        format!("Sandbox(url={:?}, {state})", self.url)
    }
}

/// A number as the SDK shows it (`98XXXXXX10`): for `aopay.testing`'s messages.
#[pyfunction]
fn _mask_digits(digits: &str) -> String {
    aopay_core::mask_digits(digits)
}

/// Read an answer's stored `raw` again, as the endpoint `method` reads its
/// answers: behind the generated `from_raw` class methods.
#[pyfunction]
fn reread<'py>(
    py: Python<'py>,
    method: &Bound<'py, PyAny>,
    raw: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let method = convert::text_from_py("endpoint", method)?;
    let spec = aopay_core::endpoint(&method).ok_or_else(|| {
        convert::invalid(aopay_core::ValidationError::new(
            "endpoint",
            format!("no endpoint is called {method:?}"),
        ))
    })?;
    let value = convert::json_from_py("raw", raw)?;
    json_to_py(py, &spec.reread(value).map_err(to_py_err)?)
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

#[pymodule]
fn _aopay(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRecharge>()?;
    m.add_function(wrap_pyfunction!(reread, m)?)?;
    m.add_function(wrap_pyfunction!(_mask_digits, m)?)?;
    m.add_function(wrap_pyfunction!(logging::_refresh_logging, m)?)?;
    logging::install(m.py())?;
    m.add_class::<PyClient>()?;
    m.add_class::<PyAsyncClient>()?;
    m.add_class::<asyncio::AsyncCall>()?;
    m.add_class::<batch::PyBatchRun>()?;
    m.add_class::<batch::PyAsyncBatchRun>()?;
    m.add_class::<PySandbox>()?;
    m.add_class::<signer::PyJwtSigner>()?;
    m.add_class::<observe::PyCallEvent>()?;
    m.add_class::<journal::PySqliteJournal>()?;
    m.add_class::<journal::PyPostgresJournal>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("CLIENT_OPTIONS", options::options_dict(m.py())?)?;
    m.add("BATCH_OPTIONS", options::batch_options_dict(m.py())?)?;
    // method -> description: the tests check the generated methods and
    // docs/openapi.yaml against it.
    m.add("ENDPOINTS", {
        let d = PyDict::new(m.py());
        for e in aopay_core::ENDPOINTS {
            d.set_item(e.method, json_to_py(m.py(), &e.to_json_value())?)?;
        }
        d
    })?;
    m.add("ERROR_KINDS", {
        // class name -> code: `aopay.errors` is checked against it by a test.
        let d = PyDict::new(m.py());
        for kind in aopay_core::ErrorKind::ALL {
            d.set_item(kind.class_name(), kind.code())?;
        }
        d
    })?;
    m.add("ERROR_PARENTS", {
        // class name -> the class it extends (`AopayError` for most).
        let d = PyDict::new(m.py());
        for kind in aopay_core::ErrorKind::ALL {
            let parent = kind.parent().map_or("AopayError", |p| p.class_name());
            d.set_item(kind.class_name(), parent)?;
        }
        d
    })?;
    let quiesce = wrap_pyfunction!(asyncio::_quiesce, m)?;
    m.py()
        .import("atexit")?
        .call_method1("register", (quiesce,))?;
    m.add("MAGIC_NUMBERS", {
        let d = PyDict::new(m.py());
        for (n, _, what) in aopay_sandbox::MAGIC_NUMBERS {
            d.set_item(n, what)?;
        }
        d
    })?;
    Ok(())
}
