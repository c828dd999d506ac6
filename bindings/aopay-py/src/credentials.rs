//! `credentials=`: a Python function (or coroutine function) as the core's
//! credentials provider (and the calling of such functions, which
//! `signer=` shares). It returns a mapping of headers, or
//! `(headers, lifetime_seconds)`; the core caches, refreshes and retries.

use std::sync::Arc;
use std::time::Duration;

use aopay_core::{Credentials, CredentialsFuture, CredentialsProvider};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyMapping, PyString, PyTuple};

use crate::asyncio::{CALLER_LOOP, attach_from_worker};

/// How long a coroutine provider may run on the caller's loop.
const COROUTINE_LIMIT: Duration = Duration::from_secs(60);

pub(crate) struct PyCredentials {
    function: Arc<Py<PyAny>>,
}

impl PyCredentials {
    /// Anything callable; what it returns is checked at each fetch.
    pub(crate) fn new(obj: &Bound<'_, PyAny>) -> Option<Self> {
        obj.is_callable().then(|| Self {
            function: Arc::new(obj.clone().unbind()),
        })
    }
}

impl CredentialsProvider for PyCredentials {
    fn credentials(&self) -> CredentialsFuture {
        let function = Arc::clone(&self.function);
        // The event loop of the awaiting coroutine (an AsyncClient call), if
        // any: a coroutine provider runs there, beside the caller's own
        // resources (sessions, locks).
        let caller_loop = CALLER_LOOP.try_with(Arc::clone).ok();
        Box::pin(async move {
            // The provider may block (a sync HTTP call): never on a runtime
            // thread.
            tokio::task::spawn_blocking(move || {
                attach_from_worker(|py| fetch(py, &function, caller_loop.as_deref()))
                    .unwrap_or_else(|| Err("the interpreter is shutting down".to_owned()))
            })
            .await
            .unwrap_or_else(|_| Err("the credentials provider panicked".to_owned()))
        })
    }
}

/// The exception as `TypeName: message`, for the error a caller sees.
fn describe(py: Python<'_>, e: &PyErr) -> String {
    let name = e
        .get_type(py)
        .name()
        .map_or_else(|_| "Exception".to_owned(), |n| n.to_string());
    format!("{name}: {}", e.value(py))
}

fn fetch(
    py: Python<'_>,
    function: &Py<PyAny>,
    caller_loop: Option<&Py<PyAny>>,
) -> Result<Credentials, String> {
    let result = call(py, function, (), caller_loop)?;
    credentials_from(&result)
}

/// Call a provider or signer with `args`; a coroutine it returns runs on
/// the caller's loop (an AsyncClient call) or, for a blocking client, on a
/// loop of its own. An exception is `TypeName: message`.
pub(crate) fn call<'py>(
    py: Python<'py>,
    function: &Py<PyAny>,
    args: impl pyo3::call::PyCallArgs<'py>,
    caller_loop: Option<&Py<PyAny>>,
) -> Result<Bound<'py, PyAny>, String> {
    let run = || -> PyResult<Bound<'py, PyAny>> {
        let mut result = function.bind(py).call1(args)?;
        let asyncio = py.import("asyncio")?;
        if asyncio
            .call_method1("iscoroutine", (&result,))?
            .is_truthy()?
        {
            result = match caller_loop {
                Some(event_loop) => asyncio
                    .call_method1("run_coroutine_threadsafe", (&result, event_loop.bind(py)))?
                    .call_method1("result", (COROUTINE_LIMIT.as_secs_f64(),))?,
                // A blocking client: no loop runs in this thread.
                None => asyncio.call_method1("run", (&result,))?,
            };
        }
        Ok(result)
    };
    run().map_err(|e| format!("it raised {}", describe(py, &e)))
}

/// A mapping of `str` to `str`, as header pairs.
pub(crate) fn header_pairs(
    headers: &Bound<'_, PyAny>,
    shape: &str,
) -> Result<Vec<(String, String)>, String> {
    let mapping = headers.cast::<PyMapping>().map_err(|_| shape.to_owned())?;
    let mut pairs = Vec::new();
    for item in mapping.items().map_err(|_| shape.to_owned())?.iter() {
        let (k, v) = item
            .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
            .map_err(|_| shape.to_owned())?;
        match (k.cast::<PyString>(), v.cast::<PyString>()) {
            (Ok(k), Ok(v)) => pairs.push((k.to_string(), v.to_string())),
            _ => return Err("its header names and values must be str".to_owned()),
        }
    }
    Ok(pairs)
}

/// A mapping of `str` to `str`, or `(mapping, lifetime_seconds)`.
fn credentials_from(result: &Bound<'_, PyAny>) -> Result<Credentials, String> {
    const SHAPE: &str =
        "it must return a mapping of header names to values, or (mapping, lifetime_seconds)";
    let (headers, lifetime) = match result.cast::<PyTuple>() {
        Ok(t) if t.len() == 2 => {
            let (h, l) = (
                t.get_item(0).map_err(|_| SHAPE)?,
                t.get_item(1).map_err(|_| SHAPE)?,
            );
            let number = (l.is_instance_of::<PyInt>() || l.is_instance_of::<PyFloat>())
                && !l.is_instance_of::<PyBool>();
            let secs = l
                .extract::<f64>()
                .ok()
                .filter(|s| number && s.is_finite() && *s > 0.0);
            let Some(secs) = secs else {
                return Err("its lifetime must be a positive number of seconds".to_owned());
            };
            (h, Some(Duration::from_secs_f64(secs.min(1e9))))
        }
        Ok(_) => return Err(SHAPE.to_owned()),
        Err(_) => (result.clone(), None),
    };
    let creds = Credentials::new(header_pairs(&headers, SHAPE)?);
    Ok(match lifetime {
        Some(l) => creds.lifetime(l),
        None => creds,
    })
}
