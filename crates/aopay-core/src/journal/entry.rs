//! What the journal holds, as callers see it: an entry's state, the entry
//! itself, the tally, and what settling one gave.

use super::records::{AnswerColumns, Recorded};
use super::{now_ms, owner};
use crate::endpoints::Payment;
use crate::error::Error;
use crate::models::Recharge;

/// Where a keyed recharge stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    /// Intent recorded, nothing sent yet: its call waits for its pace, its
    /// credentials or its signature. Past its deadline, its caller is gone
    /// and the key is freed (docs/protocol.md §4).
    Claimed,
    /// About to send or sent; the request may be in flight (or its caller
    /// died after it may have left).
    Sending,
    /// Answered PENDING or UNKNOWN, with a reference to check.
    Pending,
    /// Answered SUCCESS or FAILED.
    Final,
    /// The outcome is unknown (timeout, lost connection, 5xx…).
    Unknown,
}

impl EntryState {
    /// `claimed`, `sending`, `pending`, `final` or `unknown` (as stored).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claimed => "claimed",
            Self::Sending => "sending",
            Self::Pending => "pending",
            Self::Final => "final",
            Self::Unknown => "unknown",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "claimed" => Self::Claimed,
            "sending" => Self::Sending,
            "pending" => Self::Pending,
            "final" => Self::Final,
            _ => Self::Unknown,
        }
    }

    pub(super) fn of(is_final: bool) -> Self {
        if is_final { Self::Final } else { Self::Pending }
    }
}

/// The method name journals written before endpoints were recorded hold.
pub(crate) const FIRST_ENDPOINT: &str = "mobile_recharge";

/// One journal row.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JournalEntry {
    /// The idempotency key.
    pub key: String,
    /// A hash of the registration id and every field that changes what is
    /// paid.
    pub fingerprint: String,
    /// The write it is for, by method name (`mobile_recharge`, `pay_bill`).
    pub endpoint: String,
    /// Where the write stands.
    pub state: EntryState,
    /// The last answer recorded for a MobileRecharge, if any.
    pub recharge: Option<Recharge>,
    /// The last answer recorded for a referenced write, if any.
    pub payment: Option<Payment>,
    /// The reference: the caller's for a referenced write (recorded with
    /// the intent, before sending), the API's for a MobileRecharge (once
    /// answered).
    pub reference_id: Option<String>,
    /// Why the outcome is unknown, for `Unknown` entries.
    pub reason: Option<String>,
    /// When the intent was recorded (Unix milliseconds).
    pub created_at_ms: i64,
    /// When the entry last changed (Unix milliseconds).
    pub updated_at_ms: i64,
    /// After this, a `Sending` entry's caller is gone (its call's deadline
    /// has passed): the entry is then treated as unknown.
    pub deadline_at_ms: i64,
    /// The process that claimed or sent it (`host:pid:start`), when known:
    /// on the same machine, a caller that is gone is seen at once.
    pub owner: Option<String>,
}

impl JournalEntry {
    /// Whether the call that holds this entry is over: its deadline has
    /// passed, or its process (on this machine) is gone.
    pub(crate) fn caller_gone(&self) -> bool {
        now_ms() >= self.deadline_at_ms || self.owner.as_deref().is_some_and(owner::is_gone)
    }

    /// The owner to name when freeing or expiring this entry early (its
    /// process is gone), if so.
    pub(super) fn gone_owner(&self) -> Option<&str> {
        self.owner.as_deref().filter(|o| owner::is_gone(o))
    }
}

impl JournalEntry {
    /// The entry as one JSON object (for listings: the CLI's `--json`, the
    /// bindings' `journal_pending`).
    pub fn to_json_value(&self) -> serde_json::Value {
        let status = match (&self.recharge, &self.payment) {
            (Some(r), _) => Some(r.status.as_str()),
            (None, Some(p)) => Some(p.status.as_str()),
            (None, None) => None,
        };
        serde_json::json!({
            "key": self.key,
            "endpoint": self.endpoint,
            "state": self.state.as_str(),
            "status": status,
            "reference_id": self.reference_id,
            "reason": self.reason,
            "created_at_ms": self.created_at_ms,
            "updated_at_ms": self.updated_at_ms,
            "recharge": self.recharge.as_ref().map(Recharge::to_json_value),
            "payment": self.payment.as_ref().map(crate::Answer::to_json_value),
        })
    }
}

/// A count of journal entries of one endpoint, state and status.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tally {
    /// The write, by method name.
    pub endpoint: String,
    /// Where its entries stand.
    pub state: EntryState,
    /// The last recorded status word (`SUCCESS`…), if an answer was recorded.
    pub status: Option<String>,
    /// How many entries.
    pub count: u64,
}

/// What reconciling an entry found: the answer of its write's status call.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// A MobileRecharge, through RechargeStatus.
    Recharge(Recharge),
    /// A referenced write, through its own status call.
    Payment(Payment),
}

impl Settled {
    /// The status word (`SUCCESS`, `REFUNDED`…).
    pub fn status(&self) -> &'static str {
        match self {
            Self::Recharge(r) => r.status.as_str(),
            Self::Payment(p) => p.status.as_str(),
        }
    }

    /// Nothing more will change.
    pub fn is_final(&self) -> bool {
        match self {
            Self::Recharge(r) => r.is_final(),
            Self::Payment(p) => p.is_final(),
        }
    }

    /// The answer as its endpoint writes it.
    pub fn to_json_value(&self) -> serde_json::Value {
        match self {
            Self::Recharge(r) => r.to_json_value(),
            Self::Payment(p) => crate::Answer::to_json_value(p),
        }
    }

    pub(crate) fn entry_state(&self) -> EntryState {
        EntryState::of(self.is_final())
    }

    pub(crate) fn columns(&self) -> AnswerColumns {
        match self {
            Self::Recharge(r) => r.columns(),
            Self::Payment(p) => p.columns(),
        }
    }
}

/// One line of a reconciliation report as JSON: the entry, with the fresh
/// answer (`status`, and `recharge` or `payment`) or the `error` that kept
/// it unresolved.
pub fn reconciliation_json(
    entry: &JournalEntry,
    result: &Result<Settled, Error>,
) -> serde_json::Value {
    let mut v = entry.to_json_value();
    match result {
        Ok(s) => {
            v["status"] = s.status().into();
            let slot = match s {
                Settled::Recharge(_) => "recharge",
                Settled::Payment(_) => "payment",
            };
            v[slot] = s.to_json_value();
            v["error"] = serde_json::Value::Null;
        }
        Err(e) => v["error"] = e.to_json_value(),
    }
    v
}
