//! `on_call=`: a Python function as the core's call observer (the metrics
//! hook), given one `aopay.CallEvent` per call. It runs on the thread that
//! finished the call; an exception in it is reported as unraisable and the
//! call's result is returned unchanged.

use aopay_core::{CallEvent, CallObserver};
use pyo3::prelude::*;

use crate::asyncio::attach_from_worker;

pub(crate) struct PyObserver {
    function: Py<PyAny>,
}

impl PyObserver {
    pub(crate) fn new(obj: &Bound<'_, PyAny>) -> Option<Self> {
        obj.is_callable().then(|| Self {
            function: obj.clone().unbind(),
        })
    }
}

impl CallObserver for PyObserver {
    fn on_call(&self, event: &CallEvent<'_>) {
        let event = PyCallEvent::from(event);
        let _ = attach_from_worker(|py| {
            if let Err(e) = self.function.call1(py, (event,)) {
                e.write_unraisable(py, Some(self.function.bind(py)));
            }
        });
    }
}

/// One call's figures, for metrics: never a secret; the number is masked.
#[pyclass(frozen, module = "aopay", name = "CallEvent")]
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
