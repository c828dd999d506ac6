//! The idempotency journal (docs/protocol.md §4): a durable record of every keyed recharge,
//! written *before* anything is sent, so that one key never pays twice —
//! across retries, threads, processes, and (on PostgreSQL) machines.
//!
//! One row per key: the intent (`sending`, with the request's fingerprint and
//! a deadline), then the outcome (`final`, `pending`) or `unknown` with its
//! reason. The row's primary key is the only lock: whoever inserts it sends.

// Without a backend feature the shared row code has no user.
#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]

mod entry;
mod outcome_log;
mod owner;
#[cfg(feature = "postgres")]
mod postgres;
mod records;
mod rows;
mod spec;
#[cfg(feature = "sqlite")]
mod sqlite;

pub(crate) use entry::FIRST_ENDPOINT;
pub use entry::{EntryState, JournalEntry, Tally, reconciliation_json};
pub(crate) use records::AnswerColumns;
pub(crate) use rows::*;
pub use spec::JournalSpec;
use spec::LIBPQ_KEYWORDS;
#[cfg(feature = "postgres")]
use spec::postgres_scheme_lowercase;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Error;
use crate::process::PerProcess;

/// The intent a keyed call records before sending.
#[derive(Debug)]
pub(crate) struct Claim<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub endpoint: &'static str,
    pub reference_id: Option<&'a str>,
    pub deadline_at_ms: i64,
}

/// This process, as a claim records it.
pub(crate) fn this_owner() -> String {
    owner::this_process()
}

/// What to write about a key once its call ended.
#[derive(Debug)]
pub(crate) struct Update<'a> {
    pub state: EntryState,
    pub answer: Option<AnswerColumns>,
    /// A reference learnt without an answer (an error that names one);
    /// `None` keeps the one recorded with the intent.
    pub reference_id: Option<&'a str>,
    pub reason: Option<&'a str>,
}

impl Update<'static> {
    /// What an answer settles: its state and its columns.
    pub(crate) fn answered(state: EntryState, answer: AnswerColumns) -> Self {
        Update {
            state,
            answer: Some(answer),
            reference_id: None,
            reason: None,
        }
    }
}

/// One step of a shared pace: reserve `span_us` of sending time, starting
/// no sooner than `pause_us` from now.
#[cfg_attr(not(feature = "batch"), allow(dead_code))]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    pub span_us: i64,
    pub pause_us: i64,
}

/// A span taken: when it starts, on the journal's clock (Unix
/// microseconds), and how long from now that is.
#[cfg_attr(not(feature = "batch"), allow(dead_code))]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paced {
    pub start_us: i64,
    pub delay_us: i64,
}

/// A journal: SQLite (one file, the embedded default) or PostgreSQL (shared
/// by several application instances). Cheap to clone.
#[derive(Clone)]
pub struct Journal {
    /// Reopened in a forked child: SQLite and PostgreSQL connections must
    /// not be shared across processes (see `process`).
    backend: Arc<PerProcess<Backend>>,
    /// Where outcomes the journal could not take wait (`outcome_log`).
    outcomes: Arc<Outcomes>,
}

struct Outcomes {
    path: std::path::PathBuf,
    /// The log may hold outcomes to replay before anything else.
    waiting: std::sync::atomic::AtomicBool,
}

impl Outcomes {
    fn at(path: std::path::PathBuf) -> Arc<Self> {
        outcome_log::recover_abandoned(&path);
        let waiting = std::sync::atomic::AtomicBool::new(path.exists());
        Arc::new(Self { path, waiting })
    }
}

/// Where an outcome was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kept {
    Journal,
    /// In the local outcome log at this path, to be replayed.
    Log(std::path::PathBuf),
}

enum Backend {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::SqliteJournal),
    #[cfg(feature = "postgres")]
    Postgres(Box<postgres::PgJournal>),
    /// Without either feature no journal can be opened.
    #[cfg(not(any(feature = "sqlite", feature = "postgres")))]
    #[allow(dead_code)]
    None(std::convert::Infallible),
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.backend.get() {
            Err(e) => write!(f, "Journal(unavailable: {e})"),
            #[cfg(feature = "sqlite")]
            Ok(Backend::Sqlite(j)) => write!(f, "Journal(sqlite: {})", j.path().display()),
            #[cfg(feature = "postgres")]
            Ok(Backend::Postgres(j)) => write!(f, "Journal(postgres: {})", j.describe()),
            #[allow(unreachable_patterns)]
            _ => f.write_str("Journal"),
        }
    }
}

/// Every journal operation on this process's backend, within
/// [`JOURNAL_OP_TIMEOUT`] (a database that accepts and never answers is an
/// error, not a hang), with a warning when it is slow.
macro_rules! dispatch {
    ($self:ident, $j:ident => $body:expr) => {
        bounded(async {
            match $self.backend.get().map_err(|e| {
                Error::journal(format!("cannot reopen the journal in this process: {e}"))
            })? {
                #[cfg(feature = "sqlite")]
                Backend::Sqlite($j) => $body,
                #[cfg(feature = "postgres")]
                Backend::Postgres($j) => $body,
                #[cfg(not(any(feature = "sqlite", feature = "postgres")))]
                Backend::None(never) => match *never {},
            }
        })
        .await
    };
}

/// Longest wait for one journal operation (its connection included).
pub const JOURNAL_OP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A journal operation slower than this is said at WARN.
const SLOW_JOURNAL: std::time::Duration = std::time::Duration::from_secs(2);

async fn bounded<T>(op: impl std::future::Future<Output = Result<T, Error>>) -> Result<T, Error> {
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(JOURNAL_OP_TIMEOUT, op)
        .await
        .unwrap_or_else(|_| {
            Err(Error::journal(format!(
                "the journal did not answer within {} s",
                JOURNAL_OP_TIMEOUT.as_secs()
            )))
        });
    let took = started.elapsed();
    if took >= SLOW_JOURNAL {
        tracing::warn!(target: "aopay::journal", took_ms = took.as_millis() as u64, "the journal is slow");
    }
    result
}

// After `dispatch!`, which it uses.
mod by_hand;
// The backends' statements: without a backend, nothing uses them.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unused_imports)
)]
pub(crate) use by_hand::{
    AUDIT, AUDIT_TABLE, HAND_RELEASE, HAND_SETTLE, HandChange, by_hand_outcome,
};
pub use by_hand::{AuditRecord, ByHand};

#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unused_variables)
)]
impl Journal {
    /// A SQLite journal file: opened (and migrated) now if it exists, else
    /// created by its first write (with a WARN naming it); a path whose
    /// directory does not exist, or a directory, is refused now.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_owned();
        let j = sqlite::SqliteJournal::open(&path)?;
        let outcomes = Outcomes::at(outcome_log::beside(&path));
        let reopen = move || {
            sqlite::SqliteJournal::open(&path)
                .map(Backend::Sqlite)
                .map_err(|e| e.to_string())
        };
        Ok(Self {
            backend: Arc::new(PerProcess::with_value(Backend::Sqlite(j), reopen)),
            outcomes,
        })
    }

    /// A PostgreSQL journal. The DSN (a URL or libpq's `key=value` pairs) is
    /// checked now; the connection is made (and the schema created or
    /// migrated) on first use, and remade if lost.
    ///
    /// TLS (rustls, chain and host name always verified) is required for any
    /// host that is not loopback unless the DSN says `sslmode=disable`;
    /// `sslmode=prefer`/`require`/`verify-full` and `sslrootcert=FILE` (a
    /// PEM CA added to the system's roots) are read as libpq reads them.
    #[cfg(feature = "postgres")]
    pub fn postgres(dsn: &str) -> Result<Self, Error> {
        let j = postgres::PgJournal::new(dsn)?;
        let outcomes = Outcomes::at(outcome_log::for_server(&j.describe()));
        let dsn = dsn.to_owned();
        let reopen = move || {
            postgres::PgJournal::new(&dsn)
                .map(|j| Backend::Postgres(Box::new(j)))
                .map_err(|e| e.to_string())
        };
        Ok(Self {
            backend: Arc::new(PerProcess::with_value(
                Backend::Postgres(Box::new(j)),
                reopen,
            )),
            outcomes,
        })
    }

    /// Move this journal's WAL into its database file now (SQLite; nothing
    /// to do for PostgreSQL). A failure is logged: the WAL still holds the
    /// entries, and the next open reads them.
    pub async fn checkpoint(&self) {
        #[cfg(feature = "sqlite")]
        if let Ok(Backend::Sqlite(j)) = self.backend.get() {
            if let Err(e) = j.checkpoint().await {
                tracing::warn!(target: "aopay::journal", error = %e, "cannot checkpoint the journal");
            }
        }
    }

    /// Move every open SQLite journal's WAL into its database file now, so
    /// that the `.db` file alone holds every entry (a process about to end
    /// whose clients may never be dropped: the bindings call it at exit). A
    /// journal dropped does the same by itself, and removes its WAL.
    pub fn checkpoint_all() {
        #[cfg(feature = "sqlite")]
        sqlite::checkpoint_all();
    }

    /// What a journal spec names (docs/protocol.md §4): PostgreSQL for a
    /// `postgres://` or `postgresql://` URL (the scheme in any case) or
    /// libpq's keyword form (`host=… user=… password=…`: every part
    /// `keyword=value`, with libpq's keywords); else a SQLite file path. A
    /// spec that is neither for sure (another URL scheme, a `key=value`
    /// part that is not a libpq keyword) is refused, never taken for a
    /// file: a DSN must not become a local file named after its password.
    pub fn classify(spec: &str) -> Result<JournalSpec<'_>, Error> {
        let spec = spec.trim();
        let lower = spec.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(JournalSpec::Postgres(spec));
        }
        if let Some((scheme, _)) = spec.split_once("://") {
            return Err(Error::journal(format!(
                "a {scheme}:// URL is not a journal: give a SQLite file path or a postgres:// DSN"
            )));
        }
        let parts: Vec<&str> = spec.split_whitespace().collect();
        if parts.iter().any(|p| p.contains('=')) {
            let keyword = |p: &&str| {
                p.split_once('=')
                    .is_some_and(|(k, _)| LIBPQ_KEYWORDS.contains(&k.to_ascii_lowercase().as_str()))
            };
            if parts.iter().all(keyword) {
                return Ok(JournalSpec::Postgres(spec));
            }
            return Err(Error::journal(
                "the journal looks like a keyword DSN but not every part is a libpq keyword=value \
                 (host, port, dbname, user, password, sslmode…): give a postgres:// URL, or a SQLite \
                 file path without '='",
            ));
        }
        Ok(JournalSpec::Sqlite(std::path::Path::new(spec)))
    }

    /// The SQLite file a journal spec names; `None` for PostgreSQL or a
    /// spec [`Journal::classify`] refuses.
    pub fn sqlite_path(spec: &str) -> Option<&std::path::Path> {
        match Self::classify(spec) {
            Ok(JournalSpec::Sqlite(path)) => Some(path),
            _ => None,
        }
    }

    /// Open the journal a spec names (see [`Journal::classify`]).
    pub fn open(spec: &str) -> Result<Self, Error> {
        match Self::classify(spec)? {
            #[cfg(feature = "postgres")]
            JournalSpec::Postgres(dsn) => Self::postgres(&postgres_scheme_lowercase(dsn)),
            #[cfg(not(feature = "postgres"))]
            JournalSpec::Postgres(_) => Err(Error::journal(
                "this build has no PostgreSQL journal (feature `postgres`)",
            )),
            #[cfg(feature = "sqlite")]
            JournalSpec::Sqlite(path) => Self::sqlite(path),
            #[cfg(not(feature = "sqlite"))]
            JournalSpec::Sqlite(_) => Err(Error::journal(
                "this build has no SQLite journal (feature `sqlite`)",
            )),
        }
    }

    /// Record the intent for `key`, unless the key already has an entry.
    /// `Ok(None)`: the caller now owns the key and may send. `Ok(Some(e))`:
    /// the existing entry, untouched.
    pub(crate) async fn claim(&self, claim: &Claim<'_>) -> Result<Option<JournalEntry>, Error> {
        self.replay_outcomes().await?;
        dispatch!(self, j => j.claim(claim, now_ms()).await)
    }

    /// Write the outcome of `key`'s call.
    pub(crate) async fn record(&self, key: &str, update: Update<'_>) -> Result<(), Error> {
        self.record_ref(key, &update).await
    }

    async fn record_ref(&self, key: &str, update: &Update<'_>) -> Result<(), Error> {
        dispatch!(self, j => j.record(key, update, now_ms()).await)
    }

    /// Keep the outcome of a call that was sent: an answer received is never
    /// dropped. The journal is retried with backoff for
    /// `AOPAY_JOURNAL_RETRY_SECS` (15 s); past that the outcome goes to the
    /// local outcome log, replayed into the journal before anything else
    /// next time. An error only when neither could take it.
    pub(crate) async fn keep_outcome(&self, key: &str, update: Update<'_>) -> Result<Kept, Error> {
        let logged = || outcome_log::LoggedOutcome::of(key, update.values(), now_ms());
        self.keep(key, || self.record_ref(key, &update), logged)
            .await
    }

    /// [`Journal::release`], kept the same way: a key that provably sent
    /// nothing is freed now, or by the replay of the log.
    pub(crate) async fn keep_release(&self, key: &str, deadline_at_ms: i64) -> Result<Kept, Error> {
        let logged = || outcome_log::LoggedOutcome::released(key, deadline_at_ms, now_ms());
        self.keep(key, || self.release(key, deadline_at_ms), logged)
            .await
    }

    async fn keep<F, Fut>(
        &self,
        key: &str,
        write: F,
        logged: impl FnOnce() -> outcome_log::LoggedOutcome,
    ) -> Result<Kept, Error>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(), Error>>,
    {
        // The bound is read only once the journal has failed: the first
        // write, the common case, costs nothing more.
        let mut failed = match write().await {
            Ok(()) => return Ok(Kept::Journal),
            Err(e) => Some(e),
        };
        let bound = std::env::var("AOPAY_JOURNAL_RETRY_SECS")
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 3600.0)
            .map_or(
                outcome_log::RECORD_RETRY_BOUND,
                std::time::Duration::from_secs_f64,
            );
        let deadline = tokio::time::Instant::now() + bound;
        let mut pause = std::time::Duration::from_millis(50);
        let mut warned = false;
        loop {
            let e = match failed.take() {
                Some(e) => e,
                None => match write().await {
                    Ok(()) => return Ok(Kept::Journal),
                    Err(e) => e,
                },
            };
            if tokio::time::Instant::now() + pause > deadline {
                outcome_log::append(&self.outcomes.path, &logged())?;
                self.outcomes
                    .waiting
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                tracing::warn!(target: "aopay::journal", idempotency_key = key, error = %e, log = %self.outcomes.path.display(),
                    "the journal cannot take this outcome: kept in the local outcome log, to be replayed into the journal before anything else");
                return Ok(Kept::Log(self.outcomes.path.clone()));
            }
            if !warned {
                warned = true;
                tracing::warn!(target: "aopay::journal", idempotency_key = key, error = %e,
                    "cannot record an outcome in the journal: retrying");
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_secs(1));
        }
    }

    /// Put the outcomes waiting in the local log into the journal, before
    /// anything else is read or claimed. Each goes in unless its entry is
    /// final already; what the journal cannot take stays in the log.
    pub(crate) async fn replay_outcomes(&self) -> Result<(), Error> {
        use std::sync::atomic::Ordering;
        if !self.outcomes.waiting.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        let taken = match outcome_log::take(&self.outcomes.path) {
            Ok(Some(t)) => t,
            Ok(None) => return Ok(()),
            Err(e) => {
                self.outcomes.waiting.store(true, Ordering::SeqCst);
                return Err(e);
            }
        };
        for (i, o) in taken.outcomes.iter().enumerate() {
            let replayed: Result<(), Error> = match o.released_deadline {
                Some(deadline) => self.release(&o.key, deadline).await,
                None => dispatch!(self, j => j.replay(o).await),
            };
            if let Err(e) = replayed {
                self.outcomes.waiting.store(true, Ordering::SeqCst);
                taken.put_back(&self.outcomes.path, i)?;
                return Err(e);
            }
            tracing::info!(target: "aopay::journal", idempotency_key = o.key, state = o.values.state, "an outcome kept in the local log is now in the journal");
        }
        taken.done();
        Ok(())
    }

    /// Forget the entry this caller holds (claimed, or sending with
    /// `deadline_at_ms` the deadline it last wrote) when its call provably
    /// sent nothing.
    pub(crate) async fn release(&self, key: &str, deadline_at_ms: i64) -> Result<(), Error> {
        dispatch!(self, j => j.exec(RELEASE, "cannot release the key", key, Keyed::One(deadline_at_ms)).await.map(drop))
    }

    /// Mark this caller's claim as sending (its first byte may leave next),
    /// with a fresh deadline; `false` if the claim is no longer its own (it
    /// was taken for a dead caller's while its call waited).
    pub(crate) async fn start_sending(
        &self,
        key: &str,
        claimed_deadline_ms: i64,
        deadline_at_ms: i64,
    ) -> Result<bool, Error> {
        dispatch!(self, j => j
            .exec(START_SENDING, "cannot mark the intent as sending", key, Keyed::Three(claimed_deadline_ms, deadline_at_ms, now_ms()))
            .await
            .map(|n| n == 1))
    }

    /// Free the claim of `entry` if its caller is gone (past its deadline,
    /// or its process gone): it never sent. `true` if it was freed.
    pub(crate) async fn release_stale_claim(&self, entry: &JournalEntry) -> Result<bool, Error> {
        let gone = entry.gone_owner().map(str::to_owned);
        dispatch!(self, j => j
            .exec(RELEASE_STALE_CLAIM, "cannot release the claim", &entry.key, Keyed::NumberText(now_ms(), gone))
            .await
            .map(|n| n == 1))
    }

    /// Turn `entry`, `sending` with its caller gone (past its deadline, or
    /// its process gone), into `unknown`.
    pub(crate) async fn expire(&self, entry: &JournalEntry) -> Result<(), Error> {
        let reason = "the call that recorded this intent ended without recording an outcome \
                      (its process may have crashed); the recharge may have been sent";
        let gone = entry.gone_owner().map(str::to_owned);
        dispatch!(self, j => j.expire(&entry.key, reason, now_ms(), gone.as_deref()).await)
    }

    /// Turn the `unknown` entry of `key` back into `sending` (deadline
    /// `deadline_at_ms`) if it has not changed since it was read at
    /// `seen_updated_at`; `false` if it has (another caller got it first).
    pub(crate) async fn reopen(
        &self,
        key: &str,
        seen_updated_at: i64,
        deadline_at_ms: i64,
    ) -> Result<bool, Error> {
        let owner = this_owner();
        dispatch!(self, j => j.reopen(key, seen_updated_at, deadline_at_ms, now_ms(), &owner).await)
    }

    /// Take a step of the pace named `name`, shared by every process on
    /// this journal: when the reserved span starts.
    #[cfg_attr(not(feature = "batch"), allow(dead_code))]
    pub(crate) async fn pace(&self, name: &str, step: Pace) -> Result<Paced, Error> {
        dispatch!(self, j => j.pace(name, step).await)
    }

    /// Whether the journal is yet to be created: a SQLite file that does not
    /// exist (it is created by the first write). A batch refuses such a
    /// journal unless asked to create it (a mistyped or deleted journal
    /// would pay every order again). A PostgreSQL journal: never.
    pub fn is_new(&self) -> bool {
        match self.backend.get() {
            #[cfg(feature = "sqlite")]
            Ok(Backend::Sqlite(j)) => !j.path().exists(),
            _ => false,
        }
    }

    /// Whether the SQLite file this journal opened was removed or replaced
    /// while in use (nothing more is claimed through it).
    pub fn is_replaced(&self) -> bool {
        match self.backend.get() {
            #[cfg(feature = "sqlite")]
            Ok(Backend::Sqlite(j)) => j.replaced(),
            _ => false,
        }
    }

    /// Where the journal is: the SQLite file's path, or the PostgreSQL
    /// server and database (never the password).
    pub fn describe(&self) -> String {
        match self.backend.get() {
            #[cfg(feature = "sqlite")]
            Ok(Backend::Sqlite(j)) => j.path().display().to_string(),
            #[cfg(feature = "postgres")]
            Ok(Backend::Postgres(j)) => j.describe(),
            #[allow(unreachable_patterns)]
            _ => "the journal".to_owned(),
        }
    }

    /// Whether the journal answers now (within its deadline), after the
    /// outcomes waiting in its local log are put into it. A batch checks
    /// this before anything else, and sends nothing when it fails.
    pub async fn check(&self) -> Result<(), Error> {
        self.replay_outcomes().await?;
        dispatch!(self, j => j.check().await)
    }

    /// The entry for `key`, if any.
    pub async fn get(&self, key: &str) -> Result<Option<JournalEntry>, Error> {
        self.replay_outcomes().await?;
        dispatch!(self, j => j.get(key).await)
    }

    /// How many entries there are of each endpoint, state and status
    /// (without reading the entries: cheap on a journal of millions).
    pub async fn tally(&self) -> Result<Vec<Tally>, Error> {
        self.replay_outcomes().await?;
        dispatch!(self, j => j.tally().await)
    }

    /// Every entry that is not final (claimed, sending, pending, unknown), oldest first.
    pub async fn unresolved(&self) -> Result<Vec<JournalEntry>, Error> {
        self.replay_outcomes().await?;
        dispatch!(self, j => j.unresolved().await)
    }
}

#[cfg(any(feature = "sqlite", test))]
pub(crate) fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// FNV-1a, 64 bits: a stable fingerprint to tell one request from another
/// under the same key (not a secret, not a security boundary).
pub(crate) fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0x1f)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("fnv1a64:{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_separate_fields() {
        assert_eq!(fingerprint(&["a", "bc"]), fingerprint(&["a", "bc"]));
        assert_ne!(fingerprint(&["a", "bc"]), fingerprint(&["ab", "c"]));
        assert_eq!(
            fingerprint(&["AOP-554", "518", "10", "9876543210"]).len(),
            24
        );
    }

    /// A DSN is never taken for a file: every spelling of the URL, the
    /// keyword form, and anything ambiguous refused.
    #[test]
    fn specs_are_told_apart_and_ambiguous_ones_refused() {
        for dsn in [
            "postgres://u:p@db/aopay",
            "Postgres://u:p@db/aopay",
            "POSTGRESQL://db/aopay",
            "host=db.internal user=u password=PASSWORD dbname=aopay",
            "  host=localhost port=5432  ",
        ] {
            assert!(
                matches!(Journal::classify(dsn), Ok(JournalSpec::Postgres(_))),
                "{dsn}"
            );
            assert_eq!(Journal::sqlite_path(dsn), None, "{dsn}");
        }
        for path in ["orders.db", "/var/lib/aopay/j.db", "./my journal.db"] {
            assert_eq!(
                Journal::sqlite_path(path),
                Some(std::path::Path::new(path.trim()))
            );
        }
        for bad in ["mysql://db/x", "host=db colour=red", "./a=b.db"] {
            let e = Journal::classify(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Journal, "{bad}");
            assert_eq!(Journal::sqlite_path(bad), None, "{bad}");
        }
        assert!(
            !Journal::classify("host=db password=SECRET colour=x")
                .unwrap_err()
                .to_string()
                .contains("SECRET")
        );
    }

    /// Under any umask a new journal, its WAL and its shared memory are
    /// readable by their owner only.
    #[cfg(all(unix, feature = "sqlite"))]
    #[tokio::test]
    async fn a_new_sqlite_journal_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("aopay-private-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.db");
        let j = Journal::sqlite(&path).unwrap();
        let claim = Claim {
            key: "k",
            fingerprint: "f",
            endpoint: "do_recharge",
            reference_id: Some("r"),
            deadline_at_ms: now_ms() + 60_000,
        };
        j.claim(&claim).await.unwrap();
        for name in ["j.db", "j.db-wal", "j.db-shm"] {
            let mode = std::fs::metadata(dir.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
        }
        drop(j);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The bindings' arguments, checked once here: names in either
    /// spelling, every wrong shape a ValidationError naming what is wrong.
    #[test]
    fn by_hand_actions_are_read_from_json_and_checked() {
        use serde_json::json;
        let settle = ByHand::from_json(
            "settle",
            &json!("k"),
            &json!({"status": "SUCCESS", "note": "n", "referenceId": "R1"}),
        )
        .unwrap();
        assert_eq!(
            settle,
            ByHand::Settle {
                key: "k".into(),
                status: "SUCCESS".into(),
                reference_id: Some("R1".into()),
                note: "n".into()
            }
        );
        assert_eq!(
            ByHand::from_json("audit", &json!("k"), &json!(null)).unwrap(),
            ByHand::Audit { key: "k".into() }
        );
        for (action, key, options, field) in [
            ("settle", json!(1), json!({}), "key"),
            ("settle", json!("k"), json!({"note": "n"}), "status"),
            (
                "settle",
                json!("k"),
                json!({"status": 1, "note": "n"}),
                "status",
            ),
            (
                "release",
                json!("k"),
                json!({"note": "n", "colour": "x"}),
                "options",
            ),
            ("release", json!("k"), json!([]), "options"),
            ("release", json!("k"), json!({}), "note"),
            ("drop", json!("k"), json!({}), "action"),
        ] {
            let e = ByHand::from_json(action, &key, &options).unwrap_err();
            assert_eq!(e.field(), field, "{action} {key} {options}: {e}");
        }
    }

    #[test]
    fn states_round_trip() {
        for s in [
            EntryState::Claimed,
            EntryState::Sending,
            EntryState::Pending,
            EntryState::Final,
            EntryState::Unknown,
        ] {
            assert_eq!(EntryState::parse(s.as_str()), s);
        }
    }

    /// Spans taken by two handles (two processes' worth) never overlap,
    /// and a pause holds the next span back for both.
    async fn paces_are_shared(a: Journal, b: Journal, name: &str) {
        let span = Pace {
            span_us: 10_000,
            pause_us: 0,
        };
        let mut last_end = 0;
        for i in 0..20 {
            let j = if i % 2 == 0 { &a } else { &b };
            let p = j.pace(name, span).await.unwrap();
            assert!(
                p.start_us >= last_end,
                "span {i} starts inside the last one"
            );
            // Taken faster than they pass: each starts where the last ended.
            assert!(p.delay_us <= (i + 1) * span.span_us, "span {i}: {p:?}");
            last_end = p.start_us + span.span_us;
        }
        let pause = Pace {
            span_us: 0,
            pause_us: 2_000_000,
        };
        a.pace(name, pause).await.unwrap();
        let p = b.pace(name, span).await.unwrap();
        assert!(
            p.delay_us >= 1_900_000,
            "the pause holds the other handle: {p:?}"
        );
        assert!(p.start_us >= last_end);
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_paces_are_shared_by_processes() {
        let path = std::env::temp_dir().join(format!("aopay-pace-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let (a, b) = (
            Journal::sqlite(&path).unwrap(),
            Journal::sqlite(&path).unwrap(),
        );
        paces_are_shared(a, b, "pace-test").await;
    }

    /// The test server's DSN (required under CI), or `None`: skipped.
    #[cfg(feature = "postgres")]
    fn test_postgres() -> Option<String> {
        let dsn = std::env::var("AOPAY_TEST_POSTGRES")
            .ok()
            .filter(|d| !d.is_empty());
        assert!(
            dsn.is_some() || std::env::var_os("CI").is_none(),
            "CI must provide AOPAY_TEST_POSTGRES"
        );
        dsn
    }

    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn postgres_paces_are_shared_by_processes() {
        let Some(dsn) = test_postgres() else {
            return;
        };
        let (a, b) = (
            Journal::postgres(&dsn).unwrap(),
            Journal::postgres(&dsn).unwrap(),
        );
        let name = format!("pace-test-{}-{}", std::process::id(), now_us());
        paces_are_shared(a, b, &name).await;
    }

    /// A claim is its caller's only while nobody took it over: a stale one
    /// is freed (a fresh one never), a new claimant's deadline is its own,
    /// and the first caller, late, can neither mark it as sending nor
    /// release it. Once sending, a claim can no longer be freed as stale.
    async fn claims_are_taken_over_only_when_stale(j: Journal, key: &str) {
        let claim = |deadline_at_ms| Claim {
            key,
            fingerprint: "f",
            endpoint: "mobile_recharge",
            reference_id: None,
            deadline_at_ms,
        };
        let fresh = now_ms() + 60_000;
        assert!(j.claim(&claim(fresh)).await.unwrap().is_none());
        assert!(
            !j.release_stale_claim(&j.get(key).await.unwrap().unwrap())
                .await
                .unwrap(),
            "a fresh claim stays"
        );
        assert_eq!(
            j.get(key).await.unwrap().unwrap().state,
            EntryState::Claimed
        );
        j.release(key, fresh).await.unwrap();
        assert!(j.get(key).await.unwrap().is_none(), "its owner releases it");

        let stale = now_ms() - 1;
        assert!(j.claim(&claim(stale)).await.unwrap().is_none());
        assert!(
            j.release_stale_claim(&j.get(key).await.unwrap().unwrap())
                .await
                .unwrap()
        );
        let taker = now_ms() + 60_000;
        assert!(j.claim(&claim(taker)).await.unwrap().is_none());
        assert!(
            !j.start_sending(key, stale, now_ms() + 1).await.unwrap(),
            "the first caller lost it"
        );
        j.release(key, stale).await.unwrap();
        assert_eq!(
            j.get(key).await.unwrap().unwrap().state,
            EntryState::Claimed,
            "not the late caller's to free"
        );
        let sending = now_ms() + 30_000;
        assert!(j.start_sending(key, taker, sending).await.unwrap());
        let e = j.get(key).await.unwrap().unwrap();
        assert_eq!((e.state, e.deadline_at_ms), (EntryState::Sending, sending));
        assert!(
            !j.release_stale_claim(&j.get(key).await.unwrap().unwrap())
                .await
                .unwrap()
        );
        j.release(key, sending).await.unwrap();
        assert!(j.get(key).await.unwrap().is_none());
    }

    /// Sixteen handles create one new SQLite file at once (its first writes
    /// all at the same time): each waits for the others' switch to WAL and
    /// migration instead of failing as "database is locked".
    #[cfg(feature = "sqlite")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sixteen_handles_create_one_new_sqlite_journal_at_once() {
        for round in 0..5 {
            let path = std::env::temp_dir()
                .join(format!("aopay-create-{}-{round}.db", std::process::id()));
            let _ = std::fs::remove_file(&path);
            let handles: Vec<Journal> = (0..16).map(|_| Journal::sqlite(&path).unwrap()).collect();
            let claims = handles
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, j)| async move {
                    let key = format!("k{i}");
                    j.claim(&Claim {
                        key: &key,
                        fingerprint: "f",
                        endpoint: "mobile_recharge",
                        reference_id: None,
                        deadline_at_ms: now_ms() + 60_000,
                    })
                    .await
                });
            for (i, r) in futures_join(claims).await.into_iter().enumerate() {
                assert!(matches!(r, Ok(None)), "round {round}, handle {i}: {r:?}");
            }
            drop(handles);
            let _ = std::fs::remove_file(&path);
        }
    }

    /// Every future of `futures`, run at once.
    #[cfg(feature = "sqlite")]
    async fn futures_join<F: std::future::Future + Send + 'static>(
        futures: impl Iterator<Item = F>,
    ) -> Vec<F::Output>
    where
        F::Output: Send + 'static,
    {
        let tasks: Vec<_> = futures.map(tokio::spawn).collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_claims_are_taken_over_only_when_stale() {
        let path = std::env::temp_dir().join(format!("aopay-claims-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        claims_are_taken_over_only_when_stale(Journal::sqlite(&path).unwrap(), "k").await;
    }

    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn postgres_claims_are_taken_over_only_when_stale() {
        let Some(dsn) = test_postgres() else {
            return;
        };
        let key = format!("claims-{}-{}", std::process::id(), now_us());
        claims_are_taken_over_only_when_stale(Journal::postgres(&dsn).unwrap(), &key).await;
    }
}
