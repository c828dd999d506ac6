//! Python values ⇄ core types. Type checks only (a `bool` is not an int
//! here, a `float` is not an amount); the rules themselves are the core's.

use aopay_core::{Amount, CustomerNumber, Geocode, MobileRecharge, ProductId, ValidationError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::errors::to_py_err;

pub(crate) fn invalid(e: ValidationError) -> PyErr {
    to_py_err(e.into())
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "object".to_owned(), |n| n.to_string())
}

pub(crate) fn wrong_type(field: &'static str, expected: &str, obj: &Bound<'_, PyAny>) -> PyErr {
    invalid(ValidationError::wrong_type(
        field,
        expected,
        &type_name(obj),
    ))
}

/// A `str` argument; anything else is a `ValidationError` naming `field`
/// (as for every argument: never pyo3's bare `TypeError`).
pub(crate) fn text_from_py(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<String> {
    match obj.cast::<PyString>() {
        Ok(s) => Ok(s.to_cow()?.into_owned()),
        Err(_) => Err(wrong_type(field, "a str", obj)),
    }
}

/// An optional `str` argument (`None` is absent).
pub(crate) fn opt_text_from_py(
    field: &'static str,
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<String>> {
    match obj {
        Some(o) if !o.is_none() => text_from_py(field, o).map(Some),
        _ => Ok(None),
    }
}

/// Seconds: an `int` or a `float`, never a `bool` (the core checks the range).
pub(crate) fn seconds_from_py(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    if obj.is_instance_of::<PyBool>()
        || !(obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>())
    {
        return Err(wrong_type(field, "a number of seconds", obj));
    }
    Ok(obj.extract::<f64>().unwrap_or(f64::INFINITY))
}

/// A duration in seconds, `default` when absent.
pub(crate) fn duration_from_py(
    field: &'static str,
    obj: Option<&Bound<'_, PyAny>>,
    default: std::time::Duration,
) -> PyResult<std::time::Duration> {
    match obj {
        None => Ok(default),
        Some(o) => {
            aopay_core::duration_from_secs(field, seconds_from_py(field, o)?).map_err(invalid)
        }
    }
}

/// An `int` (never a `bool` or `float`), saturated to i64 so that the core
/// reports an out-of-range value with its own rule.
pub(crate) fn int_from_py(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(wrong_type(field, "an int", obj));
    }
    match obj.extract::<i64>() {
        Ok(v) => Ok(v),
        Err(_) if obj.lt(0)? => Ok(i64::MIN),
        Err(_) => Ok(i64::MAX),
    }
}

pub(crate) fn customer_number_from_py(obj: &Bound<'_, PyAny>) -> PyResult<CustomerNumber> {
    if let Ok(s) = obj.cast::<PyString>() {
        return CustomerNumber::parse(&s.to_cow()?).map_err(invalid);
    }
    if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
        let n = int_from_py("customer_number", obj)?;
        return CustomerNumber::from_integer(n).map_err(invalid);
    }
    Err(wrong_type("customer_number", "a str or an int", obj))
}

fn coordinate(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    let number = (obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>())
        && !obj.is_instance_of::<PyBool>();
    if !number {
        return Err(wrong_type("geocode", "a pair of numbers", obj));
    }
    obj.extract::<f64>().map_err(|_| {
        invalid(ValidationError::new(
            "geocode",
            "coordinates must be finite numbers",
        ))
    })
}

fn geocode_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Geocode> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Geocode::parse(&s.to_cow()?).map_err(invalid);
    }
    if obj.is_instance_of::<PyTuple>() || obj.is_instance_of::<PyList>() {
        if obj.len()? != 2 {
            return Err(invalid(ValidationError::new(
                "geocode",
                "must be a (lat, long) pair",
            )));
        }
        let lat = coordinate(&obj.get_item(0)?)?;
        let long = coordinate(&obj.get_item(1)?)?;
        return Geocode::new(lat, long).map_err(invalid);
    }
    Err(wrong_type(
        "geocode",
        "a \"lat,long\" str or a (lat, long) tuple",
        obj,
    ))
}

pub(crate) fn mobile_recharge_from_py(
    product_id: &Bound<'_, PyAny>,
    amount: &Bound<'_, PyAny>,
    customer_number: &Bound<'_, PyAny>,
    geocode: &Bound<'_, PyAny>,
    idempotency_key: Option<&Bound<'_, PyAny>>,
) -> PyResult<MobileRecharge> {
    let req = MobileRecharge::from_parts(
        ProductId::new(int_from_py("product_id", product_id)?).map_err(invalid)?,
        Amount::new(int_from_py("amount", amount)?).map_err(invalid)?,
        customer_number_from_py(customer_number)?,
        geocode_from_py(geocode)?,
    );
    match opt_text_from_py("idempotency_key", idempotency_key)? {
        Some(key) => req.with_idempotency_key(key).map_err(invalid),
        None => Ok(req),
    }
}

pub(crate) fn headers_from_py(
    headers: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<(String, String)>> {
    let Some(headers) = headers.filter(|h| !h.is_none()) else {
        return Ok(Vec::new());
    };
    let headers = headers
        .cast::<PyDict>()
        .map_err(|_| wrong_type("headers", "a dict of str to str", headers))?;
    headers
        .iter()
        .map(
            |(k, v)| match (k.cast::<PyString>(), v.cast::<PyString>()) {
                (Ok(k), Ok(v)) => Ok((k.to_cow()?.into_owned(), v.to_cow()?.into_owned())),
                _ => Err(invalid(ValidationError::new(
                    "headers",
                    "names and values must be str",
                ))),
            },
        )
        .collect()
}

/// `root_certificates`: PEM text as `str` or `bytes`.
pub(crate) fn pem_from_py(pem: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
    let Some(pem) = pem else {
        return Ok(None);
    };
    if let Ok(text) = pem.cast::<PyString>() {
        return Ok(Some(text.to_cow()?.as_bytes().to_vec()));
    }
    if let Ok(bytes) = pem.cast::<pyo3::types::PyBytes>() {
        return Ok(Some(bytes.as_bytes().to_vec()));
    }
    Err(invalid(ValidationError::new(
        "root_certificates",
        "must be PEM text (str or bytes)",
    )))
}

/// An answer's `raw` as the core read it, until Python first reads it:
/// the generated classes' `raw` converts it then (most callers never read
/// `raw`, and converting it is most of an outcome's cost).
#[pyclass(frozen, module = "aopay._aopay")]
pub(crate) struct RawJson(serde_json::Value);

#[pymethods]
impl RawJson {
    /// The body as a dict (a new one each time).
    fn value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.0)
    }

    fn __repr__(&self) -> &'static str {
        "<raw answer>"
    }
}

/// One outcome as Python sees it: an `aopay.Payment`, built as the
/// generated `_from_answer` builds it (its instance dict filled, money as
/// `Decimal`) but from the outcome's typed values, its field names interned
/// once and its `raw` kept as [`RawJson`]: no JSON between, and on the
/// event loop of a busy `AsyncClient` this is per-call work under the GIL.
pub(crate) fn outcome_to_py(
    py: Python<'_>,
    mut outcome: Box<aopay_core::Payment>,
) -> PyResult<Bound<'_, PyAny>> {
    use pyo3::sync::PyOnceLock;
    use pyo3::types::PyType;
    static PAYMENT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static NAMES: PyOnceLock<Vec<Py<PyString>>> = PyOnceLock::new();
    let class = PAYMENT.import(py, "aopay._endpoints", "Payment")?;
    let names = NAMES.get_or_init(py, || {
        aopay_core::Payment::spec()
            .all_fields()
            .map(|f| PyString::intern(py, f.name).unbind())
            .collect()
    });
    let obj = py
        .get_type::<PyAny>()
        .call_method1(pyo3::intern!(py, "__new__"), (class,))?;
    let dict = obj
        .getattr(pyo3::intern!(py, "__dict__"))?
        .cast_into::<PyDict>()?;
    let raw = std::mem::take(&mut outcome.meta.raw);
    let values = outcome
        .field_values()
        .into_iter()
        .chain(outcome.meta.values());
    for (name, value) in names.iter().zip(values) {
        match value {
            aopay_core::FieldValue::Raw(_) => {}
            value => dict.set_item(name.bind(py), field_to_py(py, value)?)?,
        }
    }
    dict.set_item(pyo3::intern!(py, "_raw"), RawJson(raw))?;
    Ok(obj)
}

/// One field's value, as the generated classes hold it.
fn field_to_py<'py>(
    py: Python<'py>,
    value: aopay_core::FieldValue<'_>,
) -> PyResult<Bound<'py, PyAny>> {
    use aopay_core::FieldValue;
    static DECIMAL: pyo3::sync::PyOnceLock<Py<pyo3::types::PyType>> = pyo3::sync::PyOnceLock::new();
    Ok(match value {
        FieldValue::Text(Some(text)) => PyString::new(py, text).into_any(),
        FieldValue::Money(Some(money)) => DECIMAL
            .import(py, "decimal", "Decimal")?
            .call1((money.to_string(),))?,
        FieldValue::Integer(Some(i)) => i.into_pyobject(py)?.into_any(),
        FieldValue::Bool(Some(b)) => PyBool::new(py, b).to_owned().into_any(),
        FieldValue::Raw(raw) => json_to_py(py, raw)?,
        _ => py.None().into_bound(py),
    })
}

/// JSON → Python: dict, list, str, int, float, bool, None.
pub(crate) fn json_to_py<'py>(
    py: Python<'py>,
    v: &serde_json::Value,
) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, json_to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A value of Python as a neutral argument: the core checks its type
/// against the endpoint's table, with Python's type names.
pub(crate) fn arg_from_py(obj: &Bound<'_, PyAny>) -> PyResult<aopay_core::ArgValue> {
    use aopay_core::ArgValue;
    Ok(if obj.is_none() {
        ArgValue::Null
    } else if let Ok(b) = obj.cast::<PyBool>() {
        ArgValue::Bool(b.is_true())
    } else if obj.is_instance_of::<PyInt>() {
        ArgValue::Int(match obj.extract::<i64>() {
            Ok(v) => v,
            Err(_) if obj.lt(0)? => i64::MIN,
            Err(_) => i64::MAX,
        })
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        ArgValue::Float(f.value())
    } else if let Ok(s) = obj.cast::<PyString>() {
        ArgValue::Text(s.to_cow()?.into_owned())
    } else if obj.is_instance(decimal_type(obj.py())?)? {
        // Plain notation (`Decimal("1E+2")` is "100"); NaN stays "NaN",
        // for the core to refuse.
        ArgValue::Decimal(obj.call_method1("__format__", ("f",))?.extract()?)
    } else if obj.is_instance_of::<PyDict>()
        || obj.is_instance_of::<PyList>()
        || obj.is_instance_of::<PyTuple>()
    {
        match json_from_py("arguments", obj) {
            Ok(v) => ArgValue::Json(v),
            // Not JSON (a set inside, say): the core names the type.
            Err(_) => ArgValue::Other(type_name(obj)),
        }
    } else {
        ArgValue::Other(type_name(obj))
    })
}

/// `decimal.Decimal`, imported once.
fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, pyo3::types::PyType>> {
    static DECIMAL: pyo3::sync::PyOnceLock<Py<pyo3::types::PyType>> = pyo3::sync::PyOnceLock::new();
    DECIMAL.import(py, "decimal", "Decimal")
}

/// The keyword arguments of a generated method (a dict of str keys).
pub(crate) fn args_from_py(args: &Bound<'_, PyAny>) -> PyResult<aopay_core::Args> {
    let dict = args
        .cast::<PyDict>()
        .map_err(|_| wrong_type("arguments", "a dict", args))?;
    let mut out = aopay_core::Args::new(aopay_core::Lang::Python);
    for (k, v) in dict.iter() {
        let name = k
            .cast::<PyString>()
            .map_err(|_| wrong_type("arguments", "a dict with str keys", args))?
            .to_cow()?
            .into_owned();
        out.set(name, arg_from_py(&v)?);
    }
    Ok(out)
}

/// Python → JSON: dict (str keys), list/tuple, str, int, float, bool, None;
/// anything else is a `ValidationError` naming `field`.
pub(crate) fn json_from_py(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<serde_json::Value> {
    use serde_json::Value;
    Ok(if obj.is_none() {
        Value::Null
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Value::Bool(b.is_true())
    } else if obj.is_instance_of::<PyInt>() {
        match obj.extract::<i64>() {
            Ok(i) => Value::from(i),
            Err(_) => match obj.extract::<u64>() {
                Ok(u) => Value::from(u),
                Err(_) => return Err(wrong_type(field, "JSON (an int out of range)", obj)),
            },
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| wrong_type(field, "JSON (a finite float)", obj))?
    } else if let Ok(s) = obj.cast::<PyString>() {
        Value::String(s.to_cow()?.into_owned())
    } else if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| wrong_type(field, "JSON (str keys)", &k))?
                .to_cow()?
                .into_owned();
            map.insert(key, json_from_py(field, &v)?);
        }
        Value::Object(map)
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for item in obj.try_iter()? {
            items.push(json_from_py(field, &item?)?);
        }
        Value::Array(items)
    } else {
        return Err(wrong_type(field, "JSON (a dict, as the answer's raw)", obj));
    })
}

/// `repr(s)` as Python writes it.
pub(crate) fn py_repr(py: Python<'_>, s: Option<&str>) -> String {
    s.and_then(|s| PyString::new(py, s).repr().ok().map(|r| r.to_string()))
        .unwrap_or_else(|| "None".to_owned())
}
