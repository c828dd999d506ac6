//! Keyed writes: the journal makes one idempotency key pay at most once
//! (docs/protocol.md §4), for every write, each resolved through its own
//! status call.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::Client;
use crate::endpoints::{Endpoint, Payment, ReferencedWrite, endpoint};
use crate::error::{Error, ErrorDetails, ErrorKind, ValidationError};
use crate::journal::{self, EntryState, Journal, JournalEntry, Update};

impl Client {
    /// Send a referenced write (`do_recharge`, `pay_bill`,
    /// `fastag_recharge`) at most once. Its outcome, and every error after
    /// it may have been sent, carries its reference, so that its status
    /// call can tell its fate even when the answer was lost.
    ///
    /// With an idempotency key (and a journal on the client) the key and
    /// the reference are recorded before anything is sent, and the key
    /// never pays twice (as [`Client::mobile_recharge`]).
    pub async fn pay<W: ReferencedWrite>(&self, req: &W) -> Result<Payment, Error> {
        // A keyed write spans its claim, its send and its record.
        let _in_flight = self.enter()?;
        match (req.idempotency_key(), &self.inner.journal) {
            (None, _) => self.call(req).await,
            (Some(_), None) => Err(no_journal()),
            (Some(key), Some(journal)) => self.once(journal, key.as_str(), req).await,
        }
    }

    /// Resolve every unresolved journal entry that has a reference, through
    /// its write's status call, and record what it says. Entries without a
    /// reference (a MobileRecharge whose answer was lost) cannot be checked
    /// through the API: they come back as `OutcomeUnknown` (once their
    /// caller's deadline has passed) for the caller to settle against the
    /// AOPay statement.
    pub async fn reconcile_journal(
        &self,
    ) -> Result<Vec<(JournalEntry, Result<Payment, Error>)>, Error> {
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

    /// Where the write recorded under `key` stands now: its recorded final
    /// answer, or (pending, unknown, or in flight past its deadline) what
    /// its status call says, recorded in the journal.
    #[cfg_attr(not(feature = "batch"), allow(dead_code))]
    pub(crate) async fn settle_key(&self, key: &str) -> Result<Payment, Error> {
        let Some(journal) = &self.inner.journal else {
            return Err(no_journal());
        };
        let Some(entry) = journal.get(key).await? else {
            return Err(Error::journal(format!(
                "the journal has no entry for idempotency key {key:?}"
            )));
        };
        if entry.state == EntryState::Final {
            if let Some(outcome) = entry.outcome {
                return Ok(outcome);
            }
        }
        self.resolve_entry(journal, &entry).await
    }

    async fn resolve_entry(
        &self,
        journal: &Journal,
        entry: &JournalEntry,
    ) -> Result<Payment, Error> {
        match self.look_up(journal, entry).await? {
            Found::Settled(s) => Ok(*s),
            Found::Absent(reference) => Err(not_arrived(&entry.key, &reference)),
        }
    }

    /// Ask an unresolved entry's status call, and record what it says.
    async fn look_up(&self, journal: &Journal, entry: &JournalEntry) -> Result<Found, Error> {
        if entry.state == EntryState::Claimed {
            if !entry.caller_gone() {
                return Err(Error::outcome_unknown(ErrorDetails::new(format!(
                    "a call with idempotency key {:?} is about to send (claimed, waiting for its pace)",
                    entry.key
                ))));
            }
            journal.release_stale_claim(entry).await?;
            return Err(Error::journal(format!(
                "idempotency key {:?} was claimed but never sent (its call ended before sending): \
                 released, so the next call or batch run with this key sends it, once",
                entry.key
            )));
        }
        if entry.state == EntryState::Sending {
            if !entry.caller_gone() {
                return Err(Error::outcome_unknown(
                    ErrorDetails::new(format!(
                        "a call with idempotency key {:?} is still in flight",
                        entry.key
                    ))
                    .reference_id(entry.reference_id.clone()),
                ));
            }
            journal.expire(entry).await?;
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
        let settled = match endpoint(&entry.endpoint).and_then(|e| e.status) {
            // Every write's status read, a V2 recharge's too, by name.
            Some(status) => match self.payment_status(status, reference).await {
                Ok(p) => p,
                // The API holds no transaction under the reference. The write may
                // never have arrived, or may still be on its way (a slow
                // server can take it after any deadline): resending could pay
                // twice, so it stays unresolved, to be checked again
                // (docs/protocol.md §4, §10). An entry whose write was
                // answered (pending) keeps that answer: never final.
                Err(e) if e.kind() == ErrorKind::TransactionNotFound => {
                    return Ok(match &entry.outcome {
                        None => Found::Absent(reference.to_owned()),
                        Some(p) => Found::Settled(Box::new(p.clone())),
                    });
                }
                // The write was sent: whatever kept its status read from
                // answering, resending is never "safe" (a refusal or a lost
                // connection of the read says nothing of the write).
                Err(e) => {
                    return Err(after_send(
                        e.with_reference(reference),
                        &entry.key,
                        Some(reference),
                    ));
                }
            },
            None => {
                return Err(Error::journal(format!(
                    "idempotency key {:?}: the journal names an endpoint this build does not know ({:?})",
                    entry.key, entry.endpoint
                )));
            }
        };
        let update = Update::answered(settled.entry_state(), settled.columns());
        journal.record(&entry.key, update).await?;
        Ok(Found::Settled(Box::new(settled)))
    }

    /// The keyed path of every write: claim the key (recording the intent
    /// and the reference) before sending; a key already claimed gives its
    /// recorded outcome, or is resolved, or waited for.
    pub(super) async fn once<E>(
        &self,
        journal: &Journal,
        key: &str,
        req: &E,
    ) -> Result<E::Answer, Error>
    where
        E: Endpoint<Answer = Payment>,
    {
        // The account, then every field that changes what is paid.
        let mut parts = vec![self.inner.registration_id.as_str().to_owned()];
        parts.extend(req.paid_fields());
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let fp = journal::fingerprint(&parts);
        let call_deadline = Instant::now() + self.inner.timeout;
        let mut wait = Duration::from_millis(20);
        loop {
            // The intent outlives its call by a margin: past it, its caller is gone.
            let intent_deadline =
                journal::now_ms() + self.inner.timeout.as_millis() as i64 + INTENT_MARGIN_MS;
            let claim = journal::Claim {
                key,
                fingerprint: &fp,
                endpoint: E::SPEC.method,
                reference_id: req.reference(),
                deadline_at_ms: intent_deadline,
            };
            // The intent within the call's own deadline (the journal's
            // bound may be longer than a short timeout).
            let claimed = tokio::time::timeout_at(call_deadline, journal.claim(&claim))
                .await
                .map_err(|_| {
                    Error::journal(format!(
                        "the journal did not record the intent of idempotency key {key:?} within the call's timeout: nothing was sent"
                    ))
                })??;
            let Some(entry) = claimed else {
                // Claimed, not sending: a caller that dies while it waits
                // for its pace leaves a claim the next run frees.
                self.paced().await;
                match self.send_claimed(journal, key, intent_deadline, req).await {
                    Some(result) => return result,
                    // Taken for a dead caller's while it waited (nothing
                    // sent): see who holds the key now.
                    None => continue,
                }
            };
            if entry.fingerprint != fp {
                return Err(Error::IdempotencyConflict(Box::new(ErrorDetails::new(
                    format!(
                        "idempotency key {key:?} was used for a different recharge or payment (another endpoint, account, amount or bill)"
                    ),
                ))));
            }
            match entry.state {
                EntryState::Final => {
                    if let Some(a) = entry.outcome.clone() {
                        return of_endpoint(key, &entry, E::SPEC.method).map(|()| a);
                    }
                }
                EntryState::Pending | EntryState::Unknown => {
                    let settled = match self.look_up(journal, &entry).await? {
                        Found::Settled(s) => *s,
                        Found::Absent(r)
                            if self.resend_unarrived && req.reference() == Some(r.as_str()) =>
                        {
                            // One caller of many wins the entry and resends.
                            if journal
                                .reopen(key, entry.updated_at_ms, intent_deadline)
                                .await?
                            {
                                // Reopened, it stays ours whatever the wait.
                                self.paced().await;
                                return self.send_again(journal, key, &r, req).await;
                            }
                            continue;
                        }
                        Found::Absent(r) => return Err(not_arrived(key, &r)),
                    };
                    return of_endpoint(key, &entry, E::SPEC.method).map(|()| settled);
                }
                EntryState::Claimed if entry.caller_gone() => {
                    // Its caller is gone and sent nothing: free the key.
                    journal.release_stale_claim(&entry).await?;
                    continue;
                }
                EntryState::Sending if entry.caller_gone() => {
                    journal.expire(&entry).await?;
                    continue;
                }
                EntryState::Claimed | EntryState::Sending => {}
            }
            // Another caller holds the key: wait for its outcome, within our deadline.
            if Instant::now() + wait >= call_deadline {
                return Err(Error::outcome_unknown(
                    ErrorDetails::new(format!(
                        "another call with idempotency key {key:?} is still in flight; its outcome is not known yet"
                    ))
                    .reference_id(entry.reference_id.clone()),
                ));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(250));
        }
    }

    /// Send a write whose key this call has claimed, marking the claim as
    /// sending right before the first byte can leave, then record what
    /// happened. A failed journal write does not hide the outcome. `None`:
    /// the claim was taken over while the call waited, and nothing was sent.
    async fn send_claimed<E>(
        &self,
        journal: &Journal,
        key: &str,
        claimed_deadline: i64,
        req: &E,
    ) -> Option<Result<E::Answer, Error>>
    where
        E: Endpoint<Answer = Payment>,
    {
        // The deadline this call last wrote: what tells its entry from
        // another caller's.
        let written = AtomicI64::new(claimed_deadline);
        let lost = AtomicBool::new(false);
        let margin = self.inner.timeout.as_millis() as i64 + INTENT_MARGIN_MS;
        let (written_ref, lost_ref) = (&written, &lost);
        let start_sending =
            move || -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send + '_>> {
                Box::pin(async move {
                    let deadline = journal::now_ms() + margin;
                    if journal
                        .start_sending(key, claimed_deadline, deadline)
                        .await?
                    {
                        written_ref.store(deadline, Ordering::SeqCst);
                        return Ok(());
                    }
                    lost_ref.store(true, Ordering::SeqCst);
                    Err(Error::journal(format!(
                        "idempotency key {key:?}: the claim was taken over while the call waited; nothing was sent"
                    )))
                })
            };
        let result = self.call_with(req, Some(&start_sending)).await;
        if lost.load(Ordering::SeqCst) {
            return None;
        }
        if let Err(e) = &result {
            if e.kind() == ErrorKind::DuplicateReference {
                return Some(self.settle_duplicate(journal, key, e).await);
            }
        }
        let recorded = match &result {
            Ok(a) => {
                let update = Update::answered(a.entry_state(), a.columns());
                journal.keep_outcome(key, update).await.map(drop)
            }
            // Provably nothing was charged: free the key for a later attempt.
            Err(e) if e.retry_safe() => journal
                .keep_release(key, written.load(Ordering::SeqCst))
                .await
                .map(drop),
            Err(e) => {
                let reason = e.to_string();
                let update = Update {
                    state: EntryState::Unknown,
                    answer: None,
                    reference_id: e.reference_id(),
                    reason: Some(&reason),
                };
                journal.keep_outcome(key, update).await.map(drop)
            }
        };
        if let Err(e) = recorded {
            // Neither the journal nor the local log took it: the caller
            // still gets the answer, and the entry is settled later.
            tracing::error!(target: "aopay", idempotency_key = key, error = %e, "could not keep what this call did: not in the journal, not in the local log");
        }
        Some(result)
    }

    /// Send again, under the reference its first send recorded, a write
    /// whose status call never found that send (a batch's opt-in:
    /// docs/protocol.md §9). The API refuses a reused reference, so the two
    /// sends cannot both pay; a refusal for reuse means the first arrived
    /// after all, and the status call tells what it did. The key is never
    /// released: the first send may still arrive.
    async fn send_again<E>(
        &self,
        journal: &Journal,
        key: &str,
        reference: &str,
        req: &E,
    ) -> Result<E::Answer, Error>
    where
        E: Endpoint<Answer = Payment>,
    {
        tracing::info!(target: "aopay", idempotency_key = key, reference_id = reference, "sending again, under the same reference, a write its status call never found");
        let e = match self.call(req).await {
            Ok(a) => {
                let update = Update::answered(a.entry_state(), a.columns());
                if let Err(e) = journal.keep_outcome(key, update).await {
                    tracing::error!(target: "aopay", idempotency_key = key, error = %e, "could not keep the outcome: not in the journal, not in the local log");
                }
                return Ok(a);
            }
            Err(e) => e,
        };
        // Refused as a reuse: the first send arrived after all.
        if e.kind() == ErrorKind::DuplicateReference {
            return self.settle_duplicate(journal, key, &e).await;
        }
        let reason = format!(
            "sent again under the same reference, which failed ({e}); the first send may still arrive"
        );
        let update = Update {
            state: EntryState::Unknown,
            answer: None,
            reference_id: None,
            reason: Some(&reason),
        };
        if let Err(kept) = journal.keep_outcome(key, update).await {
            tracing::error!(target: "aopay", idempotency_key = key, error = %kept, "could not keep the outcome: not in the journal, not in the local log");
        }
        Err(match e.kind() {
            // A refusal of the resend says nothing of the first send.
            k if k.is_refusal() => Error::outcome_unknown(
                ErrorDetails::new(format!(
                    "idempotency key {key:?}: sent again under reference {reference} (AOPay had no payment under it) and refused ({e}); the first send may still arrive"
                ))
                .reference_id(Some(reference.to_owned())),
            ),
            _ => e,
        })
    }
}

impl Client {
    /// A keyed write refused because a payment under its reference exists
    /// (docs/protocol.md §10): the first send arrived. Record that, then
    /// read its fate through the status call; whatever that says, the key
    /// is never released.
    async fn settle_duplicate(
        &self,
        journal: &Journal,
        key: &str,
        refused: &Error,
    ) -> Result<Payment, Error> {
        // Sent: whatever fails from here is never "safe to retry".
        self.settle_duplicate_sent(journal, key, refused)
            .await
            .map_err(|e| after_send(e, key, refused.reference_id()))
    }

    async fn settle_duplicate_sent(
        &self,
        journal: &Journal,
        key: &str,
        refused: &Error,
    ) -> Result<Payment, Error> {
        let reason =
            format!("refused as a duplicate reference ({refused}): a payment under it exists");
        let update = Update {
            state: EntryState::Unknown,
            answer: None,
            reference_id: refused.reference_id(),
            reason: Some(&reason),
        };
        journal.keep_outcome(key, update).await?;
        let entry = journal.get(key).await?.ok_or_else(|| {
            Error::journal(format!("the entry of idempotency key {key:?} is gone"))
        })?;
        self.resolve_entry(journal, &entry).await
    }
}

/// How long an intent outlives its call's deadline.
const INTENT_MARGIN_MS: i64 = 5_000;

impl Client {
    /// Wait for the batch's slot, if this client is paced.
    async fn paced(&self) {
        #[cfg(feature = "batch")]
        if let Some(pace) = &self.pace {
            pace.ready().await;
        }
    }
}

/// What an unresolved entry's status call found.
enum Found {
    Settled(Box<Payment>),
    /// The API holds no payment under this reference (yet).
    Absent(String),
}

/// An error after a write may have left can never say "safe to retry": a
/// journal or lookup failure there is an outcome unknown, with the
/// reference it knows.
fn after_send(e: Error, key: &str, reference: Option<&str>) -> Error {
    if !e.retry_safe() {
        return e;
    }
    Error::outcome_unknown(
        ErrorDetails::new(format!(
            "idempotency key {key:?}: sent, then its outcome could not be settled ({e}); check it before paying again"
        ))
        .reference_id(reference.map(str::to_owned)),
    )
}

/// A key's recorded outcome is its endpoint's only: one journal holds
/// every write's.
fn of_endpoint(key: &str, entry: &JournalEntry, method: &str) -> Result<(), Error> {
    if entry.endpoint == method {
        return Ok(());
    }
    Err(Error::journal(format!(
        "idempotency key {key:?} holds an answer of another endpoint ({})",
        entry.endpoint
    )))
}

fn not_arrived(key: &str, reference: &str) -> Error {
    Error::outcome_unknown(
        ErrorDetails::new(format!(
            "idempotency key {key:?}: AOPay holds no payment under reference {reference} yet: the write may never have arrived, or may still; it is not sent again. Check it later (aopay journal reconcile) or settle it against the AOPay statement"
        ))
        .reference_id(Some(reference.to_owned())),
    )
}

pub(super) fn no_journal() -> Error {
    ValidationError::new(
        "idempotency_key",
        "needs a journal on the client (ClientBuilder::journal)",
    )
    .into()
}
