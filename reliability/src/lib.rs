//! A fault-injecting TCP proxy for HTTP/1.1 between a client and the
//! sandbox. It reads each request whole (keeping the client's connection
//! alive between requests, as a gateway would),
//! finds its `CustomerNumber` (or a payment's `canumber`), and applies the fault the run assigned to that
//! number: the run can then check every outcome against what happened.

pub mod nginx;
pub mod run;

/// A `/proc/self/status` figure in KiB (`VmRSS:`, `VmHWM:`, …); 0 if absent.
pub fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Forward both ways untouched.
    Pass,
    /// Forward only the first N bytes of the request, then reset both sides.
    ResetAfterRequestBytes(usize),
    /// Forward the request; forward N bytes of the answer, then reset.
    ResetAfterResponseBytes(usize),
    /// Forward the request; never answer (the client's deadline ends it).
    Stall,
    /// Forward the request; drip the answer one byte every `ms` milliseconds.
    Drip(u64),
    /// Forward the request; close cleanly half-way through the answer's body.
    CloseMidBody,
    /// 4xx: refuse without forwarding. Others: forward the request, then
    /// replace the answer's status line with this status.
    Status(u16),
}

impl Fault {
    /// A short name for reports.
    pub fn name(self) -> String {
        match self {
            Self::Pass => "pass".into(),
            Self::ResetAfterRequestBytes(n) => format!("reset after {n} request bytes"),
            Self::ResetAfterResponseBytes(n) => format!("reset after {n} answer bytes"),
            Self::Stall => "stall".into(),
            Self::Drip(ms) => format!("drip {ms} ms/byte"),
            Self::CloseMidBody => "close mid-body".into(),
            Self::Status(s) => format!("status {s}"),
        }
    }
}

/// Faults by customer number.
pub type Plan = Arc<Mutex<HashMap<u64, Fault>>>;

/// How the proxy closes a client's keep-alive connection left idle: after a
/// random time in `min..=max` in whole `step`s (drawn per wait), by FIN on
/// one connection and by RST on the next; as servers and load balancers do
/// at their idle timeout, with no `Connection: close` warning.
#[derive(Debug, Clone, Copy)]
pub struct IdleClose {
    /// Shortest idle time before the close.
    pub min: Duration,
    /// Longest idle time before the close.
    pub max: Duration,
    /// The idle times are `min` plus whole steps (zero: any time).
    pub step: Duration,
}

impl IdleClose {
    fn draw(&self) -> Duration {
        let span = self.max.saturating_sub(self.min);
        if self.step.is_zero() {
            return self.min + span.mul_f64(fraction());
        }
        let steps = (span.as_nanos() / self.step.as_nanos()) as f64;
        self.min
            + self
                .step
                .mul_f64(((steps + 1.0) * fraction()).floor().min(steps))
    }
}

/// A running proxy; it stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Listen on a free loopback port and forward to `upstream` per `plan`.
    pub async fn start(upstream: SocketAddr, plan: Plan) -> std::io::Result<Self> {
        Self::start_with(upstream, plan, None).await
    }

    /// As [`Self::start`], closing idle client connections per `idle`;
    /// connections alternate between FIN and RST.
    pub async fn start_with(
        upstream: SocketAddr,
        plan: Plan,
        idle: Option<IdleClose>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let mut accepted = 0u64;
            while let Ok((client, _)) = listener.accept().await {
                accepted += 1;
                let plan = Arc::clone(&plan);
                let close = idle.map(|i| (i, accepted % 2 == 0));
                tokio::spawn(async move {
                    let _ = handle(client, upstream, plan, close).await;
                });
            }
        });
        Ok(Self { url, task })
    }
}

/// One HTTP/1.1 message with a Content-Length body (or none), as bytes.
async fn read_message(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Ok(buf);
            }
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The number a call's fault is planned by: a recharge's `CustomerNumber`,
/// or a referenced write's `canumber` (a JSON number or digits as text).
fn customer_number(request: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(request);
    let at = ["\"CustomerNumber\":", "\"canumber\":"]
        .iter()
        .find_map(|key| text.find(key).map(|i| i + key.len()))?;
    text[at..]
        .trim_start()
        .trim_start_matches('"')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// A number in `0.0..1.0`, different each call (not for cryptography).
pub fn fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[allow(deprecated)] // set_linger: a zero linger makes close() send a RST
fn reset(s: &TcpStream) {
    let _ = s.set_linger(Some(Duration::ZERO));
}

/// Serve one client connection: one exchange after another (keep-alive),
/// until the client closes it or a fault ends it.
async fn handle(
    mut client: TcpStream,
    upstream: SocketAddr,
    plan: Plan,
    idle: Option<(IdleClose, bool)>,
) -> std::io::Result<()> {
    let mut first = true;
    loop {
        let request = match idle {
            Some((i, rst)) if !first => {
                let wait = i.draw();
                match tokio::time::timeout(wait, client.readable()).await {
                    Ok(ready) => {
                        ready?;
                        read_message(&mut client).await?
                    }
                    Err(_idle) => {
                        if rst {
                            reset(&client);
                        }
                        return Ok(()); // dropped: FIN, or RST with a zero linger
                    }
                }
            }
            _ => read_message(&mut client).await?,
        };
        first = false;
        if request.is_empty() {
            return Ok(());
        }
        if !exchange(&mut client, &request, upstream, &plan).await? {
            return Ok(());
        }
    }
}

/// One request through the proxy; `false` when its fault ended the connection.
async fn exchange(
    client: &mut TcpStream,
    request: &[u8],
    upstream: SocketAddr,
    plan: &Plan,
) -> std::io::Result<bool> {
    let fault = customer_number(request)
        .and_then(|n| plan.lock().ok().and_then(|p| p.get(&n).copied()))
        .unwrap_or(Fault::Pass);
    if let Fault::Status(code @ 400..=499) = fault {
        // A refusal comes from whoever refuses: the request goes no further.
        let body = r#"{"status":false,"response_code":99,"message":"refused by the fault proxy"}"#;
        let answer = format!(
            "HTTP/1.1 {code} Injected\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        client.write_all(answer.as_bytes()).await?;
        return Ok(true);
    }
    let mut server = TcpStream::connect(upstream).await?;
    if let Fault::ResetAfterRequestBytes(n) = fault {
        server.write_all(&request[..n.min(request.len())]).await?;
        reset(&server);
        reset(client);
        return Ok(false);
    }
    server.write_all(request).await?;
    if fault == Fault::Stall {
        tokio::time::sleep(Duration::from_secs(60)).await;
        return Ok(false);
    }
    let answer = read_message(&mut server).await?;
    match fault {
        Fault::ResetAfterResponseBytes(n) => {
            client.write_all(&answer[..n.min(answer.len())]).await?;
            reset(client);
            Ok(false)
        }
        Fault::Drip(ms) => {
            for b in answer {
                client.write_all(&[b]).await?;
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Ok(true)
        }
        Fault::CloseMidBody => {
            let body_start = answer
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(0, |p| p + 4);
            let cut = body_start + (answer.len() - body_start) / 2;
            client.write_all(&answer[..cut]).await?;
            client.shutdown().await?;
            Ok(false)
        }
        Fault::Status(code) => {
            let line_end = answer.windows(2).position(|w| w == b"\r\n").unwrap_or(0);
            client
                .write_all(format!("HTTP/1.1 {code} Injected").as_bytes())
                .await?;
            client.write_all(&answer[line_end..]).await?;
            Ok(true)
        }
        Fault::Pass | Fault::Stall | Fault::ResetAfterRequestBytes(_) => {
            client.write_all(&answer).await?;
            Ok(true)
        }
    }
}
