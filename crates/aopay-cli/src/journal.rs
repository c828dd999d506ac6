//! `aopay journal`: what the idempotency journal holds, and its reconciliation.

use aopay_core::{Client, Journal, JournalEntry, ValidationError};

use crate::cli::{JournalAction, Shared};
use crate::{Failure, exit};

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

/// `aopay journal pending` only reads the local journal: no registration id,
/// no API, no sandbox.
pub(crate) async fn journal_pending(g: &Shared) -> Result<u8, Failure> {
    let spec = g.journal.as_deref().ok_or_else(|| {
        ValidationError::new("journal", "is required (use --journal or AOPAY_JOURNAL)")
    })?;
    let journal = open_to_read(spec)?;
    list_pending(&journal, g.json).await
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

pub(crate) async fn journal_command(
    client: &Client,
    action: JournalAction,
    json: bool,
) -> Result<u8, Failure> {
    let journal = client.journal().ok_or_else(|| {
        ValidationError::new("journal", "is required (use --journal or AOPAY_JOURNAL)")
    })?;
    match action {
        JournalAction::Pending { .. } => list_pending(journal, json).await,
        JournalAction::Reconcile { .. } => {
            let results = client.reconcile_journal().await?;
            let mut unresolved = 0;
            let mut out = Vec::new();
            for (entry, result) in &results {
                let (line, value) = match result {
                    Ok(r) => {
                        if !r.is_final() {
                            unresolved += 1;
                        }
                        (
                            format!("{}  {}", entry.key, r.status()),
                            serde_json::json!({"key": entry.key, "recharge": r.to_json_value()}),
                        )
                    }
                    Err(e) => {
                        unresolved += 1;
                        (
                            format!("{}  error: {e}", entry.key),
                            serde_json::json!({"key": entry.key, "error": e.to_json_value()}),
                        )
                    }
                };
                if json {
                    out.push(value);
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
    }
}
