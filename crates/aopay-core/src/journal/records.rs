//! The journal's records are opaque to it: an answer is kept as its
//! columns (status, reference, HTTP status, raw) and rebuilt through its
//! endpoint's reader.

use super::{EntryState, JournalEntry, Settled};
use crate::endpoints::Payment;
use crate::models::Recharge;

/// An answer as the journal stores it.
#[derive(Debug)]
pub(crate) struct AnswerColumns {
    pub status: &'static str,
    pub reference_id: Option<String>,
    pub txn_id: Option<String>,
    pub ackno: Option<String>,
    pub message: Option<String>,
    pub api_code: Option<i64>,
    pub http_status: u16,
    pub raw: serde_json::Value,
}

/// An answer the journal can keep and give back.
pub(crate) trait Recorded: Sized {
    fn entry_state(&self) -> EntryState;
    fn columns(&self) -> AnswerColumns;
    fn from_entry(entry: &JournalEntry) -> Option<Self>;
    fn from_settled(settled: Settled) -> Option<Self>;
}

impl Recorded for Recharge {
    fn entry_state(&self) -> EntryState {
        EntryState::of(self.is_final())
    }
    fn columns(&self) -> AnswerColumns {
        AnswerColumns {
            status: self.status.as_str(),
            reference_id: self.reference_id.clone(),
            txn_id: self.txn_id.clone(),
            ackno: self.ackno.clone(),
            message: self.message.clone(),
            api_code: self.api_code,
            http_status: self.http_status,
            raw: self.raw.clone(),
        }
    }
    fn from_entry(entry: &JournalEntry) -> Option<Self> {
        entry.recharge.clone()
    }
    fn from_settled(settled: Settled) -> Option<Self> {
        match settled {
            Settled::Recharge(r) => Some(r),
            Settled::Payment(_) => None,
        }
    }
}

impl Recorded for Payment {
    fn entry_state(&self) -> EntryState {
        EntryState::of(self.is_final())
    }
    fn columns(&self) -> AnswerColumns {
        AnswerColumns {
            status: self.status.as_str(),
            reference_id: Some(self.reference_id.clone()),
            txn_id: self.txn_id.clone(),
            ackno: self.ackno.clone(),
            message: self.meta.message.clone(),
            api_code: self.meta.api_code,
            http_status: self.meta.http_status,
            raw: self.meta.raw.clone(),
        }
    }
    fn from_entry(entry: &JournalEntry) -> Option<Self> {
        entry.payment.clone()
    }
    fn from_settled(settled: Settled) -> Option<Self> {
        match settled {
            Settled::Payment(p) => Some(p),
            Settled::Recharge(_) => None,
        }
    }
}
