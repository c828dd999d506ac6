//! Completing asyncio futures from tokio in batches.
//!
//! pyo3-async-runtimes wakes the event loop once per completed call (a
//! `call_soon_threadsafe` each, with the GIL taken from a worker thread each
//! time). Here a completion only appends to its loop's queue; the one that
//! finds the queue empty schedules a single drain on the loop thread, which
//! settles every future queued by then. Under load, one wake-up and one GIL
//! hand-off serve many calls.

use std::future::Future;
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::PyRecharge;
use crate::errors::to_py_err;
use crate::runtime::runtime;

type Outcome = Result<aopay_core::Recharge, aopay_core::Error>;

/// The queue of one event loop; calling it (on the loop) drains it.
#[pyclass(frozen)]
#[derive(Debug)]
pub(crate) struct Batch {
    event_loop: Py<PyAny>,
    queue: Mutex<Vec<(Py<PyAny>, Outcome)>>,
}

#[pymethods]
impl Batch {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        let items = std::mem::take(
            &mut *self
                .queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for (fut, outcome) in items {
            let fut = fut.bind(py);
            if fut.call_method0("done")?.is_truthy()? {
                continue; // cancelled while in flight
            }
            match outcome {
                Ok(r) => fut.call_method1("set_result", (PyRecharge::from(r),))?,
                Err(e) => fut.call_method1("set_exception", (to_py_err(e).into_value(py),))?,
            };
        }
        Ok(())
    }
}

/// Aborts the tokio task when its asyncio future is cancelled.
#[pyclass(frozen)]
#[derive(Debug)]
pub(crate) struct AbortOnCancel {
    handle: tokio::task::AbortHandle,
}

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, fut: &Bound<'_, PyAny>) -> PyResult<()> {
        if fut.call_method0("cancelled")?.is_truthy()? {
            self.handle.abort();
        }
        Ok(())
    }
}

/// The batches of one client, one per event loop it has been used from.
#[derive(Debug, Default)]
pub(crate) struct Batches {
    per_loop: Mutex<Vec<Py<Batch>>>,
}

fn get_running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    GET_RUNNING_LOOP
        .get_or_try_init(py, || {
            py.import("asyncio")?
                .getattr("get_running_loop")
                .map(Bound::unbind)
        })?
        .bind(py)
        .call0()
}

impl Batches {
    fn for_loop(&self, py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> Py<Batch> {
        let mut per_loop = self
            .per_loop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(b) = per_loop
            .iter()
            .find(|b| b.get().event_loop.bind(py).is(event_loop))
        {
            return b.clone_ref(py);
        }
        // Forget loops that were closed (each test, each asyncio.run).
        per_loop.retain(|b| {
            !b.get()
                .event_loop
                .bind(py)
                .call_method0("is_closed")
                .and_then(|c| c.is_truthy())
                .unwrap_or(true)
        });
        let batch = Py::new(
            py,
            Batch {
                event_loop: event_loop.clone().unbind(),
                queue: Mutex::new(Vec::new()),
            },
        );
        match batch {
            Ok(b) => {
                per_loop.push(b.clone_ref(py));
                b
            }
            Err(_) => unreachable!("creating a plain pyclass instance cannot fail"),
        }
    }

    /// Run `fut` on the shared runtime; return an asyncio future for it.
    /// `abort_on_cancel` also stops the Rust side when the caller cancels.
    pub(crate) fn spawn<'py, F>(
        &self,
        py: Python<'py>,
        fut: F,
        abort_on_cancel: bool,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        let event_loop = get_running_loop(py)?;
        let py_fut = event_loop.call_method0("create_future")?;
        let batch = self.for_loop(py, &event_loop);
        let settle = py_fut.clone().unbind();
        let task = runtime().spawn(async move {
            let outcome = fut.await;
            let b = batch.get();
            let wake = {
                let mut q = b
                    .queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                q.push((settle, outcome));
                q.len() == 1
            };
            if wake {
                Python::attach(|py| {
                    // A closed loop has nobody left to tell.
                    let _ = b
                        .event_loop
                        .bind(py)
                        .call_method1("call_soon_threadsafe", (batch.clone_ref(py),));
                });
            }
        });
        if abort_on_cancel {
            py_fut.call_method1(
                "add_done_callback",
                (AbortOnCancel {
                    handle: task.abort_handle(),
                },),
            )?;
        }
        Ok(py_fut)
    }
}
