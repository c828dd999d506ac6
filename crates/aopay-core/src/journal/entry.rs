//! What the journal holds, as callers see it: an entry's state, the entry
//! itself, the tally, and what settling one gave.

use super::{now_ms, owner};
use crate::endpoints::{Answer, Payment};
use crate::error::Error;

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
    /// The last answer recorded, if any, rebuilt through its endpoint's
    /// reader (before 0.2: `recharge` or `payment`, by endpoint).
    pub outcome: Option<Payment>,
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
        let status = self.outcome.as_ref().map(|o| o.status.as_str());
        let mut v = serde_json::json!({
            "key": self.key,
            "endpoint": self.endpoint,
            "state": self.state.as_str(),
            "status": status,
            "reference_id": self.reference_id,
            "reason": self.reason,
            "created_at_ms": self.created_at_ms,
            "updated_at_ms": self.updated_at_ms,
            "recharge": null,
            "payment": null,
        });
        v[self.outcome_slot()] = self.outcome.as_ref().map(Answer::to_json_value).into();
        v
    }

    /// Where its outcome sits in its JSON: `recharge` for a MobileRecharge,
    /// `payment` for the other writes (the listings' shape since 0.1).
    fn outcome_slot(&self) -> &'static str {
        if self.endpoint == FIRST_ENDPOINT {
            "recharge"
        } else {
            "payment"
        }
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

/// One line of a reconciliation report as JSON: the entry, with the fresh
/// answer (`status`, and `recharge` or `payment`) or the `error` that kept
/// it unresolved.
pub fn reconciliation_json(
    entry: &JournalEntry,
    result: &Result<Payment, Error>,
) -> serde_json::Value {
    let mut v = entry.to_json_value();
    match result {
        Ok(p) => {
            v["status"] = p.status.as_str().into();
            v[entry.outcome_slot()] = p.to_json_value();
            v["error"] = serde_json::Value::Null;
        }
        Err(e) => v["error"] = e.to_json_value(),
    }
    v
}
