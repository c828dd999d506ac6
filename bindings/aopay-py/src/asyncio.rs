//! Completing asyncio futures from tokio in batches.
//!
//! pyo3-async-runtimes wakes the event loop once per completed call (a
//! `call_soon_threadsafe` each, with the GIL taken from a worker thread each
//! time). Here, while a drain is already scheduled, a completion only appends
//! to its loop's queue; otherwise it schedules one, and that drain settles
//! every future queued by then. Under load, one wake-up and one GIL hand-off
//! serve many calls.
//!
//! The completion that schedules a drain publishes its own result only while
//! holding the GIL, in the same step: no drain can settle its future (and let
//! the program finish and the interpreter shut down) before that thread is
//! done with Python.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::errors::to_py_err;
use crate::observe::Deferred;
use crate::runtime::runtime;

tokio::task_local! {
    /// The event loop awaiting the current call (for a coroutine
    /// credentials provider, which runs there).
    pub(crate) static CALLER_LOOP: std::sync::Arc<Py<PyAny>>;
}

/// What a finished call hands to Python.
#[derive(Debug)]
pub(crate) enum Payload {
    /// Dicts and lists (answers, journal listings).
    Json(serde_json::Value),
    /// One outcome, as `aopay.Payment`.
    Outcome(Box<aopay_core::Payment>),
    /// `None` (the sandbox's `__aexit__`).
    Unit,
    /// The end of an async iterator: raises `StopAsyncIteration`.
    EndOfIteration,
}

pub(crate) type Outcome = Result<Payload, aopay_core::Error>;

/// The queue of one event loop; calling it (on the loop) drains it.
#[pyclass(frozen)]
#[derive(Debug)]
pub(crate) struct Batch {
    event_loop: Py<PyAny>,
    queue: Mutex<Queue>,
    /// A forked child never uses its parent's queue: a worker thread of the
    /// parent may have held its lock at the fork.
    pid: u32,
}

#[derive(Debug, Default)]
struct Queue {
    items: Vec<(Py<PyAny>, Outcome, Deferred)>,
    /// A drain is scheduled and has not started yet.
    drain_scheduled: bool,
}

impl Batch {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Called on a tokio thread when a call has finished.
    fn complete(this: &Py<Batch>, fut: Py<PyAny>, outcome: Outcome, events: Deferred) {
        let b = this.get();
        {
            let mut q = b.lock();
            if q.drain_scheduled {
                q.items.push((fut, outcome, events));
                return;
            }
            q.drain_scheduled = true;
        }
        // `None`: the interpreter is shutting down; nobody is waiting any more.
        let _ = attach_from_worker(|py| {
            b.lock().items.push((fut, outcome, events));
            // A closed loop has nobody left to tell.
            let _ = b
                .event_loop
                .bind(py)
                .call_method1("call_soon_threadsafe", (this.clone_ref(py),));
        });
    }
}

#[pymethods]
impl Batch {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        let items = {
            let mut q = self.lock();
            q.drain_scheduled = false;
            std::mem::take(&mut q.items)
        };
        for (fut, outcome, events) in items {
            // Its `on_call` events first, as the call's own result comes after.
            crate::observe::deliver(py, events);
            let fut = fut.bind(py);
            if fut.call_method0("done")?.is_truthy()? {
                continue; // cancelled while in flight
            }
            match outcome {
                Ok(Payload::Json(v)) => {
                    fut.call_method1("set_result", (crate::convert::json_to_py(py, &v)?,))?
                }
                Ok(Payload::Outcome(v)) => {
                    fut.call_method1("set_result", (crate::convert::outcome_to_py(py, v)?,))?
                }
                Ok(Payload::Unit) => fut.call_method1("set_result", (py.None(),))?,
                Ok(Payload::EndOfIteration) => fut.call_method1(
                    "set_exception",
                    (pyo3::exceptions::PyStopAsyncIteration::new_err(()).into_value(py),),
                )?,
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

/// Worker threads currently inside Python, and whether Python is exiting.
static IN_PYTHON: AtomicUsize = AtomicUsize::new(0);
static EXITING: AtomicBool = AtomicBool::new(false);

/// Enter Python from a tokio thread, unless the interpreter is exiting.
///
/// A worker thread that touches Python while the interpreter finalizes
/// crashes the process (CPython stops or kills such threads). The `atexit`
/// hook below closes the door and waits for threads already inside.
pub(crate) fn attach_from_worker<R>(f: impl FnOnce(Python<'_>) -> R) -> Option<R> {
    IN_PYTHON.fetch_add(1, Ordering::SeqCst);
    let result = if EXITING.load(Ordering::SeqCst) {
        None
    } else {
        Python::try_attach(f)
    };
    IN_PYTHON.fetch_sub(1, Ordering::SeqCst);
    result
}

/// Registered with `atexit`: from now on no worker thread enters Python;
/// wait (without the GIL, at most 2 s) for those inside to leave.
#[pyfunction]
pub(crate) fn _quiesce(py: Python<'_>) {
    EXITING.store(true, Ordering::SeqCst);
    // Clients the interpreter never collects keep their journals open: the
    // `.db` file must hold every entry all the same.
    py.detach(aopay_core::Journal::checkpoint_all);
    py.detach(|| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while IN_PYTHON.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    });
}

/// The batches of the process, one per event loop in use.
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

/// Every asyncio-facing call of the module goes through this one.
pub(crate) static BATCHES: Batches = Batches {
    per_loop: Mutex::new(Vec::new()),
};

/// An already settled future: for `__aenter__`, which has nothing to wait for.
pub(crate) fn ready<'py>(py: Python<'py>, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let fut = get_running_loop(py)?.call_method0("create_future")?;
    fut.call_method1("set_result", (value,))?;
    Ok(fut)
}

impl Batches {
    fn for_loop(&self, py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Py<Batch>> {
        let mut per_loop = self
            .per_loop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(b) = per_loop.iter().find(|b| {
            b.get().pid == std::process::id() && b.get().event_loop.bind(py).is(event_loop)
        }) {
            return Ok(b.clone_ref(py));
        }
        // Forget loops that were closed (each test, each asyncio.run).
        per_loop.retain(|b| {
            b.get().pid == std::process::id()
                && !b
                    .get()
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
                queue: Mutex::new(Queue::default()),
                pid: std::process::id(),
            },
        );
        let b = batch?;
        per_loop.push(b.clone_ref(py));
        Ok(b)
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
        let batch = self.for_loop(py, &event_loop)?;
        let settle = py_fut.clone().unbind();
        let caller_loop = std::sync::Arc::new(event_loop.clone().unbind());
        let task = runtime()?.spawn(CALLER_LOOP.scope(caller_loop, async move {
            let (outcome, events) = crate::observe::collecting(fut).await;
            Batch::complete(&batch, settle, outcome, events);
        }));
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

type BoxedCall = std::pin::Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// What an `AsyncClient` method returns: a coroutine-like awaitable that
/// binds to the event loop running when it is first awaited (not when it
/// was created), so `asyncio.run(client.mobile_recharge(...))`, calls made
/// before a loop runs, and one client over several successive loops all
/// work. Nothing is sent until then. It implements the coroutine protocol
/// (`send`, `throw`, `close`, `__await__`), so asyncio, uvloop and
/// `asyncio.iscoroutine` take it as a coroutine.
#[pyclass(frozen, module = "aopay", name = "AsyncCall")]
pub(crate) struct AsyncCall {
    name: &'static str,
    state: Mutex<CallState>,
}

enum CallState {
    NotStarted {
        call: BoxedCall,
        abort_on_cancel: bool,
    },
    /// The `__await__` iterator of the asyncio future it runs as.
    Started(Py<PyAny>),
    Closed,
}

impl std::fmt::Debug for AsyncCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncCall")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl AsyncCall {
    /// `abort_on_cancel`: cancelling the caller also stops the Rust side
    /// (reads). A write keeps running and records its outcome.
    pub(crate) fn new<F>(name: &'static str, call: F, abort_on_cancel: bool) -> Self
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        Self {
            name,
            state: Mutex::new(CallState::NotStarted {
                call: Box::pin(call),
                abort_on_cancel,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CallState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The call has returned (StopIteration) or raised: like a finished
    /// coroutine, it cannot be awaited again.
    fn finish_on_error<T>(&self, step: PyResult<T>) -> PyResult<T> {
        if step.is_err() {
            *self.lock() = CallState::Closed;
        }
        step
    }

    /// The future's iterator, spawning the call on first use.
    fn iterator<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let taken = {
            let mut state = self.lock();
            match &*state {
                CallState::Started(it) => return Ok(it.bind(py).clone()),
                CallState::Closed => {
                    return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                        "cannot reuse already awaited {}()",
                        self.name
                    )));
                }
                CallState::NotStarted { .. } => std::mem::replace(&mut *state, CallState::Closed),
            }
        };
        let CallState::NotStarted {
            call,
            abort_on_cancel,
        } = taken
        else {
            // Only a `NotStarted` state is taken above.
            return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                "{}() was already started",
                self.name
            )));
        };
        let fut = BATCHES.spawn(py, call, abort_on_cancel)?;
        let it = fut.call_method0("__await__")?;
        *self.lock() = CallState::Started(it.clone().unbind());
        Ok(it)
    }
}

#[pymethods]
impl AsyncCall {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let step = self.iterator(py)?.call_method0("__next__");
        self.finish_on_error(step)
    }

    fn send<'py>(&self, py: Python<'py>, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let step = self.iterator(py)?.call_method1("send", (value,));
        self.finish_on_error(step)
    }

    #[pyo3(signature = (*args))]
    fn throw<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let started = match &*self.lock() {
            CallState::Started(it) => Some(it.clone_ref(py)),
            _ => None,
        };
        match started {
            Some(it) => {
                let step = it.bind(py).call_method1("throw", args.clone());
                self.finish_on_error(step)
            }
            None => {
                // Thrown into before it started (a task cancelled before
                // its first step): nothing was sent, and nothing will be.
                *self.lock() = CallState::Closed;
                let exc = args.get_item(0)?;
                let exc = if exc.is_instance_of::<pyo3::types::PyType>() {
                    exc.call0()?
                } else {
                    exc
                };
                Err(PyErr::from_value(exc))
            }
        }
    }

    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let prior = std::mem::replace(&mut *self.lock(), CallState::Closed);
        if let CallState::Started(it) = prior {
            it.bind(py).call_method0("close")?;
        }
        Ok(())
    }

    fn __repr__(&self) -> String {
        let state = match &*self.lock() {
            CallState::NotStarted { .. } => "not started",
            CallState::Started(_) => "running",
            CallState::Closed => "closed",
        };
        format!("<aopay.AsyncCall {}() {state}>", self.name)
    }
}

impl Drop for AsyncCall {
    fn drop(&mut self) {
        if matches!(&*self.lock(), CallState::NotStarted { .. }) {
            let name = self.name;
            let _ = attach_from_worker(|py| {
                let category = py.get_type::<pyo3::exceptions::PyRuntimeWarning>();
                let message = std::ffi::CString::new(format!(
                    "aopay {name}() was never awaited; nothing was sent"
                ))
                .unwrap_or_default();
                let _ = PyErr::warn(py, &category, &message, 1);
            });
        }
    }
}
