//! [`Replay`]: a plain HTTP server that answers each request with the next
//! of the answers it was given, byte for byte, whatever the request. Not
//! the sandbox: it knows nothing of AOPay, so a test that feeds it answers
//! as the real API writes them (a corpus of them, say) checks the client's
//! reading of those answers, not the sandbox's idea of them.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug, Default)]
struct Script {
    /// What to answer next; the last one repeats.
    answers: Vec<(u16, String)>,
    /// Requests received since the answers were set.
    requests: u64,
    /// The last request's head and body.
    last: Option<(String, Vec<u8>)>,
}

/// A server on a free loopback port, on a thread of its own, answering
/// every request (one per connection: it closes each) with the next of its
/// `(HTTP status, JSON body)` answers.
///
/// ```
/// let replay = aopay_sandbox::Replay::start()?;
/// replay.serve(402, r#"{"status":false,"response_code":18,"message":"Duplicate Transaction"}"#);
/// assert!(replay.url().starts_with("http://127.0.0.1:"));
/// assert_eq!(replay.requests(), 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Replay {
    url: String,
    script: Arc<Mutex<Script>>,
}

impl Replay {
    /// Start on a free loopback port, answering `200 {}` until told
    /// otherwise. The thread ends with the process.
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let url = format!("http://{}", listener.local_addr()?);
        let script = Arc::new(Mutex::new(Script {
            answers: vec![(200, "{}".to_owned())],
            ..Script::default()
        }));
        let serving = Arc::clone(&script);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                answer(stream, &serving);
            }
        });
        Ok(Self { url, script })
    }

    /// `http://127.0.0.1:PORT`: pass it as the client's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answer every request from now on with `status` and `body`.
    pub fn serve(&self, status: u16, body: &str) {
        self.serve_each(&[(status, body)]);
    }

    /// Answer the next requests with these, in order; the last repeats.
    /// The count of requests starts again from zero.
    pub fn serve_each(&self, answers: &[(u16, &str)]) {
        let mut s = lock(&self.script);
        s.answers = answers.iter().map(|(c, b)| (*c, (*b).to_owned())).collect();
        if s.answers.is_empty() {
            s.answers.push((200, "{}".to_owned()));
        }
        s.requests = 0;
        s.last = None;
    }

    /// Requests received since the answers were last set.
    pub fn requests(&self) -> u64 {
        lock(&self.script).requests
    }

    /// The last request received: its head (request line and headers) and
    /// its body.
    pub fn last_request(&self) -> Option<(String, Vec<u8>)> {
        lock(&self.script).last.clone()
    }
}

fn lock(m: &Mutex<Script>) -> std::sync::MutexGuard<'_, Script> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Read one request (its head, then `content-length` bytes), answer it,
/// close. A client that sends less is dropped unanswered.
fn answer(mut stream: TcpStream, script: &Mutex<Script>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        if buf.len() < end + 4 + length {
            continue;
        }
        let (status, body) = {
            let mut s = lock(script);
            s.requests += 1;
            s.last = Some((head, buf[end + 4..end + 4 + length].to_vec()));
            if s.answers.len() > 1 {
                s.answers.remove(0)
            } else {
                s.answers[0].clone()
            }
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status} Replayed\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        return;
    }
}
