//! The SDK's `tracing` events as the bindings pass them on to their
//! language's loggers: which are ours, the area each belongs to, and one
//! line of text for each. The events carry masked customer numbers and no
//! header values (the client's guarantee); nothing here adds any.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Metadata};

/// Whether an event comes from the SDK (the core, the sandbox).
pub fn is_ours(meta: &Metadata<'_>) -> bool {
    meta.target().starts_with("aopay")
}

/// The logger an event belongs to: `aopay.http` (calls, retries),
/// `aopay.credentials`, `aopay.journal`, `aopay.sandbox`, else `aopay`.
pub fn area(meta: &Metadata<'_>) -> &'static str {
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

/// `message k=v k=v`, as the CLI prints an event.
pub fn render(event: &Event<'_>) -> String {
    let mut line = Line::default();
    event.record(&mut line);
    line.0.push_str(&line.1);
    line.0
}

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
