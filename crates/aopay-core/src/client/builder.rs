//! Building a client: every option is checked here, before anything is sent.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{self, HeaderMap, HeaderValue};

use super::credentials::{CredentialCache, CredentialsProvider, sensitive_headers};
use super::observe::CallObserver;
use super::signer::Signer;
use super::{
    Client, DEFAULT_BASE_URL, DEFAULT_POOL_IDLE_TIMEOUT, Inner, RedactedHeaders, USER_AGENT,
};
use crate::endpoints::ENDPOINTS;
use crate::error::{Error, ErrorDetails, ValidationError};
use crate::journal::Journal;
use crate::process::PerProcess;
use crate::tls::{self, ROOTS};
use crate::validate::{RegistrationId, is_loopback_host};

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
    credentials: Option<Arc<dyn CredentialsProvider>>,
    signer: Option<Arc<dyn Signer>>,
    observer: Option<Arc<dyn CallObserver>>,
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
            credentials: None,
            signer: None,
            observer: None,
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
            .field("credentials_provider", &self.credentials.is_some())
            .field("signer", &self.signer.is_some())
            .field("call_observer", &self.observer.is_some())
            .finish_non_exhaustive()
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

    /// Longest time one attempt of a read (a status call) may take before
    /// it is retried (default 10 s); the call's deadline still bounds the
    /// total.
    pub fn read_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.status_attempt_timeout = timeout;
        self
    }

    /// Most attempts for one read (default 4, at least 1).
    pub fn read_max_attempts(mut self, attempts: u32) -> Self {
        self.status_max_attempts = attempts.max(1);
        self
    }

    /// Renamed [`Self::read_attempt_timeout`]: it applies to every read.
    #[deprecated(since = "0.1.0", note = "use read_attempt_timeout")]
    pub fn status_attempt_timeout(self, timeout: Duration) -> Self {
        self.read_attempt_timeout(timeout)
    }

    /// Renamed [`Self::read_max_attempts`]: it applies to every read.
    #[deprecated(since = "0.1.0", note = "use read_max_attempts")]
    pub fn status_max_attempts(self, attempts: u32) -> Self {
        self.read_max_attempts(attempts)
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
    /// pays twice (see [`crate::MobileRecharge::with_idempotency_key`]).
    pub fn journal(mut self, journal: Journal) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Headers from a provider for every call, besides the static ones
    /// (docs/protocol.md §7): fetched by one caller at a time, cached for
    /// the lifetime it states, refreshed before they expire, and after a
    /// 401 fetched once more with the call resent once (a 401 is a refusal:
    /// nothing was done, so the resend is safe).
    pub fn credentials(mut self, provider: impl CredentialsProvider) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// [`ClientBuilder::credentials`] with a shared provider (the bindings').
    pub fn credentials_provider(mut self, provider: Arc<dyn CredentialsProvider>) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// Sign every request (docs/protocol.md §11): `signer` is called for
    /// every attempt, the one resend after a refused token included, with
    /// the path and the exact body bytes about to be sent, and its headers
    /// go with them (after the static and the provider's headers, replacing
    /// any of the same name). Never cached. [`crate::JwtSigner`] (feature
    /// `jwt`) makes the upstream's JWT.
    pub fn signer(mut self, signer: impl Signer) -> Self {
        self.signer = Some(Arc::new(signer));
        self
    }

    /// [`ClientBuilder::signer`] with a shared signer (the bindings').
    pub fn shared_signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// The metrics hook: `observer` receives one [`super::CallEvent`] after
    /// every call (endpoint, attempts, HTTP status, outcome, duration,
    /// masked number; never a secret).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// static FAILED: AtomicU64 = AtomicU64::new(0);
    /// let client = aopay_core::Client::builder()
    ///     .registration_id("AOP-554")
    ///     .on_call(|e: &aopay_core::CallEvent<'_>| {
    ///         if e.error.is_some() {
    ///             FAILED.fetch_add(1, Ordering::Relaxed);
    ///         }
    ///     })
    ///     .build()?;
    /// # Ok::<(), aopay_core::Error>(())
    /// ```
    pub fn on_call(mut self, observer: impl CallObserver) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// [`ClientBuilder::on_call`] with a shared observer (the bindings').
    pub fn call_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
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
        headers.extend(sensitive_headers("headers", &self.headers)?);
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

        let urls = ENDPOINTS
            .iter()
            .map(|spec| (spec.path, endpoint_url(&base, spec.path)))
            .collect();
        Ok(Client {
            inner: Arc::new(Inner {
                urls,
                base,
                http,
                registration_id,
                header_names: self.headers.into_iter().map(|(k, _)| k).collect(),
                timeout: self.timeout,
                status_attempt_timeout: self.status_attempt_timeout,
                status_max_attempts: self.status_max_attempts,
                max_response_bytes: self.max_response_bytes,
                journal: self.journal,
                credentials: self.credentials.map(CredentialCache::new),
                signer: self.signer,
                observer: self.observer,
                lifecycle: Default::default(),
            }),
            resend_unarrived: false,
            #[cfg(feature = "batch")]
            pace: None,
            admitted: None,
        })
    }
}

/// `path` under `base` (which may itself have a path: a gateway's prefix).
pub(super) fn endpoint_url(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_path(&format!("{}{}", base.path().trim_end_matches('/'), path));
    url
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
