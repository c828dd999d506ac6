//! `Sandbox`: the AOPay-compatible sandbox, in this process.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::asyncio::{BATCHES, Payload};
use crate::convert::{self, json_to_py};
use crate::errors::to_py_err;
use crate::runtime::{self, runtime};
use crate::{asyncio, signer};

/// A sandbox setting in seconds (zero allowed: no delay).
fn sandbox_seconds(field: &'static str, secs: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(secs).map_err(|_| {
        to_py_err(
            aopay_core::ValidationError::new(field, "must be a non-negative number of seconds")
                .into(),
        )
    })
}

/// The AOPay-compatible sandbox, running in this process on a free
/// loopback port until `stop()` (or the end of a `with` block).
#[pyclass(module = "aopay", name = "Sandbox")]
#[derive(Debug)]
pub struct PySandbox {
    inner: Option<aopay_sandbox::Sandbox>,
    url: String,
    ca_pem: Option<String>,
    /// The process serving it: a forked child inherits the object, not the
    /// server, which keeps running in (and belongs to) the parent.
    pid: u32,
}

impl PySandbox {
    fn running(&self) -> PyResult<&aopay_sandbox::Sandbox> {
        if self.pid != std::process::id() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                "this sandbox is served by process {} (this is a forked child): \
                 call it through its url, or start a Sandbox in this process",
                self.pid
            )));
        }
        self.inner
            .as_ref()
            .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("the sandbox is stopped"))
    }

    /// The server, if this process may stop it; in a forked child the
    /// parent's is forgotten untouched (stopping it here would signal a
    /// task of the parent's runtime, which this process does not run).
    fn take_own(&mut self) -> Option<aopay_sandbox::Sandbox> {
        let sb = self.inner.take()?;
        if self.pid == std::process::id() {
            Some(sb)
        } else {
            std::mem::forget(sb);
            None
        }
    }
}

impl Drop for PySandbox {
    fn drop(&mut self) {
        // Dropping signals the server to stop: only the owner does.
        drop(self.take_own());
    }
}

#[pymethods]
impl PySandbox {
    #[new]
    #[pyo3(signature = (*, slow_delay=3.0, pending_checks=2, tls=false, require_tokens=false, wallet_payments=None, require_jwt_secret=None, require_jwt_public_key=None, jwt_header="Token"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        slow_delay: f64,
        pending_checks: u32,
        tls: bool,
        require_tokens: bool,
        wallet_payments: Option<u64>,
        require_jwt_secret: Option<&Bound<'_, PyAny>>,
        require_jwt_public_key: Option<&Bound<'_, PyAny>>,
        jwt_header: &str,
    ) -> PyResult<Self> {
        let delay = sandbox_seconds("slow_delay", slow_delay)?;
        let mut config = aopay_sandbox::SandboxConfig::default()
            .slow_delay(delay)
            .pending_checks(pending_checks)
            .require_tokens(require_tokens);
        if let Some(n) = wallet_payments {
            config = config.wallet_payments(n);
        }
        match (
            signer::bytes_from_py("require_jwt_secret", require_jwt_secret)?,
            signer::bytes_from_py("require_jwt_public_key", require_jwt_public_key)?,
        ) {
            (Some(secret), None) => {
                config = config.require_jwt(aopay_sandbox::JwtKey::Hs256(secret))
            }
            (None, Some(pem)) => {
                config = config.require_jwt(aopay_sandbox::JwtKey::Rs256PublicPem(pem));
            }
            (None, None) => {}
            (Some(_), Some(_)) => {
                return Err(convert::invalid(aopay_core::ValidationError::new(
                    "require_jwt_secret",
                    "give a secret (HS256) or a public key (RS256), not both",
                )));
            }
        }
        config = config.jwt_header(jwt_header);
        runtime::not_inside_a_call()?;
        let rt = runtime()?;
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let sb = py
            .detach(|| {
                rt.block_on(async {
                    if tls {
                        aopay_sandbox::Sandbox::start_tls_with(config, addr).await
                    } else {
                        aopay_sandbox::Sandbox::start_with(config, addr).await
                    }
                })
            })
            .map_err(|e| match e.kind() {
                // A JWT key it cannot use: an invalid argument.
                std::io::ErrorKind::InvalidInput => convert::invalid(
                    aopay_core::ValidationError::new("require_jwt", e.to_string()),
                ),
                _ => pyo3::exceptions::PyOSError::new_err(format!("cannot start the sandbox: {e}")),
            })?;
        Ok(Self {
            url: sb.url().to_owned(),
            ca_pem: sb.ca_pem().map(str::to_owned),
            inner: Some(sb),
            pid: std::process::id(),
        })
    }

    /// `http://127.0.0.1:PORT` (`https://` with `tls=True`): pass it as the
    /// client's `base_url`.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// With `tls=True`, the PEM of the throwaway CA behind the sandbox's
    /// certificate: pass it as the client's `root_certificates`.
    #[getter]
    fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Counts of what was received so far.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = serde_json::to_value(self.running()?.stats()).unwrap_or_default();
        Ok(json_to_py(py, &s)?.cast_into::<PyDict>()?)
    }

    /// How many recharge requests named this customer number.
    fn recharges_for(&self, customer_number: &Bound<'_, PyAny>) -> PyResult<u64> {
        let n = convert::customer_number_from_py(customer_number)?;
        Ok(self.running()?.recharges_for(n.get()))
    }

    /// How many payments (DoRecharge, bill payments, FASTag top-ups) are
    /// recorded for this account (`canumber`); a write refused for a
    /// reused reference is not one.
    fn recorded_payments_for(&self, account: &str) -> PyResult<u64> {
        Ok(self.running()?.recorded_payments_for(account))
    }

    /// A bearer token valid for `lifetime` seconds, for a sandbox started
    /// with `require_tokens=True` (what a token service would give).
    #[pyo3(signature = (lifetime=600.0))]
    fn issue_token(&self, lifetime: f64) -> PyResult<String> {
        Ok(self
            .running()?
            .issue_token(sandbox_seconds("lifetime", lifetime)?))
    }

    /// Invalidate every token issued so far: the next call with one gets 401.
    fn revoke_tokens(&self) -> PyResult<()> {
        self.running()?.revoke_tokens();
        Ok(())
    }

    /// Forget every transaction and zero the counts.
    fn reset(&self) -> PyResult<()> {
        self.running()?.reset();
        Ok(())
    }

    /// Top the wallet up: it covers `payments` more referenced payments
    /// (`None`: no limit).
    #[pyo3(signature = (payments=None))]
    fn top_up(&self, payments: Option<u64>) -> PyResult<()> {
        self.running()?.top_up(payments);
        Ok(())
    }

    /// Stop serving (idempotent).
    fn stop(&mut self, py: Python<'_>) -> PyResult<()> {
        runtime::not_inside_a_call()?;
        if let Some(sb) = self.take_own() {
            let rt = runtime()?;
            py.detach(|| rt.block_on(sb.stop()));
        }
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(
        &mut self,
        py: Python<'_>,
        _args: &Bound<'_, pyo3::types::PyTuple>,
    ) -> PyResult<()> {
        self.stop(py)
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let obj: Py<PyAny> = slf.into_any().unbind();
        asyncio::ready(py, obj.into_bound(py))
    }

    #[pyo3(signature = (*_args))]
    fn __aexit__<'py>(
        &mut self,
        py: Python<'py>,
        _args: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let sb = self.take_own();
        BATCHES.spawn(
            py,
            async move {
                if let Some(sb) = sb {
                    sb.stop().await;
                }
                Ok(Payload::Unit)
            },
            false,
        )
    }

    fn __repr__(&self) -> String {
        let state = if self.inner.is_some() {
            "running"
        } else {
            "stopped"
        };
        format!("Sandbox(url={:?}, {state})", self.url)
    }
}
