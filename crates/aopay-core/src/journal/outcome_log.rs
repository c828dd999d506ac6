//! Outcomes the journal could not take (docs/protocol.md §4): an answer
//! received is never dropped. Recording it is retried within a bound; past
//! it the outcome is appended to a local file beside the journal (one JSON
//! line each, fsynced, private to its owner), and replayed into the journal
//! before anything else by the next keyed call, batch or reconciliation.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::UpdateValues;
use crate::error::Error;

/// How long recording an outcome is retried before it goes to the log.
pub(crate) const RECORD_RETRY_BOUND: Duration = Duration::from_secs(15);

/// One outcome as the log keeps it: the values of an `Update`, and when.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoggedOutcome {
    pub key: String,
    pub values: UpdateValues,
    pub at_ms: i64,
    /// A release, not an outcome: the key is freed if its entry still
    /// holds this deadline (the caller's own, claimed or sending).
    pub released_deadline: Option<i64>,
}

impl LoggedOutcome {
    pub(crate) fn of(key: &str, values: UpdateValues, at_ms: i64) -> Self {
        Self {
            key: key.to_owned(),
            values,
            at_ms,
            released_deadline: None,
        }
    }

    /// A key whose call provably sent nothing, to free.
    pub(crate) fn released(key: &str, deadline_at_ms: i64, at_ms: i64) -> Self {
        Self {
            key: key.to_owned(),
            values: UpdateValues {
                state: "released".to_owned(),
                ..UpdateValues::default()
            },
            at_ms,
            released_deadline: Some(deadline_at_ms),
        }
    }

    fn to_line(&self) -> String {
        let v = &self.values;
        serde_json::json!({
            "key": self.key, "state": v.state, "status": v.status,
            "reference_id": v.reference_id, "txn_id": v.txn_id, "ackno": v.ackno,
            "message": v.message, "api_code": v.api_code, "http_status": v.http_status,
            "raw": v.raw, "reason": v.reason, "at_ms": self.at_ms,
            "released_deadline": self.released_deadline,
        })
        .to_string()
    }

    fn from_line(line: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        let number = |k: &str| v.get(k).and_then(serde_json::Value::as_i64);
        Some(Self {
            key: text("key")?,
            values: UpdateValues {
                state: text("state")?,
                status: text("status"),
                reference_id: text("reference_id"),
                txn_id: text("txn_id"),
                ackno: text("ackno"),
                message: text("message"),
                api_code: number("api_code"),
                http_status: number("http_status"),
                raw: text("raw"),
                reason: text("reason"),
            },
            at_ms: number("at_ms")?,
            released_deadline: number("released_deadline"),
        })
    }
}

/// Where the outcomes of the SQLite journal at `db` wait: beside it.
#[cfg(any(feature = "sqlite", test))]
pub(crate) fn beside(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-outcomes");
    PathBuf::from(name)
}

/// Where the outcomes of a PostgreSQL journal wait on this machine:
/// `AOPAY_STATE_DIR`, else `$XDG_STATE_HOME/aopay`, else
/// `~/.local/state/aopay`, one file per server and database.
#[cfg(feature = "postgres")]
pub(crate) fn for_server(described: &str) -> PathBuf {
    let dir = std::env::var_os("AOPAY_STATE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_STATE_HOME").map(|d| PathBuf::from(d).join("aopay")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/aopay")))
        .unwrap_or_else(|| std::env::temp_dir().join("aopay"));
    dir.join(format!(
        "postgres-{}-outcomes",
        super::fingerprint(&[described]).trim_start_matches("fnv1a64:")
    ))
}

/// Append `outcome` and make it durable (the file and, when new, its
/// directory entry). Created private to its owner, as the journal is.
pub(crate) fn append(path: &Path, outcome: &LoggedOutcome) -> Result<(), Error> {
    let fail = |e: std::io::Error| {
        Error::journal(format!(
            "cannot keep the outcome in {}: {e}",
            path.display()
        ))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(fail)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    let mut line = outcome.to_line();
    line.push('\n');
    file.write_all(line.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The new name durable too (a crash may not lose the file itself).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The outcomes waiting at `path`, taken out of it: the file is renamed
/// first (an outcome appended meanwhile starts a new file), read, and
/// `Taken::done` deletes it once every outcome is in the journal. An
/// unreadable line is kept aside in `path` + `.bad`, never dropped.
pub(crate) fn take(path: &Path) -> Result<Option<Taken>, Error> {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".replaying-{}", std::process::id()));
    let taken = PathBuf::from(name);
    match std::fs::rename(path, &taken) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::journal(format!(
                "cannot take the outcomes waiting in {}: {e}",
                path.display()
            )));
        }
    }
    let file = std::fs::File::open(&taken)
        .map_err(|e| Error::journal(format!("cannot read {}: {e}", taken.display())))?;
    let mut outcomes = Vec::new();
    let mut bad = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line =
            line.map_err(|e| Error::journal(format!("cannot read {}: {e}", taken.display())))?;
        if line.trim().is_empty() {
            continue;
        }
        match LoggedOutcome::from_line(&line) {
            Some(o) => outcomes.push(o),
            None => bad.push(line),
        }
    }
    if !bad.is_empty() {
        let mut name = path.as_os_str().to_owned();
        name.push(".bad");
        let aside = PathBuf::from(name);
        tracing::error!(target: "aopay::journal", file = %aside.display(), lines = bad.len(), "unreadable outcome lines kept aside: check them by hand");
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options
            .open(&aside)
            .map_err(|e| Error::journal(format!("cannot write {}: {e}", aside.display())))?;
        for line in bad {
            writeln!(f, "{line}")
                .map_err(|e| Error::journal(format!("cannot write {}: {e}", aside.display())))?;
        }
        f.sync_all()
            .map_err(|e| Error::journal(format!("cannot write {}: {e}", aside.display())))?;
    }
    Ok(Some(Taken {
        file: taken,
        outcomes,
    }))
}

/// Outcomes taken out of the log, to put into the journal.
pub(crate) struct Taken {
    file: PathBuf,
    pub outcomes: Vec<LoggedOutcome>,
}

impl Taken {
    /// Every outcome is in the journal: the taken file goes.
    pub(crate) fn done(self) {
        let _ = std::fs::remove_file(&self.file);
    }

    /// The journal failed midway: what is left goes back into the log.
    pub(crate) fn put_back(self, path: &Path, from: usize) -> Result<(), Error> {
        for o in &self.outcomes[from..] {
            append(path, o)?;
        }
        let _ = std::fs::remove_file(&self.file);
        Ok(())
    }
}

/// Outcomes a replaying process took but died before putting into the
/// journal (`*-outcomes.replaying-PID` of a process that is gone): back into
/// the log, so that the next replay takes them.
pub(crate) fn recover_abandoned(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{}.replaying-", name.to_string_lossy());
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        if pid == std::process::id().to_string() || process_alive(pid) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let kept = text
            .lines()
            .filter_map(LoggedOutcome::from_line)
            .try_for_each(|o| append(path, &o));
        if kept.is_ok() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn process_alive(pid: &str) -> bool {
    // Where /proc is not there, assume alive: its file is left for later.
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_through_the_log_and_bad_lines_are_kept_aside() {
        let dir = std::env::temp_dir().join(format!("aopay-outcomes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = beside(&dir.join("j.db"));
        let o = LoggedOutcome::of(
            "k\n\"1",
            UpdateValues {
                state: "final".into(),
                status: Some("SUCCESS".into()),
                reference_id: Some("R".into()),
                message: Some("done".into()),
                api_code: Some(1),
                http_status: Some(200),
                raw: Some("{\"status\":true}".into()),
                ..UpdateValues::default()
            },
            7,
        );
        append(&path, &o).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{not json\n")
            .unwrap();
        append(&path, &o).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let taken = take(&path).unwrap().unwrap();
        assert_eq!(taken.outcomes, vec![o.clone(), o]);
        assert!(!path.exists(), "taken out of the log");
        taken.done();
        assert!(take(&path).unwrap().is_none());
        let mut bad = path.as_os_str().to_owned();
        bad.push(".bad");
        assert_eq!(std::fs::read_to_string(bad).unwrap(), "{not json\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
