//! `aopay journal`: what the idempotency journal holds, and its reconciliation.

use aopay_core::{ByHand, Client, Journal, JournalEntry, ValidationError};

use crate::cli::{JournalAction, Shared};
use crate::{Failure, exit, printable};

/// The entries that are not final, listed (or as JSON).
async fn list_pending(journal: &Journal, json: bool) -> Result<u8, Failure> {
    let entries = journal.unresolved().await?;
    if json {
        out!(
            "{}",
            serde_json::Value::from(
                entries
                    .iter()
                    .map(JournalEntry::to_json_value)
                    .collect::<Vec<_>>()
            )
        );
    } else if entries.is_empty() {
        out!("no unresolved entries");
    } else {
        for e in &entries {
            out!(
                "{}  {}  reference {}{}",
                e.key,
                e.state.as_str(),
                e.reference_id.as_deref().unwrap_or("-"),
                e.reason
                    .as_deref()
                    .map(|r| format!("  ({r})"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(if entries.is_empty() {
        exit::SUCCESS
    } else {
        exit::NOT_FINAL
    })
}

/// `aopay journal pending`, `settle`, `release` and `audit`: the journal
/// only (no registration id, no API, no sandbox); settling and releasing
/// are for what an operator checked against the AOPay statement.
pub(crate) async fn journal_by_hand(action: &JournalAction, g: &Shared) -> Result<u8, Failure> {
    let spec = g.journal.as_deref().ok_or_else(|| {
        ValidationError::new("journal", "is required (use --journal or AOPAY_JOURNAL)")
    })?;
    let journal = open_to_read(spec)?;
    let by_hand = match action {
        JournalAction::Settle {
            key,
            status,
            reference,
            note,
            ..
        } => ByHand::Settle {
            key: key.clone(),
            status: status.clone(),
            reference_id: reference.clone(),
            note: note.clone(),
        },
        JournalAction::Release { key, note, .. } => ByHand::Release {
            key: key.clone(),
            note: note.clone(),
        },
        JournalAction::Audit { key, .. } => ByHand::Audit { key: key.clone() },
        JournalAction::Pending { .. } | JournalAction::Reconcile { .. } => {
            return list_pending(&journal, g.json).await;
        }
    };
    let v = journal.by_hand_json(&by_hand).await?;
    let text = |field: &str| printable(v[field].as_str().unwrap_or("-")).into_owned();
    if g.json {
        out!("{v}");
    } else if let ByHand::Audit { key } = &by_hand {
        let records = v.as_array().map(Vec::as_slice).unwrap_or_default();
        if records.is_empty() {
            out!(
                "nothing was settled or released by hand for {}",
                printable(key)
            );
        }
        for r in records {
            let field = |f: &str| printable(r[f].as_str().unwrap_or("-")).into_owned();
            out!(
                "{}  {}  {} {}  from {}  by {}  ({})",
                r["at_ms"],
                field("key"),
                field("action"),
                field("status"),
                field("from_state"),
                field("actor"),
                field("note"),
            );
        }
    } else if v["released"] == true {
        out!(
            "{}  released (was {}): the next run with this key sends it",
            text("key"),
            text("state")
        );
    } else {
        out!("{}  settled by hand: {}", text("key"), text("status"));
    }
    Ok(exit::SUCCESS)
}

/// A journal for a command that only reads it: a SQLite file that is not
/// there is a mistyped path, not a journal to create.
pub(crate) fn open_to_read(spec: &str) -> Result<Journal, Failure> {
    if Journal::sqlite_path(spec).is_some_and(|path| !path.exists()) {
        return Err(ValidationError::new(
            "journal",
            format!("{spec:?} does not exist: no journal there to read (check --journal)"),
        )
        .into());
    }
    Ok(Journal::open(spec)?)
}

pub(crate) async fn journal_reconcile(client: &Client, json: bool) -> Result<u8, Failure> {
    if client.journal().is_none() {
        return Err(ValidationError::new(
            "journal",
            "is required (use --journal or AOPAY_JOURNAL)",
        )
        .into());
    }
    let results = client.reconcile_journal().await?;
    let mut unresolved = 0;
    let mut out = Vec::new();
    for (entry, result) in &results {
        let line = match result {
            Ok(r) => {
                if !r.is_final() {
                    unresolved += 1;
                }
                format!("{}  {}", entry.key, r.status)
            }
            Err(e) => {
                unresolved += 1;
                format!("{}  error: {e}", entry.key)
            }
        };
        if json {
            // The bindings' form: the entry, its fresh `status` and outcome
            // (under `recharge` or `payment`, by its endpoint) or `error`.
            out.push(aopay_core::reconciliation_json(entry, result));
        } else {
            out!("{line}");
        }
    }
    if json {
        out!("{}", serde_json::Value::from(out));
    } else if results.is_empty() {
        out!("no unresolved entries");
    }
    Ok(if unresolved == 0 {
        exit::SUCCESS
    } else {
        exit::NOT_FINAL
    })
}
