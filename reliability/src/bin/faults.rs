//! `faults [N] [SEED] [shared|idle|nginx|payments]`: N (default 2,000) recharges from aopay-core through
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

use aopay_core::{
    ArgValue, Args, Client, DoRechargeRequest, Endpoint, ErrorKind, FastagRechargeRequest, Lang,
    MobileRecharge, PayBillRequest, Payment,
};
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
    if args.get(3).is_some_and(|a| a == "payments") {
        return payments_run(n, seed).await;
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

/// A fetched bill (or FASTag) for `account`, as its JSON: what a caller
/// that fetched it earlier passes (the run sends only the payments).
fn bill_json(account: &str, fastag: bool) -> serde_json::Value {
    let (operator, bill_fetch) = if fastag {
        (
            311,
            serde_json::json!({"billAmount": "0", "acceptPayment": true, "acceptPartPay": true,
                                  "minBillAmount": "100.00", "maxBillAmount": "10000.00"}),
        )
    } else {
        (
            11,
            serde_json::json!({"billAmount": "820.50", "billnetamount": "820.50",
                                 "acceptPayment": true, "acceptPartPay": false,
                                 "cellNumber": account}),
        )
    };
    serde_json::json!({"operator": operator, "account": account, "mode": "online",
                       "raw": {"status": true, "response_code": 1, "amount": bill_fetch["billAmount"],
                               "bill_fetch": bill_fetch}})
}

/// The write for call `i`: the three kinds in turn.
async fn pay(client: &Client, i: usize, account: &str) -> Result<Payment, aopay_core::Error> {
    let geocode = ArgValue::Text("27.2232,78.26535".into());
    match i % 3 {
        0 => {
            let req = DoRechargeRequest::new(11, account, aopay_core::Money::from_paise(1_000))?;
            client.pay(&req).await
        }
        1 => {
            let args = Args::new(Lang::Rust)
                .with("bill", ArgValue::Json(bill_json(account, false)))
                .with("geocode", geocode);
            client.pay(&PayBillRequest::from_args(&args)?).await
        }
        _ => {
            let args = Args::new(Lang::Rust)
                .with("bill", ArgValue::Json(bill_json(account, true)))
                .with("amount", ArgValue::Int(500))
                .with("geocode", geocode);
            client.pay(&FastagRechargeRequest::from_args(&args)?).await
        }
    }
}

/// `faults N SEED payments`: the referenced writes through the same faults
/// (fresh clients), checked as the recharges are; then every unknown
/// outcome is reconciled by its reference through the write's own status
/// call, straight to the sandbox: it must say SUCCESS exactly when the
/// sandbox received the write, and "no such transaction" otherwise.
async fn payments_run(n: u64, seed: u64) {
    let setup = run::setup(n, seed, 7_200_000_000).await;
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let unknown = Arc::new(Mutex::new(Vec::new()));
    let queue = Arc::new(Mutex::new(
        setup.calls.iter().copied().enumerate().collect::<Vec<_>>(),
    ));
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (queue, outcomes, unknown) = (
            Arc::clone(&queue),
            Arc::clone(&outcomes),
            Arc::clone(&unknown),
        );
        let (proxy_url, refused) = (setup.proxy.url.clone(), setup.refused.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let Some((i, (number, fault))) = queue.lock().expect("queue").pop() else {
                    break;
                };
                let client = Client::builder()
                    .registration_id("AOP-554")
                    .base_url(if fault.is_some() {
                        &proxy_url
                    } else {
                        &refused
                    })
                    .timeout(TIMEOUT)
                    .build()
                    .expect("client");
                let started = Instant::now();
                let result = pay(&client, i, &number.to_string()).await;
                let mut outcome = Outcome::of(number, &result, started.elapsed());
                match &result {
                    Err(e) if e.reference_id().is_none() => {
                        // Every error of a referenced write names its reference.
                        outcome.outcome = format!("{} without a reference", outcome.outcome);
                    }
                    Err(e) if e.kind() == ErrorKind::OutcomeUnknown => unknown
                        .lock()
                        .expect("unknown")
                        .push((i, number, e.reference_id().unwrap_or_default().to_owned())),
                    _ => {}
                }
                outcomes.lock().expect("outcomes").push(outcome);
            }
        }));
    }
    for w in workers {
        w.await.expect("no panic in a worker");
    }
    let outcomes = outcomes.lock().expect("outcomes").clone();
    let mut report = run::check_payments(
        &format!("Rust (aopay-core), referenced writes, seed {seed}"),
        &setup.calls,
        &outcomes,
        &setup.sandbox,
        IN_FLIGHT,
    );
    let direct = Client::builder()
        .registration_id("AOP-554")
        .base_url(setup.sandbox.url())
        .build()
        .expect("client");
    let unknown = unknown.lock().expect("unknown").clone();
    let (mut paid, mut absent) = (0, 0);
    for (i, number, reference) in &unknown {
        let status_call = [
            DoRechargeRequest::SPEC,
            PayBillRequest::SPEC,
            FastagRechargeRequest::SPEC,
        ][i % 3]
            .status
            .unwrap_or_default();
        let received = setup.sandbox.payments_for(&number.to_string());
        match (direct.payment_status(status_call, reference).await, received) {
            (Ok(p), 1) if p.status == aopay_core::PaymentStatus::Success => paid += 1,
            (Err(e), 0) if e.kind() == ErrorKind::TransactionNotFound => absent += 1,
            (other, received) => report.violation(format!(
                "{number}: reconciling {reference} through {status_call} gave {other:?} (received {received})"
            )),
        }
    }
    report.text.push_str(&format!(
        "unknown outcomes reconciled by their reference: {} ({paid} paid, {absent} never arrived)\n",
        unknown.len()
    ));
    setup.finish(&report).await
}
