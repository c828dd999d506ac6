//! `wait_for_final`: polling a transaction's status until it is final.

use std::time::Duration;

use tokio::time::Instant;

use super::Client;
use super::retry::{is_transient, jitter_between};
use crate::endpoints::{Endpoint, RechargeStatus};
use crate::error::{Error, ErrorDetails};
use crate::models::Recharge;
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
        let spec = RechargeStatus::SPEC;
        let url = self.url_of(spec);
        let body = RechargeStatus::of(reference.clone()).to_body(&self.inner.registration_id);
        let deadline = Instant::now() + options.timeout;
        let mut interval = options.initial_interval;
        let mut last: Option<Recharge> = None;
        let mut last_error: Option<Error> = None;
        loop {
            let call_deadline = deadline.min(Instant::now() + self.inner.timeout);
            let mut pause = interval;
            match self
                .read_until::<Recharge>(spec, &url, body.clone(), call_deadline)
                .await
            {
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
}
