//! A batch's orders as a stream: read from a file or an iterator on a
//! blocking thread, or fed by hand (the bindings).

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;

use super::input::{self, OrderFormat};
use super::{Order, RowError};

/// Orders as a stream, read from a file or an iterator on a blocking
/// thread, a few at a time (the input is never loaded whole).
#[derive(Debug)]
pub struct OrderStream(mpsc::Receiver<Result<Order, RowError>>);

impl OrderStream {
    /// The orders of `iter`, read on a blocking thread of the current runtime.
    pub fn reading<I>(iter: I) -> Self
    where
        I: IntoIterator<Item = Result<Order, RowError>> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(256);
        tokio::task::spawn_blocking(move || {
            for item in iter {
                if tx.blocking_send(item).is_err() {
                    break;
                }
            }
        });
        Self(rx)
    }

    /// The orders of a file (`-`: standard input), in `format` or the one
    /// its extension says (CSV when it says none). The file's start is read
    /// now (a CSV header, a first JSON line): a file that is not an orders
    /// file at all is an `InvalidData` error here, before anything is sent
    /// (see [`super::OrderReader::check_start`]).
    pub fn open(path: &Path, format: Option<OrderFormat>) -> io::Result<Self> {
        let mut reader = input::open(path, format)?;
        reader.check_start().map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not an orders file: line {}: {}", e.line, e.error),
            )
        })?;
        Ok(Self::reading(reader))
    }

    /// A stream fed by hand (the bindings feed it from the caller's
    /// iterable): send `Ok(order)` or `Err(row_error)`; drop the sender to
    /// end it.
    pub fn channel(capacity: usize) -> (mpsc::Sender<Result<Order, RowError>>, Self) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (tx, Self(rx))
    }
}

impl futures_core::Stream for OrderStream {
    type Item = Result<Order, RowError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}
