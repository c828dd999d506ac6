//! `soak SANDBOX_URL [N]`: N (default 200,000) sequential-ish recharges (16
//! in flight) from one aopay-core client against a sandbox in another
//! process. Reports resident memory, open descriptors and threads after a
//! warm-up of 10,000 calls and at the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aopay_core::{Client, MobileRecharge};
use aopay_reliability::proc_status_kib;

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).map_or(0, Iterator::count)
}

fn snapshot() -> (u64, usize, usize) {
    (
        proc_status_kib("VmRSS:"),
        count("/proc/self/fd"),
        count("/proc/self/task"),
    )
}

async fn run(client: &Client, from: u64, to: u64) -> u64 {
    let next = Arc::new(AtomicU64::new(from));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (client, next, failed) = (client.clone(), Arc::clone(&next), Arc::clone(&failed));
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= to {
                    break;
                }
                let req = MobileRecharge::new(
                    518,
                    10,
                    &(7_300_000_000 + i).to_string(),
                    "23.6784,76.8764",
                )
                .expect("request");
                if client.mobile_recharge(&req).await.is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("no panic");
    }
    failed.load(Ordering::Relaxed)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: soak SANDBOX_URL [N]");
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let before = snapshot();
    let client = Client::builder()
        .registration_id("AOP-554")
        .base_url(url)
        .build()
        .expect("client");
    let mut failed = run(&client, 0, 10_000).await;
    let warm = snapshot();
    failed += run(&client, 10_000, n).await;
    drop(client);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let end = snapshot();
    println!(
        "rust soak: {n} calls, {failed} failed; RSS {} KiB before, {} KiB after warm-up, {} KiB at the end (growth {} KiB); \
         fds {} → {} → {}; threads {} → {} → {}",
        before.0,
        warm.0,
        end.0,
        end.0 as i64 - warm.0 as i64,
        before.1,
        warm.1,
        end.1,
        before.2,
        warm.2,
        end.2
    );
    std::process::exit(i32::from(failed > 0));
}
