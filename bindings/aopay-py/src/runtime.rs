//! One tokio runtime per process (pyo3-async-runtimes' own), shared by the
//! blocking client, the async client and the sandbox.

use std::future::Future;
use std::time::Duration;

use pyo3::prelude::*;

use crate::errors::to_py_err;

/// How often a blocking call looks for Ctrl-C (KeyboardInterrupt).
const SIGNAL_POLL: Duration = Duration::from_millis(100);

pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Run `fut` with the GIL released, waking every 100 ms to run Python's
/// signal handlers: Ctrl-C raises KeyboardInterrupt and drops the call.
pub(crate) fn block_on_interruptibly<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    T: Send,
    F: Future<Output = Result<T, aopay_core::Error>> + Send,
{
    let rt = runtime();
    let mut fut = std::pin::pin!(fut);
    loop {
        let polled =
            py.detach(|| rt.block_on(async { tokio::time::timeout(SIGNAL_POLL, &mut fut).await }));
        match polled {
            Ok(result) => return result.map_err(to_py_err),
            Err(_elapsed) => py.check_signals()?,
        }
    }
}
