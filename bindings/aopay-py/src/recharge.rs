//! `Recharge`: a V2 recharge's answer, as Python sees it.

use pyo3::prelude::*;

use crate::convert::{json_to_py, py_repr};

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
