//! What both backends share: the SQL texts, the parameters of the keyed
//! statements, and a row read back as an entry.

use super::{EntryState, JournalEntry, Update};
use crate::endpoints::{Payment, endpoint};

pub(crate) const TALLY: &str = "SELECT endpoint, state, status, count(*) FROM aopay_journal \
     GROUP BY endpoint, state, status ORDER BY endpoint, state, status";

/// Where the batches on a journal share their pace (one row per account).
pub(crate) const PACE_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS aopay_pace (name TEXT PRIMARY KEY, next_at_us BIGINT NOT NULL)";

/// An `unknown` entry back to `sending`, only as it was seen (so one caller
/// of many resends it): `$1` key, `$2` its `updated_at` then, `$3` the new
/// deadline, `$4` now.
pub(crate) const REOPEN: &str = "UPDATE aopay_journal
     SET state = 'sending', deadline_at = $3, updated_at = $4, owner = $5
     WHERE key = $1 AND state = 'unknown' AND updated_at = $2 AND status IS NULL";

/// The values after the key (`$1`) of one of the journal's keyed statements.
#[derive(Debug, Clone)]
pub(crate) enum Keyed {
    /// `$2`.
    One(i64),
    /// `$2`, `$3`, `$4`.
    Three(i64, i64, i64),
    /// `$2`, and a text (or NULL) `$3`.
    NumberText(i64, Option<String>),
}

/// A claimed entry turned to `sending` right before its first byte can
/// leave, only while it is still this caller's claim: `$1` key, `$2` the
/// deadline the claim wrote (a claim taken over gets a later one), `$3` the
/// sending deadline, `$4` now.
pub(crate) const START_SENDING: &str = "UPDATE aopay_journal
     SET state = 'sending', deadline_at = $3, updated_at = $4
     WHERE key = $1 AND state = 'claimed' AND deadline_at = $2";

/// Free a key this caller holds and provably sent nothing for: `$1` key,
/// `$2` the deadline it last wrote (another caller's entry is untouched).
pub(crate) const RELEASE: &str = "DELETE FROM aopay_journal
     WHERE key = $1 AND state IN ('claimed', 'sending') AND deadline_at = $2";

/// Free a claim whose caller is gone (past its deadline, or its process
/// `$3` gone; never marked as sending): nothing of it left. `$1` key, `$2`
/// now.
pub(crate) const RELEASE_STALE_CLAIM: &str = "DELETE FROM aopay_journal
     WHERE key = $1 AND state = 'claimed' AND (deadline_at <= $2 OR owner = $3)";

/// A `sending` entry whose caller is gone (past its deadline, or its
/// process `$4` gone) becomes `unknown`: `$1` key, `$2` reason, `$3` now.
pub(crate) const EXPIRE: &str =
    "UPDATE aopay_journal SET state = 'unknown', reason = $2, updated_at = $3
     WHERE key = $1 AND state = 'sending' AND (deadline_at <= $3 OR owner = $4)";

macro_rules! record_sql {
    () => {
        "UPDATE aopay_journal SET state = $2, status = $3,
           reference_id = coalesce($4, reference_id), txn_id = $5,
           ackno = $6, message = $7, api_code = $8, http_status = $9, raw = $10, reason = $11,
           updated_at = $12 WHERE key = $1"
    };
}

/// The outcome of a call: `$1` key, `$2` state .. `$11` reason
/// ([`UpdateValues`]), `$12` when.
pub(crate) const RECORD: &str = record_sql!();

/// An outcome put back into the journal from the local log, as [`RECORD`]
/// writes it, never over a final entry (settled by hand meanwhile).
pub(crate) const REPLAY: &str = concat!(record_sql!(), " AND state <> 'final'");

/// Columns shared by both backends, in this order.
pub(crate) const COLUMNS: &str = "key, fingerprint, state, status, reference_id, txn_id, ackno, \
     message, api_code, http_status, raw, reason, created_at, updated_at, deadline_at, endpoint, owner";

/// A row as both backends read it: its key and times around the values
/// an `Update` writes.
#[derive(Debug, Default)]
pub(crate) struct Row {
    pub key: String,
    pub fingerprint: String,
    pub values: UpdateValues,
    pub created_at: i64,
    pub updated_at: i64,
    pub deadline_at: i64,
    pub endpoint: String,
    pub owner: Option<String>,
}

/// One backend's row, read by column index (`COLUMNS` order).
pub(crate) trait Columns {
    /// The backend's error.
    type Error;
    fn text(&self, i: usize) -> Result<String, Self::Error>;
    fn maybe_text(&self, i: usize) -> Result<Option<String>, Self::Error>;
    fn int(&self, i: usize) -> Result<i64, Self::Error>;
    fn maybe_int(&self, i: usize) -> Result<Option<i64>, Self::Error>;
}

impl Row {
    /// A row of `COLUMNS`, as any backend gives it.
    pub(crate) fn read<C: Columns>(r: &C) -> Result<Self, C::Error> {
        Ok(Row {
            key: r.text(0)?,
            fingerprint: r.text(1)?,
            values: UpdateValues {
                state: r.text(2)?,
                status: r.maybe_text(3)?,
                reference_id: r.maybe_text(4)?,
                txn_id: r.maybe_text(5)?,
                ackno: r.maybe_text(6)?,
                message: r.maybe_text(7)?,
                api_code: r.maybe_int(8)?,
                http_status: r.maybe_int(9)?,
                raw: r.maybe_text(10)?,
                reason: r.maybe_text(11)?,
            },
            created_at: r.int(12)?,
            updated_at: r.int(13)?,
            deadline_at: r.int(14)?,
            endpoint: r.text(15)?,
            owner: r.maybe_text(16)?,
        })
    }

    pub(crate) fn into_entry(self) -> JournalEntry {
        let v = self.values;
        let raw = || {
            v.raw
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok())
                .unwrap_or(serde_json::Value::Null)
        };
        let http_status = v
            .http_status
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0);
        // Rebuilt through its endpoint's reader; an endpoint this build
        // does not know keeps its row, not an outcome.
        let outcome = match (endpoint(&self.endpoint), v.status.as_deref()) {
            (Some(spec), Some(status)) => Some(Payment::restore(
                raw(),
                status,
                http_status,
                v.reference_id.clone(),
                spec.status_call(),
            )),
            _ => None,
        };
        JournalEntry {
            key: self.key,
            fingerprint: self.fingerprint,
            endpoint: self.endpoint,
            state: EntryState::parse(&v.state),
            outcome,
            reference_id: v.reference_id,
            reason: v.reason,
            created_at_ms: self.created_at,
            updated_at_ms: self.updated_at,
            deadline_at_ms: self.deadline_at,
            owner: self.owner,
        }
    }
}

/// The values an `Update` writes, in `status .. reason` column order (and
/// what the local outcome log keeps of one).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct UpdateValues {
    pub state: String,
    pub status: Option<String>,
    pub reference_id: Option<String>,
    pub txn_id: Option<String>,
    pub ackno: Option<String>,
    pub message: Option<String>,
    pub api_code: Option<i64>,
    pub http_status: Option<i64>,
    pub raw: Option<String>,
    pub reason: Option<String>,
}

impl Update<'_> {
    /// The values to write; a `None` reference keeps the stored one.
    pub(crate) fn values(&self) -> UpdateValues {
        let r = self.answer.as_ref();
        UpdateValues {
            state: self.state.as_str().to_owned(),
            status: r.map(|r| r.status.to_owned()),
            reference_id: self
                .reference_id
                .map(str::to_owned)
                .or_else(|| r.and_then(|r| r.reference_id.clone())),
            txn_id: r.and_then(|r| r.txn_id.clone()),
            ackno: r.and_then(|r| r.ackno.clone()),
            message: r.and_then(|r| r.message.clone()),
            api_code: r.and_then(|r| r.api_code),
            http_status: r.map(|r| i64::from(r.http_status)),
            raw: r.map(|r| r.raw.to_string()),
            reason: self.reason.map(str::to_owned),
        }
    }
}
