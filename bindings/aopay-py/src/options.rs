//! Client options from Python: each argument converted by the kind the
//! core's table gives it (`aopay_core::CLIENT_OPTIONS`), then checked by
//! `ClientBuilder::set`. No option is mapped by hand here.

use aopay_core::{Client, ClientBuilder, OptionKind, OptionValue, ValidationError, client_option};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};

use crate::convert::{
    headers_from_py, int_from_py, invalid, pem_from_py, seconds_from_py, text_from_py, wrong_type,
};
use crate::errors::to_py_err;

fn set(b: ClientBuilder, name: &str, obj: &Bound<'_, PyAny>) -> PyResult<ClientBuilder> {
    if obj.is_none() {
        return Ok(b); // the default
    }
    let Some(option) = client_option(name) else {
        return Err(invalid(ValidationError::new(
            "options",
            format!("unknown option {name:?}"),
        )));
    };
    match value_from_py(option.name, option.kind, obj)? {
        Some(value) => b.set(name, value).map_err(invalid),
        None => Ok(b),
    }
}

/// A value of an option (a client's or a batch's) converted by its kind;
/// `None` when the value means the default.
pub(crate) fn value_from_py(
    field: &'static str,
    kind: OptionKind,
    obj: &Bound<'_, PyAny>,
) -> PyResult<Option<OptionValue>> {
    Ok(Some(match kind {
        OptionKind::Text => OptionValue::Text(text_from_py(field, obj)?),
        OptionKind::Seconds => OptionValue::Seconds(seconds_from_py(field, obj)?),
        OptionKind::Count => OptionValue::Count(int_from_py(field, obj)?),
        OptionKind::Flag => match obj.cast::<PyBool>() {
            Ok(f) => OptionValue::Flag(f.is_true()),
            Err(_) => return Err(wrong_type(field, "a bool", obj)),
        },
        OptionKind::Rate if obj.is_instance_of::<PyString>() => {
            OptionValue::Text(text_from_py(field, obj)?)
        }
        OptionKind::Rate => match obj.extract::<f64>() {
            Ok(r) if !obj.is_instance_of::<PyBool>() => OptionValue::PerSecond(r),
            _ => {
                return Err(wrong_type(
                    field,
                    "a str (\"200/s\") or a number per second",
                    obj,
                ));
            }
        },
        OptionKind::Headers => OptionValue::Headers(headers_from_py(Some(obj))?),
        OptionKind::Pem => OptionValue::Pem(pem_from_py(Some(obj))?.unwrap_or_default()),
        OptionKind::Journal => match crate::journal::journal_from_py(Some(obj))? {
            Some(j) => OptionValue::Journal(j),
            None => return Ok(None),
        },
        OptionKind::Credentials => match crate::credentials::PyCredentials::new(obj) {
            Some(p) => OptionValue::Credentials(std::sync::Arc::new(p)),
            None => {
                return Err(wrong_type(
                    field,
                    "a function returning the headers (or a coroutine function)",
                    obj,
                ));
            }
        },
        OptionKind::Signer => OptionValue::Signer(crate::signer::signer_from_py(obj)?),
        OptionKind::Observer => match crate::observe::PyObserver::new(obj) {
            Some(o) => OptionValue::Observer(std::sync::Arc::new(o)),
            None => {
                return Err(wrong_type(
                    field,
                    "a function taking an aopay.CallEvent",
                    obj,
                ));
            }
        },
        _ => {
            return Err(invalid(ValidationError::new(
                field,
                "is not supported here",
            )));
        }
    }))
}

/// The options both clients also take by position, in their order.
const POSITIONAL: [&str; 5] = [
    "registration_id",
    "base_url",
    "timeout",
    "connect_timeout",
    "headers",
];

/// Build a client from the arguments named in [`POSITIONAL`] and any
/// other keyword arguments.
pub(crate) fn build_client(
    positional: [Option<&Bound<'_, PyAny>>; 5],
    keywords: Option<&Bound<'_, PyDict>>,
    flavour: &str,
) -> PyResult<Client> {
    let mut b = Client::builder().user_agent(format!(
        "aopay-python/{} ({flavour})",
        env!("CARGO_PKG_VERSION")
    ));
    for (name, obj) in POSITIONAL.into_iter().zip(positional) {
        if let Some(obj) = obj {
            b = set(b, name, obj)?;
        }
    }
    if let Some(keywords) = keywords {
        for (name, obj) in keywords.iter() {
            let name = name.cast::<PyString>()?.to_cow()?.into_owned();
            b = set(b, &name, &obj)?;
        }
    }
    b.build().map_err(to_py_err)
}

/// `{name: default}` of every batch option (`""`: none), for
/// `aopay._aopay.BATCH_OPTIONS`.
pub(crate) fn batch_options_dict(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    for o in aopay_core::batch::BATCH_OPTIONS {
        d.set_item(o.name, o.default)?;
    }
    Ok(d)
}

/// `{name: meaning}` of every client option, for `aopay._aopay.CLIENT_OPTIONS`.
pub(crate) fn options_dict(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    for o in aopay_core::CLIENT_OPTIONS {
        d.set_item(o.name, o.doc)?;
    }
    Ok(d)
}
