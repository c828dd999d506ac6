//! State that belongs to one process: rebuilt in a forked child, never shared.
//!
//! A child made by `fork()` (gunicorn `--preload`, Celery's prefork pool,
//! Python's `multiprocessing`) inherits copies of the parent's sockets,
//! epoll set, SQLite handles and tokio runtimes, but none of its threads.
//! Using them from the child hangs (the runtime's workers do not exist
//! there) or, worse, shares a pooled connection with the parent, so one
//! process can read the answer to another's recharge. Dropping them is not
//! safe either: closing a connection deregisters it from the epoll set the
//! parent still uses, and shutting a runtime down waits for threads that
//! are gone. So a [`PerProcess`] value is built again the first time a new
//! process uses it, and the parent's copy is leaked in the child, untouched.

use std::sync::OnceLock;

/// A value built once per process by `make`; see the module docs.
///
/// Lookups cost one `getpid` and one pointer comparison per fork level.
/// The values of earlier processes form a chain (one node per level of
/// forking), so no lock is ever taken once the value of this process exists.
pub struct PerProcess<T> {
    root: Node<T>,
    make: Box<dyn Fn() -> Result<T, String> + Send + Sync>,
}

struct Node<T> {
    pid: u32,
    /// `Err` when `make` failed in this process: reported at each use.
    value: Option<Result<T, String>>,
    child: OnceLock<Box<Node<T>>>,
}

impl<T> Node<T> {
    fn new(value: Result<T, String>) -> Self {
        Self {
            pid: std::process::id(),
            value: Some(value),
            child: OnceLock::new(),
        }
    }
}

impl<T> Drop for Node<T> {
    fn drop(&mut self) {
        // Another process's value: leave its sockets and threads alone.
        if self.pid != std::process::id() {
            std::mem::forget(self.value.take());
        }
    }
}

impl<T> PerProcess<T> {
    /// Build the value of this process now (its error is returned), and
    /// again with `make` in each forked child that uses it.
    pub fn new(
        make: impl Fn() -> Result<T, String> + Send + Sync + 'static,
    ) -> Result<Self, String> {
        Ok(Self::with_value(make()?, make))
    }

    /// `value` is this process's; forked children build theirs with `make`.
    pub fn with_value(
        value: T,
        make: impl Fn() -> Result<T, String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            root: Node::new(Ok(value)),
            make: Box::new(make),
        }
    }

    /// Nothing built yet: the first use in each process builds its value.
    pub fn lazy(make: impl Fn() -> Result<T, String> + Send + Sync + 'static) -> Self {
        Self {
            root: Node {
                pid: 0, // no process: every process builds its own on first use
                value: None,
                child: OnceLock::new(),
            },
            make: Box::new(make),
        }
    }

    /// This process's value, built on first use after a fork.
    pub fn get(&self) -> Result<&T, &str> {
        let pid = std::process::id();
        let mut node = &self.root;
        while node.pid != pid {
            node = node
                .child
                .get_or_init(|| Box::new(Node::new((self.make)())));
        }
        match &node.value {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(e),
            None => Err("value already dropped"),
        }
    }
}

impl<T> std::fmt::Debug for PerProcess<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerProcess")
            .field("pid", &self.root.pid)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn builds_once_in_one_process() {
        let made = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&made);
        let p = PerProcess::new(move || Ok(counter.fetch_add(1, Ordering::SeqCst))).unwrap();
        for _ in 0..10 {
            assert_eq!(*p.get().unwrap(), 0);
        }
        assert_eq!(made.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failing_first_build_is_an_error_at_once() {
        let e = PerProcess::<u8>::new(|| Err("no".to_owned())).unwrap_err();
        assert_eq!(e, "no");
    }
}
