//! One request's raw bytes in, the server's raw answer out, through the
//! same HTTP/1.1 connection handling as a real socket: for fuzzing the
//! sandbox's request handling (`fuzz/fuzz_targets/sandbox_request.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{SandboxConfig, handler};

/// A sandbox without a socket, kept across inputs like a long-running server.
#[derive(Debug)]
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    state: Arc<handler::State>,
    inputs: AtomicU64,
}

impl Harness {
    /// A harness whose slow scenario does not sleep.
    pub fn new() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let config = SandboxConfig::default().slow_delay(Duration::ZERO);
        Ok(Self {
            runtime,
            state: Arc::new(handler::State::new(config)?),
            inputs: AtomicU64::new(0),
        })
    }

    /// Feed `request` (any bytes: one or more HTTP/1.1 requests or garbage)
    /// to a fresh connection, close the client's half, and return every
    /// byte the server wrote before it closed the connection.
    pub fn handle_raw(&self, request: &[u8]) -> Vec<u8> {
        // Transactions are kept in memory, as in a real sandbox; forget them
        // now and then so that a long run measures leaks, not the store.
        if self.inputs.fetch_add(1, Ordering::Relaxed) % 10_000 == 9_999 {
            self.state.reset();
        }
        let state = Arc::clone(&self.state);
        self.runtime.block_on(async move {
            let (mut client, server) = tokio::io::duplex(1 << 16);
            let graceful = hyper_util::server::graceful::GracefulShutdown::new();
            let conn = tokio::spawn(crate::serve_connection(server, state, graceful.watcher()));
            let mut answer = Vec::new();
            let exchange = async {
                let _ = client.write_all(request).await;
                let _ = client.shutdown().await;
                let _ = client.read_to_end(&mut answer).await;
            };
            // The server must answer and close on its own; a stuck
            // connection is a bug the fuzzer reports as a timeout.
            exchange.await;
            let _ = conn.await;
            answer
        })
    }
}
