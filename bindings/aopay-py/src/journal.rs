//! The idempotency journal from Python: `journal="orders.db"`,
//! `aopay.SqliteJournal(path)` or `aopay.PostgresJournal(dsn)`. These objects
//! only name a journal; each client opens its own handle on its own runtime.

use std::path::PathBuf;

use aopay_core::{Client, Error, Journal, JournalEntry, ValidationError};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::errors::to_py_err;

/// A SQLite journal file (created and migrated on first use).
#[pyclass(frozen, module = "aopay", name = "SqliteJournal")]
#[derive(Debug)]
pub(crate) struct PySqliteJournal {
    path: PathBuf,
}

#[pymethods]
impl PySqliteJournal {
    #[new]
    fn new(path: PathBuf) -> PyResult<Self> {
        // Open once now so that a bad path fails here, before any client.
        Journal::sqlite(&path).map_err(to_py_err)?;
        Ok(Self { path })
    }

    #[getter]
    fn path(&self) -> String {
        self.path.display().to_string()
    }

    fn __repr__(&self) -> String {
        format!("SqliteJournal({:?})", self.path.display().to_string())
    }
}

/// A PostgreSQL journal shared by several application instances. The DSN
/// is checked now; connections are made on first use. Its password never
/// appears in `repr`.
#[pyclass(frozen, module = "aopay", name = "PostgresJournal")]
pub(crate) struct PyPostgresJournal {
    dsn: String,
    shown: String,
}

impl std::fmt::Debug for PyPostgresJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

#[pymethods]
impl PyPostgresJournal {
    #[new]
    fn new(dsn: &str) -> PyResult<Self> {
        let j = Journal::postgres(dsn).map_err(to_py_err)?;
        Ok(Self {
            dsn: dsn.to_owned(),
            shown: format!("{j:?}"),
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "PostgresJournal({})",
            self.shown
                .trim_start_matches("Journal(postgres: ")
                .trim_end_matches(')')
        )
    }
}

/// `journal=` as Python users write it.
pub(crate) fn journal_from_py(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Journal>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if let Ok(j) = obj.cast::<PySqliteJournal>() {
        return Journal::sqlite(&j.get().path).map(Some).map_err(to_py_err);
    }
    if let Ok(j) = obj.cast::<PyPostgresJournal>() {
        return Journal::postgres(&j.get().dsn).map(Some).map_err(to_py_err);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Journal::open(&s.to_cow()?).map(Some).map_err(to_py_err);
    }
    if let Ok(path) = obj.extract::<PathBuf>() {
        return Journal::sqlite(path).map(Some).map_err(to_py_err);
    }
    let got = obj
        .get_type()
        .name()
        .map_or_else(|_| "object".to_owned(), |n| n.to_string());
    Err(to_py_err(
        ValidationError::wrong_type(
            "journal",
            "a path, a SqliteJournal or a PostgresJournal",
            &got,
        )
        .into(),
    ))
}

fn no_journal() -> Error {
    ValidationError::new("journal", "this client has no journal").into()
}

pub(crate) async fn pending_json(client: &Client) -> Result<serde_json::Value, Error> {
    let journal = client.journal().ok_or_else(no_journal)?;
    let entries = journal.unresolved().await?;
    Ok(entries.iter().map(JournalEntry::to_json_value).collect())
}

pub(crate) async fn reconcile_json(client: &Client) -> Result<serde_json::Value, Error> {
    let results = client.reconcile_journal().await?;
    Ok(results
        .iter()
        .map(|(entry, result)| aopay_core::reconciliation_json(entry, result))
        .collect())
}

/// A change by hand (or its trail), as a dict or a list of dicts.
pub(crate) async fn by_hand_json(
    client: &Client,
    action: aopay_core::ByHand,
) -> Result<serde_json::Value, Error> {
    let journal = client.journal().ok_or_else(no_journal)?;
    journal.by_hand_json(&action).await
}

/// A by-hand action from its Python arguments, checked by the core's rules
/// (a value of the wrong type is a `ValidationError` naming it).
pub(crate) fn by_hand_of(
    action: &str,
    key: &Bound<'_, PyAny>,
    options: &[(&'static str, Option<&Bound<'_, PyAny>>)],
) -> PyResult<aopay_core::ByHand> {
    let key = crate::convert::json_from_py("key", key)?;
    let mut fields = serde_json::Map::new();
    for (name, value) in options {
        if let Some(v) = value.filter(|v| !v.is_none()) {
            fields.insert((*name).to_owned(), crate::convert::json_from_py(name, v)?);
        }
    }
    aopay_core::ByHand::from_json(action, &key, &serde_json::Value::Object(fields))
        .map_err(|e| to_py_err(e.into()))
}
