//! How a batch runs: its options, each checked by its own rule (the CLI's
//! flags and the bindings' keywords go through the same setters).

use std::time::Duration;

use super::{arg_of, batch_kinds};
use crate::client::WaitOptions;
use crate::endpoints::ArgValue;
use crate::error::ValidationError;

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
    fn default() -> Self {
        Self {
            concurrency: 16,
            rate: None,
            wait: Some(WaitOptions::default()),
            defaults: Vec::new(),
            attempts: 5,
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
