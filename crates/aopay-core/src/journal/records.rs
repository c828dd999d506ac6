//! The journal's records are opaque to it: an answer is kept as its
//! columns (status, reference, HTTP status, raw) and rebuilt through its
//! endpoint's reader.

use super::EntryState;
use crate::endpoints::Payment;

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

impl Payment {
    /// Nothing more will change: `final`, else `pending`.
    pub(crate) fn entry_state(&self) -> EntryState {
        EntryState::of(self.is_final())
    }

    /// What the journal stores of it.
    pub(crate) fn columns(&self) -> AnswerColumns {
        AnswerColumns {
            status: self.status.as_str(),
            reference_id: self.reference_id.clone(),
            txn_id: self.txn_id.clone(),
            ackno: self.ackno.clone(),
            message: self.meta.message.clone(),
            api_code: self.meta.api_code,
            http_status: self.meta.http_status,
            raw: self.meta.raw.clone(),
        }
    }
}
