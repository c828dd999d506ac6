//! The client's options, described once: name, kind, default, meaning.
//!
//! The CLI and both bindings read this table instead of mapping options
//! one by one: a binding converts a value of its language by *kind*
//! (seconds, a count, text…) and hands it to [`ClientBuilder::set`], which
//! checks it. A new option is one row here and one arm in `set`; a test in
//! each surface checks that its options are the table's.

use std::sync::Arc;
use std::time::Duration;

use crate::client::{CallObserver, ClientBuilder, CredentialsProvider, Signer};
use crate::error::ValidationError;
use crate::journal::Journal;
use crate::naming::camel_case;
use crate::validate::duration_from_secs;

/// What an option holds, and so how each language passes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionKind {
    /// Text.
    Text,
    /// A duration: seconds in Python and the CLI, milliseconds in Node
    /// (its name there ends in `Ms`).
    Seconds,
    /// A positive whole number.
    Count,
    /// A yes/no switch.
    Flag,
    /// Extra headers, name to value (values are secrets).
    Headers,
    /// PEM certificates.
    Pem,
    /// An idempotency journal.
    Journal,
    /// A credentials provider: a function of the caller's language.
    Credentials,
    /// A call observer (the metrics hook): a function of the caller's
    /// language, given one event per call.
    Observer,
    /// A request signer: the built-in JWT signer, or a function of the
    /// caller's language given the path and the body.
    Signer,
    /// A rate: text (`"200/s"`, `"600/min"`) or a number per second.
    Rate,
}

/// One client option.
#[derive(Debug, Clone, Copy)]
pub struct ClientOption {
    /// The name (snake_case, as in Python and the builder).
    pub name: &'static str,
    /// What it holds.
    pub kind: OptionKind,
    /// Its default, as text (empty: none).
    pub default: &'static str,
    /// What it does (one line).
    pub doc: &'static str,
}

impl ClientOption {
    /// Node's name: camelCase, with `Ms` for durations.
    pub fn js_name(&self) -> String {
        let mut out = camel_case(self.name);
        if self.kind == OptionKind::Seconds {
            out.push_str("Ms");
        }
        out
    }

    /// The CLI's flag, without the dashes: kebab-case.
    pub fn cli_name(&self) -> String {
        self.name.replace('_', "-")
    }
}

/// Every client option.
pub const CLIENT_OPTIONS: &[ClientOption] = &[
    opt(
        "registration_id",
        OptionKind::Text,
        "",
        "the account's registration id (required)",
    ),
    opt(
        "base_url",
        OptionKind::Text,
        crate::DEFAULT_BASE_URL,
        "the API's base URL",
    ),
    opt(
        "timeout",
        OptionKind::Seconds,
        "30",
        "one deadline for a whole call",
    ),
    opt(
        "connect_timeout",
        OptionKind::Seconds,
        "10",
        "longest time to connect",
    ),
    opt(
        "read_attempt_timeout",
        OptionKind::Seconds,
        "10",
        "longest time for one attempt of a read before it is retried",
    ),
    opt(
        "read_max_attempts",
        OptionKind::Count,
        "4",
        "most attempts for one read",
    ),
    opt(
        "headers",
        OptionKind::Headers,
        "",
        "extra headers for every request (secret values)",
    ),
    opt(
        "allow_insecure_http",
        OptionKind::Flag,
        "false",
        "allow plain http:// to a host that is not loopback",
    ),
    opt(
        "max_response_bytes",
        OptionKind::Count,
        "1048576",
        "largest answer read, in bytes",
    ),
    opt(
        "pool_idle_timeout",
        OptionKind::Seconds,
        "4",
        "how long an idle connection is kept for reuse",
    ),
    opt(
        "root_certificates",
        OptionKind::Pem,
        "",
        "extra trusted CA certificates (PEM)",
    ),
    opt(
        "journal",
        OptionKind::Journal,
        "",
        "the idempotency journal",
    ),
    opt(
        "credentials",
        OptionKind::Credentials,
        "",
        "a function giving the headers for calls, cached for the lifetime it states (secret values)",
    ),
    opt(
        "signer",
        OptionKind::Signer,
        "",
        "signs every request: a JwtSigner, or a function given the path and the body bytes returning headers (secret values)",
    ),
    opt(
        "on_call",
        OptionKind::Observer,
        "",
        "a function given one event per call (endpoint, attempts, status, outcome, duration): the metrics hook",
    ),
];

const fn opt(
    name: &'static str,
    kind: OptionKind,
    default: &'static str,
    doc: &'static str,
) -> ClientOption {
    ClientOption {
        name,
        kind,
        default,
        doc,
    }
}

/// The option called `name`, if there is one.
pub fn client_option(name: &str) -> Option<&'static ClientOption> {
    CLIENT_OPTIONS.iter().find(|o| o.name == name)
}

/// A value for an option, as a binding or the CLI converted it.
#[non_exhaustive]
pub enum OptionValue {
    /// For [`OptionKind::Text`].
    Text(String),
    /// For [`OptionKind::Seconds`]: seconds (checked by `set`).
    Seconds(f64),
    /// For [`OptionKind::Count`] (checked by `set`).
    Count(i64),
    /// For [`OptionKind::Flag`].
    Flag(bool),
    /// For [`OptionKind::Headers`].
    Headers(Vec<(String, String)>),
    /// For [`OptionKind::Pem`].
    Pem(Vec<u8>),
    /// For [`OptionKind::Journal`].
    Journal(Journal),
    /// For [`OptionKind::Credentials`].
    Credentials(Arc<dyn CredentialsProvider>),
    /// For [`OptionKind::Observer`].
    Observer(Arc<dyn CallObserver>),
    /// For [`OptionKind::Signer`].
    Signer(Arc<dyn Signer>),
    /// For [`OptionKind::Rate`] given as a number per second (as text, it
    /// is a [`OptionValue::Text`]).
    PerSecond(f64),
}

impl std::fmt::Debug for OptionValue {
    // Header values are secrets; a provider has nothing to show.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(t) => f.debug_tuple("Text").field(t).finish(),
            Self::Seconds(s) => f.debug_tuple("Seconds").field(s).finish(),
            Self::Count(n) => f.debug_tuple("Count").field(n).finish(),
            Self::Flag(b) => f.debug_tuple("Flag").field(b).finish(),
            Self::Headers(h) => f
                .debug_tuple("Headers")
                .field(&crate::client::RedactedHeaders(
                    h.iter().map(|(k, _)| k.as_str()),
                ))
                .finish(),
            Self::Pem(p) => f.debug_tuple("Pem").field(&p.len()).finish(),
            Self::Journal(j) => f.debug_tuple("Journal").field(j).finish(),
            Self::Credentials(_) => f.write_str("Credentials(<provider>)"),
            Self::Observer(_) => f.write_str("Observer(<function>)"),
            Self::Signer(_) => f.write_str("Signer(<signer>)"),
            Self::PerSecond(r) => f.debug_tuple("PerSecond").field(r).finish(),
        }
    }
}

impl OptionValue {
    pub(crate) fn kind(&self) -> OptionKind {
        match self {
            Self::Text(_) => OptionKind::Text,
            Self::Seconds(_) => OptionKind::Seconds,
            Self::Count(_) => OptionKind::Count,
            Self::Flag(_) => OptionKind::Flag,
            Self::Headers(_) => OptionKind::Headers,
            Self::Pem(_) => OptionKind::Pem,
            Self::Journal(_) => OptionKind::Journal,
            Self::Credentials(_) => OptionKind::Credentials,
            Self::Observer(_) => OptionKind::Observer,
            Self::Signer(_) => OptionKind::Signer,
            Self::PerSecond(_) => OptionKind::Rate,
        }
    }
}

fn count(field: &'static str, n: i64, max: u64) -> Result<u64, ValidationError> {
    u64::try_from(n)
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            ValidationError::new(field, format!("must be a whole number from 1 to {max}"))
        })
}

impl ClientBuilder {
    /// Set the option called `name` (see [`CLIENT_OPTIONS`]): what the CLI
    /// and the bindings call for every option they take. A value of the
    /// wrong kind, out of range, or an unknown name is a `ValidationError`
    /// naming the option.
    pub fn set(self, name: &str, value: OptionValue) -> Result<Self, ValidationError> {
        let Some(option) = client_option(name) else {
            return Err(ValidationError::new(
                "options",
                format!("unknown option {name:?}"),
            ));
        };
        let field = option.name;
        if value.kind() != option.kind {
            return Err(ValidationError::new(
                field,
                format!("must be {:?}, not {:?}", option.kind, value.kind()).to_lowercase(),
            ));
        }
        let secs = |s: f64| duration_from_secs(field, s);
        Ok(match (field, value) {
            ("registration_id", OptionValue::Text(t)) => self.registration_id(t),
            ("base_url", OptionValue::Text(t)) => self.base_url(t),
            ("timeout", OptionValue::Seconds(s)) => self.timeout(secs(s)?),
            ("connect_timeout", OptionValue::Seconds(s)) => self.connect_timeout(secs(s)?),
            ("read_attempt_timeout", OptionValue::Seconds(s)) => {
                self.read_attempt_timeout(secs(s)?)
            }
            ("read_max_attempts", OptionValue::Count(n)) => {
                self.read_max_attempts(count(field, n, 100)? as u32)
            }
            ("headers", OptionValue::Headers(h)) => {
                h.into_iter().fold(self, |b, (k, v)| b.header(k, v))
            }
            ("allow_insecure_http", OptionValue::Flag(f)) => self.allow_insecure_http(f),
            ("max_response_bytes", OptionValue::Count(n)) => {
                let n = count(field, n, 1 << 40)?;
                self.max_response_bytes(usize::try_from(n).unwrap_or(usize::MAX))
            }
            ("pool_idle_timeout", OptionValue::Seconds(s)) => {
                // Zero is allowed here: it turns connection reuse off.
                let d = if s == 0.0 { Duration::ZERO } else { secs(s)? };
                self.pool_idle_timeout(d)
            }
            ("root_certificates", OptionValue::Pem(p)) => self.root_certificates_pem(p),
            ("journal", OptionValue::Journal(j)) => self.journal(j),
            ("credentials", OptionValue::Credentials(c)) => self.credentials_provider(c),
            ("on_call", OptionValue::Observer(o)) => self.call_observer(o),
            ("signer", OptionValue::Signer(s)) => self.shared_signer(s),
            (other, _) => {
                return Err(ValidationError::new(
                    "options",
                    format!("option {other:?} is listed but not settable"),
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_per_surface() {
        let t = client_option("read_attempt_timeout").unwrap();
        assert_eq!(t.js_name(), "readAttemptTimeoutMs");
        assert_eq!(t.cli_name(), "read-attempt-timeout");
        assert_eq!(client_option("base_url").unwrap().js_name(), "baseUrl");
    }

    #[test]
    fn every_listed_option_can_be_set() {
        for o in CLIENT_OPTIONS {
            let value = match o.kind {
                OptionKind::Text => OptionValue::Text("https://x.example".into()),
                OptionKind::Seconds => OptionValue::Seconds(1.5),
                OptionKind::Count => OptionValue::Count(3),
                OptionKind::Flag => OptionValue::Flag(true),
                OptionKind::Headers => OptionValue::Headers(vec![("X-Key".into(), "v".into())]),
                OptionKind::Pem => OptionValue::Pem(Vec::new()),
                OptionKind::Journal => continue, // needs a backend feature
                OptionKind::Credentials => OptionValue::Credentials(Arc::new(|| async {
                    Ok(crate::Credentials::default())
                })),
                OptionKind::Observer => {
                    OptionValue::Observer(Arc::new(|_: &crate::CallEvent<'_>| {}))
                }
                OptionKind::Signer => {
                    OptionValue::Signer(Arc::new(|_: &str, _: &[u8]| async { Ok(Vec::new()) }))
                }
                OptionKind::Rate => panic!("no client option is a rate"),
            };
            assert!(
                ClientBuilder::default().set(o.name, value).is_ok(),
                "{}",
                o.name
            );
        }
    }

    #[test]
    fn wrong_kinds_ranges_and_names_are_refused() {
        let b = || ClientBuilder::default();
        let e = b()
            .set("timeout", OptionValue::Text("30".into()))
            .unwrap_err();
        assert_eq!(e.field(), "timeout");
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                b().set("timeout", OptionValue::Seconds(bad))
                    .unwrap_err()
                    .field(),
                "timeout"
            );
        }
        for bad in [0, -1, 101] {
            let e = b()
                .set("read_max_attempts", OptionValue::Count(bad))
                .unwrap_err();
            assert_eq!(e.field(), "read_max_attempts");
        }
        assert_eq!(
            b().set("max_response_bytes", OptionValue::Count(0))
                .unwrap_err()
                .field(),
            "max_response_bytes"
        );
        assert_eq!(
            b().set("timout", OptionValue::Seconds(1.0))
                .unwrap_err()
                .field(),
            "options"
        );
    }
}
