//! `fault_harness N SEED LABEL [CONCURRENCY] [faults|idle|nginx|payments]`: the
//! sandbox and the fault proxy (or, for `nginx`, a real nginx) for a fault
//! run driven from another language (`reliability/faults.py`,
//! `reliability/faults.mjs`). Prints one JSON line: the proxy's URL, a URL
//! that refuses connections, the timeout, and the plan (`[number,
//! use_proxy]` per call). Then reads one JSON outcome per line from stdin,
//! `[number, outcome, retry_safe or null, elapsed_ms]`, until EOF; checks
//! them with the same rules as the Rust run; prints the report; exits
//! non-zero on any violation.

use std::io::BufRead;
use std::time::Duration;

use aopay_reliability::run::{self, Outcome, TIMEOUT};

fn parse(line: &str) -> Option<Outcome> {
    let (number, outcome, retry_safe, ms): (u64, String, Option<bool>, f64) =
        serde_json::from_str(line).ok()?;
    Some(Outcome {
        number,
        outcome,
        retry_safe,
        elapsed: Duration::try_from_secs_f64(ms / 1000.0).ok()?,
    })
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let seed: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0x5EED);
    let label = args.get(3).cloned().unwrap_or_else(|| "binding".to_owned());
    let concurrency: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(16);
    // `payments`: the referenced writes through the faults, counted by `canumber`.
    let payments = args.get(5).is_some_and(|a| a == "payments");
    let scenario = args
        .get(5)
        .filter(|_| !payments)
        .map_or(Some(run::Scenario::Faults), |a| run::Scenario::parse(a))
        .expect("scenario: faults, idle, nginx or payments");
    let setup = run::setup_scenario(n, seed, 7_200_000_000, scenario).await;
    let run::Setup {
        sandbox,
        calls,
        refused,
        ..
    } = &setup;
    let plan: Vec<(u64, bool)> = calls.iter().map(|(n, f)| (*n, f.is_some())).collect();
    println!(
        "{}",
        serde_json::json!({
            "proxy": setup.url,
            "refused": refused,
            // The idle scenarios: one client per worker, pausing between calls.
            "idle": scenario != run::Scenario::Faults,
            "pauses_ms": run::Scenario::pauses_ms(),
            "timeout_ms": TIMEOUT.as_millis() as u64,
            "calls": plan,
        })
    );
    let lines = tokio::task::spawn_blocking(|| {
        std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    })
    .await
    .expect("stdin");
    let mut outcomes = Vec::new();
    let mut bad = Vec::new();
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        match parse(line) {
            Some(o) => outcomes.push(o),
            None => bad.push(line.clone()),
        }
    }
    let label = format!("{label}, seed {seed}");
    let mut report = if payments {
        run::check_payments(&label, calls, &outcomes, sandbox, concurrency)
    } else {
        run::check_scenario(&label, calls, &outcomes, sandbox, concurrency, scenario)
    };
    for line in bad {
        report.violation(format!("unreadable outcome line: {line}"));
    }
    setup.finish(&report).await
}
