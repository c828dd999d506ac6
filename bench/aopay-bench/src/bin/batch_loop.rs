//! The baseline `bench/batch` measures the batch against: the loop a user
//! writes over the SDK without `run_batch`. It reads the orders CSV
//! (`order_id,product_id,amount,customer_number`), sends each as a keyed
//! MobileRecharge through a journaled client (so a rerun pays nothing
//! twice), `CONCURRENCY` at a time, and prints what it did.
//!
//! usage: batch_loop URL JOURNAL ORDERS.csv CONCURRENCY

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;
use std::time::Instant;

use aopay_core::{Client, Journal, MobileRecharge};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const GEO: &str = "23.6784,76.8764";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, journal, orders, concurrency] = args.as_slice() else {
        eprintln!("usage: batch_loop URL JOURNAL ORDERS.csv CONCURRENCY");
        std::process::exit(2);
    };
    let concurrency: usize = match concurrency.parse() {
        Ok(n) if n > 0 => n,
        _ => {
            eprintln!("CONCURRENCY must be a whole number above 0");
            std::process::exit(2);
        }
    };
    let journal = Journal::open(journal).unwrap_or_else(|e| {
        eprintln!("journal: {e}");
        std::process::exit(1)
    });
    let client = Client::builder()
        .registration_id("AOP-554")
        .base_url(url.as_str())
        .journal(journal)
        .build()
        .unwrap_or_else(|e| {
            eprintln!("client: {e}");
            std::process::exit(1)
        });
    let file = std::fs::File::open(orders).unwrap_or_else(|e| {
        eprintln!("{orders}: {e}");
        std::process::exit(1)
    });
    let started = Instant::now();
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let mut count = |o: String| *outcomes.entry(o).or_default() += 1;
    for line in std::io::BufReader::new(file).lines().skip(1) {
        let Ok(line) = line else {
            count("unreadable line".into());
            continue;
        };
        let f: Vec<&str> = line.split(',').collect();
        let [id, product, amount, number] = f[..] else {
            count("malformed row".into());
            continue;
        };
        let req = match (product.parse(), amount.parse()) {
            (Ok(p), Ok(a)) => MobileRecharge::new(p, a, number, GEO)
                .and_then(|r| r.with_idempotency_key(id.to_owned())),
            _ => {
                count("malformed row".into());
                continue;
            }
        };
        let req = match req {
            Ok(r) => r,
            Err(e) => {
                count(format!("invalid: {}", e.field()));
                continue;
            }
        };
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let client = client.clone();
        tasks.spawn(async move {
            let outcome = match client.mobile_recharge(&req).await {
                Ok(r) => r.status.as_str().to_owned(),
                Err(e) => e.code().to_owned(),
            };
            drop(permit);
            outcome
        });
        while let Some(done) = tasks.try_join_next() {
            count(done.unwrap_or_else(|e| format!("task failed: {e}")));
        }
    }
    while let Some(done) = tasks.join_next().await {
        count(done.unwrap_or_else(|e| format!("task failed: {e}")));
    }
    let n: u64 = outcomes.values().sum();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{n} orders in {secs:.2} s: {:.0} orders/s {outcomes:?}",
        n as f64 / secs
    );
}
