//! The core's `tracing` events to Python's `logging`, under the loggers of
//! `aopay_core::diagnostics::area` (`aopay.http`, `aopay.journal`, …). An
//! event is forwarded only when the `aopay` logger is enabled for its level (read when the module loads, when a client is built and by
//! `_refresh_logging()`), so that a program that does not log pays only an
//! atomic load per event. The events carry masked customer numbers and no
//! header values: the core's guarantees hold here unchanged.

use std::sync::atomic::{AtomicU8, Ordering};

use aopay_core::diagnostics::{area, is_ours, render};
use pyo3::prelude::*;
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

struct ToPython;

impl<S: Subscriber> Layer<S> for ToPython {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        // Whether it is wanted changes with Python's configuration: ask each time.
        if is_ours(meta) {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        is_ours(meta) && rank(meta.level()) <= THRESHOLD.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let text = render(event);
        let name = area(meta);
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
