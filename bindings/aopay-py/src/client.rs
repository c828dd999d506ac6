//! `Client` (blocking) and `AsyncClient` (asyncio): the hand-written
//! methods of both (the generated ones are in `aopay/_endpoints.py`, over
//! the generic `_call`).

use aopay_core::{MobileRecharge, WaitOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::asyncio::{AsyncCall, BATCHES, Outcome, Payload};
use crate::convert::{self, json_to_py, mobile_recharge_from_py, py_repr};
use crate::errors::to_py_err;
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

/// One call of either client, its arguments checked: the blocking client
/// blocks on it, the asyncio client's coroutine runs it when awaited.
pub(crate) struct Work {
    name: &'static str,
    call: std::pin::Pin<Box<dyn std::future::Future<Output = Outcome> + Send>>,
    /// A cancelled read may stop at once; a write runs to its outcome.
    abort_on_cancel: bool,
}

impl Work {
    fn new(
        name: &'static str,
        abort_on_cancel: bool,
        call: impl std::future::Future<Output = Outcome> + Send + 'static,
    ) -> Self {
        Self {
            name,
            call: Box::pin(call),
            abort_on_cancel,
        }
    }
}

/// What both clients take, checked before anything is sent, as the `Work`
/// of the call: each method of both is written once, here.
mod calls {
    use super::*;

    pub(super) fn mobile_recharge(
        client: &aopay_core::Client,
        product_id: &Bound<'_, PyAny>,
        amount: &Bound<'_, PyAny>,
        customer_number: &Bound<'_, PyAny>,
        geocode: &Bound<'_, PyAny>,
        idempotency_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Work> {
        let req: MobileRecharge = mobile_recharge_from_py(
            product_id,
            amount,
            customer_number,
            geocode,
            idempotency_key,
        )?;
        let client = client.clone();
        Ok(Work::new("mobile_recharge", false, async move {
            let r = client.mobile_recharge(&req).await?;
            Ok(Payload::Outcome(Box::new(r)))
        }))
    }

    pub(super) fn recharge_status(
        client: &aopay_core::Client,
        reference_id: &Bound<'_, PyAny>,
    ) -> PyResult<Work> {
        let reference = convert::text_from_py("reference_id", reference_id)?;
        aopay_core::ReferenceId::new(reference.as_str()).map_err(|e| to_py_err(e.into()))?;
        let client = client.clone();
        Ok(Work::new("recharge_status", true, async move {
            let r = client.recharge_status(&reference).await?;
            Ok(Payload::Outcome(Box::new(r)))
        }))
    }

    pub(super) fn call(
        client: &aopay_core::Client,
        method: &Bound<'_, PyAny>,
        args: &Bound<'_, PyAny>,
    ) -> PyResult<Work> {
        let method = convert::text_from_py("endpoint", method)?;
        let call = client
            .prepare(&method, &convert::args_from_py(args)?)
            .map_err(to_py_err)?;
        let spec = aopay_core::endpoint(&method);
        let name = spec.map_or("call", |e| e.method);
        let abort = spec.is_some_and(|e| e.effect == aopay_core::Effect::Read);
        Ok(Work::new(name, abort, async move {
            call.await.map(Payload::Json)
        }))
    }

    pub(super) fn wait_payment(
        client: &aopay_core::Client,
        status_call: &Bound<'_, PyAny>,
        reference_id: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
        initial_interval: Option<&Bound<'_, PyAny>>,
        max_interval: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Work> {
        let status_call = convert::opt_text_from_py("status_call", Some(status_call))?;
        let reference = convert::opt_text_from_py("reference_id", Some(reference_id))?;
        let opts = wait_options(timeout, initial_interval, max_interval)?;
        let client = client.clone();
        Ok(Work::new("wait_for_final", true, async move {
            let p = client
                .wait_for_call(status_call.as_deref(), reference.as_deref(), opts)
                .await?;
            Ok(Payload::Outcome(Box::new(p)))
        }))
    }

    pub(super) fn journal_pending(client: &aopay_core::Client) -> PyResult<Work> {
        let client = client.clone();
        Ok(Work::new("journal_pending", true, async move {
            journal::pending_json(&client).await.map(Payload::Json)
        }))
    }

    pub(super) fn reconcile_journal(client: &aopay_core::Client) -> PyResult<Work> {
        let client = client.clone();
        Ok(Work::new("reconcile_journal", true, async move {
            journal::reconcile_json(&client).await.map(Payload::Json)
        }))
    }

    fn by_hand(
        client: &aopay_core::Client,
        name: &'static str,
        action: aopay_core::ByHand,
    ) -> Work {
        let client = client.clone();
        Work::new(name, true, async move {
            journal::by_hand_json(&client, action)
                .await
                .map(Payload::Json)
        })
    }

    pub(super) fn journal_settle(
        client: &aopay_core::Client,
        key: &Bound<'_, PyAny>,
        status: &Bound<'_, PyAny>,
        note: &Bound<'_, PyAny>,
        reference_id: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Work> {
        let options = [
            ("status", Some(status)),
            ("note", Some(note)),
            ("reference_id", reference_id),
        ];
        let action = journal::by_hand_of("settle", key, &options)?;
        Ok(by_hand(client, "journal_settle", action))
    }

    pub(super) fn journal_release(
        client: &aopay_core::Client,
        key: &Bound<'_, PyAny>,
        note: &Bound<'_, PyAny>,
    ) -> PyResult<Work> {
        let action = journal::by_hand_of("release", key, &[("note", Some(note))])?;
        Ok(by_hand(client, "journal_release", action))
    }

    pub(super) fn journal_audit(
        client: &aopay_core::Client,
        key: &Bound<'_, PyAny>,
    ) -> PyResult<Work> {
        Ok(by_hand(
            client,
            "journal_audit",
            journal::by_hand_of("audit", key, &[])?,
        ))
    }
}

/// Both clients' methods that `calls` describes, once: the blocking
/// client's blocks and returns the value, the asyncio client's returns an
/// awaitable. Each class's own methods follow in its block.
macro_rules! clients {
    (shared { $($shared:tt)* } blocking { $($blocking:tt)* } asyncio { $($asyncio:tt)* }) => {
        client_class!(PyClient, "sync", block, { $($shared)* } { $($blocking)* });
        client_class!(PyAsyncClient, "async", awaitable, { $($shared)* } { $($asyncio)* });
    };
}

/// One client class: its constructor, the shared methods run by `$run`,
/// and its own methods.
macro_rules! client_class {
    (
        $class:ident, $flavour:literal, $run:ident,
        { $(
            $(#[doc = $doc:literal])*
            $(#[pyo3($($sig:tt)*)])?
            fn $name:ident($($arg:ident: $ty:ty),* $(,)?) = $work:ident;
        )* }
        { $($own:tt)* }
    ) => {
        #[pymethods]
        impl $class {
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
                logging::_refresh_logging(registration_id.py())?;
                let positional = [Some(registration_id), base_url, timeout, connect_timeout, headers];
                Self::with(options::build_client(positional, options, $flavour)?)
            }

            $(
                $(#[doc = $doc])*
                $(#[pyo3($($sig)*)])?
                fn $name<'py>(&self, py: Python<'py>, $($arg: $ty),*) -> PyResult<Bound<'py, PyAny>> {
                    self.$run(py, calls::$work(&self.inner, $($arg),*)?)
                }
            )*

            $($own)*
        }
    };
}

/// A blocking client. Share one per process: it is thread-safe, and every
/// call releases the GIL.
#[pyclass(frozen, subclass, module = "aopay._aopay", name = "Client")]
#[derive(Debug)]
pub struct PyClient {
    inner: aopay_core::Client,
    rt: aopay_core::PerProcess<runtime::OwnRuntime>,
}

/// An asyncio client: the same methods as coroutines; many calls may be in
/// flight at once on one client.
#[pyclass(frozen, subclass, module = "aopay._aopay", name = "AsyncClient")]
#[derive(Debug)]
pub struct PyAsyncClient {
    inner: aopay_core::Client,
}

clients! {
    shared {
        /// The V2 recharge (the generated `mobile_recharge` wraps it): its
        /// outcome, an `aopay.Payment`.
        #[pyo3(signature = (*, product_id, amount, customer_number, geocode, idempotency_key=None))]
        fn _mobile_recharge(
            product_id: &Bound<'_, PyAny>,
            amount: &Bound<'_, PyAny>,
            customer_number: &Bound<'_, PyAny>,
            geocode: &Bound<'_, PyAny>,
            idempotency_key: Option<&Bound<'_, PyAny>>,
        ) = mobile_recharge;

        /// RechargeStatus (the generated `recharge_status` wraps it).
        fn _recharge_status(reference_id: &Bound<'_, PyAny>) = recharge_status;

        /// The one generic call behind the generated methods
        /// (`aopay._endpoints`): `method` is an endpoint of the core's
        /// table, `args` its keyword arguments; the answer is a dict of its
        /// fields.
        fn _call(method: &Bound<'_, PyAny>, args: &Bound<'_, PyAny>) = call;

        /// The one wait (the generated `wait_for_final` calls it): polls
        /// `status_call` for `reference_id`; the outcome, an `aopay.Payment`.
        #[pyo3(signature = (status_call, reference_id, timeout=None, initial_interval=None, max_interval=None))]
        fn _wait_payment(
            status_call: &Bound<'_, PyAny>,
            reference_id: &Bound<'_, PyAny>,
            timeout: Option<&Bound<'_, PyAny>>,
            initial_interval: Option<&Bound<'_, PyAny>>,
            max_interval: Option<&Bound<'_, PyAny>>,
        ) = wait_payment;

        /// Journal entries that are not final, as dicts (oldest first).
        fn journal_pending() = journal_pending;

        /// Check every unresolved entry that has a reference; one dict each.
        fn reconcile_journal() = reconcile_journal;

        /// Settle by hand an entry neither final nor in flight, with what
        /// the AOPay statement shows; kept with who, when and why. The
        /// entry.
        #[pyo3(signature = (key, *, status, note, reference_id = None))]
        fn journal_settle(
            key: &Bound<'_, PyAny>,
            status: &Bound<'_, PyAny>,
            note: &Bound<'_, PyAny>,
            reference_id: Option<&Bound<'_, PyAny>>,
        ) = journal_settle;

        /// Release by hand an entry neither final nor in flight (never
        /// paid, says the statement): the next call with its key sends. The
        /// entry.
        #[pyo3(signature = (key, *, note))]
        fn journal_release(key: &Bound<'_, PyAny>, note: &Bound<'_, PyAny>) = journal_release;

        /// What was settled or released by hand for `key`: who, when, why.
        fn journal_audit(key: &Bound<'_, PyAny>) = journal_audit;
    }

    blocking {
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

    asyncio {
        /// Pay every order once through the journal; an async iterator of
        /// result dicts, as each order finishes. The options are
        /// `aopay_core::batch::BATCH_OPTIONS`, by keyword.
        #[pyo3(signature = (orders, **options))]
        fn run_batch(
            &self,
            orders: &Bound<'_, PyAny>,
            options: Option<&Bound<'_, PyDict>>,
        ) -> PyResult<batch::PyAsyncBatchRun> {
            let run = batch::begin(&self.inner, runtime()?, orders, options)?;
            Ok(batch::PyAsyncBatchRun::new(run))
        }

        /// Close the client (awaitable): no new call is taken; the calls in
        /// flight end (their outcomes recorded); the journal is left whole
        /// in its file.
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
}

impl PyClient {
    fn with(inner: aopay_core::Client) -> PyResult<Self> {
        Ok(Self {
            inner,
            rt: blocking_runtime()?,
        })
    }

    /// This process's runtime of the client (a forked child gets its own).
    pub(crate) fn runtime(&self) -> PyResult<&tokio::runtime::Runtime> {
        runtime::this_process(&self.rt)
    }

    /// Run `work` to its end, the GIL released; its value for Python.
    fn block<'py>(&self, py: Python<'py>, work: Work) -> PyResult<Bound<'py, PyAny>> {
        match block_on_interruptibly(py, self.runtime()?, work.call)? {
            Payload::Json(v) => json_to_py(py, &v),
            Payload::Outcome(v) => convert::outcome_to_py(py, v),
            Payload::Unit | Payload::EndOfIteration => Ok(py.None().into_bound(py)),
        }
    }
}

impl PyAsyncClient {
    fn with(inner: aopay_core::Client) -> PyResult<Self> {
        Ok(Self { inner })
    }

    /// `work` as an awaitable, run when first awaited.
    fn awaitable<'py>(&self, py: Python<'py>, work: Work) -> PyResult<Bound<'py, PyAny>> {
        let call = AsyncCall::new(work.name, work.call, work.abort_on_cancel);
        Ok(Bound::new(py, call)?.into_any())
    }
}
