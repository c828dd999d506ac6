//! Reads: retried with backoff under one deadline, and `wait_for_final`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::Client;
use crate::error::{Error, ErrorDetails, ErrorKind};
use crate::models::{Recharge, recharge_status_json};
use crate::parse::Call;
use crate::validate::ReferenceId;

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

impl Client {
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

    pub(super) async fn status_until(
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
