//! Stopping a batch: by its caller (Ctrl-C), or because the API or the
//! journal refused what more orders would need (a [`Halt`]).

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use crate::error::{Error, ErrorKind};

/// Stops a running batch: no new order is taken, the ones in flight finish
/// (and pending ones are reported as they stand).
#[derive(Debug, Clone, Default)]
pub struct BatchStop(Arc<StopState>);

#[derive(Debug, Default)]
struct StopState {
    stopped: AtomicBool,
    notify: Notify,
    halt: std::sync::OnceLock<Halt>,
}

/// Why the API stopped a batch (docs/protocol.md §9): sending more orders
/// would only be refused the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// An `InsufficientBalanceError`: the wallet is empty.
    InsufficientBalance,
    /// An `AuthenticationError` that survived its one resend.
    Authentication,
    /// The journal stayed unreachable past the batch's pause for it
    /// ([`JOURNAL_PAUSE`]): nothing more was claimed or sent.
    Journal,
}

/// How long a batch waits for a journal that went away (a database
/// restart, a full disk) before it stops: its orders wait, none fails.
pub const JOURNAL_PAUSE: Duration = Duration::from_secs(60);

impl Halt {
    /// What the user should do, in a few words.
    pub fn message(self) -> &'static str {
        match self {
            Self::InsufficientBalance => {
                "stopped: the wallet is empty; top up the wallet, then run the same orders again"
            }
            Self::Authentication => {
                "stopped: the API refused the credentials; fix them (and the clock), then run the same orders again"
            }
            Self::Journal => {
                "stopped: the journal stayed unreachable, or its file was removed or replaced; bring it back, then run the same orders again"
            }
        }
    }

    /// `insufficient_balance`, `authentication` or `journal` (as the JSON
    /// summary says).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InsufficientBalance => "insufficient_balance",
            Self::Authentication => "authentication",
            Self::Journal => "journal",
        }
    }

    /// The halt an error of the batch's orders calls for, if any.
    pub fn of(e: &Error) -> Option<Self> {
        match e.kind() {
            ErrorKind::InsufficientBalance => Some(Self::InsufficientBalance),
            ErrorKind::Authentication => Some(Self::Authentication),
            _ => None,
        }
    }
}

impl BatchStop {
    /// Take no new order.
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Take no new order, because the API refused one for `halt`: the
    /// orders not yet sent are reported as not sent.
    pub(super) fn halt(&self, halt: Halt) {
        let _ = self.0.halt.set(halt);
        self.stop();
    }

    /// Why the API stopped the batch, if it did.
    pub fn halted(&self) -> Option<Halt> {
        self.0.halt.get().copied()
    }

    /// Whether [`BatchStop::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }

    pub(super) async fn stopped(&self) {
        let mut notified = pin!(self.0.notify.notified());
        notified.as_mut().enable();
        if self.is_stopped() {
            return;
        }
        notified.await;
    }
}
