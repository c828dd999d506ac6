//! What a call reports when it ends: a `tracing` event, and one
//! [`CallEvent`] to the client's observer (the metrics hook), built only
//! when there is one.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use tokio::time::Instant;

use super::Client;
use crate::endpoints::{Answer, EndpointSpec};
use crate::error::Error;

/// One call's figures, given to a [`CallObserver`] once it has ended: what
/// a metrics system needs, and nothing secret (no header, credential or
/// request body; the customer number is masked).
///
/// A call that is checked and refused before anything is sent, and a
/// keyed write the journal answers without sending, make no event.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CallEvent<'a> {
    /// The endpoint's name in the API: `MobileRecharge`, `RechargeStatus`, …
    pub endpoint: &'static str,
    /// HTTP requests sent for this call: retries of a read and a resend
    /// after a 401 count; 0 when it failed before the first.
    pub attempts: u32,
    /// The last HTTP status, when an answer came.
    pub http_status: Option<u16>,
    /// `SUCCESS`, `PENDING`, `FAILED` or `UNKNOWN` for a write or a status
    /// read, `answered` for another read, `error` when it failed.
    pub outcome: &'a str,
    /// The error's code (`AOPAY_OUTCOME_UNKNOWN`, `AOPAY_RATE_LIMIT`, …)
    /// when it failed.
    pub error: Option<&'static str>,
    /// When it failed: whether sending it again cannot pay twice.
    pub retry_safe: Option<bool>,
    /// From the start of the call to its end, retries included.
    pub duration: Duration,
    /// The customer number, masked (`98XXXXXX10`), when the call has one.
    pub customer_number: Option<&'a str>,
    /// The reference the call was sent under or answered with.
    pub reference_id: Option<&'a str>,
}

impl CallEvent<'_> {
    /// [`CallEvent::duration`] in whole microseconds.
    pub fn duration_us(&self) -> u64 {
        u64::try_from(self.duration.as_micros()).unwrap_or(u64::MAX)
    }

    /// Every field by its snake_case name, the duration as `duration_us`:
    /// what a binding hands to its language.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::json!({
            "endpoint": self.endpoint,
            "attempts": self.attempts,
            "http_status": self.http_status,
            "outcome": self.outcome,
            "error": self.error,
            "retry_safe": self.retry_safe,
            "duration_us": self.duration_us(),
            "customer_number": self.customer_number,
            "reference_id": self.reference_id,
        })
    }
}

/// Receives a [`CallEvent`] after every call of a client
/// ([`super::ClientBuilder::on_call`]). It runs on the task that made the
/// call, before the caller sees the result: keep it quick (count, observe
/// a histogram) and hand anything slow to another thread. A panic in it
/// is caught and logged; the call's result is returned unchanged.
pub trait CallObserver: Send + Sync + 'static {
    /// One call has ended.
    fn on_call(&self, event: &CallEvent<'_>);
}

impl<F> CallObserver for F
where
    F: Fn(&CallEvent<'_>) + Send + Sync + 'static,
{
    fn on_call(&self, event: &CallEvent<'_>) {
        self(event)
    }
}

impl Client {
    pub(super) fn report<A: Answer>(
        &self,
        spec: &EndpointSpec,
        started: Instant,
        attempts: u32,
        result: &Result<A, Error>,
        number: Option<String>,
    ) {
        let duration = started.elapsed();
        trace_call(spec, duration, result, number.as_deref());
        let Some(observer) = &self.inner.observer else {
            return;
        };
        let event = match result {
            Ok(a) => CallEvent {
                endpoint: spec.name,
                attempts,
                http_status: Some(a.http_status()),
                outcome: a.outcome(),
                error: None,
                retry_safe: None,
                duration,
                customer_number: number.as_deref(),
                reference_id: a.reference_id(),
            },
            Err(e) => CallEvent {
                endpoint: spec.name,
                attempts,
                http_status: e.http_status(),
                outcome: "error",
                error: Some(e.code()),
                retry_safe: Some(e.retry_safe()),
                duration,
                customer_number: number.as_deref(),
                reference_id: e.reference_id(),
            },
        };
        // The result may be a payment: an observer's panic must not lose it.
        if catch_unwind(AssertUnwindSafe(|| observer.on_call(&event))).is_err() {
            tracing::warn!(target: "aopay", endpoint = spec.name, "the call observer panicked; the call's result is returned as it was");
        }
    }
}

fn trace_call<A: Answer>(
    spec: &EndpointSpec,
    duration: Duration,
    result: &Result<A, Error>,
    number: Option<&str>,
) {
    // Whole microseconds: an integer reads the same in every log format.
    let elapsed_us = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
    match result {
        Ok(a) => tracing::debug!(
            target: "aopay",
            endpoint = spec.name,
            http_status = a.http_status(),
            elapsed_us,
            outcome = a.outcome(),
            reference_id = a.reference_id(),
            customer_number = number,
            "call finished"
        ),
        Err(e) => tracing::debug!(
            target: "aopay",
            endpoint = spec.name,
            http_status = e.http_status(),
            elapsed_us,
            outcome = e.code(),
            retry_safe = e.retry_safe(),
            customer_number = number,
            error = %e,
            "call failed"
        ),
    }
}
