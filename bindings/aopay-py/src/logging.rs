//! The core's `tracing` events to Python's `logging`: `aopay.http` (calls,
//! retries), `aopay.credentials`, `aopay.journal`, `aopay.sandbox`, else
//! `aopay`. An event is forwarded only when the `aopay` logger is enabled
//! for its level (read when the module loads, when a client is built and by
//! `_refresh_logging()`), so that a program that does not log pays only an
//! atomic load per event. The events carry masked customer numbers and no
//! header values: the core's guarantees hold here unchanged.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};

use pyo3::prelude::*;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

use crate::asyncio::attach_from_worker;

/// The most verbose level forwarded: 0 none, 1 ERROR … 5 TRACE.
static THRESHOLD: AtomicU8 = AtomicU8::new(0);

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// Python's level number for a `tracing` level (TRACE is 5, below DEBUG).
fn python_level(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

fn logger_name(meta: &Metadata<'_>) -> &'static str {
    let module = meta.module_path().unwrap_or_default();
    if module.starts_with("aopay_sandbox") {
        "aopay.sandbox"
    } else if module.contains("::credentials") {
        "aopay.credentials"
    } else if module.contains("::journal") || module.contains("::idempotency") {
        "aopay.journal"
    } else if module.starts_with("aopay_core::client") {
        "aopay.http"
    } else {
        "aopay"
    }
}

fn ours(meta: &Metadata<'_>) -> bool {
    meta.target().starts_with("aopay")
}

/// `message k=v k=v`, as the CLI prints events.
#[derive(Default)]
struct Line(String, String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.1, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.1, " {}={value}", field.name());
        }
    }
}

struct ToPython;

impl<S: Subscriber> Layer<S> for ToPython {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        // Whether it is wanted changes with Python's configuration: ask each time.
        if ours(meta) {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        ours(meta) && rank(meta.level()) <= THRESHOLD.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut line = Line::default();
        event.record(&mut line);
        let text = format!("{}{}", line.0, line.1);
        let name = logger_name(meta);
        let level = python_level(meta.level());
        let _ = attach_from_worker(|py| {
            let logger = py.import("logging")?.call_method1("getLogger", (name,))?;
            logger.call_method1("log", (level, text)).map(|_| ())
        });
    }
}

/// Read the `aopay` logger's effective level again.
#[pyfunction]
pub(crate) fn _refresh_logging(py: Python<'_>) -> PyResult<()> {
    let logger = py
        .import("logging")?
        .call_method1("getLogger", ("aopay",))?;
    let level: i64 = logger.call_method0("getEffectiveLevel")?.extract()?;
    let threshold = match level {
        ..=5 => 5,
        6..=10 => 4,
        11..=20 => 3,
        21..=30 => 2,
        31..=40 => 1,
        _ => 0,
    };
    THRESHOLD.store(threshold, Ordering::Relaxed);
    Ok(())
}

/// Install the forwarding once per process (a Rust program embedding the
/// interpreter may have set its own subscriber: then this one stays out).
pub(crate) fn install(py: Python<'_>) -> PyResult<()> {
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(ToPython));
    _refresh_logging(py)
}
