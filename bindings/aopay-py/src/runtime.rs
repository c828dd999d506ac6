//! The tokio runtimes: one shared multi-thread runtime per process (the
//! async client, the sandbox) and one current-thread runtime per blocking
//! client. Each is rebuilt in a forked child.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use aopay_core::PerProcess;
use tokio::runtime::Runtime;

use pyo3::prelude::*;

use crate::errors::to_py_err;

/// How often a blocking call looks for Ctrl-C (KeyboardInterrupt).
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// The process's shared multi-thread runtime (the async client's calls, the
/// sandbox). Built again in a forked child, whose copy of the parent's has
/// no worker threads: anything spawned on it would never run.
pub(crate) fn runtime() -> PyResult<&'static Runtime> {
    static SHARED: OnceLock<PerProcess<Runtime>> = OnceLock::new();
    let shared = SHARED.get_or_init(|| PerProcess::lazy(build_multi_thread));
    shared.get().map_err(runtime_error)
}

fn build_multi_thread() -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("aopay-worker")
        .build()
        .map_err(|e| e.to_string())
}

/// The blocking client's own runtime: a current-thread one, driven by
/// whichever calling thread holds it, so a call costs no hand-off to a
/// worker thread (measured: the difference between 0.6x and ~1x of raw
/// reqwest). Its connections live on it, so it is one per `Client`, and
/// one per process: a forked child must not share its epoll set.
pub(crate) fn blocking_runtime() -> PyResult<PerProcess<OwnRuntime>> {
    PerProcess::new(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| OwnRuntime(Some(rt)))
            .map_err(|e| e.to_string())
    })
    .map_err(|e| runtime_error(&e))
}

/// A blocking client's runtime, safe to drop anywhere. Python frees a
/// client wherever its garbage collector runs, and that can be inside
/// another client's call (Python code runs there: a log record, a
/// credentials callback); dropping a runtime inside a running one panics,
/// so there it shuts down in the background instead.
#[derive(Debug)]
pub(crate) struct OwnRuntime(Option<Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                rt.shutdown_background();
            }
        }
    }
}

/// This process's runtime of a blocking client.
pub(crate) fn this_process(rt: &PerProcess<OwnRuntime>) -> PyResult<&Runtime> {
    match rt.get().map_err(runtime_error)?.0.as_ref() {
        Some(rt) => Ok(rt),
        None => Err(runtime_error("the client's runtime is shut down")),
    }
}

/// A blocking call blocks this thread until it ends, which a thread already
/// running one of aopay's calls cannot do (Python code runs there: a log
/// handler, a credentials callback); tokio would panic. Refused before
/// anything is sent.
pub(crate) fn not_inside_a_call() -> PyResult<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(
            "a blocking aopay call cannot run inside another aopay call (here, in Python code that call runs: a log handler or a callback); nothing was sent. Make it from another thread, or with AsyncClient",
        ));
    }
    Ok(())
}

fn runtime_error(e: &str) -> PyErr {
    pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start a runtime: {e}"))
}

/// Run `fut` on `rt` with the GIL released, waking every 100 ms to run
/// Python's signal handlers: Ctrl-C raises KeyboardInterrupt and drops the call.
pub(crate) fn block_on_interruptibly<T, F>(
    py: Python<'_>,
    rt: &tokio::runtime::Runtime,
    fut: F,
) -> PyResult<T>
where
    T: Send,
    F: Future<Output = Result<T, aopay_core::Error>> + Send,
{
    not_inside_a_call()?;
    let mut fut = Box::pin(crate::observe::collecting(fut));
    loop {
        let polled =
            py.detach(|| rt.block_on(async { tokio::time::timeout(SIGNAL_POLL, &mut fut).await }));
        match polled {
            Ok((result, events)) => {
                // Its `on_call` events, before the caller sees the result.
                crate::observe::deliver(py, events);
                return match result {
                    Ok(v) => Ok(v),
                    Err(e) => {
                        drop(fut);
                        settle(py, rt);
                        Err(to_py_err(e))
                    }
                };
            }
            Err(_elapsed) => {
                if let Err(interrupt) = py.check_signals() {
                    drop(fut);
                    settle(py, rt);
                    return Err(interrupt);
                }
            }
        }
    }
}

/// After a call ended early (timeout, broken exchange, Ctrl-C), give the
/// runtime a few polls so that the connection tasks see the dropped request
/// and close their sockets now, not at the next call: nothing else drives a
/// current-thread runtime between calls.
fn settle(py: Python<'_>, rt: &tokio::runtime::Runtime) {
    py.detach(|| {
        rt.block_on(async {
            for _ in 0..4 {
                tokio::task::yield_now().await;
            }
        })
    });
}
