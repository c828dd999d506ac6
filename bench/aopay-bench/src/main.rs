//! `aopay-bench URL CLIENT MODE SECONDS RUNS`: calls per second of `aopay`
//! (aopay-core) or `reqwest` (raw, same JSON, parsed into a Value), either
//! `seq` (one call at a time) or `c64` (64 in flight). Prints one JSON line
//! per run. `aopay+sqlite` and `aopay+postgres` (DSN in `AOPAY_BENCH_POSTGRES`)
//! make every call a keyed recharge with a fresh key: the journal's cost.
//! `aopay+on_call` counts every call's event by outcome: the metrics hook's
//! cost. `aopay+hs256` and `aopay+rs256` sign every call with a fresh JWT
//! (the sandbox does not check it here): the signer's cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aopay_core::{Client, MobileRecharge, RegistrationId};

const NUMBER: &str = "9876543210";
const GEO: &str = "23.6784,76.8764";

static NEXT_KEY: AtomicU64 = AtomicU64::new(0);
/// What the `aopay+on_call` hook counts: what a metrics exporter does.
static SUCCEEDED: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

#[derive(Clone)]
enum Driver {
    Aopay(Client, Arc<MobileRecharge>),
    /// A fresh idempotency key per call (the prefix keeps runs apart).
    Keyed(Client, Arc<MobileRecharge>, Arc<String>),
    Reqwest(reqwest::Client, String, Arc<Vec<u8>>),
}

impl Driver {
    async fn call(&self) -> bool {
        match self {
            Self::Aopay(c, req) => c.mobile_recharge(req).await.is_ok(),
            Self::Keyed(c, req, prefix) => {
                let n = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
                let Ok(keyed) = req
                    .as_ref()
                    .clone()
                    .with_idempotency_key(format!("{prefix}-{n}"))
                else {
                    return false;
                };
                c.mobile_recharge(&keyed).await.is_ok()
            }
            Self::Reqwest(c, url, body) => {
                let Ok(resp) = c
                    .post(url)
                    .header("content-type", "application/json")
                    .header("accept", "application/json")
                    .body(body.as_ref().clone())
                    .send()
                    .await
                else {
                    return false;
                };
                let Ok(bytes) = resp.bytes().await else {
                    return false;
                };
                serde_json::from_slice::<serde_json::Value>(&bytes).is_ok()
            }
        }
    }
}

async fn measure(driver: &Driver, in_flight: usize, seconds: f64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let (d, done) = (driver.clone(), Arc::clone(&done));
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    if d.call().await {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, client, mode, seconds, runs] = args.as_slice() else {
        eprintln!("usage: aopay-bench URL aopay|reqwest seq|c64 SECONDS RUNS");
        std::process::exit(2);
    };
    let seconds: f64 = seconds.parse().expect("SECONDS");
    let runs: usize = runs.parse().expect("RUNS");
    let in_flight = if mode == "seq" { 1 } else { 64 };
    let req = MobileRecharge::new(518, 10, NUMBER, GEO).expect("valid request");
    let builder = || {
        Client::builder()
            .registration_id("AOP-554")
            .base_url(url.as_str())
    };
    // Keys unique to this process, so that runs never meet each other's entries.
    let prefix = Arc::new(format!("bench-{}-{:?}", std::process::id(), Instant::now()));
    let driver = match client.as_str() {
        "aopay" => Driver::Aopay(builder().build().expect("client"), Arc::new(req)),
        "aopay+on_call" => Driver::Aopay(
            builder()
                .on_call(|e: &aopay_core::CallEvent<'_>| {
                    let counter = if e.error.is_none() {
                        &SUCCEEDED
                    } else {
                        &FAILED
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                })
                .build()
                .expect("client"),
            Arc::new(req),
        ),
        "aopay+hs256" => Driver::Aopay(
            builder()
                .signer(
                    aopay_core::JwtSigner::hs256("PS001", b"bench partner key").expect("signer"),
                )
                .build()
                .expect("client"),
            Arc::new(req),
        ),
        "aopay+rs256" => Driver::Aopay(
            builder()
                .signer(
                    aopay_core::JwtSigner::rs256(
                        "PS001",
                        include_bytes!("../../../testdata/jwt/rs256-private.pem"),
                    )
                    .expect("signer"),
                )
                .build()
                .expect("client"),
            Arc::new(req),
        ),
        "aopay+sqlite" => {
            let path = std::env::temp_dir().join(format!("aopay-bench-{}.db", std::process::id()));
            let journal = aopay_core::Journal::sqlite(&path).expect("sqlite journal");
            Driver::Keyed(
                builder().journal(journal).build().expect("client"),
                Arc::new(req),
                prefix,
            )
        }
        "aopay+postgres" => {
            let dsn = std::env::var("AOPAY_BENCH_POSTGRES").expect("AOPAY_BENCH_POSTGRES");
            let journal = aopay_core::Journal::postgres(&dsn).expect("postgres journal");
            Driver::Keyed(
                builder().journal(journal).build().expect("client"),
                Arc::new(req),
                prefix,
            )
        }
        _ => {
            let body = req.to_json(&RegistrationId::new("AOP-554").expect("id"));
            Driver::Reqwest(
                reqwest::Client::builder()
                    .tls_backend_preconfigured(
                        rustls::ClientConfig::builder_with_provider(Arc::new(
                            rustls::crypto::ring::default_provider(),
                        ))
                        .with_safe_default_protocol_versions()
                        .expect("tls")
                        .with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth(),
                    )
                    .build()
                    .expect("reqwest"),
                format!("{url}/api/AOP/V2/MobileRecharge"),
                Arc::new(body),
            )
        }
    };
    measure(&driver, in_flight, 0.3).await; // warm-up: connections, allocator
    for _ in 0..runs {
        let cps = measure(&driver, in_flight, seconds).await;
        println!("{{\"client\":\"{client}\",\"mode\":\"{mode}\",\"calls_per_sec\":{cps:.1}}}");
    }
}
