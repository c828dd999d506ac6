//! The HTTP client: one connection pool, one deadline per call, retries only
//! where they cannot charge twice.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use tokio::time::Instant;

use crate::error::{Error, ErrorDetails, ErrorKind, ValidationError, error_chain};
use crate::journal::{self, EntryState, Journal, JournalEntry, Update};
use crate::models::{MobileRecharge, Recharge, recharge_status_json};
use crate::parse::{Call, interpret};
use crate::process::PerProcess;
use crate::tls::{self, ROOTS};
use crate::validate::{ReferenceId, RegistrationId, is_loopback_host};

/// The production API.
pub const DEFAULT_BASE_URL: &str = "https://api.aopay.co.in";
/// Default of [`ClientBuilder::pool_idle_timeout`].
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);
/// `aopay-core/<version>`: the default user agent.
pub const USER_AGENT: &str = concat!("aopay-core/", env!("CARGO_PKG_VERSION"));

/// How `wait_for_final` polls.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct WaitOptions {
    /// One deadline for the whole wait (default 120 s).
    pub timeout: Duration,
    /// First pause between status checks (default 1 s); it grows by half
    /// each time, with jitter, up to `max_interval`.
    pub initial_interval: Duration,
    /// Longest pause between status checks (default 10 s).
    pub max_interval: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(120),
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(10),
        }
    }
}

impl WaitOptions {
    /// Default options with another overall deadline.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            timeout,
            ..Self::default()
        }
    }

    /// Set the first and the longest pause between status checks.
    pub fn intervals(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_interval = initial;
        self.max_interval = max.max(initial);
        self
    }
}

/// Builds a [`Client`]. Only the registration id is required.
pub struct ClientBuilder {
    registration_id: Option<String>,
    base_url: String,
    allow_insecure_http: bool,
    timeout: Duration,
    connect_timeout: Duration,
    status_attempt_timeout: Duration,
    status_max_attempts: u32,
    headers: Vec<(String, String)>,
    user_agent: String,
    max_response_bytes: usize,
    pool_idle_timeout: Duration,
    journal: Option<Journal>,
    root_certificates_pem: Vec<Vec<u8>>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            registration_id: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            allow_insecure_http: false,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            status_attempt_timeout: Duration::from_secs(10),
            status_max_attempts: 4,
            headers: Vec::new(),
            user_agent: USER_AGENT.to_owned(),
            max_response_bytes: 1 << 20,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            journal: None,
            root_certificates_pem: Vec::new(),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("registration_id", &self.registration_id)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("extra_root_certificates", &self.root_certificates_pem.len())
            .field(
                "headers",
                &RedactedHeaders(self.headers.iter().map(|(k, _)| k.as_str())),
            )
            .finish_non_exhaustive()
    }
}

/// Shows header names only: values are credentials.
struct RedactedHeaders<I>(I);

impl<'a, I: Iterator<Item = &'a str> + Clone> fmt::Debug for RedactedHeaders<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.clone().map(|k| (k, "<redacted>")))
            .finish()
    }
}

impl ClientBuilder {
    /// The account's registration id, e.g. `AOP-554` (required).
    pub fn registration_id(mut self, id: impl Into<String>) -> Self {
        self.registration_id = Some(id.into());
        self
    }

    /// The API's base URL (default [`DEFAULT_BASE_URL`]). Must be `https://`
    /// unless the host is loopback or [`Self::allow_insecure_http`] is set.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Allow plain `http://` to a non-loopback host (never do this in
    /// production: credentials and customer numbers would travel in clear).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// One deadline for a whole call: connecting, every retry, every backoff
    /// sleep (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Longest time to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Longest time one status request may take before it is retried
    /// (default 10 s); the call's deadline still bounds the total.
    pub fn status_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.status_attempt_timeout = timeout;
        self
    }

    /// Most attempts for one status call (default 4, at least 1).
    pub fn status_max_attempts(mut self, attempts: u32) -> Self {
        self.status_max_attempts = attempts.max(1);
        self
    }

    /// Add a header to every request (an API key, a signature…). Its value
    /// is never shown in `Debug`, errors or logs.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replace the `User-Agent` (default `aopay-core/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// Largest response body read, in bytes (default 1 MiB). A larger answer
    /// to a recharge is an `OutcomeUnknown` error.
    pub fn max_response_bytes(mut self, max: usize) -> Self {
        self.max_response_bytes = max;
        self
    }

    /// How long an idle pooled connection is kept for reuse (default 4 s,
    /// below the 5 s keep-alive of Node, uvicorn and Apache, so the pool
    /// drops a connection before such a server closes it). A connection the
    /// server closed earlier is noticed and never reused either way.
    pub fn pool_idle_timeout(mut self, idle: Duration) -> Self {
        self.pool_idle_timeout = idle;
        self
    }

    /// Trust the certificate authorities in `pem` (one or more PEM
    /// `CERTIFICATE` blocks) besides the system's roots: for a corporate
    /// TLS proxy, a private gateway, or the HTTPS sandbox
    /// (`aopay_sandbox::Sandbox::ca_pem`). Checked by [`Self::build`].
    pub fn root_certificates_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.root_certificates_pem.push(pem.as_ref().to_vec());
        self
    }

    /// Record keyed recharges in `journal` so that one idempotency key never
    /// pays twice (see [`MobileRecharge::with_idempotency_key`]).
    pub fn journal(mut self, journal: Journal) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Validate everything and build the client (and its connection pool).
    pub fn build(self) -> Result<Client, Error> {
        let registration_id = RegistrationId::new(
            self.registration_id
                .ok_or_else(|| ValidationError::new("registration_id", "is required"))?,
        )?;
        let base = parse_base_url(&self.base_url, self.allow_insecure_http)?;
        for (name, d) in [
            ("timeout", self.timeout),
            ("connect_timeout", self.connect_timeout),
        ] {
            if d.is_zero() {
                return Err(ValidationError::new(name, "must be greater than zero").into());
            }
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ValidationError::new("headers", "header name is not a valid HTTP token")
            })?;
            // http accepts obs-text (bytes 0x80-0xFF) too; servers read it
            // in different charsets, so a credential must be plain ASCII.
            let ascii = value
                .bytes()
                .all(|b| b == b'\t' || (0x20..0x7f).contains(&b));
            let mut value = HeaderValue::from_str(value)
                .ok()
                .filter(|_| ascii)
                .ok_or_else(|| {
                    ValidationError::new(
                        "headers",
                        format!("value of {name} must be visible ASCII"),
                    )
                })?;
            value.set_sensitive(true);
            headers.append(name, value);
        }
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| ValidationError::new("user_agent", "must be visible ASCII"))?;

        let tls = tls::config(ROOTS, &self.root_certificates_pem)?;
        let connect_timeout = self.connect_timeout;
        let pool_idle_timeout = self.pool_idle_timeout;
        let no_proxy = no_proxy_for_all_hosts();
        let build_http = move || {
            let mut http = reqwest::Client::builder();
            if no_proxy {
                http = http.no_proxy();
            }
            http.tls_backend_preconfigured(tls.clone())
                .default_headers(headers.clone())
                .user_agent(user_agent.clone())
                .connect_timeout(connect_timeout)
                .pool_idle_timeout(pool_idle_timeout)
                .tcp_nodelay(true)
                // A redirected POST can turn into a GET or be resent: never follow.
                .redirect(reqwest::redirect::Policy::none())
                // No resend of a request that may have been written; hyper still
                // replays one whose pooled connection closed before any byte left.
                .retry(reqwest::retry::never())
                .build()
                .map_err(|e| format!("cannot build HTTP client: {e}"))
        };
        // One pool per process: a forked child never writes into a socket
        // the parent (or a sibling) also reads from (see `process`).
        let http = PerProcess::new(build_http).map_err(|e| Error::connect(ErrorDetails::new(e)))?;

        let endpoint = |call: Call| {
            let mut url = base.clone();
            url.set_path(&format!(
                "{}{}",
                base.path().trim_end_matches('/'),
                call.path()
            ));
            url
        };
        Ok(Client {
            inner: Arc::new(Inner {
                recharge_url: endpoint(Call::MobileRecharge),
                status_url: endpoint(Call::RechargeStatus),
                http,
                registration_id,
                header_names: self.headers.into_iter().map(|(k, _)| k).collect(),
                timeout: self.timeout,
                status_attempt_timeout: self.status_attempt_timeout,
                status_max_attempts: self.status_max_attempts,
                max_response_bytes: self.max_response_bytes,
                journal: self.journal,
            }),
        })
    }
}

/// `NO_PROXY=*` (or `no_proxy`, as curl reads them): no proxy for any host.
/// reqwest (through hyper-util 0.1) honours `*` for host names but not for
/// IP addresses, so a call to `https://10.1.2.3` would still be proxied.
fn no_proxy_for_all_hosts() -> bool {
    ["NO_PROXY", "no_proxy"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok())
        .is_some_and(|list| list.split(',').any(|entry| entry.trim() == "*"))
}

/// Validate a base URL (docs/protocol.md §3): https, or http to loopback, or http anywhere
/// when explicitly allowed. No credentials, query or fragment.
pub fn parse_base_url(text: &str, allow_insecure_http: bool) -> Result<Url, ValidationError> {
    const FIELD: &str = "base_url";
    let url = Url::parse(text.trim())
        .map_err(|e| ValidationError::new(FIELD, format!("must be an absolute URL ({e})")))?;
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(ValidationError::new(FIELD, "must have a host"));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ValidationError::new(
            FIELD,
            "must not contain credentials; use headers",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ValidationError::new(
            FIELD,
            "must not have a query or fragment",
        ));
    }
    let loopback = is_loopback_host(host);
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback || allow_insecure_http => Ok(url),
        "http" => Err(ValidationError::new(
            FIELD,
            "must use https:// (plain http is allowed only for loopback hosts, or when insecure http is explicitly allowed)",
        )),
        other => Err(ValidationError::new(
            FIELD,
            format!("scheme must be https, not {other}"),
        )),
    }
}

/// A client of the AOPay API. Cheap to clone (an `Arc`); share one per
/// process so that every call reuses the connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: PerProcess<reqwest::Client>,
    registration_id: RegistrationId,
    recharge_url: Url,
    status_url: Url,
    header_names: Vec<String>,
    timeout: Duration,
    status_attempt_timeout: Duration,
    status_max_attempts: u32,
    max_response_bytes: usize,
    journal: Option<Journal>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("registration_id", &i.registration_id)
            .field("recharge_url", &i.recharge_url.as_str())
            .field("timeout", &i.timeout)
            .field(
                "headers",
                &RedactedHeaders(i.header_names.iter().map(String::as_str)),
            )
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Start building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The registration id sent with every call.
    pub fn registration_id(&self) -> &RegistrationId {
        &self.inner.registration_id
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        let url = self.inner.recharge_url.as_str();
        url.strip_suffix(Call::MobileRecharge.path()).unwrap_or(url)
    }

    /// Names of the extra headers (their values are never exposed).
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        self.inner.header_names.iter().map(String::as_str)
    }

    /// The whole-call deadline this client applies.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Submit a recharge. Sent at most once: once any byte of it may have
    /// left, a failure is [`Error::OutcomeUnknown`], never a silent resend.
    ///
    /// With an idempotency key (and a journal on the client), the key is
    /// claimed in the journal before anything is sent; a second call with
    /// the same key never sends again: it returns the recorded final
    /// outcome, reconciles a pending or unknown one through RechargeStatus
    /// when a reference is known, or raises `OutcomeUnknown` again. The same
    /// key with another request is an `IdempotencyConflict`.
    pub async fn mobile_recharge(&self, req: &MobileRecharge) -> Result<Recharge, Error> {
        match (req.idempotency_key(), &self.inner.journal) {
            (None, _) => self.send_recharge(req).await,
            (Some(_), None) => Err(ValidationError::new(
                "idempotency_key",
                "needs a journal on the client (ClientBuilder::journal)",
            )
            .into()),
            (Some(key), Some(journal)) => self.recharge_once(journal, key.as_str(), req).await,
        }
    }

    /// The journal this client records keyed recharges in, if any.
    pub fn journal(&self) -> Option<&Journal> {
        self.inner.journal.as_ref()
    }

    /// Resolve every unresolved journal entry that has a reference, through
    /// RechargeStatus, and record what it says. Entries without a reference
    /// cannot be checked through the API: they come back as
    /// `OutcomeUnknown` (once their caller's deadline has passed) for the
    /// caller to settle against the AOPay statement.
    pub async fn reconcile_journal(
        &self,
    ) -> Result<Vec<(JournalEntry, Result<Recharge, Error>)>, Error> {
        let Some(journal) = &self.inner.journal else {
            return Err(ValidationError::new("journal", "this client has no journal").into());
        };
        let mut out = Vec::new();
        for entry in journal.unresolved().await? {
            let result = self.resolve_entry(journal, &entry).await;
            out.push((entry, result));
        }
        Ok(out)
    }

    async fn resolve_entry(
        &self,
        journal: &Journal,
        entry: &JournalEntry,
    ) -> Result<Recharge, Error> {
        if entry.state == EntryState::Sending {
            if journal::now_ms() < entry.deadline_at_ms {
                return Err(Error::outcome_unknown(ErrorDetails::new(format!(
                    "a call with idempotency key {:?} is still in flight",
                    entry.key
                ))));
            }
            journal.expire(&entry.key).await?;
        }
        let Some(reference) = entry.reference_id.as_deref() else {
            let reason = entry
                .reason
                .as_deref()
                .unwrap_or("no reference was recorded");
            return Err(Error::outcome_unknown(ErrorDetails::new(format!(
                "idempotency key {:?}: outcome unknown and no reference to check ({reason}); \
                 settle it against your AOPay statement",
                entry.key
            ))));
        };
        let r = self.recharge_status(reference).await?;
        let update = Update {
            state: EntryState::of(&r),
            recharge: Some(&r),
            reference_id: None,
            reason: None,
        };
        journal.record(&entry.key, update).await?;
        Ok(r)
    }

    async fn recharge_once(
        &self,
        journal: &Journal,
        key: &str,
        req: &MobileRecharge,
    ) -> Result<Recharge, Error> {
        let reg = self.inner.registration_id.as_str();
        let fp = journal::fingerprint(&[
            reg,
            &req.product_id().get().to_string(),
            &req.amount().get().to_string(),
            &req.customer_number().get().to_string(),
        ]);
        let call_deadline = Instant::now() + self.inner.timeout;
        // The intent outlives its call by a margin: past it, its caller is gone.
        let intent_deadline = journal::now_ms() + self.inner.timeout.as_millis() as i64 + 5_000;
        let mut wait = Duration::from_millis(20);
        loop {
            let Some(entry) = journal.claim(key, &fp, intent_deadline).await? else {
                return self.send_claimed(journal, key, req).await;
            };
            if entry.fingerprint != fp {
                return Err(Error::IdempotencyConflict(Box::new(ErrorDetails::new(
                    format!(
                        "idempotency key {key:?} was used for a different recharge (product, amount or number)"
                    ),
                ))));
            }
            match entry.state {
                EntryState::Final => {
                    if let Some(r) = entry.recharge {
                        return Ok(r);
                    }
                }
                EntryState::Pending | EntryState::Unknown => {
                    return self.resolve_entry(journal, &entry).await;
                }
                EntryState::Sending if journal::now_ms() >= entry.deadline_at_ms => {
                    journal.expire(key).await?;
                    continue;
                }
                EntryState::Sending => {}
            }
            // Another caller holds the key: wait for its outcome, within our deadline.
            if Instant::now() + wait >= call_deadline {
                return Err(Error::outcome_unknown(ErrorDetails::new(format!(
                    "another call with idempotency key {key:?} is still in flight; its outcome is not known yet"
                ))));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(250));
        }
    }

    /// Send a recharge whose key this call has claimed, then record what
    /// happened. A failed journal write does not hide the outcome.
    async fn send_claimed(
        &self,
        journal: &Journal,
        key: &str,
        req: &MobileRecharge,
    ) -> Result<Recharge, Error> {
        let result = self.send_recharge(req).await;
        let written = match &result {
            Ok(r) => {
                let update = Update {
                    state: EntryState::of(r),
                    recharge: Some(r),
                    reference_id: None,
                    reason: None,
                };
                journal.record(key, update).await
            }
            // Provably nothing was charged: free the key for a later attempt.
            Err(e) if e.retry_safe() => journal.release(key).await,
            Err(e) => {
                let reason = e.to_string();
                let update = Update {
                    state: EntryState::Unknown,
                    recharge: None,
                    reference_id: e.reference_id(),
                    reason: Some(&reason),
                };
                journal.record(key, update).await
            }
        };
        if let Err(e) = written {
            tracing::warn!(target: "aopay", idempotency_key = key, error = %e, "could not record the outcome in the journal");
        }
        result
    }

    async fn send_recharge(&self, req: &MobileRecharge) -> Result<Recharge, Error> {
        let started = Instant::now();
        let body = req.to_json(&self.inner.registration_id);
        let result = self
            .attempt(
                Call::MobileRecharge,
                &self.inner.recharge_url,
                body,
                started + self.inner.timeout,
            )
            .await;
        trace_call(Call::MobileRecharge, started, &result, Some(req));
        result
    }

    /// Look a transaction up by its reference. A read: retried with backoff
    /// on connect errors, timeouts, 429 and 5xx, within one deadline.
    pub async fn recharge_status(&self, reference_id: &str) -> Result<Recharge, Error> {
        let reference = ReferenceId::new(reference_id)?;
        let started = Instant::now();
        let result = self
            .status_until(&reference, started + self.inner.timeout)
            .await;
        trace_call(Call::RechargeStatus, started, &result, None);
        result
    }

    /// Poll the status until the transaction is `SUCCESS` or `FAILED`.
    /// Running out of `options.timeout` first is an
    /// [`Error::OutcomeUnknown`] carrying the reference and the last status.
    pub async fn wait_for_final(
        &self,
        reference_id: &str,
        options: WaitOptions,
    ) -> Result<Recharge, Error> {
        let reference = ReferenceId::new(reference_id)?;
        let deadline = Instant::now() + options.timeout;
        let mut interval = options.initial_interval;
        let mut last: Option<Recharge> = None;
        let mut last_error: Option<Error> = None;
        loop {
            let call_deadline = deadline.min(Instant::now() + self.inner.timeout);
            let mut pause = interval;
            match self.status_until(&reference, call_deadline).await {
                Ok(r) if r.is_final() => return Ok(r),
                Ok(r) => last = Some(r),
                Err(e) if is_transient(&e) => {
                    pause = pause.max(e.retry_after().unwrap_or_default());
                    last_error = Some(e);
                }
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            if now + pause >= deadline {
                break;
            }
            tokio::time::sleep(pause).await;
            interval = jitter_between(interval.mul_f64(1.5), interval.mul_f64(2.0))
                .min(options.max_interval);
        }
        let state = match (&last, &last_error) {
            (Some(r), _) => format!("still {}", r.status),
            (None, Some(e)) => format!("not readable ({e})"),
            (None, None) => "not checked".to_owned(),
        };
        let mut d = ErrorDetails::new(format!(
            "transaction {} is {state} after waiting {:?}; keep checking its status",
            reference.as_str(),
            options.timeout
        ))
        .reference_id(Some(reference.as_str().to_owned()));
        if let Some(r) = &last {
            d = d.http_status(r.http_status).api_code(r.api_code);
        }
        Err(Error::outcome_unknown(d))
    }

    async fn status_until(
        &self,
        reference: &ReferenceId,
        deadline: Instant,
    ) -> Result<Recharge, Error> {
        let body = recharge_status_json(&self.inner.registration_id, reference);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let attempt_deadline = deadline.min(Instant::now() + self.inner.status_attempt_timeout);
            let err = match self
                .attempt(
                    Call::RechargeStatus,
                    &self.inner.status_url,
                    body.clone(),
                    attempt_deadline,
                )
                .await
            {
                Ok(r) => return Ok(r),
                Err(e) if is_transient(&e) => e,
                Err(e) => return Err(e),
            };
            if attempt >= self.inner.status_max_attempts {
                return Err(err);
            }
            let backoff = jitter_between(Duration::ZERO, backoff_cap(attempt));
            let pause = err.retry_after().unwrap_or(backoff);
            if Instant::now() + pause >= deadline {
                return Err(err);
            }
            tracing::debug!(target: "aopay", endpoint = "RechargeStatus", attempt, error = %err.code(), pause_ms = pause.as_millis() as u64, "retrying");
            tokio::time::sleep(pause).await;
        }
    }

    /// One HTTP exchange, bounded by `deadline`.
    async fn attempt(
        &self,
        call: Call,
        url: &Url,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<Recharge, Error> {
        let http = self
            .inner
            .http
            .get()
            .map_err(|e| Error::connect(ErrorDetails::new(e.to_owned())))?;
        see_closed_connections().await;
        let exchange = async {
            let resp = http
                .post(url.clone())
                .body(body)
                .send()
                .await
                .map_err(|e| transport_error(call, e, "sending the request"))?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let (bytes, complete) = read_capped(call, resp, self.inner.max_response_bytes).await?;
            if !complete && (200..300).contains(&status) {
                return Err(call.unreadable(
                    ErrorDetails::new(format!(
                        "answer is larger than the {}-byte limit",
                        self.inner.max_response_bytes
                    ))
                    .http_status(status)
                    .body(&bytes),
                ));
            }
            interpret(call, status, retry_after, &bytes)
        };
        match tokio::time::timeout_at(deadline, exchange).await {
            Ok(result) => result,
            Err(_) => Err(timeout_error(call)),
        }
    }
}

/// Let a runtime that is driven only during calls (a current-thread one
/// entered by `block_on` per call, as the Python blocking client does) see
/// what happened on its sockets while it slept before the pool hands out a
/// connection: a server that closed an idle keep-alive connection (FIN or
/// RST) has its close read now, and the pool discards that connection
/// instead of writing a recharge into it. Two yields: one to poll the I/O
/// driver, one to run the connection tasks it woke. A multi-thread runtime
/// drives its sockets all the time and needs none.
async fn see_closed_connections() {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::CurrentThread) {
        for _ in 0..2 {
            tokio::task::yield_now().await;
        }
    }
}

fn timeout_error(call: Call) -> Error {
    match call {
        Call::MobileRecharge => Error::outcome_unknown(ErrorDetails::new(
            "no answer before the deadline; the recharge may have been processed",
        )),
        Call::RechargeStatus => {
            Error::Server(Box::new(ErrorDetails::new("no answer before the deadline")))
        }
    }
}

/// Errors a status read may retry, and `wait_for_final` may poll through.
fn is_transient(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Connect | ErrorKind::Server | ErrorKind::RateLimit | ErrorKind::Protocol
    )
}

/// Classify a transport failure. Only a failed connect is known to have
/// sent nothing (hyper itself resends a request whose pooled connection
/// was found closed before any byte was written).
fn transport_error(call: Call, e: reqwest::Error, during: &str) -> Error {
    let text = error_chain(&e);
    if e.is_connect() {
        return Error::connect(ErrorDetails::new(text).source(e));
    }
    let d = ErrorDetails::new(format!("connection failed while {during}: {text}")).source(e);
    match call {
        Call::MobileRecharge => Error::outcome_unknown(d),
        Call::RechargeStatus => Error::Server(Box::new(d)),
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date (a date
/// already past means "now").
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Read at most `max` bytes of the body; `complete` is false if it was cut.
async fn read_capped(
    call: Call,
    mut resp: reqwest::Response,
    max: usize,
) -> Result<(Vec<u8>, bool), Error> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Ok((Vec::new(), false));
    }
    let mut buf = Vec::with_capacity(resp.content_length().map_or(1024, |n| n as usize));
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| transport_error(call, e, "reading the answer"))?
    {
        if buf.len() + chunk.len() > max {
            let room = max - buf.len();
            buf.extend_from_slice(&chunk[..room]);
            return Ok((buf, false));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((buf, true))
}

fn backoff_cap(attempt: u32) -> Duration {
    let base = Duration::from_millis(100);
    base.saturating_mul(1 << attempt.min(10))
        .min(Duration::from_secs(2))
}

/// A duration drawn uniformly from `lo..=hi` (full jitter). Not for
/// cryptography: it only spreads retries apart.
fn jitter_between(lo: Duration, hi: Duration) -> Duration {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = seed ^ STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if hi <= lo {
        return lo;
    }
    let span = (hi - lo).as_nanos() as u64;
    lo + Duration::from_nanos(x % (span + 1))
}

fn trace_call(
    call: Call,
    started: Instant,
    result: &Result<Recharge, Error>,
    req: Option<&MobileRecharge>,
) {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let number = req.map(|r| r.customer_number().masked());
    match result {
        Ok(r) => tracing::debug!(
            target: "aopay",
            endpoint = call.name(),
            http_status = r.http_status,
            elapsed_ms,
            outcome = r.status.as_str(),
            reference_id = r.reference_id.as_deref(),
            customer_number = number.as_deref(),
            "call finished"
        ),
        Err(e) => tracing::debug!(
            target: "aopay",
            endpoint = call.name(),
            http_status = e.http_status(),
            elapsed_ms,
            outcome = e.code(),
            retry_safe = e.retry_safe(),
            customer_number = number.as_deref(),
            error = %e,
            "call failed"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = UNIX_EPOCH + Duration::from_secs(1_784_000_000);
        let at = |secs: u64| httpdate::fmt_http_date(now + Duration::from_secs(secs));
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(&at(30), now),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        for bad in ["", "-1", "1.5", "soon", "Thu, 99 Nov 2026 07:00:00 GMT"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn base_url_rules() {
        assert!(parse_base_url("https://api.aopay.co.in", false).is_ok());
        assert!(parse_base_url("http://127.0.0.1:8080", false).is_ok());
        assert!(parse_base_url("http://127.3.4.5:8080", false).is_ok());
        assert!(parse_base_url("http://[::1]:8080", false).is_ok());
        assert!(parse_base_url("http://localhost:1", false).is_ok());
        assert!(parse_base_url("http://api.aopay.co.in", false).is_err());
        assert!(parse_base_url("http://10.0.0.1", false).is_err());
        assert!(parse_base_url("http://api.aopay.co.in", true).is_ok());
        assert!(parse_base_url("ftp://x", true).is_err());
        assert!(parse_base_url("https://u:p@x", false).is_err());
        assert!(parse_base_url("https://x/?a=1", false).is_err());
        assert!(parse_base_url("not a url", false).is_err());
        assert_eq!(
            parse_base_url("http://api.aopay.co.in", false)
                .unwrap_err()
                .field(),
            "base_url"
        );
    }

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..1000 {
            let d = jitter_between(Duration::from_millis(10), Duration::from_millis(20));
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(20));
        }
        assert_eq!(backoff_cap(1), Duration::from_millis(200));
        assert_eq!(backoff_cap(30), Duration::from_secs(2));
    }

    #[test]
    fn debug_redacts_header_values() {
        let b = Client::builder()
            .registration_id("AOP-554")
            .header("X-Api-Key", "s3cr3t-value");
        assert!(!format!("{b:?}").contains("s3cr3t"));
        let c = b.base_url("http://127.0.0.1:9").build().unwrap();
        let shown = format!("{c:?}");
        assert!(
            shown.contains("X-Api-Key") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }
}
