//! Node bindings: conversion of values and errors only. Every rule lives in
//! aopay-core; the JS wrapper (`node/`) turns rejections into error classes.

mod batch;
mod convert;
mod credentials;
mod logging;
mod signer;

use std::fmt::Write as _;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aopay_core::WaitOptions;
use napi::bindgen_prelude::{AsyncBlock, AsyncBlockBuilder, Function, Object, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Result, Status};
use napi_derive::napi;
use tokio::sync::watch;

use crate::convert::{
    args_from_js, camel_json, client_from_js, error_json, js_error, local_error, local_error_json,
    mobile_recharge_from_js, reference_from_js, wait_options_from_js,
};

type Outcome = std::result::Result<aopay_core::Recharge, aopay_core::Error>;

/// Completed calls waiting for the JS thread, as the inside of a JSON array
/// of `[id, ok, value]` entries.
#[derive(Debug, Default)]
struct Completions {
    buf: Mutex<String>,
}

type Notify = ThreadsafeFunction<(), (), String, Status, false, true, 0>;

/// Results reach JS in batches: a completion appends to the buffer, and
/// only the one that finds it empty wakes the JS thread, whose callback
/// takes everything queued by then. One wake-up and one `JSON.parse` serve
/// many calls, and no per-call threadsafe function or promise is created
/// natively (the JS side keeps the promises).
struct Dispatcher {
    completions: Arc<Completions>,
    notify: Notify,
    /// Held while the client has a `logger`: its calls' events go to it.
    logger: Option<logging::LoggerGuard>,
}

/// `[0, 3, [method, line]]`: a line for the client's `logger`.
impl logging::LogSink for Dispatcher {
    fn log(&self, level: &'static str, line: &str) {
        if let Ok(json) = serde_json::to_string(&(level, line)) {
            self.queue(0, 3, &json);
        }
    }
}

impl Dispatcher {
    fn complete(&self, id: u32, outcome: std::result::Result<String, String>) {
        let (ok, value) = match outcome {
            Ok(v) => (1, v),
            Err(e) => (0, e),
        };
        self.queue(id, ok, &value);
    }

    /// Queue `[id, kind, value]`: kind 1 a result, 0 an error, 2 an
    /// `onCall` event, 3 a `logger` line (both id 0).
    fn queue(&self, id: u32, ok: u8, value: &str) {
        let mut buf = self
            .completions
            .buf
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let wake = buf.is_empty();
        if !wake {
            buf.push(',');
        }
        let _ = write!(buf, "[{id},{ok},{value}]");
        drop(buf);
        if wake {
            self.notify
                .call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    fn spawn(self: &Arc<Self>, id: u32, fut: impl Future<Output = Outcome> + Send + 'static) {
        self.spawn_json(
            id,
            async move { fut.await.map(|r| convert::outcome_json(&r)) },
        );
    }

    /// Any call whose answer is already JSON text.
    fn spawn_json(
        self: &Arc<Self>,
        id: u32,
        fut: impl Future<Output = std::result::Result<String, aopay_core::Error>> + Send + 'static,
    ) {
        let this = Arc::clone(self);
        self.run(async move {
            let outcome = fut.await;
            this.complete(id, outcome.map_err(|e| error_json(&e)));
        });
    }

    /// Run `fut` on napi's runtime, its events going to the client's
    /// logger if it has one.
    fn run(self: &Arc<Self>, fut: impl Future<Output = ()> + Send + 'static) {
        let sink = self
            .logger
            .as_ref()
            .map(|_| Arc::clone(self) as Arc<dyn logging::LogSink>);
        napi::bindgen_prelude::spawn(logging::with_sink(sink, fut));
    }
}

/// `onCall`: each call's event joins the client's queue of results just
/// before the call's own result, so it reaches JS first, in the same batch.
struct Events(Arc<Dispatcher>);

impl aopay_core::CallObserver for Events {
    fn on_call(&self, e: &aopay_core::CallEvent<'_>) {
        self.0.queue(0, 2, &camel_json(&e.to_json_value()));
    }
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

/// The native client behind the JS `Client`. Calls take an id and return
/// at once; results arrive through `onComplete` (see `Dispatcher`).
#[napi]
pub struct NativeClient {
    inner: aopay_core::Client,
    dispatcher: Arc<Dispatcher>,
}

impl std::fmt::Debug for NativeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeClient")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

#[napi]
impl NativeClient {
    /// `options`: `{ registrationId, baseUrl?, timeoutMs?, connectTimeoutMs?, headers?, allowInsecureHttp?, rootCertificates? }`;
    /// `onComplete` receives batches: a JSON array of `[id, kind, value]`
    /// (see `Dispatcher::queue`); with `logs`, the client's events too.
    #[napi(constructor)]
    pub fn new(
        env: &Env,
        options: Object<'_>,
        on_complete: Function<'_, String, ()>,
        logs: Option<bool>,
    ) -> Result<Self> {
        logging::install();
        let completions = Arc::new(Completions::default());
        let queued = Arc::clone(&completions);
        let notify = on_complete
            .build_threadsafe_function::<()>()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(move |_ctx| {
                let mut buf = queued
                    .buf
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let batch = format!("[{}]", *buf);
                buf.clear();
                Ok(batch)
            })?;
        let dispatcher = Arc::new(Dispatcher {
            completions,
            notify,
            logger: logs.unwrap_or(false).then(logging::LoggerGuard::new),
        });
        let observer: Arc<dyn aopay_core::CallObserver> = Arc::new(Events(Arc::clone(&dispatcher)));
        Ok(Self {
            inner: client_from_js(env, &options, &observer)?,
            dispatcher,
        })
    }

    /// `input`: `{ productId, amount, customerNumber, geocode }`. Invalid
    /// input throws here, before anything is sent.
    #[napi]
    pub fn mobile_recharge(&self, env: &Env, id: u32, input: Object<'_>) -> Result<()> {
        let req = mobile_recharge_from_js(env, &input)?;
        // Admitted now (a closed client throws here), counted until it ends.
        let client = self.inner.admit().map_err(js_error)?;
        self.dispatcher
            .spawn(id, async move { client.mobile_recharge(&req).await });
        Ok(())
    }

    #[napi]
    pub fn recharge_status(&self, id: u32, reference_id: Unknown<'_>) -> Result<()> {
        let reference_id = reference_from_js(&reference_id)?;
        let client = self.inner.admit().map_err(js_error)?;
        self.dispatcher.spawn(
            id,
            async move { client.recharge_status(&reference_id).await },
        );
        Ok(())
    }

    /// The one generic call behind the generated methods (`endpoints.cjs`):
    /// `method` names an endpoint of the core's table, `input` is its
    /// camelCase arguments. Invalid input throws here, before anything is
    /// sent; the answer arrives as a camelCase JSON object.
    #[napi]
    pub fn call(&self, env: &Env, id: u32, method: String, input: Unknown<'_>) -> Result<()> {
        let args = args_from_js(env, &input)?;
        let admitted = self.inner.admit().map_err(js_error)?;
        let call = admitted.prepare(&method, &args).map_err(js_error)?;
        self.dispatcher
            .spawn_json(id, async move { call.await.map(|v| camel_json(&v)) });
        Ok(())
    }

    /// `options`: `{ timeoutMs?, initialIntervalMs?, maxIntervalMs? }`.
    #[napi]
    pub fn wait_for_final(
        &self,
        id: u32,
        reference_id: Unknown<'_>,
        options: Option<Unknown<'_>>,
        cancel: Option<&CancelToken>,
    ) -> Result<()> {
        let target = convert::wait_target_from_js(&reference_id)?;
        let opts: WaitOptions = wait_options_from_js(options.as_ref())?;
        let client = self.inner.admit().map_err(js_error)?;
        let mut cancelled = cancel.map(|c| c.tx.subscribe());
        let dispatcher = Arc::clone(&self.dispatcher);
        self.dispatcher.run(async move {
            let wait = async {
                client
                    .wait_for_call(
                        target.status_call.as_deref(),
                        target.reference.as_deref(),
                        opts,
                    )
                    .await
                    .map(|p| convert::outcome_json(&p))
            };
            let outcome = match cancelled.as_mut() {
                None => Some(wait.await),
                Some(rx) => tokio::select! {
                    r = wait => Some(r),
                    _ = rx.wait_for(|c| *c) => None,
                },
            };
            let result = match outcome {
                Some(r) => r.map_err(|e| error_json(&e)),
                None => Err(local_error_json("ABORTED", "the wait was aborted")),
            };
            dispatcher.complete(id, result);
        });
        Ok(())
    }

    /// A batch of orders paid once each through the journal: from the file
    /// at `path`, or pushed (`push`, `end`). Options and journal checked now.
    #[napi]
    pub fn run_batch(
        &self,
        path: Option<String>,
        options: Option<Object<'_>>,
    ) -> Result<batch::NativeBatch> {
        batch::NativeBatch::new(self.inner.clone(), path, options)
    }

    /// Unresolved journal entries, as a JSON array (snake_case keys).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn journal_pending(&self, env: &Env) -> Result<AsyncBlock<String>> {
        let client = self.inner.clone();
        AsyncBlockBuilder::new(async move {
            let journal = client.journal().ok_or_else(no_journal)?;
            let entries = journal.unresolved().await.map_err(js_error)?;
            let v: Vec<_> = entries
                .iter()
                .map(aopay_core::JournalEntry::to_json_value)
                .collect();
            Ok(camel_json(&serde_json::Value::from(v)))
        })
        .build(env)
    }

    /// Close the client: no new call is taken; the calls in flight end
    /// (their outcomes recorded); the journal is left whole in its file.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close(&self, env: &Env) -> Result<AsyncBlock<()>> {
        let client = self.inner.clone();
        AsyncBlockBuilder::new(async move {
            client.close().await;
            Ok(())
        })
        .build(env)
    }

    /// Settle, release or audit an entry by hand (`action`), from the
    /// key and options as JSON text: the entry (or the audit records) as
    /// JSON. Every argument is checked by the core.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn journal_by_hand(
        &self,
        env: &Env,
        action: String,
        key_json: String,
        options_json: String,
    ) -> Result<AsyncBlock<String>> {
        let client = self.inner.clone();
        AsyncBlockBuilder::new(async move {
            let parse = |text: &str| serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
            let by_hand =
                aopay_core::ByHand::from_json(&action, &parse(&key_json), &parse(&options_json))
                    .map_err(|e| js_error(e.into()))?;
            let journal = client.journal().ok_or_else(no_journal)?;
            let v = journal.by_hand_json(&by_hand).await.map_err(js_error)?;
            Ok(camel_json(&v))
        })
        .build(env)
    }

    /// Check every unresolved entry that has a reference; a JSON array.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn reconcile_journal(&self, env: &Env) -> Result<AsyncBlock<String>> {
        let client = self.inner.clone();
        AsyncBlockBuilder::new(async move {
            if client.journal().is_none() {
                return Err(no_journal());
            }
            let results = client.reconcile_journal().await.map_err(js_error)?;
            let v: Vec<_> = results
                .iter()
                .map(|(e, r)| aopay_core::reconciliation_json(e, r))
                .collect();
            Ok(camel_json(&serde_json::Value::from(v)))
        })
        .build(env)
    }

    /// A description without secrets (header names only).
    #[napi]
    pub fn describe(&self) -> String {
        let c = &self.inner;
        let headers: Vec<String> = c.header_names().map(|h| format!("'{h}'")).collect();
        format!(
            "Client {{ registrationId: '{}', baseUrl: '{}', timeoutMs: {}, headers: [{}] }}",
            c.registration_id().as_str(),
            c.base_url(),
            c.timeout().as_millis(),
            headers.join(", ")
        )
    }
}

fn no_journal() -> napi::Error {
    js_error(aopay_core::ValidationError::new("journal", "this client has no journal").into())
}

/// The native sandbox behind the JS `Sandbox`.
#[napi]
#[derive(Debug)]
pub struct NativeSandbox {
    inner: Arc<Mutex<Option<aopay_sandbox::Sandbox>>>,
    url: String,
    ca_pem: Option<String>,
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

    /// PEM of a TLS sandbox's throwaway CA (`null` for plain HTTP).
    #[napi(getter)]
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The counts as camelCase JSON (one per endpoint, and the refusals).
    #[napi]
    pub fn stats(&self) -> Result<String> {
        let s = self.with(aopay_sandbox::Sandbox::stats)?;
        Ok(camel_json(&serde_json::to_value(s).unwrap_or_default()))
    }

    /// How many recharge requests named this customer number (string or number).
    #[napi]
    pub fn recharges_for(&self, customer_number: napi::Either<String, f64>) -> Result<i64> {
        let number = convert::customer_number_from_either(customer_number)?;
        let n = self.with(|sb| sb.recharges_for(number.get()))?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// How many payments (DoRecharge, bill payments, FASTag top-ups) are
    /// recorded for this account; a write refused for a reused reference
    /// is not one.
    #[napi]
    pub fn recorded_payments_for(&self, account: String) -> Result<i64> {
        let n = self.with(|sb| sb.recorded_payments_for(&account))?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// A bearer token valid for `lifetime_ms` (a sandbox started with
    /// `requireTokens`).
    #[napi]
    pub fn issue_token(&self, lifetime_ms: Option<f64>) -> Result<String> {
        let lifetime = sandbox_millis("lifetimeMs", lifetime_ms.unwrap_or(600_000.0))?;
        self.with(|sb| sb.issue_token(lifetime))
    }

    /// Invalidate every token issued so far.
    #[napi]
    pub fn revoke_tokens(&self) -> Result<()> {
        self.with(aopay_sandbox::Sandbox::revoke_tokens)
    }

    #[napi]
    pub fn reset(&self) -> Result<()> {
        self.with(aopay_sandbox::Sandbox::reset)
    }

    /// Top the wallet up: it covers `payments` more referenced payments
    /// (none given: no limit).
    #[napi]
    pub fn top_up(&self, payments: Option<u32>) -> Result<()> {
        self.with(|sb| sb.top_up(payments.map(u64::from)))
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

/// A sandbox setting in milliseconds (zero allowed: no delay).
fn sandbox_millis(field: &'static str, ms: f64) -> Result<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| {
        js_error(aopay_core::ValidationError::new(field, "must be a non-negative number").into())
    })
}

/// Start the sandbox on a free loopback port (HTTPS with a throwaway CA when `tls`).
// One argument per `SandboxOptions` field, as index.cjs passes them.
#[allow(clippy::too_many_arguments)]
#[napi]
pub async fn start_sandbox(
    slow_delay_ms: Option<f64>,
    pending_checks: Option<u32>,
    tls: Option<bool>,
    require_tokens: Option<bool>,
    wallet_payments: Option<u32>,
    require_jwt_secret: Option<napi::bindgen_prelude::Buffer>,
    require_jwt_public_key: Option<napi::bindgen_prelude::Buffer>,
    jwt_header: Option<String>,
) -> Result<NativeSandbox> {
    logging::install();
    let mut config =
        aopay_sandbox::SandboxConfig::default().require_tokens(require_tokens.unwrap_or(false));
    if let Some(ms) = slow_delay_ms {
        config = config.slow_delay(sandbox_millis("slowDelayMs", ms)?);
    }
    if let Some(checks) = pending_checks {
        config = config.pending_checks(checks);
    }
    if let Some(n) = wallet_payments {
        config = config.wallet_payments(u64::from(n));
    }
    match (require_jwt_secret, require_jwt_public_key) {
        (Some(secret), None) => {
            config = config.require_jwt(aopay_sandbox::JwtKey::Hs256(secret.to_vec()));
        }
        (None, Some(pem)) => {
            config = config.require_jwt(aopay_sandbox::JwtKey::Rs256PublicPem(pem.to_vec()));
        }
        (None, None) => {}
        (Some(_), Some(_)) => {
            return Err(js_error(
                aopay_core::ValidationError::new(
                    "require_jwt_secret",
                    "give a secret (HS256) or a public key (RS256), not both",
                )
                .into(),
            ));
        }
    }
    if let Some(name) = jwt_header {
        config = config.jwt_header(name);
    }
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let started = if tls.unwrap_or(false) {
        aopay_sandbox::Sandbox::start_tls_with(config, addr).await
    } else {
        aopay_sandbox::Sandbox::start_with(config, addr).await
    };
    let sb = started.map_err(|e| match e.kind() {
        // A JWT key it cannot use: an invalid option.
        std::io::ErrorKind::InvalidInput => {
            js_error(aopay_core::ValidationError::new("require_jwt", e.to_string()).into())
        }
        _ => local_error("SANDBOX_START", &format!("cannot start the sandbox: {e}")),
    })?;
    Ok(NativeSandbox {
        url: sb.url().to_owned(),
        ca_pem: sb.ca_pem().map(str::to_owned),
        inner: Arc::new(Mutex::new(Some(sb))),
    })
}

/// Move every open SQLite journal's WAL into its database file (called at
/// process exit: a client never collected keeps its journal open).
#[napi]
pub fn checkpoint_journals() {
    aopay_core::Journal::checkpoint_all();
}

/// Check a JwtSigner's settings now (its constructor): a ValidationError
/// naming the setting, never the secret.
#[napi]
pub fn check_jwt_signer(env: Env, settings: Object<'_>) -> Result<()> {
    signer::jwt_from_js(&env, &settings).map(drop)
}

/// One request's headers from a JwtSigner's settings (a fresh token), as
/// JSON text: for checking a setup; they are secrets.
#[napi]
pub fn jwt_headers(env: Env, settings: Object<'_>) -> Result<String> {
    let signer = signer::jwt_from_js(&env, &settings)?;
    let headers: serde_json::Map<String, serde_json::Value> = signer
        .headers()
        .map_err(|m| js_error(aopay_core::ValidationError::new("signer", m).into()))?
        .into_iter()
        .map(|(k, v)| (k, v.into()))
        .collect();
    Ok(serde_json::Value::Object(headers).to_string())
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

/// One tokio worker thread: the Node thread already occupies a core, and a
/// single worker avoids cross-thread wake-ups and work stealing between
/// workers (measured faster sequential and at 64 in flight on 2 cores).
#[napi_derive::module_init]
fn init() {
    let workers = std::env::var("AOPAY_NODE_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    if let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("aopay-tokio")
        .enable_all()
        .build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}

/// A number as the SDK shows it (`98XXXXXX10`): for aopay/testing's messages.
#[napi]
pub fn mask_digits(digits: String) -> String {
    aopay_core::mask_digits(&digits)
}

/// The Node names of every client option (`ClientOptions` in index.d.ts
/// lists the same; a test checks it).
#[napi]
pub fn client_option_names() -> Vec<String> {
    aopay_core::CLIENT_OPTIONS
        .iter()
        .map(aopay_core::ClientOption::js_name)
        .collect()
}

/// Every batch option as `[nodeName, default]` (default `""`: none;
/// `BatchOptions` in index.d.ts lists the same names; a test checks it).
#[napi]
pub fn batch_options() -> Vec<Vec<String>> {
    aopay_core::batch::BATCH_OPTIONS
        .iter()
        .map(|o| vec![o.js_name.to_owned(), o.default.to_owned()])
        .collect()
}

/// Every error kind of the core as `[className, code, retrySafe,
/// parentClassName]` (`errors.cjs` is checked against it by a test).
#[napi]
pub fn error_kinds() -> String {
    let kinds: Vec<_> = aopay_core::ErrorKind::ALL
        .iter()
        .map(|k| {
            let parent = k.parent().map_or("AopayError", |p| p.class_name());
            serde_json::json!([k.class_name(), k.code(), k.retry_safe(), parent])
        })
        .collect();
    serde_json::Value::from(kinds).to_string()
}

/// The core's endpoint table as JSON (method: description), for the
/// drift tests.
#[napi]
pub fn endpoints() -> String {
    let map: serde_json::Map<String, serde_json::Value> = aopay_core::ENDPOINTS
        .iter()
        .map(|e| (e.method.to_owned(), e.to_json_value()))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// Read an answer's stored `raw` (JSON text) again, as the endpoint
/// `method` reads its answers: behind the generated `fromRaw`.
#[napi]
pub fn reread(method: String, raw_json: String) -> Result<String> {
    let spec = aopay_core::endpoint(&method).ok_or_else(|| {
        js_error(
            aopay_core::ValidationError::new(
                "endpoint",
                format!("no endpoint is called {method:?}"),
            )
            .into(),
        )
    })?;
    let raw: serde_json::Value = serde_json::from_str(&raw_json).map_err(|_| {
        js_error(aopay_core::ValidationError::new("raw", "must be the answer's JSON object").into())
    })?;
    spec.reread(raw).map(|v| camel_json(&v)).map_err(js_error)
}
