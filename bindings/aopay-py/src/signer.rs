//! `signer=`: the core's `JwtSigner` (`aopay.JwtSigner`), or a Python
//! function (or coroutine function) given the path and the body bytes,
//! returning a mapping of headers. Called for every attempt; never cached.

use std::sync::Arc;

use aopay_core::{JwtSettings, JwtSigner, Signer, SignerFuture};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::asyncio::{CALLER_LOOP, attach_from_worker};
use crate::convert::{headers_from_py, invalid, json_from_py, wrong_type};
use crate::credentials::{call, header_pairs};

/// The upstream's JWT, made afresh for every request (HS256 with
/// `secret`, or RS256 with `private_key`). Its key never shows.
#[pyclass(frozen, module = "aopay", name = "JwtSigner")]
#[derive(Debug)]
pub struct PyJwtSigner {
    pub(crate) inner: JwtSigner,
}

/// A secret or a key as `str` or `bytes`.
pub(crate) fn bytes_from_py(
    field: &'static str,
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Vec<u8>>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(s.to_cow()?.as_bytes().to_vec()));
    }
    match obj.cast::<PyBytes>() {
        Ok(b) => Ok(Some(b.as_bytes().to_vec())),
        Err(_) => Err(wrong_type(field, "str or bytes", obj)),
    }
}

#[pymethods]
impl PyJwtSigner {
    #[new]
    #[pyo3(signature = (*, partner_id, secret=None, private_key=None, header="Token", claims=None, headers=None))]
    fn new(
        partner_id: &Bound<'_, PyAny>,
        secret: Option<&Bound<'_, PyAny>>,
        private_key: Option<&Bound<'_, PyAny>>,
        header: &str,
        claims: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let partner_id = crate::convert::text_from_py("partner_id", partner_id)?;
        let secret = bytes_from_py("secret", secret)?;
        let private_key = bytes_from_py("private_key", private_key)?;
        let claims = match claims.filter(|c| !c.is_none()) {
            None => serde_json::Map::new(),
            Some(c) => match json_from_py("claims", c)? {
                serde_json::Value::Object(m) => m,
                _ => return Err(wrong_type("claims", "a dict", c)),
            },
        };
        let settings = JwtSettings {
            partner_id: &partner_id,
            secret: secret.as_deref(),
            private_key: private_key.as_deref(),
            header: Some(header),
            claims,
            headers: headers_from_py(headers)?,
        };
        JwtSigner::from_settings(settings)
            .map(|inner| Self { inner })
            .map_err(invalid)
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }

    /// The headers of one request, made now (a fresh token): what the
    /// client sends. For checking a setup; they are secrets.
    fn headers(&self) -> PyResult<std::collections::BTreeMap<String, String>> {
        self.inner
            .headers()
            .map(|h| h.into_iter().collect())
            .map_err(|m| invalid(aopay_core::ValidationError::new("signer", m)))
    }
}

/// A Python function as a signer.
pub(crate) struct PySigner {
    function: Arc<Py<PyAny>>,
}

impl PySigner {
    pub(crate) fn new(obj: &Bound<'_, PyAny>) -> Option<Self> {
        obj.is_callable().then(|| Self {
            function: Arc::new(obj.clone().unbind()),
        })
    }
}

impl Signer for PySigner {
    fn sign(&self, path: &str, body: &[u8]) -> SignerFuture {
        let function = Arc::clone(&self.function);
        let (path, body) = (path.to_owned(), body.to_vec());
        let caller_loop = CALLER_LOOP.try_with(Arc::clone).ok();
        Box::pin(async move {
            // The function may block (an HSM, a vault): never on a runtime thread.
            tokio::task::spawn_blocking(move || {
                attach_from_worker(|py| {
                    let args = (path, PyBytes::new(py, &body));
                    let result = call(py, &function, args, caller_loop.as_deref())?;
                    header_pairs(
                        &result,
                        "it must return a mapping of header names to values",
                    )
                })
                .unwrap_or_else(|| Err("the interpreter is shutting down".to_owned()))
            })
            .await
            .unwrap_or_else(|_| Err("the signer panicked".to_owned()))
        })
    }
}

/// `signer=`: a `JwtSigner`, or a function.
pub(crate) fn signer_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn Signer>> {
    if let Ok(jwt) = obj.cast::<PyJwtSigner>() {
        return Ok(Arc::new(jwt.get().inner.clone()));
    }
    match PySigner::new(obj) {
        Some(s) => Ok(Arc::new(s)),
        None => Err(wrong_type(
            "signer",
            "an aopay.JwtSigner or a function (path, body) -> headers",
            obj,
        )),
    }
}
