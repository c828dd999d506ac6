//! Closing a client: it takes no new call, waits for the calls in flight
//! to end (their outcomes recorded), then leaves its journal whole in its
//! file. What `close()`, `with`, `async with` and `await using` do in the
//! bindings.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::Notify;

use super::Client;
use crate::error::{Error, ValidationError};

/// The calls a client has in flight, and whether it is closed.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle {
    closed: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// A call in flight: counted from its start to its end.
pub(crate) struct InFlight<'a>(&'a Lifecycle);

/// A call admitted before the client closed (see [`Client::admit`]):
/// counted in flight until the admitted clone is dropped.
pub(crate) struct Admission(std::sync::Arc<super::Inner>);

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Admission")
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let life = &self.0.lifecycle;
        if life.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            life.idle.notify_waiters();
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Client {
    /// Count a call in flight; a closed client refuses it, with nothing
    /// sent.
    pub(crate) fn enter(&self) -> Result<InFlight<'_>, Error> {
        let life = &self.inner.lifecycle;
        life.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(life);
        if life.closed.load(Ordering::SeqCst) && self.admitted.is_none() {
            return Err(closed());
        }
        Ok(guard)
    }

    /// A clone of this client for one call started now, to be run later (a
    /// binding's call, spawned): refused now if the client is closed, and
    /// else counted in flight until the clone is dropped, so that a close
    /// waits for it and it is not refused when it runs.
    pub fn admit(&self) -> Result<Client, Error> {
        let life = &self.inner.lifecycle;
        life.in_flight.fetch_add(1, Ordering::SeqCst);
        let admission = Admission(std::sync::Arc::clone(&self.inner));
        if life.closed.load(Ordering::SeqCst) && self.admitted.is_none() {
            return Err(closed());
        }
        Ok(Client {
            admitted: Some(std::sync::Arc::new(admission)),
            ..self.clone()
        })
    }
}

fn closed() -> Error {
    ValidationError::new(
        "client",
        "is closed: it takes no new call (make a new client)",
    )
    .into()
}

impl Client {
    /// Close the client (every clone of it): no new call is taken; the
    /// calls in flight end as they would (each outcome recorded in the
    /// journal); then the journal's WAL is moved into its file. Closing
    /// twice is closing once.
    pub async fn close(&self) {
        let life = &self.inner.lifecycle;
        life.closed.store(true, Ordering::SeqCst);
        loop {
            let idle = life.idle.notified();
            if life.in_flight.load(Ordering::SeqCst) == 0 {
                break;
            }
            idle.await;
        }
        if let Some(journal) = &self.inner.journal {
            journal.checkpoint().await;
        }
    }

    /// Whether [`Client::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.lifecycle.closed.load(Ordering::SeqCst)
    }
}
