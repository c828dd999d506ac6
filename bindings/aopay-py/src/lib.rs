//! Python bindings: conversion of values and errors only. Every rule lives
//! in aopay-core.

mod asyncio;
mod batch;
mod client;
mod convert;
mod credentials;
mod errors;
mod journal;
mod logging;
mod observe;
mod options;
mod runtime;
mod sandbox;
mod signer;

pub(crate) use client::{PyAsyncClient, PyClient};
use sandbox::PySandbox;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::json_to_py;
use crate::errors::to_py_err;

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

#[pymodule]
fn _aopay(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(reread, m)?)?;
    m.add_function(wrap_pyfunction!(_mask_digits, m)?)?;
    m.add_function(wrap_pyfunction!(logging::_refresh_logging, m)?)?;
    logging::install(m.py())?;
    m.add_class::<convert::RawJson>()?;
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
