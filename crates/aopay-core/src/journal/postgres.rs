//! The PostgreSQL journal, for several application instances sharing one
//! journal: the primary key on `key` makes exactly one caller, on any
//! machine, the sender. A few connections, each made on first use and
//! remade if lost, and shared: a call does not hold one while it waits, so
//! concurrent statements are pipelined on it, and the server commits the
//! connections' statements in groups (one WAL flush for many). The schema
//! is created under an advisory lock.
//!
//! TLS is rustls, always verifying the server's chain and name. Without an
//! `sslmode` it is required for any host that is not loopback (as plain HTTP
//! is refused for remote hosts); `sslrootcert=FILE` adds a CA, as in libpq.

use std::net::IpAddr;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Mutex;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Client, Config, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::Keyed;
use super::outcome_log::LoggedOutcome;
use super::{
    AUDIT, AUDIT_TABLE, AuditRecord, COLUMNS, Claim, EXPIRE, EntryState, FIRST_ENDPOINT,
    HAND_RELEASE, HAND_SETTLE, HandChange, JournalEntry, PACE_TABLE, Pace, Paced, REOPEN, REPLAY,
    Row, TALLY, Tally, Update, by_hand_outcome,
};
use super::{Columns, RECORD, UpdateValues};
use crate::error::{Error, error_chain};
use crate::tls;
use crate::validate::is_loopback_host;

/// The DSN parameter naming extra CA certificates (libpq's name).
const SSLROOTCERT: &str = "sslrootcert";

/// Any constant: serialises schema creation across processes.
const MIGRATION_LOCK: i64 = 0x0A0B_A711_0000_0001;

/// Connections per journal (per process). One backend commits its
/// statements one WAL flush at a time, however many are pipelined to it;
/// several let the server flush many commits at once.
const CONNECTIONS: usize = 4;

pub(crate) struct PgJournal {
    config: Config,
    tls: MakeRustlsConnect,
    connections: [Mutex<Option<Arc<Conn>>>; CONNECTIONS],
    next: AtomicUsize,
}

const CLAIM: &str = "INSERT INTO aopay_journal
       (key, fingerprint, state, created_at, updated_at, deadline_at, endpoint, reference_id, owner)
     VALUES ($1, $2, 'claimed', $3, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING";

/// A connection with the statements every keyed call runs, prepared once
/// (not parsed again for each call: a round trip and the server's time).
struct Conn {
    client: Client,
    claim: Statement,
    record: Statement,
    select: Statement,
}

impl Conn {
    async fn prepare(client: Client) -> Result<Self, tokio_postgres::Error> {
        let claim = client.prepare(CLAIM).await?;
        let record = client.prepare(RECORD).await?;
        let select = client
            .prepare(&format!(
                "SELECT {COLUMNS} FROM aopay_journal WHERE key = $1"
            ))
            .await?;
        Ok(Self {
            client,
            claim,
            record,
            select,
        })
    }

    async fn select(&self, key: &str) -> Result<Option<JournalEntry>, Error> {
        let row = self
            .client
            .query_opt(&self.select, &[&key])
            .await
            .map_err(pg("cannot read"))?;
        row.map(|r| read_row(&r).map(Row::into_entry)).transpose()
    }
}

fn err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::journal(format!("PostgreSQL journal: {what}: {e}"))
}

/// With the causes tokio-postgres keeps in `source()` (its own text is only
/// "error connecting to server" or "db error").
fn pg(what: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Error {
    move |e| err(what, error_chain(&e))
}

impl PgJournal {
    pub(crate) fn new(dsn: &str) -> Result<Self, Error> {
        let (dsn, params) = take_tls_params(dsn)?;
        let mut config: Config = dsn.parse().map_err(pg("invalid DSN"))?;
        let mode = match params.sslmode.as_deref() {
            None if all_loopback(&config) => SslMode::Disable,
            None => SslMode::Require,
            Some("disable") => SslMode::Disable,
            Some("allow" | "prefer") => SslMode::Prefer,
            Some("require" | "verify-ca" | "verify-full") => SslMode::Require,
            Some(other) => {
                return Err(err(
                    "invalid DSN",
                    format!(
                        "sslmode {other:?} must be one of disable, allow, prefer, \
                         require, verify-ca, verify-full"
                    ),
                ));
            }
        };
        config.ssl_mode(mode);
        // A server that stops answering is found out, not waited for: the
        // DSN's connect_timeout (libpq's name) if it gives one, else 10 s;
        // keepalives on a connection that goes quiet.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        config
            .keepalives(true)
            .keepalives_idle(std::time::Duration::from_secs(30))
            .keepalives_interval(std::time::Duration::from_secs(10))
            .keepalives_retries(3);
        let pems = match params.sslrootcert.as_deref() {
            None | Some("system") => Vec::new(),
            Some(path) => vec![
                std::fs::read(path)
                    .map_err(|e| err(&format!("cannot read sslrootcert {path:?}"), e))?,
            ],
        };
        let tls = tls::config(SSLROOTCERT, &pems).map_err(|e| err("cannot set up TLS", e))?;
        Ok(Self {
            config,
            tls: MakeRustlsConnect::new(tls),
            connections: Default::default(),
            next: AtomicUsize::new(0),
        })
    }

    /// host:port/dbname, never the password.
    pub(crate) fn describe(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(h) => h.clone(),
                #[cfg(unix)]
                Host::Unix(p) => p.display().to_string(),
            })
            .collect();
        format!(
            "{}/{}",
            hosts.join(","),
            self.config.get_dbname().unwrap_or("")
        )
    }

    /// A connection (the next in turn), made (and the schema migrated) if
    /// it is not open. The caller does not hold its slot: others pipeline
    /// their statements on the same connection meanwhile.
    async fn client(&self) -> Result<Arc<Conn>, Error> {
        let slot = &self.connections[self.next.fetch_add(1, Ordering::Relaxed) % CONNECTIONS];
        let mut guard = slot.lock().await;
        if let Some(c) = guard.as_ref().filter(|c| !c.client.is_closed()) {
            return Ok(Arc::clone(c));
        }
        // The whole connection (TCP, TLS, startup, authentication) within
        // the connect timeout: a server that accepts and never answers is
        // an error, not a hang.
        let limit = self
            .config
            .get_connect_timeout()
            .copied()
            .unwrap_or(std::time::Duration::from_secs(10));
        let (client, connection) =
            tokio::time::timeout(limit, self.config.connect(self.tls.clone()))
                .await
                .map_err(|_| {
                    err(
                        "cannot connect",
                        format!(
                            "{} did not answer within the connect timeout ({} s)",
                            self.describe(),
                            limit.as_secs_f64()
                        ),
                    )
                })?
                .map_err(pg("cannot connect"))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(target: "aopay", error = %e, "journal connection lost");
            }
        });
        migrate(&client)
            .await
            .map_err(pg("cannot create or migrate the schema"))?;
        let client = Arc::new(
            Conn::prepare(client)
                .await
                .map_err(pg("cannot prepare the journal's statements"))?,
        );
        *guard = Some(Arc::clone(&client));
        Ok(client)
    }

    pub(crate) async fn claim(
        &self,
        claim: &Claim<'_>,
        now: i64,
    ) -> Result<Option<JournalEntry>, Error> {
        let (key, fingerprint, deadline) = (claim.key, claim.fingerprint, claim.deadline_at_ms);
        let c = self.client().await?;
        let inserted = c
            .client
            .execute(
                &c.claim,
                &[
                    &key,
                    &fingerprint,
                    &now,
                    &deadline,
                    &claim.endpoint,
                    &claim.reference_id,
                    &super::this_owner(),
                ],
            )
            .await
            .map_err(pg("cannot record the intent"))?;
        if inserted == 1 {
            Ok(None)
        } else {
            c.select(key).await
        }
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
            &update.values(),
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
            &o.values,
            o.at_ms,
        )
        .await
    }

    /// [`RECORD`] (prepared once per connection) or [`REPLAY`]: `v` under
    /// `key`, at `at`.
    async fn write(
        &self,
        sql: &'static str,
        what: &'static str,
        key: &str,
        v: &UpdateValues,
        at: i64,
    ) -> Result<(), Error> {
        let c = self.client().await?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 12] = [
            &key,
            &v.state,
            &v.status,
            &v.reference_id,
            &v.txn_id,
            &v.ackno,
            &v.message,
            &v.api_code,
            &v.http_status,
            &v.raw,
            &v.reason,
            &at,
        ];
        let written = if sql == RECORD {
            c.client.execute(&c.record, &params).await
        } else {
            c.client.execute(sql, &params).await
        };
        written.map(drop).map_err(pg(what))
    }

    /// One of the journal's keyed statements: how many rows it changed.
    pub(crate) async fn exec(
        &self,
        sql: &'static str,
        what: &'static str,
        key: &str,
        values: Keyed,
    ) -> Result<usize, Error> {
        let c = self.client().await?;
        let changed = match &values {
            Keyed::One(n) => c.client.execute(sql, &[&key, n]).await,
            Keyed::Three(a, b, d) => c.client.execute(sql, &[&key, a, b, d]).await,
            Keyed::NumberText(n, text) => c.client.execute(sql, &[&key, n, text]).await,
        };
        changed
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
            .map_err(pg(what))
    }

    /// The server answers (a connection made, the schema migrated).
    pub(crate) async fn check(&self) -> Result<(), Error> {
        let c = self.client().await?;
        c.client
            .simple_query("SELECT 1")
            .await
            .map(drop)
            .map_err(pg("cannot reach the journal"))
    }

    /// A settlement or release by hand and its audit row, in one
    /// statement; an error if the entry was no longer one to change.
    pub(crate) async fn change_by_hand(&self, change: HandChange) -> Result<(), Error> {
        let a = &change.audit;
        let c = self.client().await?;
        // The change, then the audit row only if it changed the entry: one
        // statement, so one transaction.
        let audit_from = |n: usize| {
            AUDIT.replace(
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &format!(
                    "SELECT $1, ${}, ${}, ${}, ${}, ${}, ${}, ${} FROM changed",
                    n,
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6
                ),
            )
        };
        type Param<'p> = &'p (dyn tokio_postgres::types::ToSql + Sync);
        let (change_sql, mut params): (&str, Vec<Param<'_>>) = match &change.settle {
            Some((status, reference, reason, raw)) => (
                HAND_SETTLE,
                vec![&a.key, status, reference, reason, raw, &a.at_ms],
            ),
            None => (HAND_RELEASE, vec![&a.key, &a.at_ms]),
        };
        let sql = format!(
            "WITH changed AS ({change_sql} RETURNING key) {}",
            audit_from(params.len() + 1)
        );
        params.extend_from_slice(&[
            &a.action,
            &a.from_state,
            &a.status,
            &a.reference_id,
            &a.note,
            &a.actor,
            &a.at_ms,
        ]);
        let changed = c.client.execute(sql.as_str(), &params).await;
        let changed = changed.map_err(pg("cannot change the entry by hand"))?;
        by_hand_outcome(&a.key, changed == 1)
    }

    pub(crate) async fn audit(&self, key: &str) -> Result<Vec<AuditRecord>, Error> {
        let c = self.client().await?;
        let rows = c
            .client
            .query(
                "SELECT key, action, from_state, status, reference_id, note, actor, at
                 FROM aopay_journal_audit WHERE key = $1 ORDER BY at",
                &[&key],
            )
            .await
            .map_err(pg("cannot read"))?;
        rows.iter()
            .map(|r| {
                Ok(AuditRecord {
                    key: r.try_get(0)?,
                    action: r.try_get(1)?,
                    from_state: r.try_get(2)?,
                    status: r.try_get(3)?,
                    reference_id: r.try_get(4)?,
                    note: r.try_get(5)?,
                    actor: r.try_get(6)?,
                    at_ms: r.try_get(7)?,
                })
            })
            .collect::<Result<_, tokio_postgres::Error>>()
            .map_err(pg("cannot read"))
    }

    pub(crate) async fn expire(
        &self,
        key: &str,
        reason: &str,
        now: i64,
        gone_owner: Option<&str>,
    ) -> Result<(), Error> {
        let c = self.client().await?;
        c.client
            .execute(EXPIRE, &[&key, &reason, &now, &gone_owner])
            .await
            .map(drop)
            .map_err(pg("cannot update the entry"))
    }

    pub(crate) async fn reopen(
        &self,
        key: &str,
        seen_updated_at: i64,
        deadline: i64,
        now: i64,
        owner: &str,
    ) -> Result<bool, Error> {
        let c = self.client().await?;
        c.client
            .execute(REOPEN, &[&key, &seen_updated_at, &deadline, &now, &owner])
            .await
            .map(|n| n == 1)
            .map_err(pg("cannot reopen the entry"))
    }

    /// On the server's clock, which every worker shares (theirs may differ).
    #[cfg_attr(not(feature = "batch"), allow(dead_code))]
    pub(crate) async fn pace(&self, name: &str, step: Pace) -> Result<Paced, Error> {
        let c = self.client().await?;
        let row = c
            .client
            .query_one(
                "WITH t AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now)
                 INSERT INTO aopay_pace AS p (name, next_at_us)
                   SELECT $1, t.now + $2 + $3 FROM t
                 ON CONFLICT (name) DO UPDATE
                   SET next_at_us = greatest(p.next_at_us + $3, excluded.next_at_us)
                 RETURNING next_at_us, (SELECT now FROM t)",
                &[&name, &step.pause_us, &step.span_us],
            )
            .await
            .map_err(pg("cannot pace the batch"))?;
        let (next, now): (i64, i64) = (row.get(0), row.get(1));
        Ok(Paced {
            start_us: next - step.span_us,
            delay_us: next - step.span_us - now,
        })
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<JournalEntry>, Error> {
        self.client().await?.select(key).await
    }

    pub(crate) async fn unresolved(&self) -> Result<Vec<JournalEntry>, Error> {
        let c = self.client().await?;
        let rows = c
            .client
            .query(
                &format!("SELECT {COLUMNS} FROM aopay_journal WHERE state <> 'final' ORDER BY created_at, key"),
                &[],
            )
            .await
            .map_err(pg("cannot read"))?;
        rows.iter()
            .map(|r| read_row(r).map(Row::into_entry))
            .collect()
    }

    pub(crate) async fn tally(&self) -> Result<Vec<Tally>, Error> {
        let c = self.client().await?;
        let rows = c
            .client
            .query(TALLY, &[])
            .await
            .map_err(pg("cannot read"))?;
        Ok(rows
            .iter()
            .map(|r| Tally {
                endpoint: r.get(0),
                state: EntryState::parse(r.get::<_, &str>(1)),
                status: r.get(2),
                count: u64::try_from(r.get::<_, i64>(3)).unwrap_or(0),
            })
            .collect())
    }
}

fn read_row(r: &tokio_postgres::Row) -> Result<Row, Error> {
    Row::read(r).map_err(pg("cannot read a row"))
}

impl Columns for tokio_postgres::Row {
    type Error = tokio_postgres::Error;
    fn text(&self, i: usize) -> Result<String, Self::Error> {
        self.try_get(i)
    }
    fn maybe_text(&self, i: usize) -> Result<Option<String>, Self::Error> {
        self.try_get(i)
    }
    fn int(&self, i: usize) -> Result<i64, Self::Error> {
        self.try_get(i)
    }
    fn maybe_int(&self, i: usize) -> Result<Option<i64>, Self::Error> {
        self.try_get(i)
    }
}

async fn migrate(c: &Client) -> Result<(), tokio_postgres::Error> {
    c.batch_execute("BEGIN").await?;
    let result = async {
        c.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
        c.batch_execute(
            "CREATE TABLE IF NOT EXISTS aopay_journal_meta (version BIGINT NOT NULL);
             CREATE TABLE IF NOT EXISTS aopay_journal (
                key TEXT PRIMARY KEY,
                fingerprint TEXT NOT NULL,
                state TEXT NOT NULL,
                status TEXT, reference_id TEXT, txn_id TEXT, ackno TEXT, message TEXT,
                api_code BIGINT, http_status BIGINT, raw TEXT, reason TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                deadline_at BIGINT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS aopay_journal_unresolved ON aopay_journal (state, created_at);
             INSERT INTO aopay_journal_meta (version)
               SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM aopay_journal_meta);",
        )
        .await?;
        // Version 2: which write each entry is for (before it, every entry
        // was a MobileRecharge).
        c.batch_execute(&format!(
            "ALTER TABLE aopay_journal ADD COLUMN IF NOT EXISTS endpoint TEXT NOT NULL DEFAULT '{FIRST_ENDPOINT}';
             INSERT INTO aopay_journal_meta (version)
               SELECT 2 WHERE NOT EXISTS (SELECT 1 FROM aopay_journal_meta WHERE version >= 2);"
        ))
        .await?;
        // Version 3: which process holds an intent (older entries: unknown).
        c.batch_execute(
            "ALTER TABLE aopay_journal ADD COLUMN IF NOT EXISTS owner TEXT;
             INSERT INTO aopay_journal_meta (version)
               SELECT 3 WHERE NOT EXISTS (SELECT 1 FROM aopay_journal_meta WHERE version >= 3);",
        )
        .await?;
        // Not versioned: a build that does not pace ignores it.
        c.batch_execute(AUDIT_TABLE).await?;
        c.batch_execute(PACE_TABLE).await
    }
    .await;
    c.batch_execute(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })
        .await?;
    result
}

/// The TLS parameters tokio-postgres does not read itself (`sslrootcert`, and
/// libpq's `sslmode` values beyond disable/prefer/require).
#[derive(Debug, Default, PartialEq)]
struct TlsParams {
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

impl TlsParams {
    /// Keep `value` if `key` is ours; say whether it was.
    fn take(&mut self, key: &str, value: String) -> bool {
        match key {
            "sslmode" => self.sslmode = Some(value),
            "sslrootcert" => self.sslrootcert = Some(value),
            _ => return false,
        }
        true
    }
}

/// Split the TLS parameters off a DSN in either form: a URL
/// (`postgres://…?sslmode=…`) or libpq's `key=value` pairs.
fn take_tls_params(dsn: &str) -> Result<(String, TlsParams), Error> {
    let mut params = TlsParams::default();
    let dsn = dsn.trim();
    if dsn.starts_with("postgres://") || dsn.starts_with("postgresql://") {
        let Some((base, query)) = dsn.split_once('?') else {
            return Ok((dsn.to_owned(), params));
        };
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .map_err(|e| err("invalid DSN", e))?;
            if !params.take(key, value.into_owned()) {
                kept.push(pair);
            }
        }
        let rest = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok((rest, params));
    }
    let mut kept = Vec::new();
    let mut rest = dsn;
    while !rest.is_empty() {
        let (pair, key, value, after) = next_pair(rest)?;
        if !params.take(key, value) {
            kept.push(pair);
        }
        rest = after.trim_start();
    }
    Ok((kept.join(" "), params))
}

/// One `key = value` pair of a libpq key/value DSN (value bare or in single
/// quotes, `\` escaping): (its text, key, unescaped value, what follows).
fn next_pair(text: &str) -> Result<(&str, &str, String, &str), Error> {
    let bad = || err("invalid DSN", "expected key=value pairs");
    let (key, after_key) = text.split_once('=').ok_or_else(bad)?;
    let key = key.trim();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(bad());
    }
    let body = after_key.trim_start();
    let quoted = body.starts_with('\'');
    let mut value = String::new();
    let mut chars = body.char_indices().skip(usize::from(quoted));
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next().ok_or_else(bad)?.1),
            '\'' if quoted => end = Some(i + 1),
            c if c.is_whitespace() && !quoted => end = Some(i),
            c => value.push(c),
        }
        if end.is_some() {
            break;
        }
    }
    let end = match end {
        Some(end) => end,
        None if quoted => return Err(err("invalid DSN", "unterminated quoted value")),
        None => body.len(),
    };
    let consumed = text.len() - body.len() + end;
    Ok((&text[..consumed], key, value, &text[consumed..]))
}

/// Every host is this machine (loopback address, `localhost` or a Unix
/// socket), so TLS may default to off.
fn all_loopback(config: &Config) -> bool {
    let named = config.get_hosts().iter().all(|h| match h {
        Host::Tcp(name) => is_loopback_host(name),
        #[cfg(unix)]
        Host::Unix(_) => true,
    });
    named && config.get_hostaddrs().iter().all(IpAddr::is_loopback)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(dsn: &str) -> (String, TlsParams) {
        take_tls_params(dsn).unwrap()
    }

    fn params(sslmode: Option<&str>, sslrootcert: Option<&str>) -> TlsParams {
        TlsParams {
            sslmode: sslmode.map(str::to_owned),
            sslrootcert: sslrootcert.map(str::to_owned),
        }
    }

    #[test]
    fn tls_params_come_off_urls() {
        assert_eq!(
            split("postgres://u:p@db.example:5432/app"),
            (
                "postgres://u:p@db.example:5432/app".into(),
                params(None, None)
            )
        );
        assert_eq!(
            split(
                "postgresql://db/app?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca%20x.pem"
            ),
            (
                "postgresql://db/app?application_name=x".into(),
                params(Some("verify-full"), Some("/etc/ca x.pem"))
            )
        );
        assert_eq!(
            split("postgres://db/app?sslmode=require"),
            ("postgres://db/app".into(), params(Some("require"), None))
        );
        assert!(take_tls_params("postgres://db/app?sslrootcert=%FF").is_err());
    }

    #[test]
    fn tls_params_come_off_key_value_pairs() {
        assert_eq!(
            split("host=db user=u sslmode = 'verify-full' sslrootcert='/a b/c\\'d.pem' dbname=app"),
            (
                "host=db user=u dbname=app".into(),
                params(Some("verify-full"), Some("/a b/c'd.pem"))
            )
        );
        assert_eq!(
            split("password='x y' host=h"),
            ("password='x y' host=h".into(), params(None, None))
        );
        for bad in ["host", "=x", "sslmode='open", "sslmode='", "a b=c", "x=\\"] {
            assert!(take_tls_params(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_stay_out_of_errors_and_descriptions() {
        const SECRET: &str = "hunter2-Secret";
        for dsn in [
            "postgres://u:hunter2-Secret@db:notaport/app",
            "postgres://u:hunter2-Secret@db/app?bogus=1",
            "postgres://u:hunter2-Secret@db/app?sslmode=maybe",
            "postgres://u:hunter2-Secret@db/app?sslrootcert=%FF",
            "host=db password=hunter2-Secret port=x",
            "host=db password='hunter2-Secret",
            "password=hunter2-Secret host",
        ] {
            let e = PgJournal::new(dsn).err().expect(dsn);
            let shown = format!("{e} {e:?}");
            assert!(shown.contains("invalid DSN"), "{shown}");
            assert!(!shown.contains(SECRET), "{dsn}: {shown}");
        }
        let j = PgJournal::new("postgres://u:hunter2-Secret@db.internal:6432/app").unwrap();
        assert_eq!(j.describe(), "db.internal/app");
    }

    #[test]
    fn tls_defaults_to_required_off_this_machine() {
        let mode = |dsn: &str| PgJournal::new(dsn).map(|j| j.config.get_ssl_mode());
        assert_eq!(mode("postgres://u@127.0.0.1/db").unwrap(), SslMode::Disable);
        assert_eq!(
            mode("postgres://u@localhost,[::1]/db").unwrap(),
            SslMode::Disable
        );
        assert_eq!(
            mode("host=/run/postgresql user=u").unwrap(),
            SslMode::Disable
        );
        assert_eq!(
            mode("postgres://u@db.internal/db").unwrap(),
            SslMode::Require
        );
        assert_eq!(
            mode("postgres://u@localhost,10.0.0.7/db").unwrap(),
            SslMode::Require
        );
        assert_eq!(
            mode("host=localhost hostaddr=10.0.0.7 user=u").unwrap(),
            SslMode::Require
        );
        assert_eq!(
            mode("postgres://u@db.internal/db?sslmode=disable").unwrap(),
            SslMode::Disable
        );
        assert_eq!(
            mode("postgres://u@db/db?sslmode=allow").unwrap(),
            SslMode::Prefer
        );
        assert_eq!(
            mode("postgres://u@127.0.0.1/db?sslmode=verify-ca").unwrap(),
            SslMode::Require
        );
        let e = mode("postgres://u@db/db?sslmode=maybe").unwrap_err();
        assert!(
            e.to_string().contains("sslmode \"maybe\" must be one of"),
            "{e}"
        );
        let e = mode("postgres://u@db/db?sslrootcert=/nonexistent/ca.pem").unwrap_err();
        assert!(e.to_string().contains("cannot read sslrootcert"), "{e}");
    }
}
