//! Keyed writes: the journal makes one idempotency key pay at most once
//! (docs/protocol.md §4).

use std::time::Duration;

use tokio::time::Instant;

use super::Client;
use crate::endpoints::Endpoint;
use crate::error::{Error, ErrorDetails, ValidationError};
use crate::journal::{self, EntryState, Journal, JournalEntry, Update};
use crate::models::{MobileRecharge, Recharge};

impl Client {
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

    pub(super) async fn recharge_once(
        &self,
        journal: &Journal,
        key: &str,
        req: &MobileRecharge,
    ) -> Result<Recharge, Error> {
        // The account, then every field that changes what is paid.
        let mut parts = vec![self.inner.registration_id.as_str().to_owned()];
        parts.extend(req.paid_fields());
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let fp = journal::fingerprint(&parts);
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
        let result = self.call(req).await;
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
}
