//! Node bindings: conversion of values and errors only. Every rule lives in
//! aopay-core; the JS wrapper (`node/`) turns rejections into error classes.

mod convert;

use std::sync::{Arc, Mutex};

use aopay_core::WaitOptions;
use napi::bindgen_prelude::{AsyncBlock, AsyncBlockBuilder, Object};
use napi::{Env, Result};
use napi_derive::napi;
use tokio::sync::watch;

use crate::convert::{
    client_from_js, js_error, local_error, mobile_recharge_from_js, wait_options_from_js,
};

/// The outcome of a call that reached the API and got a readable answer.
#[napi(object)]
#[derive(Debug)]
pub struct Recharge {
    /// `SUCCESS`, `PENDING`, `FAILED` or `UNKNOWN`.
    pub status: String,
    /// The API's reference (`ReferanceID`), to check the status later.
    pub reference_id: Option<String>,
    pub txn_id: Option<String>,
    pub ackno: Option<String>,
    /// The most specific non-empty message in the body.
    pub message: Option<String>,
    /// `statusCode` / `response_code` from the body.
    pub api_code: Option<i64>,
    pub http_status: u32,
    /// `SUCCESS` and `FAILED` are final.
    pub is_final: bool,
    /// The whole JSON body.
    pub raw: serde_json::Value,
}

impl From<aopay_core::Recharge> for Recharge {
    fn from(r: aopay_core::Recharge) -> Self {
        Self {
            status: r.status.as_str().to_owned(),
            is_final: r.is_final(),
            reference_id: r.reference_id,
            txn_id: r.txn_id,
            ackno: r.ackno,
            message: r.message,
            api_code: r.api_code,
            http_status: u32::from(r.http_status),
            raw: r.raw,
        }
    }
}

type Outcome = std::result::Result<aopay_core::Recharge, aopay_core::Error>;

fn settle(result: Outcome) -> Result<Recharge> {
    result.map(Recharge::from).map_err(js_error)
}

/// Lets the JS side stop a `waitForFinal` (an `AbortSignal` calls `cancel`).
#[napi]
#[derive(Debug)]
pub struct CancelToken {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for CancelToken {
    fn default() -> Self {
        Self {
            tx: Arc::new(watch::channel(false).0),
        }
    }
}

#[napi]
impl CancelToken {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    #[napi]
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }
}

/// The native client behind the JS `Client`.
#[napi]
#[derive(Debug)]
pub struct NativeClient {
    inner: aopay_core::Client,
}

#[napi]
impl NativeClient {
    /// `options`: `{ registrationId, baseUrl?, timeoutMs?, connectTimeoutMs?, headers?, allowInsecureHttp? }`.
    #[napi(constructor)]
    pub fn new(env: &Env, options: Object<'_>) -> Result<Self> {
        Ok(Self {
            inner: client_from_js(env, &options)?,
        })
    }

    /// `input`: `{ productId, amount, customerNumber, geocode }`.
    #[napi(ts_return_type = "Promise<Recharge>")]
    pub fn mobile_recharge(&self, env: &Env, input: Object<'_>) -> Result<AsyncBlock<Recharge>> {
        let req = mobile_recharge_from_js(env, &input)?;
        let client = self.inner.clone();
        AsyncBlockBuilder::new(async move { settle(client.mobile_recharge(&req).await) }).build(env)
    }

    #[napi(ts_return_type = "Promise<Recharge>")]
    pub fn recharge_status(&self, env: &Env, reference_id: String) -> Result<AsyncBlock<Recharge>> {
        let client = self.inner.clone();
        AsyncBlockBuilder::new(async move { settle(client.recharge_status(&reference_id).await) })
            .build(env)
    }

    /// `options`: `{ timeoutMs?, initialIntervalMs?, maxIntervalMs? }`.
    #[napi(ts_return_type = "Promise<Recharge>")]
    pub fn wait_for_final(
        &self,
        env: &Env,
        reference_id: String,
        options: Option<Object<'_>>,
        cancel: Option<&CancelToken>,
    ) -> Result<AsyncBlock<Recharge>> {
        let opts: WaitOptions = wait_options_from_js(options.as_ref())?;
        let client = self.inner.clone();
        let mut cancelled = cancel.map(|c| c.tx.subscribe());
        AsyncBlockBuilder::new(async move {
            let wait = client.wait_for_final(&reference_id, opts);
            match cancelled.as_mut() {
                None => settle(wait.await),
                Some(rx) => tokio::select! {
                    r = wait => settle(r),
                    _ = rx.wait_for(|c| *c) => Err(local_error("ABORTED", "the wait was aborted")),
                },
            }
        })
        .build(env)
    }

    /// A description without secrets (header names only).
    #[napi]
    pub fn describe(&self) -> String {
        let c = &self.inner;
        let headers: Vec<&str> = c.header_names().collect();
        format!(
            "Client {{ registrationId: '{}', baseUrl: '{}', timeoutMs: {}, headers: [{}] }}",
            c.registration_id().as_str(),
            c.base_url(),
            c.timeout().as_millis(),
            headers
                .iter()
                .map(|h| format!("'{h}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// What the sandbox has received so far.
#[napi(object)]
#[derive(Debug)]
pub struct SandboxStats {
    pub recharge_requests: i64,
    pub status_requests: i64,
    pub rejected_requests: i64,
    pub transactions: i64,
}

/// The native sandbox behind the JS `Sandbox`.
#[napi]
#[derive(Debug)]
pub struct NativeSandbox {
    inner: Arc<Mutex<Option<aopay_sandbox::Sandbox>>>,
    url: String,
}

impl NativeSandbox {
    fn with<T>(&self, f: impl FnOnce(&aopay_sandbox::Sandbox) -> T) -> Result<T> {
        let guard = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard
            .as_ref()
            .map(f)
            .ok_or_else(|| local_error("SANDBOX_STOPPED", "the sandbox is stopped"))
    }
}

#[napi]
impl NativeSandbox {
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    #[napi]
    pub fn stats(&self) -> Result<SandboxStats> {
        let s = self.with(aopay_sandbox::Sandbox::stats)?;
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Ok(SandboxStats {
            recharge_requests: n(s.recharge_requests),
            status_requests: n(s.status_requests),
            rejected_requests: n(s.rejected_requests),
            transactions: n(s.transactions),
        })
    }

    /// How many recharge requests named this customer number (string or number).
    #[napi]
    pub fn recharges_for(&self, customer_number: napi::Either<String, f64>) -> Result<i64> {
        let number = convert::customer_number_from_either(customer_number)?;
        let n = self.with(|sb| sb.recharges_for(number.get()))?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    #[napi]
    pub fn reset(&self) -> Result<()> {
        self.with(aopay_sandbox::Sandbox::reset)
    }

    /// Stop serving (idempotent).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn stop(&self, env: &Env) -> Result<AsyncBlock<()>> {
        let sb = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        AsyncBlockBuilder::new(async move {
            if let Some(sb) = sb {
                sb.stop().await;
            }
            Ok(())
        })
        .build(env)
    }
}

/// Start the sandbox on a free loopback port. `options`: `{ slowDelayMs?, pendingChecks? }`.
#[napi]
pub async fn start_sandbox(
    slow_delay_ms: Option<f64>,
    pending_checks: Option<u32>,
) -> Result<NativeSandbox> {
    let mut config = aopay_sandbox::SandboxConfig::default();
    if let Some(ms) = slow_delay_ms {
        let delay = std::time::Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| {
            js_error(
                aopay_core::ValidationError::new("slowDelayMs", "must be a non-negative number")
                    .into(),
            )
        })?;
        config = config.slow_delay(delay);
    }
    if let Some(checks) = pending_checks {
        config = config.pending_checks(checks);
    }
    let sb =
        aopay_sandbox::Sandbox::start_with(config, std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| local_error("SANDBOX_START", &format!("cannot start the sandbox: {e}")))?;
    Ok(NativeSandbox {
        url: sb.url().to_owned(),
        inner: Arc::new(Mutex::new(Some(sb))),
    })
}

/// The sandbox's magic customer numbers and what each does.
#[napi]
pub fn magic_numbers() -> Vec<MagicNumber> {
    aopay_sandbox::MAGIC_NUMBERS
        .iter()
        .map(|(n, _, what)| MagicNumber {
            number: n.to_string(),
            description: (*what).to_owned(),
        })
        .collect()
}

#[napi(object)]
#[derive(Debug)]
pub struct MagicNumber {
    pub number: String,
    pub description: String,
}

/// The SDK version (one version for the crates and both packages).
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
