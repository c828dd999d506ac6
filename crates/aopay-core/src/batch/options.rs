//! How a batch runs: its options, each checked by its own rule (the CLI's
//! flags and the bindings' keywords go through the same setters).

use std::time::Duration;

use super::{arg_of, batch_kinds};
use crate::client::WaitOptions;
use crate::endpoints::{ArgValue, Lang};
use crate::error::ValidationError;
use crate::options::{OptionKind, OptionValue};

/// One option of a batch, described once: the CLI's flags, Python's
/// keywords and Node's keys are read from [`BATCH_OPTIONS`], and each value
/// goes through [`BatchOptions::set`].
#[derive(Debug, Clone, Copy)]
pub struct BatchOption {
    /// snake_case: Python's keyword (and, with `-`, the CLI's flag).
    pub name: &'static str,
    /// Node's key: camelCase, with `Ms` for durations.
    pub js_name: &'static str,
    /// What it holds.
    pub kind: OptionKind,
    /// Its default, as text (empty: none).
    pub default: &'static str,
    /// What it does (one line).
    pub doc: &'static str,
}

impl BatchOption {
    /// The CLI's flag, without the dashes: kebab-case.
    pub fn cli_name(&self) -> String {
        self.name.replace('_', "-")
    }
}

/// Every option of a batch.
pub const BATCH_OPTIONS: &[BatchOption] = &[
    BatchOption {
        name: "concurrency",
        js_name: "concurrency",
        kind: OptionKind::Count,
        default: "16",
        doc: "Orders in flight at once (1-1024).",
    },
    BatchOption {
        name: "rate",
        js_name: "rate",
        kind: OptionKind::Rate,
        default: "",
        doc: "At most this many requests a second for the account, shared by every batch on the journal: 200/s, 600/min (default: no limit but the server's 429s, which pause every sender).",
    },
    BatchOption {
        name: "wait_timeout",
        js_name: "waitTimeoutMs",
        kind: OptionKind::Seconds,
        default: "120",
        doc: "Follow pending orders until final for at most this many seconds (0: report them pending).",
    },
    BatchOption {
        name: "attempts",
        js_name: "attempts",
        kind: OptionKind::Count,
        default: "5",
        doc: "Most sends of an order whose failure provably charged nothing (a 429, a refused connection): 1-20.",
    },
    BatchOption {
        name: "geocode",
        js_name: "geocode",
        kind: OptionKind::Text,
        default: "",
        doc: "Geocode (\"lat,long\") for the orders that need one and have none.",
    },
    BatchOption {
        name: "resend_unarrived",
        js_name: "resendUnarrived",
        kind: OptionKind::Flag,
        default: "false",
        doc: "Send again, under its recorded reference, an order whose status call finds no payment (only where the API refuses a reused reference, as the sandbox does).",
    },
    BatchOption {
        name: "create_journal",
        js_name: "createJournal",
        kind: OptionKind::Flag,
        default: "false",
        doc: "Create the journal if it does not exist (a first run). Without it, a journal that does not exist is refused before anything is read or sent: a mistyped or deleted journal would pay every order again.",
    },
];

/// The batch option called `name` (its snake_case or its Node name).
pub fn batch_option(name: &str) -> Option<&'static BatchOption> {
    BATCH_OPTIONS
        .iter()
        .find(|o| o.name == name || o.js_name == name)
}

/// The batch option `lang` calls `name`; any other name (a typo, or
/// another language's spelling) is a `ValidationError` listing the options
/// as `lang` spells them.
pub fn batch_option_in(lang: Lang, name: &str) -> Result<&'static BatchOption, ValidationError> {
    let spelled = |o: &BatchOption| match lang {
        Lang::Node => o.js_name,
        _ => o.name,
    };
    BATCH_OPTIONS
        .iter()
        .find(|o| spelled(o) == name)
        .ok_or_else(|| {
            let known: Vec<_> = BATCH_OPTIONS.iter().map(spelled).collect();
            ValidationError::new(
                "options",
                format!(
                    "unknown option {name:?} (the options are {})",
                    known.join(", ")
                ),
            )
        })
}

/// A default of [`BATCH_OPTIONS`] (the CLI's flags take theirs from here).
pub const fn batch_default(name: &str) -> &'static str {
    let mut i = 0;
    while i < BATCH_OPTIONS.len() {
        if str_eq(BATCH_OPTIONS[i].name, name) {
            return BATCH_OPTIONS[i].default;
        }
        i += 1;
    }
    panic!("no such batch option")
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// How a batch runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BatchOptions {
    /// Orders in flight at once (1–1024; default 16).
    pub concurrency: usize,
    /// At most this many sends per second, for the whole batch (`None`: no
    /// limit but the server's 429s, which pause every sender).
    pub rate: Option<f64>,
    /// Follow a pending answer until it is final, for at most this long
    /// (`None`: report it pending). Waiting holds no sender.
    pub wait: Option<WaitOptions>,
    /// Arguments given to every order that takes them and has none (a
    /// geocode for every MobileRecharge, say).
    pub defaults: Vec<(String, ArgValue)>,
    /// Sends of an order whose failure provably charged nothing (a 429, a
    /// refused connection), at most (1–20; default 5).
    pub attempts: u32,
    /// An order with a reference of its own (DoRecharge, bill payments,
    /// FASTag) whose status call finds no payment under its recorded
    /// reference is sent again under that same reference (default: it
    /// stays unknown). Safe only where the API refuses a reused reference,
    /// as the sandbox does (docs/protocol.md §9).
    pub resend_unarrived: bool,
    /// Whether the batch may create its journal: a SQLite journal that
    /// does not exist is refused without it (a mistyped or deleted journal
    /// would pay every order again). Default `false`.
    pub create_journal: bool,
}

impl Default for BatchOptions {
    /// [`BATCH_OPTIONS`]' defaults.
    fn default() -> Self {
        let whole = |name| batch_default(name).parse().unwrap_or(1);
        let wait = batch_default("wait_timeout").parse().unwrap_or(0);
        Self {
            concurrency: whole("concurrency") as usize,
            rate: None,
            wait: (wait > 0).then(|| WaitOptions::with_timeout(Duration::from_secs(wait))),
            defaults: Vec::new(),
            attempts: whole("attempts") as u32,
            resend_unarrived: false,
            create_journal: false,
        }
    }
}

fn concurrency_of(n: i64) -> Result<usize, ValidationError> {
    usize::try_from(n)
        .ok()
        .filter(|n| (1..=1024).contains(n))
        .ok_or_else(|| ValidationError::new("concurrency", format!("must be 1 to 1024 (got {n})")))
}

fn attempts_of(n: i64) -> Result<u32, ValidationError> {
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=20).contains(n))
        .ok_or_else(|| ValidationError::new("attempts", format!("must be 1 to 20 (got {n})")))
}

/// The options as a CLI flag or a binding's keyword gives them: each
/// setter checks its rule (the same as [`BatchOptions::check`]).
impl BatchOptions {
    /// Orders in flight at once: 1 to 1024.
    pub fn with_concurrency(mut self, n: i64) -> Result<Self, ValidationError> {
        self.concurrency = concurrency_of(n)?;
        Ok(self)
    }

    /// Sends of an order that provably charged nothing: 1 to 20.
    pub fn with_attempts(mut self, n: i64) -> Result<Self, ValidationError> {
        self.attempts = attempts_of(n)?;
        Ok(self)
    }

    /// The batch's rate as text (`200/s`, `600/min`; see [`super::parse_rate`]).
    pub fn with_rate_text(mut self, text: &str) -> Result<Self, ValidationError> {
        self.rate = Some(super::parse_rate(text)?);
        Ok(self)
    }

    /// The batch's rate in sends per second.
    pub fn with_rate_per_second(self, rate: f64) -> Result<Self, ValidationError> {
        self.with_rate_text(&rate.to_string())
    }

    /// How long pending orders are followed, in seconds (0: not at all; at
    /// most a day); `field` names it as the caller spells it.
    pub fn with_wait_secs(
        mut self,
        field: &'static str,
        secs: f64,
    ) -> Result<Self, ValidationError> {
        if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
            return Err(ValidationError::new(
                field,
                format!("must be 0 to 86400 seconds (got {secs})"),
            ));
        }
        self.wait = (secs > 0.0).then(|| WaitOptions::with_timeout(Duration::from_secs_f64(secs)));
        Ok(self)
    }

    /// Whether orders that never arrived are sent again under their
    /// recorded reference ([`BatchOptions::resend_unarrived`]).
    pub fn with_resend_unarrived(mut self, resend: bool) -> Self {
        self.resend_unarrived = resend;
        self
    }

    /// Whether the batch may create its journal
    /// ([`BatchOptions::create_journal`]).
    pub fn with_create_journal(mut self, create: bool) -> Self {
        self.create_journal = create;
        self
    }

    /// A geocode for the orders that take one and have none.
    pub fn with_geocode(mut self, geocode: impl Into<String>) -> Self {
        self.defaults
            .push(("geocode".to_owned(), ArgValue::Text(geocode.into())));
        self
    }

    /// Set the option called `name` (its snake_case or its Node name; see
    /// [`BATCH_OPTIONS`]): what the CLI and the bindings call for every
    /// option they take. A value of the wrong kind or out of range, or an
    /// unknown name, is a `ValidationError` naming the option as given.
    pub fn set(self, name: &str, value: OptionValue) -> Result<Self, ValidationError> {
        let option = match batch_option(name) {
            Some(o) => o,
            None => batch_option_in(Lang::Rust, name)?,
        };
        let field = if name == option.js_name {
            option.js_name
        } else {
            option.name
        };
        let o = match (option.name, value) {
            ("concurrency", OptionValue::Count(n)) => self.with_concurrency(n),
            ("attempts", OptionValue::Count(n)) => self.with_attempts(n),
            ("rate", OptionValue::Text(t)) => self.with_rate_text(&t),
            ("rate", OptionValue::PerSecond(r)) => self.with_rate_per_second(r),
            ("wait_timeout", OptionValue::Seconds(s)) => self.with_wait_secs(field, s),
            ("geocode", OptionValue::Text(t)) => Ok(self.with_geocode(t)),
            ("resend_unarrived", OptionValue::Flag(f)) => Ok(self.with_resend_unarrived(f)),
            ("create_journal", OptionValue::Flag(f)) => Ok(self.with_create_journal(f)),
            (_, value) => {
                return Err(ValidationError::new(
                    field,
                    format!("must be {:?}, not {:?}", option.kind, value.kind()).to_lowercase(),
                ));
            }
        };
        o.map_err(|e| {
            if e.field() == option.name {
                e.on_field(field)
            } else {
                e
            }
        })
    }

    /// Every option's rule ([`crate::Client::run_batch`] checks them too).
    pub fn check(&self) -> Result<(), ValidationError> {
        concurrency_of(i64::try_from(self.concurrency).unwrap_or(i64::MAX))?;
        attempts_of(i64::from(self.attempts))?;
        if let Some(r) = self.rate {
            if !r.is_finite() || r <= 0.0 || r > 10_000.0 {
                return Err(ValidationError::new(
                    "rate",
                    format!("must be above 0 and at most 10000 per second (got {r})"),
                ));
            }
        }
        for (name, _) in &self.defaults {
            if !batch_kinds().any(|k| arg_of(k, name).is_some()) || name == super::KEY_ARG {
                return Err(ValidationError::new(
                    "defaults",
                    format!("{name:?} is not a field of any order"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_client_options_rules() {
        for o in BATCH_OPTIONS {
            let mut js = crate::naming::camel_case(o.name);
            if o.kind == OptionKind::Seconds {
                js.push_str("Ms");
            }
            assert_eq!(o.js_name, js, "{}", o.name);
            assert!(batch_option(o.name).is_some() && batch_option(o.js_name).is_some());
        }
    }

    #[test]
    fn the_default_is_the_tables() {
        let d = BatchOptions::default();
        assert_eq!(d.concurrency.to_string(), batch_default("concurrency"));
        assert_eq!(d.attempts.to_string(), batch_default("attempts"));
        let wait = d.wait.map(|w| w.timeout.as_secs().to_string());
        assert_eq!(wait.as_deref(), Some(batch_default("wait_timeout")));
        assert_eq!(
            d.resend_unarrived.to_string(),
            batch_default("resend_unarrived")
        );
        assert_eq!(
            d.create_journal.to_string(),
            batch_default("create_journal")
        );
        assert!(d.rate.is_none() && batch_default("rate").is_empty());
    }

    #[test]
    fn every_option_is_set_by_either_name_and_checked() {
        let value = |kind| match kind {
            OptionKind::Count => OptionValue::Count(3),
            OptionKind::Seconds => OptionValue::Seconds(2.5),
            OptionKind::Rate => OptionValue::Text("10/s".into()),
            OptionKind::Text => OptionValue::Text("23.6,76.8".into()),
            OptionKind::Flag => OptionValue::Flag(true),
            other => panic!("no batch option is {other:?}"),
        };
        for o in BATCH_OPTIONS {
            for name in [o.name, o.js_name] {
                BatchOptions::default().set(name, value(o.kind)).unwrap();
                let wrong = match o.kind {
                    OptionKind::Flag => OptionValue::Count(1),
                    _ => OptionValue::Flag(true),
                };
                let e = BatchOptions::default().set(name, wrong).unwrap_err();
                assert_eq!(e.field(), name);
            }
        }
        let o = BatchOptions::default()
            .set("rate", OptionValue::PerSecond(12.5))
            .unwrap();
        assert_eq!(o.rate, Some(12.5));
        for (name, value) in [
            ("concurrency", OptionValue::Count(0)),
            ("attempts", OptionValue::Count(21)),
            ("waitTimeoutMs", OptionValue::Seconds(-1.0)),
            ("wait_timeout", OptionValue::Seconds(f64::NAN)),
            ("rate", OptionValue::Text("fast".into())),
            ("rate", OptionValue::PerSecond(0.0)),
        ] {
            let e = BatchOptions::default().set(name, value).unwrap_err();
            assert_eq!(e.field(), name);
        }
        let e = BatchOptions::default()
            .set("concurency", OptionValue::Count(2))
            .unwrap_err();
        assert_eq!(e.field(), "options");
        assert!(e.to_string().contains("concurrency"), "{e}");
        assert!(batch_option_in(Lang::Node, "waitTimeoutMs").is_ok());
        let e = batch_option_in(Lang::Node, "wait_timeout").unwrap_err();
        assert!(e.to_string().contains("waitTimeoutMs"), "{e}");
        assert!(batch_option_in(Lang::Python, "waitTimeoutMs").is_err());
    }
}
