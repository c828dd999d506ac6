//! Headers from a credentials provider (docs/protocol.md §7): fetched by one
//! caller at a time, cached for the lifetime the provider states (until a
//! 401 when it states none), refreshed shortly before they expire, and
//! after a 401 fetched once more for one resend of the call.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::time::Instant;

use crate::error::{Error, ErrorDetails, ValidationError};

/// What a provider returns: headers for the calls, and how long they may be
/// reused. Their values are secrets: `Debug` shows the names only.
#[derive(Clone, Default)]
pub struct Credentials {
    headers: Vec<(String, String)>,
    lifetime: Option<Duration>,
}

impl Credentials {
    /// These headers, reused until a 401.
    pub fn new<K: Into<String>, V: Into<String>>(
        headers: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            lifetime: None,
        }
    }

    /// Reuse them for at most `lifetime` (a bearer token's validity).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// The header names (their values are never exposed).
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        self.headers.iter().map(|(k, _)| k.as_str())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field(
                "headers",
                &super::RedactedHeaders(self.headers.iter().map(|(k, _)| k.as_str())),
            )
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// The future a provider returns; its error is a message (never a secret).
pub type CredentialsFuture = Pin<Box<dyn Future<Output = Result<Credentials, String>> + Send>>;

/// Gives the headers for calls: a token service, a signer, a vault.
///
/// Any `Fn() -> impl Future<Output = Result<Credentials, String>>` is one:
///
/// ```
/// use std::time::Duration;
/// use aopay_core::{Client, Credentials};
/// let client = Client::builder()
///     .registration_id("AOP-554")
///     .credentials(|| async {
///         let token = "…"; // from your token service
///         Ok(Credentials::new([("Authorization", format!("Bearer {token}"))])
///             .lifetime(Duration::from_secs(600)))
///     })
///     .build()?;
/// # Ok::<(), aopay_core::Error>(())
/// ```
pub trait CredentialsProvider: Send + Sync + 'static {
    /// Fetch fresh credentials.
    fn credentials(&self) -> CredentialsFuture;
}

impl<F, Fut> CredentialsProvider for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Credentials, String>> + Send + 'static,
{
    fn credentials(&self) -> CredentialsFuture {
        Box::pin(self())
    }
}

/// Headers checked as static ones are: names are HTTP tokens, values
/// visible ASCII (a credential must read the same to every server), and
/// marked sensitive so no layer prints them.
pub(crate) fn sensitive_headers(
    field: &'static str,
    pairs: &[(String, String)],
) -> Result<HeaderMap, ValidationError> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ValidationError::new(field, "header name is not a valid HTTP token"))?;
        let ascii = value
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b));
        let mut value = HeaderValue::from_str(value)
            .ok()
            .filter(|_| ascii)
            .ok_or_else(|| {
                ValidationError::new(field, format!("value of {name} must be visible ASCII"))
            })?;
        value.set_sensitive(true);
        map.append(name, value);
    }
    Ok(map)
}

/// Headers of one fetch, and when to fetch again.
pub(crate) struct Cached {
    pub(crate) headers: HeaderMap,
    generation: u64,
    /// Past this a caller refreshes them (others keep using them meanwhile).
    refresh_at: Option<Instant>,
    /// Past this nobody uses them.
    expires_at: Option<Instant>,
}

impl Cached {
    fn fresh(&self, now: Instant) -> bool {
        self.refresh_at.is_none_or(|t| now < t)
    }
    fn valid(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }
}

/// The provider of a client, and what it last gave.
pub(crate) struct CredentialCache {
    provider: Arc<dyn CredentialsProvider>,
    current: Mutex<Option<Arc<Cached>>>,
    /// Held while fetching: one caller at a time.
    fetching: tokio::sync::Mutex<()>,
    generations: AtomicU64,
}

impl CredentialCache {
    pub(crate) fn new(provider: Arc<dyn CredentialsProvider>) -> Self {
        Self {
            provider,
            current: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
            generations: AtomicU64::new(0),
        }
    }

    fn current(&self) -> Option<Arc<Cached>> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Headers to send now, fetched if none are valid, within `deadline`.
    /// A failure is nothing sent: retry-safe.
    pub(crate) async fn get(&self, deadline: Instant) -> Result<Arc<Cached>, Error> {
        match tokio::time::timeout_at(deadline, self.get_unbounded()).await {
            Ok(r) => r,
            Err(_) => Err(provider_error(
                "the credentials provider gave nothing before the deadline",
            )),
        }
    }

    async fn get_unbounded(&self) -> Result<Arc<Cached>, Error> {
        if let Some(c) = self.current() {
            let now = Instant::now();
            if c.fresh(now) {
                return Ok(c);
            }
            if c.valid(now) {
                // Due for refresh but still valid: one caller refreshes; the
                // others, and that one if the provider fails, keep using it.
                let Ok(_guard) = self.fetching.try_lock() else {
                    return Ok(c);
                };
                if let Some(newer) = self.current().filter(|n| n.fresh(Instant::now())) {
                    return Ok(newer);
                }
                return match self.fetch().await {
                    Ok(fresh) => Ok(fresh),
                    Err(e) => {
                        tracing::warn!(target: "aopay", error = %e, "refreshing credentials failed; using the current ones until they expire");
                        Ok(c)
                    }
                };
            }
        }
        let _guard = self.fetching.lock().await;
        // Another caller may have fetched while this one waited.
        if let Some(c) = self.current().filter(|c| c.valid(Instant::now())) {
            return Ok(c);
        }
        self.fetch().await
    }

    async fn fetch(&self) -> Result<Arc<Cached>, Error> {
        let creds = self
            .provider
            .credentials()
            .await
            .map_err(|m| provider_error(&format!("the credentials provider failed: {m}")))?;
        let headers = sensitive_headers("credentials", &creds.headers)?;
        let now = Instant::now();
        let expires_at = creds.lifetime.map(|l| now + l);
        // Refresh a tenth of the lifetime (at most 30 s) before it ends.
        let refresh_at = creds
            .lifetime
            .map(|l| now + l.saturating_sub((l / 10).min(Duration::from_secs(30))));
        let cached = Arc::new(Cached {
            headers,
            generation: self.generations.fetch_add(1, Ordering::Relaxed) + 1,
            refresh_at,
            expires_at,
        });
        *self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::clone(&cached));
        tracing::debug!(target: "aopay", headers = creds.headers.len(), lifetime_s = creds.lifetime.map(|l| l.as_secs()), "credentials fetched");
        Ok(cached)
    }

    /// The API refused `used` (a 401): forget it, unless a newer fetch
    /// already replaced it (many calls refused at once refresh once).
    pub(crate) fn refused(&self, used: &Cached) {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if current
            .as_ref()
            .is_some_and(|c| c.generation == used.generation)
        {
            *current = None;
        }
    }
}

fn provider_error(message: &str) -> Error {
    Error::Authentication(Box::new(ErrorDetails::new(message.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn counting(lifetime: Option<Duration>) -> (Arc<AtomicUsize>, CredentialCache) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let provider = move || {
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let c = Credentials::new([("Authorization", format!("Bearer t{n}"))]);
                Ok(match lifetime {
                    Some(l) => c.lifetime(l),
                    None => c,
                })
            }
        };
        (calls, CredentialCache::new(Arc::new(provider)))
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[tokio::test(start_paused = true)]
    async fn one_fetch_serves_many_callers_until_it_is_due() {
        let (calls, cache) = counting(Some(Duration::from_secs(600)));
        let cache = Arc::new(cache);
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let cache = Arc::clone(&cache);
            tasks.push(tokio::spawn(async move {
                cache.get(far()).await.unwrap().generation
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 1);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // 540 s in: fresh. 571 s: due (a tenth, capped at 30 s, before 600).
        tokio::time::advance(Duration::from_secs(540)).await;
        assert_eq!(cache.get(far()).await.unwrap().generation, 1);
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(cache.get(far()).await.unwrap().generation, 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn expired_credentials_are_never_used_and_a_refusal_refreshes_once() {
        let (calls, cache) = counting(Some(Duration::from_secs(10)));
        let first = cache.get(far()).await.unwrap();
        tokio::time::advance(Duration::from_secs(11)).await;
        let second = cache.get(far()).await.unwrap();
        assert_eq!(second.generation, 2);
        cache.refused(&second);
        cache.refused(&second);
        cache.refused(&first); // stale: ignored
        assert_eq!(cache.get(far()).await.unwrap().generation, 3);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_lifetime_they_last_until_a_refusal() {
        let (calls, cache) = counting(None);
        let c = cache.get(far()).await.unwrap();
        tokio::time::advance(Duration::from_secs(86_400 * 365)).await;
        assert_eq!(cache.get(far()).await.unwrap().generation, c.generation);
        cache.refused(&c);
        assert_eq!(cache.get(far()).await.unwrap().generation, 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn failures_and_bad_headers_are_retry_safe_errors_without_secrets() {
        let failing = CredentialCache::new(Arc::new(|| async {
            Err::<Credentials, _>("token service down".to_owned())
        }));
        let e = failing.get(far()).await.err().unwrap();
        assert!(
            e.retry_safe() && e.message().contains("token service down"),
            "{e}"
        );
        let bad = CredentialCache::new(Arc::new(|| async {
            Ok(Credentials::new([("Authorization", "Bearer s3cr3t\u{e9}")]))
        }));
        let e = bad.get(far()).await.err().unwrap();
        assert_eq!(e.kind(), crate::ErrorKind::Validation);
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        let slow = CredentialCache::new(Arc::new(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(Credentials::default())
        }));
        let e = slow
            .get(Instant::now() + Duration::from_millis(50))
            .await
            .err()
            .unwrap();
        assert!(e.retry_safe() && e.message().contains("deadline"), "{e}");
        let shown = format!(
            "{:?}",
            Credentials::new([("Authorization", "Bearer s3cr3t")]).lifetime(Duration::from_secs(1))
        );
        assert!(
            shown.contains("Authorization") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }
}
