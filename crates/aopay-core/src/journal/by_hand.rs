//! Changes made by hand to journal entries, for what an operator checked
//! against the AOPay statement (docs/protocol.md §4): settling an entry,
//! releasing its key, and the audit trail that keeps who, when and why.

use super::{Backend, EntryState, FIRST_ENDPOINT, Journal, JournalEntry, bounded, now_ms};
use crate::error::{Error, ValidationError};

/// Where every settlement and release by hand is kept: who, when, why
/// (docs/protocol.md §4). Not versioned: created when missing.
pub(crate) const AUDIT_TABLE: &str = "CREATE TABLE IF NOT EXISTS aopay_journal_audit (
       key TEXT NOT NULL, action TEXT NOT NULL, from_state TEXT NOT NULL,
       status TEXT, reference_id TEXT, note TEXT NOT NULL, actor TEXT NOT NULL,
       at BIGINT NOT NULL)";

/// An entry neither final nor in flight, settled by hand: `$1` key, `$2`
/// status, `$3` reference (or keep), `$4` reason, `$5` raw, `$6` now.
pub(crate) const HAND_SETTLE: &str = "UPDATE aopay_journal
     SET state = 'final', status = $2, reference_id = coalesce($3, reference_id),
         reason = $4, raw = $5, updated_at = $6
     WHERE key = $1 AND state <> 'final'
       AND NOT (state IN ('claimed', 'sending') AND deadline_at > $6)";

/// An entry neither final nor in flight, released by hand: `$1` key, `$2` now.
pub(crate) const HAND_RELEASE: &str = "DELETE FROM aopay_journal
     WHERE key = $1 AND state <> 'final'
       AND NOT (state IN ('claimed', 'sending') AND deadline_at > $2)";

/// One audit row: `$1` key, `$2` action, `$3` from state, `$4` status,
/// `$5` reference, `$6` note, `$7` actor, `$8` when (Unix milliseconds).
pub(crate) const AUDIT: &str = "INSERT INTO aopay_journal_audit
     (key, action, from_state, status, reference_id, note, actor, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// What an operator did by hand to an entry, kept in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditRecord {
    /// The idempotency key.
    pub key: String,
    /// `settle` or `release`.
    pub action: String,
    /// The entry's state before (`pending`, `unknown`, `claimed`…).
    pub from_state: String,
    /// The status it was settled with (`settle` only).
    pub status: Option<String>,
    /// The reference given with the settlement, if any.
    pub reference_id: Option<String>,
    /// Why: what the operator checked.
    pub note: String,
    /// Who: `AOPAY_ACTOR`, else the user and host.
    pub actor: String,
    /// When (Unix milliseconds).
    pub at_ms: i64,
}

impl AuditRecord {
    /// The record as one JSON object.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::json!({
            "key": self.key, "action": self.action, "from_state": self.from_state,
            "status": self.status, "reference_id": self.reference_id, "note": self.note,
            "actor": self.actor, "at_ms": self.at_ms,
        })
    }
}

/// What an operator does by hand to a journal entry, after checking the
/// AOPay statement, or asks of its trail (see [`Journal::by_hand_json`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ByHand {
    /// [`Journal::settle_by_hand`].
    Settle {
        /// The idempotency key.
        key: String,
        /// `SUCCESS`, `FAILED`, or for a referenced write `REFUNDED`.
        status: String,
        /// The reference the statement shows, if the entry lacks one.
        reference_id: Option<String>,
        /// Why.
        note: String,
    },
    /// [`Journal::release_by_hand`].
    Release {
        /// The idempotency key.
        key: String,
        /// Why.
        note: String,
    },
    /// [`Journal::audit`].
    Audit {
        /// The idempotency key.
        key: String,
    },
}

impl ByHand {
    /// The action `action` (`settle`, `release`, `audit`) from a key and an
    /// options object as a binding receives them (`status`, `note`,
    /// `reference_id`; a name may be spelled in camelCase): a key that is
    /// not a string, options that are not an object, an unknown or missing
    /// option, a value that is not a string, each a [`crate::ValidationError`]
    /// naming it.
    pub fn from_json(
        action: &str,
        key: &serde_json::Value,
        options: &serde_json::Value,
    ) -> Result<Self, crate::error::ValidationError> {
        let key = key
            .as_str()
            .ok_or_else(|| ValidationError::new("key", "must be a string (the idempotency key)"))?
            .to_owned();
        let names: &[&str] = match action {
            "settle" => &["status", "note", "reference_id"],
            "release" => &["note"],
            "audit" => &[],
            _ => {
                return Err(ValidationError::new(
                    "action",
                    format!("no such action {action:?}"),
                ));
            }
        };
        let empty = serde_json::Map::new();
        let fields = match options {
            serde_json::Value::Object(o) => o,
            serde_json::Value::Null => &empty,
            _ => return Err(ValidationError::new("options", "must be an object")),
        };
        let mut given: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
        for (name, value) in fields {
            let known = names
                .iter()
                .find(|n| **n == name || crate::naming::camel_case(n) == *name)
                .ok_or_else(|| {
                    ValidationError::new(
                        "options",
                        format!("{name:?} is not an option of this call"),
                    )
                })?;
            match value {
                serde_json::Value::String(text) => {
                    given.insert(known, text.clone());
                }
                serde_json::Value::Null if *known == "reference_id" => {}
                _ => return Err(ValidationError::new(known, "must be a string")),
            }
        }
        let mut take = |name: &'static str| {
            given
                .remove(name)
                .ok_or_else(|| ValidationError::new(name, "is required"))
        };
        Ok(match action {
            "settle" => Self::Settle {
                key,
                status: take("status")?,
                note: take("note")?,
                reference_id: take("reference_id").ok(),
            },
            "release" => Self::Release {
                key,
                note: take("note")?,
            },
            _ => Self::Audit { key },
        })
    }
}

/// Who is acting by hand: `AOPAY_ACTOR`, else `user@host`.
fn actor() -> String {
    if let Some(a) = std::env::var("AOPAY_ACTOR")
        .ok()
        .filter(|a| !a.trim().is_empty())
    {
        return a;
    }
    let user = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    format!("{user}@{host}")
}

/// An audit row to write, with the statement that changes the entry.
pub(crate) struct HandChange {
    pub audit: AuditRecord,
    /// For a settlement: status, reference, reason, raw.
    pub settle: Option<(String, Option<String>, String, String)>,
}

/// What a change by hand did: nothing changed means the entry moved on
/// (its call recorded an outcome) since it was read.
pub(crate) fn by_hand_outcome(key: &str, changed: bool) -> Result<(), Error> {
    if changed {
        return Ok(());
    }
    Err(Error::journal(format!(
        "idempotency key {key:?} changed while it was being settled by hand (its call recorded an outcome): look at it again"
    )))
}

#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unused_variables)
)]
impl Journal {
    /// Settle by hand an entry that is neither final nor in flight, with
    /// what the AOPay statement says (`SUCCESS`, `FAILED`, or for a
    /// referenced write `REFUNDED`), and why; the change and who made it
    /// are kept (see [`Journal::audit`]). The entry as it now stands.
    pub async fn settle_by_hand(
        &self,
        key: &str,
        status: &str,
        reference_id: Option<&str>,
        note: &str,
    ) -> Result<JournalEntry, Error> {
        let entry = self.by_hand_entry(key, note).await?;
        let status = status.trim().to_ascii_uppercase();
        let allowed: &[&str] = if entry.endpoint == FIRST_ENDPOINT {
            &["SUCCESS", "FAILED"]
        } else {
            &["SUCCESS", "FAILED", "REFUNDED"]
        };
        if !allowed.contains(&status.as_str()) {
            return Err(ValidationError::new(
                "status",
                format!(
                    "must be one of {} for a {} entry",
                    allowed.join(", "),
                    entry.endpoint
                ),
            )
            .into());
        }
        let reference_id = reference_id.map(str::trim).filter(|r| !r.is_empty());
        if let Some(r) = reference_id {
            crate::reference::ClientReference::new(r)?;
        }
        let when = now_ms();
        let who = actor();
        let reason = format!("settled by hand ({status}) by {who}: {note}");
        let raw = serde_json::json!({"settled_by_hand": {
            "status": status, "reference_id": reference_id, "note": note, "actor": who, "at_ms": when,
        }})
        .to_string();
        let change = HandChange {
            audit: AuditRecord {
                key: key.to_owned(),
                action: "settle".to_owned(),
                from_state: entry.state.as_str().to_owned(),
                status: Some(status.clone()),
                reference_id: reference_id.map(str::to_owned),
                note: note.to_owned(),
                actor: who,
                at_ms: when,
            },
            settle: Some((status, reference_id.map(str::to_owned), reason, raw)),
        };
        self.change_by_hand(change).await?;
        self.get(key)
            .await?
            .ok_or_else(|| Error::journal(format!("the entry of idempotency key {key:?} is gone")))
    }

    /// Release by hand an entry that is neither final nor in flight (what
    /// the AOPay statement shows was never paid), and say why: the key is
    /// free, and the next call or batch run with it sends again. The
    /// change and who made it are kept. The entry as it was.
    pub async fn release_by_hand(&self, key: &str, note: &str) -> Result<JournalEntry, Error> {
        let entry = self.by_hand_entry(key, note).await?;
        let change = HandChange {
            audit: AuditRecord {
                key: key.to_owned(),
                action: "release".to_owned(),
                from_state: entry.state.as_str().to_owned(),
                status: None,
                reference_id: None,
                note: note.to_owned(),
                actor: actor(),
                at_ms: now_ms(),
            },
            settle: None,
        };
        self.change_by_hand(change).await?;
        Ok(entry)
    }

    /// `action` done, as JSON (what the CLI prints with `--json` and the
    /// bindings return): the entry as it now stands (a release: as it was,
    /// with `"released": true`), or the audit records, oldest first.
    pub async fn by_hand_json(&self, action: &ByHand) -> Result<serde_json::Value, Error> {
        Ok(match action {
            ByHand::Settle {
                key,
                status,
                reference_id,
                note,
            } => {
                let mut v = self
                    .settle_by_hand(key, status, reference_id.as_deref(), note)
                    .await?
                    .to_json_value();
                v["released"] = false.into();
                v
            }
            ByHand::Release { key, note } => {
                let mut v = self.release_by_hand(key, note).await?.to_json_value();
                v["released"] = true.into();
                v
            }
            ByHand::Audit { key } => self
                .audit(key)
                .await?
                .iter()
                .map(AuditRecord::to_json_value)
                .collect(),
        })
    }

    /// Every settlement and release by hand of `key`, oldest first.
    pub async fn audit(&self, key: &str) -> Result<Vec<AuditRecord>, Error> {
        dispatch!(self, j => j.audit(key).await)
    }

    /// The entry an operator may change by hand: present, not final, not
    /// in flight, with a note saying why.
    async fn by_hand_entry(&self, key: &str, note: &str) -> Result<JournalEntry, Error> {
        if note.trim().is_empty() || note.chars().count() > 1000 {
            return Err(ValidationError::new(
                "note",
                "must say why, in at most 1000 characters (what was checked against the AOPay statement)",
            )
            .into());
        }
        let entry = self.get(key).await?.ok_or_else(|| {
            ValidationError::new(
                "key",
                format!("the journal has no entry for idempotency key {key:?}"),
            )
        })?;
        if entry.state == EntryState::Final {
            return Err(ValidationError::new(
                "key",
                format!("idempotency key {key:?} is final already: nothing to settle by hand"),
            )
            .into());
        }
        if matches!(entry.state, EntryState::Claimed | EntryState::Sending) && !entry.caller_gone()
        {
            return Err(ValidationError::new(
                "key",
                format!(
                    "idempotency key {key:?} is in flight (its call may still be sending or recording): try again after its deadline"
                ),
            )
            .into());
        }
        Ok(entry)
    }

    async fn change_by_hand(&self, change: HandChange) -> Result<(), Error> {
        dispatch!(self, j => j.change_by_hand(change).await)
    }
}
