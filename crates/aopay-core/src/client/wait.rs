//! `wait_for_final`: polling a transaction's status until it is final.

use std::time::Duration;

use tokio::time::Instant;

use super::Client;
use super::retry::{is_transient, jitter_between};
use crate::endpoints::Recharge;
use crate::endpoints::{
    Answer, ENDPOINTS, Endpoint, Payment, RechargeStatus, StatusRead, for_each_endpoint,
};
use crate::error::{Error, ErrorDetails, ErrorKind, ValidationError};
use crate::journal::EntryState;
use crate::wire::Effect;

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
    /// Poll the status until the transaction is `SUCCESS` or `FAILED`. A
    /// transient failure, and a status call that finds no transaction
    /// (yet), are asked again. Running out of `options.timeout` first is an
    /// [`Error::OutcomeUnknown`] carrying the reference and the last status.
    /// The V2 recharge's form of [`Client::wait_for`].
    pub async fn wait_for_final(
        &self,
        reference_id: &str,
        options: WaitOptions,
    ) -> Result<Recharge, Error> {
        self.status_read(RechargeStatus::SPEC.method, reference_id, Some(options))
            .await
    }

    /// Poll an outcome's own status call ([`Payment::status_call`]) under
    /// its reference until it is final (SUCCESS, FAILED or REFUNDED): the
    /// one wait, for every write's outcome, a V2 recharge's included. An
    /// outcome without a reference (a V2 answer that named none) cannot be
    /// checked: a `ValidationError`, nothing is sent.
    pub async fn wait_for(
        &self,
        outcome: &Payment,
        options: WaitOptions,
    ) -> Result<Payment, Error> {
        self.wait_for_call(
            Some(outcome.status_call),
            outcome.reference_id.as_deref(),
            options,
        )
        .await
    }

    /// [`Client::wait_for`] from an outcome's two fields, its status call
    /// and its reference (how the bindings hand an outcome back). No status
    /// call: a bare reference, a V2 recharge's (through RechargeStatus).
    pub async fn wait_for_call(
        &self,
        status_call: Option<&str>,
        reference_id: Option<&str>,
        options: WaitOptions,
    ) -> Result<Payment, Error> {
        let Some(reference) = reference_id else {
            return Err(ValidationError::new(
                "reference_id",
                "the outcome names no reference to check its status by; settle it against your AOPay statement",
            )
            .into());
        };
        let status_call = status_call.unwrap_or(RechargeStatus::SPEC.method);
        self.status_read(status_call, reference, Some(options))
            .await
    }

    /// The fate of a write, through `status_call` (a
    /// [`Payment::status_call`]: `recharge_status`, `do_recharge_status`,
    /// `bill_status`, `fastag_status`).
    pub async fn payment_status(
        &self,
        status_call: &str,
        reference_id: &str,
    ) -> Result<Payment, Error> {
        self.status_read(status_call, reference_id, None).await
    }

    /// Poll a write's status call (`status_call`, as
    /// [`Client::payment_status`]) until it is final: [`Client::wait_for`]
    /// by name.
    pub async fn wait_for_payment(
        &self,
        status_call: &str,
        reference_id: &str,
        options: WaitOptions,
    ) -> Result<Payment, Error> {
        self.status_read(status_call, reference_id, Some(options))
            .await
    }

    async fn read_or_poll<E: Endpoint<Answer = Payment>>(
        &self,
        req: &E,
        reference: &str,
        wait: Option<WaitOptions>,
    ) -> Result<Payment, Error> {
        match wait {
            None => self.call(req).await,
            Some(options) => self.poll_final(req, reference, options).await,
        }
    }

    async fn poll_final<E>(
        &self,
        req: &E,
        reference: &str,
        options: WaitOptions,
    ) -> Result<E::Answer, Error>
    where
        E: Endpoint<Answer = Payment>,
    {
        let _in_flight = self.enter()?;
        let spec = E::SPEC;
        let url = self.url_of(spec);
        let body = req.to_body(&self.inner.registration_id);
        let deadline = Instant::now() + options.timeout;
        let mut interval = options.initial_interval;
        let mut last: Option<E::Answer> = None;
        let mut last_error: Option<Error> = None;
        loop {
            let call_deadline = deadline.min(Instant::now() + self.inner.timeout);
            let mut pause = interval;
            // Each poll is a status call of its own: traced and observed.
            let started = Instant::now();
            let mut sends = super::transport::Sends {
                count: 0,
                before_first: None,
            };
            let polled = match self
                .read_until::<E::Answer>(spec, &url, body.clone(), call_deadline, &mut sends)
                .await
            {
                Ok(mut a) => {
                    req.settle(&mut a);
                    Ok(a)
                }
                Err(e) => Err(e.with_reference(reference)),
            };
            self.report(spec, started, sends.count, &polled, None);
            match polled {
                Ok(a) => {
                    if a.entry_state() == EntryState::Final {
                        return Ok(a);
                    }
                    last = Some(a);
                }
                // Not found (yet): a write may arrive late, so keep asking.
                Err(e) if is_transient(&e) || e.kind() == ErrorKind::TransactionNotFound => {
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
            (Some(a), _) => format!("still {}", a.outcome()),
            (None, Some(e)) => format!("not readable ({e})"),
            (None, None) => "not checked".to_owned(),
        };
        let mut d = ErrorDetails::new(format!(
            "transaction {reference} is {state} after waiting {:?}; keep checking its status",
            options.timeout
        ))
        .reference_id(Some(reference.to_owned()));
        if let Some(a) = &last {
            d = d.http_status(a.http_status()).api_code(a.meta.api_code);
        }
        Err(Error::outcome_unknown(d))
    }
}

/// A `status_call` that is no write's status read; the message lists
/// them, from the table.
fn unknown_status_call(name: &str) -> Error {
    let known: Vec<&str> = ENDPOINTS
        .iter()
        .filter(|w| w.effect == Effect::Write)
        .filter_map(|w| w.status)
        .collect();
    ValidationError::new(
        "status_call",
        format!("{name:?} is not a status call ({})", known.join(", ")),
    )
    .into()
}

/// The writes' status reads, from the one endpoint list
/// (`for_each_endpoint!`, its `status` entries): read once, or polled.
macro_rules! status_reads {
    ($($how:ident: $request:ty,)*) => {
        impl Client {
            /// A status read by name, once or polled; each request checks
            /// the reference by its own rules.
            async fn status_read(
                &self,
                status_call: &str,
                reference: &str,
                wait: Option<WaitOptions>,
            ) -> Result<Payment, Error> {
                $(status_reads!(@read $how $request, self, status_call, reference, wait);)*
                Err(unknown_status_call(status_call))
            }
        }
    };
    (@read status $request:ty, $client:ident, $name:ident, $reference:ident, $wait:ident) => {
        if $name == <$request as Endpoint>::SPEC.method {
            let req = <$request as StatusRead>::for_reference($reference)?;
            return $client.read_or_poll(&req, $reference, $wait).await;
        }
    };
    (@read $how:ident $request:ty, $client:ident, $name:ident, $reference:ident, $wait:ident) => {};
}

for_each_endpoint!(status_reads);
