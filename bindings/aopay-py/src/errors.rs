//! Core errors become the Python classes of `aopay.errors` (written in
//! Python, so they pickle and subclass naturally).

use pyo3::prelude::*;
use pyo3::types::PyDict;

pub(crate) fn to_py_err(e: aopay_core::Error) -> PyErr {
    Python::attach(|py| build(py, &e).unwrap_or_else(|fallback| fallback))
}

fn build(py: Python<'_>, e: &aopay_core::Error) -> Result<PyErr, PyErr> {
    let class = py.import("aopay.errors")?.getattr(e.kind().class_name())?;
    // The core's one structured form; Python says `message` for the detail
    // and takes `retry_after` in seconds.
    let v = e.to_json_value();
    let kwargs = PyDict::new(py);
    for key in [
        "retry_safe",
        "http_status",
        "api_code",
        "field",
        "body_excerpt",
        "reference_id",
    ] {
        kwargs.set_item(key, crate::convert::json_to_py(py, &v[key])?)?;
    }
    kwargs.set_item("message", crate::convert::json_to_py(py, &v["detail"])?)?;
    kwargs.set_item("retry_after", e.retry_after().map(|d| d.as_secs_f64()))?;
    let instance = class.call((e.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}
