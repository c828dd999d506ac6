//! Diagnostics for Node: `AOPAY_LOG` (`debug`, or directives as the CLI
//! takes them: `aopay=trace,hyper=debug`) prints the core's events to
//! stderr, and a client built with a `logger` gets, at DEBUG and above, the
//! events of its own calls, through its queue of results (`Dispatcher`). The events carry masked
//! customer numbers and no header values: the core's guarantees hold here
//! unchanged.

use std::future::Future;
use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use aopay_core::diagnostics::{area, is_ours, render};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// Where a client's log lines go: its logger, on the JS thread.
pub(crate) trait LogSink: Send + Sync {
    fn log(&self, level: &'static str, line: &str);
}

tokio::task_local! {
    /// The logger of the client whose call is running on this task.
    static CLIENT_LOG: Arc<dyn LogSink>;
}

/// Clients alive with a logger: while there is none, their layer is off.
static WITH_LOGGER: AtomicUsize = AtomicUsize::new(0);

/// Counts a client with a logger while it lives.
pub(crate) struct LoggerGuard(());

impl LoggerGuard {
    pub(crate) fn new() -> Self {
        install();
        WITH_LOGGER.fetch_add(1, Ordering::Relaxed);
        Self(())
    }
}

impl Drop for LoggerGuard {
    fn drop(&mut self) {
        WITH_LOGGER.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `fut`, with its events going to `sink` (when the client has a logger).
pub(crate) async fn with_sink<F: Future>(sink: Option<Arc<dyn LogSink>>, fut: F) -> F::Output {
    match sink {
        Some(sink) => CLIENT_LOG.scope(sink, fut).await,
        None => fut.await,
    }
}

/// The console method for a level.
fn method(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        _ => "debug",
    }
}

struct ToLogger;

impl<S: Subscriber> Layer<S> for ToLogger {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let _ = CLIENT_LOG.try_with(|sink| {
            let meta = event.metadata();
            sink.log(
                method(meta.level()),
                &format!("{}: {}", area(meta), render(event)),
            );
        });
    }
}

/// Install both layers once per process (at the first client with a
/// logger, or when the addon loads with `AOPAY_LOG` set).
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let to_stderr = std::env::var("AOPAY_LOG").ok().map(|spec| {
            // A bare level is the SDK's (as in Python): `debug` shows aopay's
            // events, not those of the HTTP stack beneath; directives
            // (`aopay=debug,hyper=trace`) are taken as they are.
            let spec = if spec.contains('=') || spec.contains(',') {
                spec
            } else {
                format!("aopay={}", spec.trim())
            };
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(
                    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
                )
                .with_filter(EnvFilter::new(spec))
        });
        let to_logger = ToLogger.with_filter(filter_fn(|meta| {
            is_ours(meta)
                && *meta.level() <= Level::DEBUG
                && WITH_LOGGER.load(Ordering::Relaxed) > 0
        }));
        // An embedding program may have set its own subscriber: then ours stays out.
        let _ = tracing::subscriber::set_global_default(
            tracing_subscriber::registry()
                .with(to_stderr)
                .with(to_logger),
        );
    });
}
