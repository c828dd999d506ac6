//! Core errors become the Python classes of `aopay.errors` (written in
//! Python, so they pickle and subclass naturally).

use pyo3::prelude::*;
use pyo3::types::PyDict;

pub(crate) fn to_py_err(e: aopay_core::Error) -> PyErr {
    Python::attach(|py| build(py, &e).unwrap_or_else(|fallback| fallback))
}

fn build(py: Python<'_>, e: &aopay_core::Error) -> Result<PyErr, PyErr> {
    let class = py.import("aopay.errors")?.getattr(e.kind().class_name())?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("message", e.message())?;
    kwargs.set_item("retry_safe", e.retry_safe())?;
    kwargs.set_item("http_status", e.http_status())?;
    kwargs.set_item("api_code", e.api_code())?;
    kwargs.set_item("field", e.field())?;
    kwargs.set_item("body_excerpt", e.body_excerpt())?;
    kwargs.set_item("retry_after", e.retry_after().map(|d| d.as_secs_f64()))?;
    kwargs.set_item("reference_id", e.reference_id())?;
    let instance = class.call((e.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}
