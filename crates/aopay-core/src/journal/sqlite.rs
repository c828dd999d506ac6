//! The SQLite journal: one local file in WAL mode with full sync, safe for
//! several threads and processes on one machine (SQLite's own locking; a
//! busy writer is waited for up to 10 s).
//!
//! Group commit: one thread per journal runs every statement, and those
//! queued together share one transaction, so one fsync makes many intents
//! durable. No caller hears back before its statement has been committed:
//! an intent is on disk before its request can leave.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rusqlite::{Connection, OptionalExtension, params};

use super::Keyed;
use super::outcome_log::LoggedOutcome;
use super::{
    AUDIT, AUDIT_TABLE, AuditRecord, COLUMNS, Claim, EXPIRE, EntryState, FIRST_ENDPOINT,
    HAND_RELEASE, HAND_SETTLE, HandChange, JournalEntry, PACE_TABLE, Pace, Paced, REOPEN, REPLAY,
    Row, TALLY, Tally, Update, by_hand_outcome,
};
use super::{Columns, RECORD, UpdateValues};
use crate::error::Error;

/// The schema version this build writes; older files are migrated up.
const SCHEMA_VERSION: i64 = 3;
// Each version needs its step in `migrate`.
const _: () = assert!(
    SCHEMA_VERSION == 3,
    "add the next migration step to migrate()"
);

pub(crate) struct SqliteJournal {
    path: PathBuf,
    /// `None` once dropped: the thread then checkpoints and closes.
    jobs: Option<mpsc::Sender<Work>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Its entry in [`OPEN`].
    id: u64,
    /// The file opened (device and inode), once it is: a file removed or
    /// replaced under the journal is found out.
    identity: std::sync::Arc<std::sync::Mutex<Option<FileId>>>,
}

/// A file's identity: device and inode on Unix (elsewhere, none is kept).
type FileId = (u64, u64);

fn file_id(path: &Path) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Every open SQLite journal of the process, for [`checkpoint_all`]: an
/// entry lives exactly as long as its journal.
static OPEN: std::sync::Mutex<Vec<(u64, mpsc::Sender<Work>)>> = std::sync::Mutex::new(Vec::new());
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn open_journals() -> std::sync::MutexGuard<'static, Vec<(u64, mpsc::Sender<Work>)>> {
    OPEN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Move every open journal's WAL into its database file now (an
/// interpreter at exit, whose clients may never be collected): a copy of
/// the `.db` file alone then holds every entry. Waits at most 2 s each.
pub(crate) fn checkpoint_all() {
    let open: Vec<mpsc::Sender<Work>> = open_journals().iter().map(|(_, s)| s.clone()).collect();
    for jobs in open {
        let (done, wait) = mpsc::channel();
        if jobs.send(Work::Checkpoint(done)).is_ok() {
            let _ = wait.recv_timeout(std::time::Duration::from_secs(2));
        }
    }
}

/// What the journal's thread is given: statements, run in groups inside a
/// transaction, or a checkpoint, which only runs outside one.
enum Work {
    Job(Job),
    Checkpoint(mpsc::Sender<rusqlite::Result<()>>),
}

/// The WAL's pages into the database file, and the WAL emptied.
fn checkpoint(c: &Connection) -> rusqlite::Result<()> {
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
}

impl Drop for SqliteJournal {
    /// The journal's thread checkpoints and closes the database, which
    /// removes the WAL: waited for, so that a process that ends right after
    /// leaves its journal whole in the `.db` file.
    fn drop(&mut self) {
        open_journals().retain(|(id, _)| *id != self.id);
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Statements committed together, at most.
const MAX_GROUP: usize = 512;

/// A statement to run; it gives what to tell its caller once the
/// transaction it ran in has committed (or failed to).
type Job = Box<dyn FnOnce(Result<&Connection, &str>) -> Reply + Send>;
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;

/// The journal's thread: take what is queued, run it in one transaction,
/// commit, then answer each caller. A journal whose file did not exist is
/// created by its first statement (each statement fails with the reason
/// while it cannot be).
fn run_jobs(
    path: PathBuf,
    mut conn: Option<Connection>,
    identity: std::sync::Arc<std::sync::Mutex<Option<FileId>>>,
    jobs: mpsc::Receiver<Work>,
) {
    let mut checkpoints = Vec::new();
    while let Ok(first) = jobs.recv() {
        let mut group = Vec::new();
        match first {
            Work::Job(job) => group.push(job),
            Work::Checkpoint(reply) => checkpoints.push(reply),
        }
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(Work::Job(job)) => group.push(job),
                Ok(Work::Checkpoint(reply)) => checkpoints.push(reply),
                Err(_) => break,
            }
        }
        if conn.is_none() && !group.is_empty() {
            match connect(&path) {
                Ok(c) => {
                    tracing::warn!(target: "aopay::journal", path = %path.display(), "created a new journal");
                    *identity
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = file_id(&path);
                    conn = Some(c);
                }
                Err(e) => {
                    let reason = e.to_string();
                    for job in group.drain(..) {
                        job(Err(&reason))(Ok(()));
                    }
                }
            }
        }
        if let Some(conn) = &conn {
            if !group.is_empty() {
                run_group(conn, group);
            }
        }
        // After the group's commit, outside any transaction.
        for reply in checkpoints.drain(..) {
            let _ = reply.send(conn.as_ref().map_or(Ok(()), checkpoint));
        }
    }
    // Every handle is gone: the WAL into the file, then close (which
    // removes the WAL when no other process has the journal open).
    if let Some(conn) = &conn {
        if let Err(e) = checkpoint(conn) {
            tracing::debug!(target: "aopay::journal", error = %e, "no checkpoint at close");
        }
    }
}

/// Run `group` in one transaction, commit, then answer each caller.
fn run_group(conn: &Connection, group: Vec<Job>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // No transaction (the lock stayed busy): each statement on its
        // own, committed as it runs.
        tracing::debug!(target: "aopay::journal", error = %e, "no group transaction; statements run one by one");
        for job in group {
            job(Ok(conn))(Ok(()));
        }
        return;
    }
    let replies: Vec<Reply> = group.into_iter().map(|job| job(Ok(conn))).collect();
    let committed = conn.execute_batch("COMMIT").map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        e.to_string()
    });
    for reply in replies {
        reply(committed.clone());
    }
}

/// The file opened and configured, its schema created or migrated.
fn connect(path: &Path) -> Result<Connection, Error> {
    create_private(path).map_err(|e| err(path, "cannot create", e))?;
    // Several processes (or handles) creating one new file at once: the
    // switch to WAL and the first migration take locks that SQLite's busy
    // handler does not wait for. Tried again for as long as it would.
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(10);
    loop {
        match configure(path) {
            Ok(conn) => return Ok(conn),
            Err((_, e))
                if is_busy(&e) && started.elapsed() < std::time::Duration::from_secs(10) =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(200));
            }
            Err((what, e)) => return Err(err(path, what, e)),
        }
    }
}

fn configure(path: &Path) -> Result<Connection, (&'static str, rusqlite::Error)> {
    let conn = Connection::open(path).map_err(|e| ("cannot open", e))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|e| ("cannot configure", e))?;
    // WAL: readers never block the writer; FULL: a recorded intent
    // survives a crash of the process and of the machine.
    conn.pragma_update(None, "journal_mode", "WAL")
        .and_then(|()| conn.pragma_update(None, "synchronous", "FULL"))
        .map_err(|e| ("cannot configure", e))?;
    migrate(&conn).map_err(|e| ("cannot create or migrate the schema", e))?;
    Ok(conn)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// A new journal file is created readable by its owner only (0600 on
/// Unix, whatever the umask): it holds customer numbers and answers.
/// SQLite gives its `-wal` and `-shm` files the database file's mode.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn err(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::journal(format!("SQLite journal {}: {what}: {e}", path.display()))
}

impl SqliteJournal {
    /// The journal at `path`: opened now if the file exists; else checked
    /// (its directory must exist) and created by its first write, so that
    /// a mistyped path costs nothing until something is written.
    pub(crate) fn open(path: &Path) -> Result<Self, Error> {
        if path.as_os_str().is_empty() {
            return Err(Error::journal("SQLite journal path must not be empty"));
        }
        if path.is_dir() {
            return Err(err(path, "cannot open", "the path is a directory"));
        }
        let conn = if path.exists() {
            Some(connect(path)?)
        } else {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            if !dir.is_dir() {
                return Err(err(path, "cannot create", "its directory does not exist"));
            }
            None
        };
        let identity = std::sync::Arc::new(std::sync::Mutex::new(
            conn.as_ref().and_then(|_| file_id(path)),
        ));
        let (jobs, queue) = mpsc::channel();
        let (thread_path, thread_identity) = (path.to_owned(), std::sync::Arc::clone(&identity));
        let thread = std::thread::Builder::new()
            .name("aopay-journal".into())
            .spawn(move || run_jobs(thread_path, conn, thread_identity, queue))
            .map_err(|e| err(path, "cannot start its thread", e))?;
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        open_journals().push((id, jobs.clone()));
        Ok(Self {
            path: path.to_owned(),
            jobs: Some(jobs),
            thread: Some(thread),
            id,
            identity,
        })
    }

    /// Whether the file opened is no longer at its path (removed, or
    /// another file put there): what is written through this handle would
    /// be lost with it.
    pub(crate) fn replaced(&self) -> bool {
        let opened = *self
            .identity
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        opened.is_some_and(|id| file_id(&self.path) != Some(id))
    }

    /// Move the WAL into the database file now (on the journal's thread,
    /// after what is queued, outside any transaction).
    pub(crate) async fn checkpoint(&self) -> Result<(), Error> {
        let (done, wait) = mpsc::channel();
        let stopped = || {
            err(
                &self.path,
                "cannot checkpoint",
                "the journal's thread has stopped",
            )
        };
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        jobs.send(Work::Checkpoint(done)).map_err(|_| stopped())?;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || match wait.recv() {
            Ok(r) => r.map_err(|e| err(&path, "cannot checkpoint", e)),
            Err(_) => Err(err(
                &path,
                "cannot checkpoint",
                "the journal's thread has stopped",
            )),
        })
        .await
        .map_err(|e| err(&self.path, "cannot checkpoint", e))?
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` on the journal's thread; its answer comes once committed.
    async fn with<T: Send + 'static>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, Error> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let path = self.path.clone();
        let job: Job = Box::new(move |c: Result<&Connection, &str>| {
            let result = match c {
                Ok(c) => f(c).map_err(|e| e.to_string()),
                Err(reason) => Err(reason.to_owned()),
            };
            Box::new(move |committed: Result<(), String>| {
                let answer = match (result, committed) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Err(e), _) => Err(err(&path, what, e)),
                    (Ok(_), Err(e)) => Err(err(&path, what, format!("not committed: {e}"))),
                };
                let _ = tx.send(answer);
            })
        });
        let stopped = || err(&self.path, what, "the journal's thread has stopped");
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        jobs.send(Work::Job(job)).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    pub(crate) async fn claim(
        &self,
        claim: &Claim<'_>,
        now: i64,
    ) -> Result<Option<JournalEntry>, Error> {
        if self.replaced() {
            return Err(err(
                &self.path,
                "cannot record the intent",
                "the file was removed or replaced while in use: nothing more is sent through it",
            ));
        }
        let (key, fingerprint) = (claim.key.to_owned(), claim.fingerprint.to_owned());
        let (endpoint, reference) = (claim.endpoint, claim.reference_id.map(str::to_owned));
        let deadline = claim.deadline_at_ms;
        let owner = super::this_owner();
        self.with("cannot record the intent", move |c| {
            let inserted = c
                .prepare_cached(
                    "INSERT INTO aopay_journal
                       (key, fingerprint, state, created_at, updated_at, deadline_at, endpoint, reference_id, owner)
                     VALUES (?1, ?2, 'claimed', ?3, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key) DO NOTHING",
                )?
                .execute(params![key, fingerprint, now, deadline, endpoint, reference, owner])?;
            if inserted == 1 { Ok(None) } else { select(c, &key) }
        })
        .await
    }

    pub(crate) async fn record(
        &self,
        key: &str,
        update: &Update<'_>,
        now: i64,
    ) -> Result<(), Error> {
        self.write(
            RECORD,
            "cannot record the outcome",
            key,
            update.values(),
            now,
        )
        .await
    }

    /// An outcome from the local log into the journal (see `REPLAY`).
    pub(crate) async fn replay(&self, o: &LoggedOutcome) -> Result<(), Error> {
        self.write(
            REPLAY,
            "cannot replay an outcome",
            &o.key,
            o.values.clone(),
            o.at_ms,
        )
        .await
    }

    /// [`RECORD`] or [`REPLAY`]: `v` under `key`, at `at`.
    async fn write(
        &self,
        sql: &'static str,
        what: &'static str,
        key: &str,
        v: UpdateValues,
        at: i64,
    ) -> Result<(), Error> {
        let key = key.to_owned();
        self.with(what, move |c| {
            c.prepare_cached(&sql.replace('$', "?"))?
                .execute(params![
                    key,
                    v.state,
                    v.status,
                    v.reference_id,
                    v.txn_id,
                    v.ackno,
                    v.message,
                    v.api_code,
                    v.http_status,
                    v.raw,
                    v.reason,
                    at
                ])
                .map(drop)
        })
        .await
    }

    /// One of the journal's keyed statements: how many rows it changed.
    pub(crate) async fn exec(
        &self,
        sql: &'static str,
        what: &'static str,
        key: &str,
        values: Keyed,
    ) -> Result<usize, Error> {
        let key = key.to_owned();
        self.with(what, move |c| {
            // The shared statement's `$n` as SQLite's numbered `?n`.
            let mut stmt = c.prepare_cached(&sql.replace('$', "?"))?;
            match values {
                Keyed::One(n) => stmt.execute(params![key, n]),
                Keyed::Three(a, b, d) => stmt.execute(params![key, a, b, d]),
                Keyed::NumberText(n, text) => stmt.execute(params![key, n, text]),
            }
        })
        .await
    }

    /// The file answers.
    pub(crate) async fn check(&self) -> Result<(), Error> {
        self.with("cannot reach the journal", |c| {
            c.query_row("SELECT 1", [], |_| Ok(()))
        })
        .await
    }

    /// A settlement or release by hand and its audit row, in one
    /// transaction; an error if the entry was no longer one to change.
    pub(crate) async fn change_by_hand(&self, change: HandChange) -> Result<(), Error> {
        let key = change.audit.key.clone();
        let changed = self
            .with("cannot change the entry by hand", move |c| {
                let a = &change.audit;
                let changed = match &change.settle {
                    Some((status, reference, reason, raw)) => c
                        .prepare_cached(&HAND_SETTLE.replace('$', "?"))?
                        .execute(params![a.key, status, reference, reason, raw, a.at_ms])?,
                    None => c
                        .prepare_cached(&HAND_RELEASE.replace('$', "?"))?
                        .execute(params![a.key, a.at_ms])?,
                };
                if changed == 1 {
                    c.prepare_cached(&AUDIT.replace('$', "?"))?
                        .execute(params![
                            a.key,
                            a.action,
                            a.from_state,
                            a.status,
                            a.reference_id,
                            a.note,
                            a.actor,
                            a.at_ms
                        ])?;
                }
                Ok(changed == 1)
            })
            .await?;
        by_hand_outcome(&key, changed)
    }

    pub(crate) async fn audit(&self, key: &str) -> Result<Vec<AuditRecord>, Error> {
        let key = key.to_owned();
        self.with("cannot read", move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT key, action, from_state, status, reference_id, note, actor, at
                 FROM aopay_journal_audit WHERE key = ?1 ORDER BY at, rowid",
            )?;
            let rows = stmt.query_map(params![key], |r| {
                Ok(AuditRecord {
                    key: r.get(0)?,
                    action: r.get(1)?,
                    from_state: r.get(2)?,
                    status: r.get(3)?,
                    reference_id: r.get(4)?,
                    note: r.get(5)?,
                    actor: r.get(6)?,
                    at_ms: r.get(7)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    pub(crate) async fn expire(
        &self,
        key: &str,
        reason: &str,
        now: i64,
        gone_owner: Option<&str>,
    ) -> Result<(), Error> {
        let (key, reason) = (key.to_owned(), reason.to_owned());
        let gone = gone_owner.map(str::to_owned);
        self.with("cannot update the entry", move |c| {
            c.prepare_cached(&EXPIRE.replace('$', "?"))?
                .execute(params![key, reason, now, gone])
                .map(drop)
        })
        .await
    }

    pub(crate) async fn reopen(
        &self,
        key: &str,
        seen_updated_at: i64,
        deadline: i64,
        now: i64,
        owner: &str,
    ) -> Result<bool, Error> {
        let (key, owner) = (key.to_owned(), owner.to_owned());
        self.with("cannot reopen the entry", move |c| {
            // The shared statement's `$n` as SQLite's numbered `?n`.
            c.prepare_cached(&REOPEN.replace('$', "?"))?
                .execute(params![key, seen_updated_at, deadline, now, owner])
                .map(|n| n == 1)
        })
        .await
    }

    #[cfg_attr(not(feature = "batch"), allow(dead_code))]
    pub(crate) async fn pace(&self, name: &str, step: Pace) -> Result<Paced, Error> {
        let name = name.to_owned();
        let now = super::now_us();
        self.with("cannot pace the batch", move |c| {
            let next: i64 = c
                .prepare_cached(
                    "INSERT INTO aopay_pace AS p (name, next_at_us) VALUES (?1, ?2 + ?3)
                 ON CONFLICT (name) DO UPDATE
                   SET next_at_us = max(p.next_at_us + ?3, excluded.next_at_us)
                 RETURNING next_at_us",
                )?
                .query_row(params![name, now + step.pause_us, step.span_us], |r| {
                    r.get(0)
                })?;
            Ok(Paced {
                start_us: next - step.span_us,
                delay_us: next - step.span_us - now,
            })
        })
        .await
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<JournalEntry>, Error> {
        let key = key.to_owned();
        self.with("cannot read", move |c| select(c, &key)).await
    }

    pub(crate) async fn unresolved(&self) -> Result<Vec<JournalEntry>, Error> {
        self.with("cannot read", |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM aopay_journal WHERE state <> 'final' ORDER BY created_at, key"
            ))?;
            let rows = stmt.query_map([], read_row)?;
            rows.map(|r| r.map(Row::into_entry)).collect()
        })
        .await
    }

    pub(crate) async fn tally(&self) -> Result<Vec<Tally>, Error> {
        self.with("cannot read", |c| {
            let mut stmt = c.prepare(TALLY)?;
            let rows = stmt.query_map([], |r| {
                Ok(Tally {
                    endpoint: r.get(0)?,
                    state: EntryState::parse(&r.get::<_, String>(1)?),
                    status: r.get(2)?,
                    count: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                })
            })?;
            rows.collect()
        })
        .await
    }
}

fn select(c: &Connection, key: &str) -> rusqlite::Result<Option<JournalEntry>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM aopay_journal WHERE key = ?1"
    ))?
    .query_row(params![key], read_row)
    .optional()
    .map(|r| r.map(Row::into_entry))
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Row::read(r)
}

impl Columns for rusqlite::Row<'_> {
    type Error = rusqlite::Error;
    fn text(&self, i: usize) -> rusqlite::Result<String> {
        self.get(i)
    }
    fn maybe_text(&self, i: usize) -> rusqlite::Result<Option<String>> {
        self.get(i)
    }
    fn int(&self, i: usize) -> rusqlite::Result<i64> {
        self.get(i)
    }
    fn maybe_int(&self, i: usize) -> rusqlite::Result<Option<i64>> {
        self.get(i)
    }
}

/// Bring the file to `SCHEMA_VERSION`, in one immediate transaction so that
/// several processes opening a new file at once do it once.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS aopay_journal_meta (version INTEGER NOT NULL)",
        )?;
        let version: Option<i64> =
            conn.query_row("SELECT max(version) FROM aopay_journal_meta", [], |r| {
                r.get(0)
            })?;
        if version.unwrap_or(0) < 1 {
            conn.execute_batch(
                "CREATE TABLE aopay_journal (
                    key TEXT PRIMARY KEY,
                    fingerprint TEXT NOT NULL,
                    state TEXT NOT NULL,
                    status TEXT, reference_id TEXT, txn_id TEXT, ackno TEXT, message TEXT,
                    api_code INTEGER, http_status INTEGER, raw TEXT, reason TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    deadline_at INTEGER NOT NULL
                 );
                 CREATE INDEX aopay_journal_unresolved ON aopay_journal (state, created_at);
                 INSERT INTO aopay_journal_meta (version) VALUES (1);",
            )?;
        }
        if version.unwrap_or(0) < 2 {
            // Which write each entry is for: every entry before it was a
            // MobileRecharge.
            conn.execute_batch(&format!(
                "ALTER TABLE aopay_journal ADD COLUMN endpoint TEXT NOT NULL DEFAULT '{FIRST_ENDPOINT}';
                 INSERT INTO aopay_journal_meta (version) VALUES (2);"
            ))?;
        }
        if version.unwrap_or(0) < 3 {
            // Which process holds an intent (older entries: unknown).
            conn.execute_batch(
                "ALTER TABLE aopay_journal ADD COLUMN owner TEXT;
                 INSERT INTO aopay_journal_meta (version) VALUES (3);",
            )?;
        }
        // Not versioned: a build that does not pace ignores it.
        conn.execute_batch(AUDIT_TABLE)?;
        conn.execute_batch(PACE_TABLE)
    })();
    conn.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    result
}
