//! Reads retried with backoff under one deadline (docs/protocol.md §2).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use tokio::time::Instant;

use super::Client;
use crate::endpoints::{Answer, EndpointSpec};
use crate::error::{Error, ErrorKind};

impl Client {
    /// A read of `spec`, attempted until it answers, fails for good, runs
    /// out of attempts, or would pass `deadline`.
    pub(super) async fn read_until<A: Answer>(
        &self,
        spec: &EndpointSpec,
        url: &Url,
        body: Vec<u8>,
        deadline: Instant,
        sent: &mut super::transport::Sends<'_>,
    ) -> Result<A, Error> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let attempt_deadline = deadline.min(Instant::now() + self.inner.status_attempt_timeout);
            let err = match self
                .attempt(spec, url, body.clone(), attempt_deadline, sent)
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
            tracing::debug!(target: "aopay", endpoint = spec.name, attempt, error = %err.code(), pause_ms = pause.as_millis() as u64, "retrying");
            tokio::time::sleep(pause).await;
        }
    }
}

/// Errors a status read may retry, and `wait_for_final` may poll through.
pub(super) fn is_transient(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Connect | ErrorKind::Server | ErrorKind::RateLimit | ErrorKind::Protocol
    )
}

pub(super) fn backoff_cap(attempt: u32) -> Duration {
    let base = Duration::from_millis(100);
    base.saturating_mul(1 << attempt.min(10))
        .min(Duration::from_secs(2))
}

/// A duration drawn uniformly from `lo..=hi` (full jitter). Not for
/// cryptography: it only spreads retries apart.
pub(super) fn jitter_between(lo: Duration, hi: Duration) -> Duration {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..1000 {
            let d = jitter_between(Duration::from_millis(10), Duration::from_millis(20));
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(20));
        }
        assert_eq!(backoff_cap(1), Duration::from_millis(200));
        assert_eq!(backoff_cap(30), Duration::from_secs(2));
    }
}
