//! `faults [N] [SEED] [shared|idle|nginx]`: N (default 2,000) recharges from aopay-core through
//! the fault proxy to the sandbox, each with a randomly chosen fault, 16 at a
//! time. Checks, for every call: it ended within its deadline (plus 1 s of
//! slack) in a `Recharge` or a documented error; a `retry_safe` error means
//! the sandbox never received that recharge; a `Recharge` means it received
//! it once; no recharge was ever received twice. Prints the fault × outcome
//! matrix; exits non-zero on any violation.
//!
//! `idle` and `nginx` are the idle keep-alive runs (no faults; a proxy or
//! nginx closes connections left idle): 4 threads, each with its own
//! client on a current-thread runtime driven only during its calls
//! (`block_on` per call, as the Python blocking client does), pausing
//! 75–1475 ms between calls (never within 25 ms of a close). Every call
//! must succeed.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aopay_core::{Client, MobileRecharge};
use aopay_reliability::run::{self, Outcome, TIMEOUT};

const IN_FLIGHT: usize = 16;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let seed: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0x5EED);
    // `shared`: one client per worker, reusing its pooled keep-alive
    // connections across faults; otherwise a fresh client (and connection)
    // per call.
    let shared = args.get(3).is_some_and(|a| a == "shared");
    if let Some(scenario) = args.get(3).and_then(|a| run::Scenario::parse(a)) {
        return idle_run(n, seed, scenario).await;
    }
    let run::Setup {
        sandbox,
        calls,
        proxy,
        refused,
        ..
    } = run::setup(n, seed, 7_100_000_000).await;

    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let queue = Arc::new(Mutex::new(calls.clone()));
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (queue, outcomes) = (Arc::clone(&queue), Arc::clone(&outcomes));
        let (proxy_url, refused) = (proxy.url.clone(), refused.clone());
        workers.push(tokio::spawn(async move {
            let build = |url: &str| {
                Client::builder()
                    .registration_id("AOP-554")
                    .base_url(url)
                    .timeout(TIMEOUT)
                    .build()
                    .expect("client")
            };
            let (proxied, refusing) = (build(&proxy_url), build(&refused));
            loop {
                let Some((number, fault)) = queue.lock().expect("queue").pop() else {
                    break;
                };
                let url = if fault.is_some() {
                    &proxy_url
                } else {
                    &refused
                };
                let fresh;
                let client = match (shared, fault.is_some()) {
                    (true, true) => &proxied,
                    (true, false) => &refusing,
                    (false, _) => {
                        fresh = build(url);
                        &fresh
                    }
                };
                let req = MobileRecharge::new(518, 10, &number.to_string(), "23.6784,76.8764")
                    .expect("request");
                let started = Instant::now();
                let result = client.mobile_recharge(&req).await;
                let outcome = Outcome::of(number, &result, started.elapsed());
                outcomes.lock().expect("outcomes").push(outcome);
            }
        }));
    }
    for w in workers {
        w.await.expect("no panic in a worker");
    }
    let outcomes = outcomes.lock().expect("outcomes").clone();
    let report = run::check(
        &format!(
            "Rust (aopay-core{}), seed {seed}",
            if shared { ", shared clients" } else { "" }
        ),
        &calls,
        &outcomes,
        &sandbox,
        IN_FLIGHT,
    );
    print!("{}", report.text);
    drop(proxy);
    sandbox.stop().await;
    std::process::exit(i32::from(!report.violations.is_empty()));
}

const IDLE_THREADS: usize = 4;

async fn idle_run(n: u64, seed: u64, scenario: run::Scenario) {
    let setup = run::setup_scenario(n, seed, 7_150_000_000, scenario).await;
    let queue = Arc::new(Mutex::new(setup.calls.clone()));
    let mut threads = Vec::new();
    for _ in 0..IDLE_THREADS {
        let queue = Arc::clone(&queue);
        let url = setup.url.clone();
        threads.push(std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let client = Client::builder()
                .registration_id("AOP-554")
                .base_url(&url)
                .timeout(TIMEOUT)
                .build()
                .expect("client");
            let mut outcomes = Vec::new();
            loop {
                let next = queue.lock().expect("queue").pop();
                let Some((number, _)) = next else { break };
                let req = MobileRecharge::new(518, 10, &number.to_string(), "23.6784,76.8764")
                    .expect("request");
                let started = Instant::now();
                let result = rt.block_on(client.mobile_recharge(&req));
                outcomes.push(Outcome::of(number, &result, started.elapsed()));
                std::thread::sleep(run::Scenario::pause());
            }
            outcomes
        }));
    }
    let outcomes = tokio::task::spawn_blocking(move || {
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("no panic in a worker"))
            .collect::<Vec<_>>()
    })
    .await
    .expect("join");
    let report = run::check_scenario(
        &format!("Rust (aopay-core, current-thread runtimes), seed {seed}"),
        &setup.calls,
        &outcomes,
        &setup.sandbox,
        IDLE_THREADS,
        scenario,
    );
    setup.finish(&report).await
}
