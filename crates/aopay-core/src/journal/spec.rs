//! Which journal: a SQLite path or a PostgreSQL DSN.

/// What a journal spec names: see [`super::Journal::classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalSpec<'a> {
    /// A SQLite file.
    Sqlite(&'a std::path::Path),
    /// A PostgreSQL DSN (URL or keyword form).
    Postgres(&'a str),
}

/// libpq's connection keywords (its keyword/value DSN form).
pub(super) const LIBPQ_KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "sslmode",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "sslcrl",
    "requiressl",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// A DSN URL with its scheme in lowercase (the PostgreSQL client reads
/// only that spelling).
#[cfg(feature = "postgres")]
pub(super) fn postgres_scheme_lowercase(dsn: &str) -> String {
    match dsn.split_once("://") {
        Some((scheme, rest)) => format!("{}://{rest}", scheme.to_ascii_lowercase()),
        None => dsn.to_owned(),
    }
}
