//! The HTTP client: one connection pool per process, one deadline per
//! call, retries only where they cannot charge twice. By concern:
//! `builder` (options, checked before anything is sent), `call` (the one
//! generic call path every endpoint goes through), `transport` (one
//! exchange), `retry` (reads retried under a deadline), `wait`
//! (`wait_for_final`), `idempotency` (keyed writes through the journal),
//! `observe` (what a call reports when it ends), `credentials` and
//! `signer` (the headers that authenticate a call).

mod builder;
mod call;
mod close;
mod credentials;
mod idempotency;
mod observe;
#[cfg(feature = "batch")]
pub(crate) mod pace;
mod retry;
mod signer;
mod transport;
mod wait;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::endpoints::Recharge;
use crate::endpoints::RechargeStatus;
use crate::error::Error;
use crate::journal::Journal;
use crate::models::MobileRecharge;
use crate::process::PerProcess;
use crate::validate::RegistrationId;

pub use builder::{ClientBuilder, parse_base_url};
#[cfg(feature = "jwt")]
pub(crate) use credentials::sensitive_headers;
pub use credentials::{Credentials, CredentialsFuture, CredentialsProvider};
pub use observe::{CallEvent, CallObserver};
pub use signer::{Signer, SignerFuture};
pub use wait::WaitOptions;

/// The production API.
pub const DEFAULT_BASE_URL: &str = "https://api.aopay.co.in";
/// Default of [`ClientBuilder::pool_idle_timeout`].
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);
/// `aopay-core/<version>`: the default user agent.
pub const USER_AGENT: &str = concat!("aopay-core/", env!("CARGO_PKG_VERSION"));

/// A client of the AOPay API. Cheap to clone (an `Arc`); share one per
/// process so that every call reuses the connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// A keyed write whose status call finds no payment under its recorded
    /// reference is sent again under that reference (a batch option:
    /// docs/protocol.md §9).
    resend_unarrived: bool,
    /// A batch's pace: a keyed write waits for its slot once it owns its
    /// key, so an order another worker claimed takes none.
    #[cfg(feature = "batch")]
    pace: Option<Arc<pace::Pacer>>,
    /// Set on a clone made by [`Client::admit`]: a call started before a
    /// close, counted in flight from its admission.
    admitted: Option<Arc<close::Admission>>,
}

struct Inner {
    http: PerProcess<reqwest::Client>,
    registration_id: RegistrationId,
    base: Url,
    /// Every endpoint's URL, by path.
    urls: Vec<(&'static str, Url)>,
    header_names: Vec<String>,
    timeout: Duration,
    status_attempt_timeout: Duration,
    status_max_attempts: u32,
    max_response_bytes: usize,
    journal: Option<Journal>,
    credentials: Option<credentials::CredentialCache>,
    signer: Option<Arc<dyn Signer>>,
    observer: Option<Arc<dyn CallObserver>>,
    lifecycle: close::Lifecycle,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("registration_id", &i.registration_id)
            .field("base_url", &i.base.as_str())
            .field("timeout", &i.timeout)
            .field(
                "headers",
                &RedactedHeaders(i.header_names.iter().map(String::as_str)),
            )
            .field("credentials_provider", &i.credentials.is_some())
            .field("signer", &i.signer.is_some())
            .field("call_observer", &i.observer.is_some())
            .finish_non_exhaustive()
    }
}

/// Shows header names only: values are credentials.
pub(crate) struct RedactedHeaders<I>(pub(crate) I);

impl<'a, I: Iterator<Item = &'a str> + Clone> fmt::Debug for RedactedHeaders<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.clone().map(|k| (k, "<redacted>")))
            .finish()
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
        self.inner.base.as_str().trim_end_matches('/')
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
        // A keyed write spans its claim, its send and its record.
        let _in_flight = self.enter()?;
        match (req.idempotency_key(), &self.inner.journal) {
            (None, _) => self.call(req).await,
            (Some(_), None) => Err(idempotency::no_journal()),
            (Some(key), Some(journal)) => self.once(journal, key.as_str(), req).await,
        }
    }

    /// This client as a batch runs it: keyed writes paced by `pace` and,
    /// with `resend_unarrived`, resent under their recorded reference when
    /// they never arrived (see [`crate::batch::BatchOptions`]).
    #[cfg(feature = "batch")]
    pub(crate) fn for_batch(&self, resend_unarrived: bool, pace: Option<Arc<pace::Pacer>>) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            resend_unarrived,
            pace,
            admitted: self.admitted.clone(),
        }
    }

    /// The journal this client records keyed recharges in, if any.
    pub fn journal(&self) -> Option<&Journal> {
        self.inner.journal.as_ref()
    }

    /// Look a transaction up by its reference. A read: retried with backoff
    /// on connect errors, timeouts, 429 and 5xx, within one deadline.
    pub async fn recharge_status(&self, reference_id: &str) -> Result<Recharge, Error> {
        self.call(&RechargeStatus::new(reference_id)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn a_status_call_is_one_of_the_tables_status_reads() {
        let c = Client::builder()
            .registration_id("AOP-554")
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        for wrong in ["dth_info", "nope", ""] {
            let e = c.payment_status(wrong, "REF-1").await.unwrap_err();
            assert_eq!(e.field(), Some("status_call"), "{e}");
            assert!(
                e.to_string()
                    .contains("recharge_status, do_recharge_status, bill_status, fastag_status"),
                "{e}"
            );
            let options = WaitOptions::default();
            let e = c
                .wait_for_payment(wrong, "REF-1", options)
                .await
                .unwrap_err();
            assert_eq!(e.field(), Some("status_call"), "{e}");
        }
    }
}
