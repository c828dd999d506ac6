//! The PostgreSQL journal, for several application instances sharing one
//! journal: the primary key on `key` makes exactly one caller, on any
//! machine, the sender. One connection, made on first use and remade if
//! lost; the schema is created under an advisory lock.

use tokio::sync::Mutex;
use tokio_postgres::{Client, Config, NoTls};

use super::{COLUMNS, JournalEntry, Row, Update};
use crate::error::Error;

/// Any constant: serialises schema creation across processes.
const MIGRATION_LOCK: i64 = 0x0A0B_A711_0000_0001;

pub(crate) struct PgJournal {
    config: Config,
    client: Mutex<Option<Client>>,
}

fn err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::journal(format!("PostgreSQL journal: {what}: {e}"))
}

impl PgJournal {
    pub(crate) fn new(dsn: &str) -> Result<Self, Error> {
        let config: Config = dsn.parse().map_err(|e| err("invalid DSN", e))?;
        Ok(Self {
            config,
            client: Mutex::new(None),
        })
    }

    /// host:port/dbname, never the password.
    pub(crate) fn describe(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(h) => h.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .collect();
        format!(
            "{}/{}",
            hosts.join(","),
            self.config.get_dbname().unwrap_or("")
        )
    }

    /// The connection, made (and the schema migrated) if there is none.
    async fn client(&self) -> Result<tokio::sync::MutexGuard<'_, Option<Client>>, Error> {
        let mut guard = self.client.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            let (client, connection) = self
                .config
                .connect(NoTls)
                .await
                .map_err(|e| err("cannot connect", e))?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(target: "aopay", error = %e, "journal connection lost");
                }
            });
            migrate(&client)
                .await
                .map_err(|e| err("cannot create or migrate the schema", e))?;
            *guard = Some(client);
        }
        Ok(guard)
    }

    pub(crate) async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        now: i64,
        deadline: i64,
    ) -> Result<Option<JournalEntry>, Error> {
        let guard = self.client().await?;
        let c = guard
            .as_ref()
            .ok_or_else(|| err("cannot connect", "no connection"))?;
        let inserted = c
            .execute(
                "INSERT INTO aopay_journal (key, fingerprint, state, created_at, updated_at, deadline_at)
                 VALUES ($1, $2, 'sending', $3, $3, $4) ON CONFLICT (key) DO NOTHING",
                &[&key, &fingerprint, &now, &deadline],
            )
            .await
            .map_err(|e| err("cannot record the intent", e))?;
        if inserted == 1 {
            Ok(None)
        } else {
            select(c, key).await
        }
    }

    pub(crate) async fn record(
        &self,
        key: &str,
        update: &Update<'_>,
        now: i64,
    ) -> Result<(), Error> {
        let v = update.values();
        let guard = self.client().await?;
        let c = guard
            .as_ref()
            .ok_or_else(|| err("cannot connect", "no connection"))?;
        c.execute(
            "UPDATE aopay_journal SET state = $2, status = $3, reference_id = $4, txn_id = $5,
               ackno = $6, message = $7, api_code = $8, http_status = $9, raw = $10, reason = $11,
               updated_at = $12 WHERE key = $1",
            &[
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
                &now,
            ],
        )
        .await
        .map(drop)
        .map_err(|e| err("cannot record the outcome", e))
    }

    pub(crate) async fn release(&self, key: &str) -> Result<(), Error> {
        let guard = self.client().await?;
        let c = guard
            .as_ref()
            .ok_or_else(|| err("cannot connect", "no connection"))?;
        c.execute(
            "DELETE FROM aopay_journal WHERE key = $1 AND state = 'sending'",
            &[&key],
        )
        .await
        .map(drop)
        .map_err(|e| err("cannot release the key", e))
    }

    pub(crate) async fn expire(&self, key: &str, reason: &str, now: i64) -> Result<(), Error> {
        let guard = self.client().await?;
        let c = guard
            .as_ref()
            .ok_or_else(|| err("cannot connect", "no connection"))?;
        c.execute(
            "UPDATE aopay_journal SET state = 'unknown', reason = $2, updated_at = $3
             WHERE key = $1 AND state = 'sending' AND deadline_at <= $3",
            &[&key, &reason, &now],
        )
        .await
        .map(drop)
        .map_err(|e| err("cannot update the entry", e))
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<JournalEntry>, Error> {
        let guard = self.client().await?;
        let c = guard
            .as_ref()
            .ok_or_else(|| err("cannot connect", "no connection"))?;
        select(c, key).await
    }

    pub(crate) async fn unresolved(&self) -> Result<Vec<JournalEntry>, Error> {
        let guard = self.client().await?;
        let c = guard
            .as_ref()
            .ok_or_else(|| err("cannot connect", "no connection"))?;
        let rows = c
            .query(
                &format!("SELECT {COLUMNS} FROM aopay_journal WHERE state <> 'final' ORDER BY created_at, key"),
                &[],
            )
            .await
            .map_err(|e| err("cannot read", e))?;
        rows.iter()
            .map(|r| read_row(r).map(Row::into_entry))
            .collect()
    }
}

async fn select(c: &Client, key: &str) -> Result<Option<JournalEntry>, Error> {
    let row = c
        .query_opt(
            &format!("SELECT {COLUMNS} FROM aopay_journal WHERE key = $1"),
            &[&key],
        )
        .await
        .map_err(|e| err("cannot read", e))?;
    row.map(|r| read_row(&r).map(Row::into_entry)).transpose()
}

fn read_row(r: &tokio_postgres::Row) -> Result<Row, Error> {
    let read = || -> Result<Row, tokio_postgres::Error> {
        Ok(Row {
            key: r.try_get(0)?,
            fingerprint: r.try_get(1)?,
            state: r.try_get(2)?,
            status: r.try_get(3)?,
            reference_id: r.try_get(4)?,
            txn_id: r.try_get(5)?,
            ackno: r.try_get(6)?,
            message: r.try_get(7)?,
            api_code: r.try_get(8)?,
            http_status: r.try_get(9)?,
            raw: r.try_get(10)?,
            reason: r.try_get(11)?,
            created_at: r.try_get(12)?,
            updated_at: r.try_get(13)?,
            deadline_at: r.try_get(14)?,
        })
    };
    read().map_err(|e| err("cannot read a row", e))
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
        .await
    }
    .await;
    c.batch_execute(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })
        .await?;
    result
}
