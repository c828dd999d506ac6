//! `on_call=`: a Python function as the core's call observer (the metrics
//! hook), given one `aopay.CallEvent` per call. An exception in it is
//! reported as unraisable and the call's result is returned unchanged.
//!
//! Taking the GIL from a worker thread for every event would cost more than
//! the call (it contends with the event loop's thread: measured 2.6 times
//! slower under 64 calls in flight). So the events of a call made from
//! Python wait beside its result and are delivered by whoever hands that
//! result to Python, with the GIL it holds anyway: just before a `Client`
//! call returns, or an `AsyncClient` future is settled, on the caller's
//! thread or loop. Only calls run elsewhere (a batch's orders) take the GIL
//! for their events.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

use aopay_core::{CallEvent, CallObserver};
use pyo3::prelude::*;

use crate::asyncio::attach_from_worker;

/// Events waiting for their call's result to reach Python.
pub(crate) type Deferred = Vec<(Arc<Py<PyAny>>, PyCallEvent)>;

tokio::task_local! {
    static DEFERRED: RefCell<Deferred>;
}

/// Run `fut`, keeping the events of its calls for [`deliver`].
pub(crate) async fn collecting<F: Future>(fut: F) -> (F::Output, Deferred) {
    DEFERRED
        .scope(RefCell::new(Vec::new()), async move {
            let out = fut.await;
            (out, DEFERRED.with(RefCell::take))
        })
        .await
}

/// Call the observers with their events (with the GIL held).
pub(crate) fn deliver(py: Python<'_>, events: Deferred) {
    for (function, event) in events {
        if let Err(e) = function.call1(py, (event,)) {
            e.write_unraisable(py, Some(function.bind(py)));
        }
    }
}

pub(crate) struct PyObserver {
    function: Arc<Py<PyAny>>,
}

impl PyObserver {
    pub(crate) fn new(obj: &Bound<'_, PyAny>) -> Option<Self> {
        obj.is_callable().then(|| Self {
            function: Arc::new(obj.clone().unbind()),
        })
    }
}

impl CallObserver for PyObserver {
    fn on_call(&self, event: &CallEvent<'_>) {
        let mut event = Some(PyCallEvent::from(event));
        let _ = DEFERRED.try_with(|d| {
            if let Some(e) = event.take() {
                d.borrow_mut().push((Arc::clone(&self.function), e));
            }
        });
        if let Some(event) = event {
            let _ = attach_from_worker(|py| deliver(py, vec![(Arc::clone(&self.function), event)]));
        }
    }
}

/// One call's figures, for metrics: never a secret; the number is masked.
#[pyclass(frozen, module = "aopay", name = "CallEvent")]
#[derive(Debug)]
pub(crate) struct PyCallEvent {
    #[pyo3(get)]
    endpoint: &'static str,
    #[pyo3(get)]
    attempts: u32,
    #[pyo3(get)]
    http_status: Option<u16>,
    #[pyo3(get)]
    outcome: String,
    #[pyo3(get)]
    error: Option<&'static str>,
    #[pyo3(get)]
    retry_safe: Option<bool>,
    #[pyo3(get)]
    duration_us: u64,
    #[pyo3(get)]
    customer_number: Option<String>,
    #[pyo3(get)]
    reference_id: Option<String>,
}

impl From<&CallEvent<'_>> for PyCallEvent {
    fn from(e: &CallEvent<'_>) -> Self {
        Self {
            endpoint: e.endpoint,
            attempts: e.attempts,
            http_status: e.http_status,
            outcome: e.outcome.to_owned(),
            error: e.error,
            retry_safe: e.retry_safe,
            duration_us: e.duration_us(),
            customer_number: e.customer_number.map(str::to_owned),
            reference_id: e.reference_id.map(str::to_owned),
        }
    }
}

#[pymethods]
impl PyCallEvent {
    fn __repr__(&self) -> String {
        fn text(s: Option<&str>) -> String {
            s.map_or_else(|| "None".to_owned(), |s| format!("'{s}'"))
        }
        fn shown<T: std::fmt::Display>(v: Option<T>) -> String {
            v.map_or_else(|| "None".to_owned(), |v| v.to_string())
        }
        format!(
            "CallEvent(endpoint='{}', outcome='{}', error={}, retry_safe={}, attempts={}, http_status={}, duration_us={}, customer_number={})",
            self.endpoint,
            self.outcome,
            text(self.error),
            shown(self.retry_safe.map(|b| if b { "True" } else { "False" })),
            self.attempts,
            shown(self.http_status),
            self.duration_us,
            text(self.customer_number.as_deref()),
        )
    }
}
