//! # aopay-sandbox
//!
//! An AOPay-compatible server for offline tests: both endpoints with the
//! documented shapes, transactions kept in memory, strict request checks,
//! and magic customer numbers ([`MAGIC_NUMBERS`]) for every outcome and fault.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let sandbox = aopay_sandbox::Sandbox::start().await?;
//! println!("listening on {}", sandbox.url());
//! assert_eq!(sandbox.stats().requests_to("mobile_recharge"), 0);
//! sandbox.stop().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod handler;
mod jwt;
mod magic;
mod replay;
#[cfg(feature = "tls")]
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use jwt::{JWT_MAX_SKEW_SECS, JwtKey};
pub use replay::Replay;

pub use magic::{
    DthScenario, MAGIC_BILL_ACCOUNTS, MAGIC_DTH_ACCOUNTS, MAGIC_NUMBERS, MAGIC_PAYMENT_ACCOUNTS,
    MAGIC_PLAN_OPERATORS, MAGIC_VEHICLES, PaymentScenario, Scenario, dth_scenario_for,
    payment_scenario_for, scenario_for,
};

/// Tunables of the sandbox's behaviour.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SandboxConfig {
    /// How long the slow scenario waits before answering (default 3 s).
    pub slow_delay: Duration,
    /// Status checks a pending transaction takes to become final (default 2).
    pub pending_checks: u32,
    /// `Retry-After` seconds on 429 answers (default 1).
    pub retry_after_secs: u64,
    /// Largest request body accepted; larger ones get HTTP 413 (default 64 KiB).
    pub max_body_bytes: usize,
    /// Transactions kept for RechargeStatus; past this the oldest are
    /// forgotten (their status calls answer "no transaction found"), so a
    /// long-lived sandbox stays bounded (default 1,000,000: about 400 MB, as
    /// measured by `reliability`'s load run).
    pub max_transactions: usize,
    /// Require `Authorization: Bearer <token>` with a token from
    /// [`Sandbox::issue_token`] on every call; any other call gets 401
    /// `response_code` 5, as AOPay answers an unsigned call (default off).
    pub require_tokens: bool,
    /// Answer at most this many calls in any one second (every endpoint
    /// together); the rest get HTTP 429 with `Retry-After` and do nothing,
    /// as a rate-limited API answers (default: no limit).
    pub rate_limit: Option<u32>,
    /// The wallet covers this many referenced payments; every later one
    /// gets HTTP 402 `response_code` 16 (insufficient fund) and pays
    /// nothing, until [`Sandbox::top_up`] (default: no limit).
    pub wallet_payments: Option<u64>,
    /// Require a JWT on every call, checked with this key, as the upstream
    /// does (docs/protocol.md §11): a signature that is not base64url is
    /// 401 code 5 (the seed's answer); wrong segments, a bad signature, a
    /// `timestamp` more than [`JWT_MAX_SKEW_SECS`] off or a `reqid` used
    /// before is 412 code 10. Nothing is recorded for a refused call
    /// (default: none).
    pub require_jwt: Option<JwtKey>,
    /// The header that carries the JWT (default `Token`).
    pub jwt_header: String,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            slow_delay: Duration::from_secs(3),
            pending_checks: 2,
            retry_after_secs: 1,
            max_body_bytes: 64 * 1024,
            max_transactions: 1_000_000,
            require_tokens: false,
            rate_limit: None,
            wallet_payments: None,
            require_jwt: None,
            jwt_header: "Token".to_owned(),
        }
    }
}

impl SandboxConfig {
    /// Require tokens from [`Sandbox::issue_token`] (see `require_tokens`).
    pub fn require_tokens(mut self, on: bool) -> Self {
        self.require_tokens = on;
        self
    }

    /// Set the delay of the slow scenario.
    pub fn slow_delay(mut self, delay: Duration) -> Self {
        self.slow_delay = delay;
        self
    }

    /// Set how many status checks a pending transaction stays pending.
    pub fn pending_checks(mut self, checks: u32) -> Self {
        self.pending_checks = checks;
        self
    }

    /// Limit the calls answered in any one second (see `rate_limit`; 0 is
    /// no limit).
    pub fn rate_limit(mut self, per_second: u32) -> Self {
        self.rate_limit = (per_second > 0).then_some(per_second);
        self
    }

    /// Let the wallet cover `payments` referenced payments (see
    /// `wallet_payments`).
    pub fn wallet_payments(mut self, payments: u64) -> Self {
        self.wallet_payments = Some(payments);
        self
    }

    /// Require a JWT checked with `key` on every call (see `require_jwt`).
    pub fn require_jwt(mut self, key: JwtKey) -> Self {
        self.require_jwt = Some(key);
        self
    }

    /// Read the JWT from this header instead of `Token`.
    pub fn jwt_header(mut self, name: impl Into<String>) -> Self {
        self.jwt_header = name.into();
        self
    }

    /// Set how many transactions are kept (at least 1).
    pub fn max_transactions(mut self, max: usize) -> Self {
        self.max_transactions = max.max(1);
        self
    }
}

/// What the sandbox has received so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Well-formed requests received, by endpoint: the client's method name
    /// (`mobile_recharge`, `pay_bill`), every endpoint listed. Every
    /// well-formed request counts, whatever its scenario (a write with a
    /// reused reference too). See [`Stats::requests_to`].
    pub requests: std::collections::BTreeMap<String, u64>,
    /// Calls refused with 401 for want of a valid token (`require_tokens`);
    /// they count nowhere else.
    pub unauthorized_requests: u64,
    /// Requests refused as malformed (400, 404, 405, 413, 415).
    pub rejected_requests: u64,
    /// Calls refused with 429 by `rate_limit`; they count nowhere else.
    pub rate_limited_requests: u64,
    /// Transactions recorded and still kept (see `max_transactions`).
    pub transactions: u64,
    /// Referenced payments recorded and still kept (see `max_transactions`).
    pub payments: u64,
}

impl Stats {
    /// Well-formed requests received by `endpoint` (the client's method
    /// name: `mobile_recharge`).
    ///
    /// # Panics
    /// If the sandbox has no endpoint of that name: a misspelt name in a
    /// test is a failure, not a count of zero.
    pub fn requests_to(&self, endpoint: &str) -> u64 {
        match self.requests.get(endpoint) {
            Some(n) => *n,
            None => panic!(
                "the sandbox has no endpoint {endpoint:?}; it has {:?}",
                self.requests.keys().collect::<Vec<_>>()
            ),
        }
    }
}

/// A running sandbox. Dropping it stops it too (without waiting).
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    url: String,
    ca_pem: Option<String>,
    state: Arc<handler::State>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Start on a free loopback port with the default configuration. Needs
    /// a tokio runtime (it spawns its server task on the current one).
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(
            SandboxConfig::default(),
            SocketAddr::from(([127, 0, 0, 1], 0)),
        )
        .await
    }

    /// Start on `addr` (port 0 picks a free one).
    pub async fn start_with(config: SandboxConfig, addr: SocketAddr) -> std::io::Result<Self> {
        Self::bind(config, addr, None, None).await
    }

    /// Start an HTTPS sandbox on a free loopback port. Its certificate is
    /// issued by a throwaway CA made for this sandbox alone, so clients
    /// refuse it until they add [`Self::ca_pem`] to their trusted roots.
    #[cfg(feature = "tls")]
    pub async fn start_tls() -> std::io::Result<Self> {
        Self::start_tls_with(
            SandboxConfig::default(),
            SocketAddr::from(([127, 0, 0, 1], 0)),
        )
        .await
    }

    /// [`Self::start_tls`] on `addr`, with `config`.
    #[cfg(feature = "tls")]
    pub async fn start_tls_with(config: SandboxConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let identity = tls::Identity::generate()?;
        Self::bind(config, addr, Some(identity.acceptor), Some(identity.ca_pem)).await
    }

    async fn bind(
        config: SandboxConfig,
        addr: SocketAddr,
        acceptor: Option<Acceptor>,
        ca_pem: Option<String>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(handler::State::new(config)?);
        let (shutdown, rx) = watch::channel(false);
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let task = tokio::spawn(serve(listener, acceptor, Arc::clone(&state), rx));
        let url = format!("{scheme}://{addr}");
        tracing::info!(target: "aopay_sandbox", %url, "sandbox listening");
        Ok(Self {
            addr,
            url,
            ca_pem,
            state,
            shutdown,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` (`https://` for a TLS sandbox): pass it as
    /// the client's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// PEM of the CA that issued a TLS sandbox's certificate (`None` for
    /// plain HTTP): the root a client must add to trust this sandbox.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Top the wallet up: it covers `payments` more referenced payments
    /// (`None`: no limit).
    pub fn top_up(&self, payments: Option<u64>) {
        self.state.top_up(payments);
    }

    /// Counts of what was received.
    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    /// How many well-formed referenced writes (DoRecharge, bill payments,
    /// FASTag top-ups, a reused reference too) named this `canumber`.
    pub fn payments_for(&self, account: &str) -> u64 {
        self.state.payments_for(account)
    }

    /// The payments recorded under `reference` (by any kind of write): each
    /// one's `canumber` and transaction id. More than one only if several
    /// kinds of write used the same reference.
    pub fn recorded_payments(&self, reference: &str) -> Vec<(String, String)> {
        self.state.recorded_payments(reference)
    }

    /// How many payments are recorded for this `canumber` (a write
    /// refused for a reused reference is not one).
    pub fn recorded_payments_for(&self, account: &str) -> u64 {
        self.state.recorded_payments_for(account)
    }

    /// How many well-formed recharge requests named this customer number.
    pub fn recharges_for(&self, customer_number: u64) -> u64 {
        self.state.recharges_for(customer_number)
    }

    /// Forget every transaction and zero the counts.
    pub fn reset(&self) {
        self.state.reset();
    }

    /// A bearer token valid for `lifetime`, for a sandbox that requires
    /// tokens (what a token service gives a credentials provider).
    pub fn issue_token(&self, lifetime: Duration) -> String {
        self.state.issue_token(lifetime)
    }

    /// Invalidate every token issued so far (a rotated key): the next call
    /// with one gets 401.
    pub fn revoke_tokens(&self) {
        self.state.revoke_tokens();
    }

    /// Stop accepting, let requests in flight finish (up to 2 s), and wait
    /// for the server task to end.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Run until `stop` is signalled: for a process that only serves.
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

#[cfg(feature = "tls")]
type Acceptor = tokio_rustls::TlsAcceptor;
#[cfg(not(feature = "tls"))]
type Acceptor = std::convert::Infallible;

async fn serve(
    listener: TcpListener,
    acceptor: Option<Acceptor>,
    state: Arc<handler::State>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of descriptors and the like: back off, keep serving.
                        tracing::warn!(target: "aopay_sandbox", error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let watcher = graceful.watcher();
                let state = Arc::clone(&state);
                match &acceptor {
                    None => {
                        tokio::spawn(serve_connection(stream, state, watcher));
                    }
                    #[cfg(feature = "tls")]
                    Some(acceptor) => {
                        let handshake = acceptor.accept(stream);
                        tokio::spawn(async move {
                            // A client that never finishes its handshake must not hold a task.
                            match tokio::time::timeout(Duration::from_secs(10), handshake).await {
                                Ok(Ok(tls)) => serve_connection(tls, state, watcher).await,
                                Ok(Err(e)) => {
                                    tracing::debug!(target: "aopay_sandbox", error = %e, "TLS handshake failed");
                                }
                                Err(_) => {
                                    tracing::debug!(target: "aopay_sandbox", "TLS handshake timed out");
                                }
                            }
                        });
                    }
                    #[cfg(not(feature = "tls"))]
                    Some(never) => match *never {},
                }
            }
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(2)) => {}
    }
}

/// Serve HTTP/1.1 on one accepted connection (plain or TLS) until it closes.
pub(crate) async fn serve_connection<IO>(
    io: IO,
    state: Arc<handler::State>,
    watcher: hyper_util::server::graceful::Watcher,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let state = Arc::clone(&state);
        async move { state.handle(req).await }
    });
    let conn = http1::Builder::new().serve_connection(TokioIo::new(io), service);
    let _ = watcher.watch(conn).await;
}
