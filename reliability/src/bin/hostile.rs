//! `hostile [ROUNDS]`: bounded memory under hostile sizes. The client reads
//! 50 MB answers (announced and chunked) and the sandbox receives 50 MB
//! requests (announced and chunked), ROUNDS times each (default 20); deeply
//! nested JSON both ways. Prints the peak resident memory (VmHWM) before and
//! after: it must grow by far less than one body (the bounds are 1 MiB for
//! answers, 64 KiB for requests). Exits non-zero on an unexpected outcome.

use std::time::Duration;

use aopay_core::{Client, ErrorKind, MobileRecharge};
use aopay_reliability::proc_status_kib;
use aopay_sandbox::Sandbox;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const FIFTY_MB: usize = 50 << 20;

/// A server that answers every request on every connection with `answer`.
async fn serve_answer(answer: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0; 64 * 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(answer).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url
}

async fn post_raw(sb: &Sandbox, head: String, body: &'static [u8]) -> u16 {
    let s = TcpStream::connect(sb.addr()).await.expect("connect");
    let (mut r, mut w) = s.into_split();
    let writer = tokio::spawn(async move {
        let _ = w.write_all(head.as_bytes()).await;
        let _ = w.write_all(body).await;
    });
    let mut out = Vec::new();
    let _ = r.read_to_end(&mut out).await;
    writer.abort();
    String::from_utf8_lossy(&out)
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let spaces: &'static [u8] = Vec::leak(vec![b' '; FIFTY_MB]);
    let mut announced = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {FIFTY_MB}\r\n\r\n"
    )
    .into_bytes();
    announced.extend_from_slice(spaces);
    let mut chunked =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    chunked.extend_from_slice(format!("{FIFTY_MB:x}\r\n").as_bytes());
    chunked.extend_from_slice(spaces);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut nested =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 900000\r\n\r\n"
            .to_vec();
    nested.extend_from_slice(&[b'['; 900_000]);
    let answers: [&'static [u8]; 3] = [Vec::leak(announced), Vec::leak(chunked), Vec::leak(nested)];
    let mut request_chunked = format!("{FIFTY_MB:x}\r\n").into_bytes();
    request_chunked.extend_from_slice(spaces);
    request_chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let request_chunked: &'static [u8] = Vec::leak(request_chunked);
    let sandbox = Sandbox::start().await.expect("sandbox");
    let mut urls = Vec::new();
    for a in answers {
        urls.push(serve_answer(a).await);
    }
    // Warm up: one of each, so that pools and buffers exist before measuring.
    let mut failures = 0;
    let start_rss = proc_status_kib("VmRSS:");
    let mut peak_after_warmup = 0;
    for round in 0..=rounds {
        for url in &urls {
            let c = Client::builder()
                .registration_id("AOP-554")
                .base_url(url)
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client");
            let req = MobileRecharge::new(518, 10, "9876543210", "23.6784,76.8764").expect("req");
            match c.mobile_recharge(&req).await {
                Err(e) if e.kind() == ErrorKind::OutcomeUnknown => {}
                other => {
                    failures += 1;
                    println!("UNEXPECTED answer outcome from {url}: {other:?}");
                }
            }
        }
        for (head, body) in [
            (
                format!(
                    "POST /api/AOP/V2/MobileRecharge HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {FIFTY_MB}\r\n\r\n"
                ),
                spaces,
            ),
            (
                "POST /api/AOP/V2/MobileRecharge HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_owned(),
                request_chunked,
            ),
        ] {
            let status = post_raw(&sandbox, head, body).await;
            if status != 413 {
                failures += 1;
                println!("UNEXPECTED sandbox status {status} for a 50 MB request");
            }
        }
        if round == 0 {
            peak_after_warmup = proc_status_kib("VmHWM:");
        }
    }
    let peak = proc_status_kib("VmHWM:");
    let exchanges = rounds * (urls.len() + 2);
    println!(
        "{exchanges} hostile exchanges after warm-up ({rounds} rounds of: 50 MB answer announced, \
         50 MB answer chunked, 900 kB of '[' answered, 50 MB request announced, 50 MB request chunked)"
    );
    println!(
        "RSS at start {start_rss} KiB (the 200 MB of test bodies included); peak after warm-up \
         {peak_after_warmup} KiB; peak at the end {peak} KiB; growth {} KiB",
        peak.saturating_sub(peak_after_warmup)
    );
    println!(
        "sandbox: {} recharges recorded, {} rejected; unexpected outcomes: {failures}",
        sandbox.stats().requests_to("mobile_recharge"),
        sandbox.stats().rejected_requests
    );
    std::process::exit(i32::from(failures > 0));
}
