//! `load [N]`: the sandbox under load. 64 concurrent clients send N (default
//! 100,000) recharges; every one must get a distinct reference, every
//! reference must be found by a status call, the counts must add up, and a
//! body over the bound must get HTTP 413. Then a sandbox that keeps at most
//! N/10 transactions gets N more: it must keep exactly N/10, the newest.
//! Prints the resident memory the first N transactions took. Exits non-zero
//! on any failure.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aopay_core::{Client, ErrorKind, MobileRecharge, Status};
use aopay_reliability::proc_status_kib;
use aopay_sandbox::{Sandbox, SandboxConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CLIENTS: u64 = 64;

#[tokio::main]
async fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let sandbox = Sandbox::start().await.expect("sandbox");
    let refs = Arc::new(Mutex::new(Vec::with_capacity(n as usize)));
    let mut failures = Vec::new();
    let rss_before = proc_status_kib("VmRSS:");

    // The same 64 clients (and their pools) serve both phases.
    let clients: Vec<Client> = (0..CLIENTS)
        .map(|_| {
            Client::builder()
                .registration_id("AOP-554")
                .base_url(sandbox.url())
                .build()
                .expect("client")
        })
        .collect();

    let started = Instant::now();
    let mut tasks = Vec::new();
    for (c, client) in (0..CLIENTS).zip(clients.iter().cloned()) {
        let refs = Arc::clone(&refs);
        tasks.push(tokio::spawn(async move {
            let mut errors = 0u64;
            for i in (c..n).step_by(CLIENTS as usize) {
                let req = MobileRecharge::new(
                    518,
                    10,
                    &(7_200_000_000 + i).to_string(),
                    "23.6784,76.8764",
                )
                .expect("request");
                match client.mobile_recharge(&req).await {
                    Ok(r) => refs
                        .lock()
                        .expect("refs")
                        .push(r.reference_id.unwrap_or_default()),
                    Err(_) => errors += 1,
                }
            }
            errors
        }));
    }
    let mut errors = 0;
    for t in tasks {
        errors += t.await.expect("no panic");
    }
    let recharge_secs = started.elapsed().as_secs_f64();
    let rss_growth = proc_status_kib("VmRSS:").saturating_sub(rss_before);
    let refs = Arc::try_unwrap(refs)
        .expect("all tasks done")
        .into_inner()
        .expect("refs");
    let distinct = refs.iter().collect::<HashSet<&String>>().len();
    if errors > 0 {
        failures.push(format!("{errors} recharges failed"));
    }
    if distinct != refs.len() || refs.len() as u64 != n {
        failures.push(format!(
            "{} references for {n} recharges, {distinct} distinct",
            refs.len()
        ));
    }

    let started = Instant::now();
    let refs = Arc::new(refs);
    let mut tasks = Vec::new();
    for (c, client) in clients.into_iter().enumerate() {
        let refs = Arc::clone(&refs);
        tasks.push(tokio::spawn(async move {
            let mut missing = 0u64;
            for reference in refs.iter().skip(c).step_by(CLIENTS as usize) {
                match client.recharge_status(reference).await {
                    Ok(r)
                        if r.status == Status::Success
                            && r.reference_id.as_deref() == Some(reference) => {}
                    _ => missing += 1,
                }
            }
            missing
        }));
    }
    let mut missing = 0;
    for t in tasks {
        missing += t.await.expect("no panic");
    }
    let status_secs = started.elapsed().as_secs_f64();
    if missing > 0 {
        failures.push(format!("{missing} references not found by RechargeStatus"));
    }

    // A body over the bound (64 KiB) gets 413.
    let mut s = tokio::net::TcpStream::connect(sandbox.addr())
        .await
        .expect("connect");
    let body = vec![b' '; 100 * 1024];
    let head = format!(
        "POST /api/AOP/V2/MobileRecharge HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("write");
    let _ = s.write_all(&body).await;
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer).await;
    if !answer.starts_with(b"HTTP/1.1 413") {
        failures.push(format!(
            "oversized body answered {:?}",
            String::from_utf8_lossy(&answer[..answer.len().min(20)])
        ));
    }

    let stats = sandbox.stats();
    if stats.requests_to("mobile_recharge") != n
        || stats.requests_to("recharge_status") != n
        || stats.transactions != n
    {
        failures.push(format!("counts do not add up: {stats:?}"));
    }
    println!(
        "{n} recharges from {CLIENTS} clients in {recharge_secs:.1} s ({:.0}/s), {n} status checks in {status_secs:.1} s ({:.0}/s)",
        n as f64 / recharge_secs,
        n as f64 / status_secs
    );
    println!("distinct references: {distinct}; sandbox stats: {stats:?}; oversized body: 413");
    println!(
        "resident memory grew {rss_growth} KiB over the {n} recharges ({} bytes each, \
         the sandbox's ledger and this run's list of references)",
        rss_growth * 1024 / n.max(1)
    );
    sandbox.stop().await;
    bounded_ledger(n, &mut failures).await;
    for f in &failures {
        println!("FAILURE {f}");
    }
    std::process::exit(i32::from(!failures.is_empty()));
}

/// A sandbox keeping `n / 10` transactions gets `n` recharges (64 clients):
/// it keeps exactly that many, the newest; older references are unknown.
async fn bounded_ledger(n: u64, failures: &mut Vec<String>) {
    let cap = (n / 10).max(1);
    let config = SandboxConfig::default().max_transactions(usize::try_from(cap).unwrap_or(1));
    let sandbox = Sandbox::start_with(config, ([127, 0, 0, 1], 0).into())
        .await
        .expect("sandbox");
    let client = Client::builder()
        .registration_id("AOP-554")
        .base_url(sandbox.url())
        .build()
        .expect("client");
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for i in (c..n).step_by(CLIENTS as usize) {
                let number = (7_300_000_000 + i).to_string();
                let req =
                    MobileRecharge::new(518, 10, &number, "23.6784,76.8764").expect("request");
                client.mobile_recharge(&req).await.expect("recharge");
            }
        }));
    }
    for t in tasks {
        t.await.expect("no panic");
    }
    let stats = sandbox.stats();
    if stats.transactions != cap || stats.requests_to("mobile_recharge") != n {
        failures.push(format!("a ledger of {cap} after {n} recharges: {stats:?}"));
    }
    // The sandbox numbers references in order of arrival.
    let last = 318_820 + n - 1;
    let newest = client.recharge_status(&format!("AOP554R{last}")).await;
    let oldest = client.recharge_status("AOP554R318820").await;
    let forgotten = matches!(&oldest, Err(e) if e.kind() == ErrorKind::Api);
    if newest.is_err() || !forgotten {
        failures.push(format!(
            "newest kept: {newest:?}; oldest forgotten: {oldest:?}"
        ));
    }
    println!(
        "bounded ledger: {n} recharges into a sandbox keeping {cap}: {} kept, oldest forgotten: {forgotten}",
        stats.transactions
    );
    sandbox.stop().await;
}
