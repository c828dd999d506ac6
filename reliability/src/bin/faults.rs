//! `faults [N] [SEED]`: N (default 2,000) recharges from aopay-core through
//! the fault proxy to the sandbox, each with a randomly chosen fault, 16 at a
//! time. Checks, for every call: it ended within its deadline (plus 1 s of
//! slack) in a `Recharge` or a documented error; a `retry_safe` error means
//! the sandbox never received that recharge; a `Recharge` means it received
//! it once; no recharge was ever received twice. Prints the fault × outcome
//! matrix; exits non-zero on any violation.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aopay_core::{Client, MobileRecharge};
use aopay_reliability::{Fault, FaultProxy};
use aopay_sandbox::Sandbox;

const TIMEOUT: Duration = Duration::from_millis(1500);

/// xorshift64*: a reproducible stream from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn pick(rng: &mut Rng) -> Option<Fault> {
    // `None`: connect to a port where nothing listens (a refused connection).
    Some(match rng.next() % 11 {
        0 => return None,
        1 => Fault::Pass,
        2 => Fault::ResetAfterRequestBytes((rng.next() % 60) as usize),
        3 => Fault::ResetAfterRequestBytes(60 + (rng.next() % 200) as usize),
        4 => Fault::ResetAfterResponseBytes((rng.next() % 300) as usize),
        5 => Fault::Stall,
        6 => Fault::Drip(1 + rng.next() % 8),
        7 => Fault::CloseMidBody,
        8 => Fault::Status([500, 502, 503, 504][(rng.next() % 4) as usize]),
        9 => Fault::Status([400, 401, 403, 404, 409, 429][(rng.next() % 6) as usize]),
        _ => Fault::Status([301, 302, 204][(rng.next() % 3) as usize]),
    })
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let seed: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0x5EED);
    let sandbox = Sandbox::start().await.expect("sandbox");
    let plan = Arc::new(Mutex::new(HashMap::new()));
    let proxy = FaultProxy::start(sandbox.addr(), Arc::clone(&plan))
        .await
        .expect("proxy");
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        format!("http://{}", l.local_addr().expect("addr"))
    };

    let mut rng = Rng(seed | 1);
    let calls: Vec<(u64, Option<Fault>)> = (0..n)
        .map(|i| (7_100_000_000 + i, pick(&mut rng)))
        .collect();
    for (number, fault) in &calls {
        if let Some(f) = fault {
            plan.lock().expect("plan").insert(*number, *f);
        }
    }
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let queue = Arc::new(Mutex::new(calls.clone()));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (queue, outcomes) = (Arc::clone(&queue), Arc::clone(&outcomes));
        let (proxy_url, refused) = (proxy.url.clone(), refused.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let Some((number, fault)) = queue.lock().expect("queue").pop() else {
                    break;
                };
                // A fresh client per call: one connection, so one fault, per call.
                let client = Client::builder()
                    .registration_id("AOP-554")
                    .base_url(if fault.is_some() {
                        proxy_url.as_str()
                    } else {
                        refused.as_str()
                    })
                    .timeout(TIMEOUT)
                    .build()
                    .expect("client");
                let req = MobileRecharge::new(518, 10, &number.to_string(), "23.6784,76.8764")
                    .expect("request");
                let started = Instant::now();
                let result = client.mobile_recharge(&req).await;
                outcomes
                    .lock()
                    .expect("outcomes")
                    .push((number, fault, result, started.elapsed()));
            }
        }));
    }
    for w in workers {
        w.await.expect("no panic in a worker");
    }

    let mut matrix: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut violations = Vec::new();
    for (number, fault, result, elapsed) in outcomes.lock().expect("outcomes").iter() {
        let received = sandbox.recharges_for(*number);
        let fault_name = fault.map_or_else(|| "refused connection".to_owned(), Fault::name);
        let fault_key = fault_name.split(" after ").next().unwrap_or("").to_owned();
        let fault_key = if fault_key.starts_with("status") {
            fault_name.clone()
        } else {
            fault_key
        };
        let outcome = match result {
            Ok(r) => format!("Recharge {}", r.status),
            Err(e) => e.kind().class_name().to_owned(),
        };
        *matrix
            .entry(fault_key)
            .or_default()
            .entry(outcome.clone())
            .or_default() += 1;
        if *elapsed > TIMEOUT + Duration::from_secs(1) {
            violations.push(format!("{number} ({fault_name}): took {elapsed:?}"));
        }
        if received > 1 {
            violations.push(format!(
                "{number} ({fault_name}): received {received} times"
            ));
        }
        match result {
            Ok(_) if received != 1 => violations.push(format!(
                "{number} ({fault_name}): Recharge but received {received}"
            )),
            Err(e) if e.retry_safe() && received != 0 => violations.push(format!(
                "{number} ({fault_name}): {outcome} says retry-safe but the sandbox received it"
            )),
            _ => {}
        }
    }
    println!(
        "{n} recharges through the fault proxy (seed {seed}), 16 in flight, timeout {TIMEOUT:?}\n"
    );
    println!("| fault | outcomes |\n|---|---|");
    for (fault, outcomes) in &matrix {
        let cells: Vec<String> = outcomes.iter().map(|(o, c)| format!("{o}: {c}")).collect();
        println!("| {fault} | {} |", cells.join(", "));
    }
    let stats = sandbox.stats();
    println!(
        "\nsandbox received {} recharges for {n} calls; violations: {}",
        stats.recharge_requests,
        violations.len()
    );
    for v in violations.iter().take(20) {
        println!("VIOLATION {v}");
    }
    drop(proxy);
    sandbox.stop().await;
    std::process::exit(i32::from(!violations.is_empty()));
}
