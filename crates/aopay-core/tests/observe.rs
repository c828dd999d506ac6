//! The metrics hook (`ClientBuilder::on_call`) against the real sandbox:
//! one event per call, with the figures a metrics system needs and no
//! secret.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aopay_core::{CallEvent, Client, ErrorKind, MobileRecharge, WaitOptions};
use aopay_sandbox::{Sandbox, SandboxConfig};

const GEO: &str = "23.6784,76.8764";

/// What an event said, owned.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    endpoint: &'static str,
    attempts: u32,
    http_status: Option<u16>,
    outcome: String,
    error: Option<&'static str>,
    retry_safe: Option<bool>,
    customer_number: Option<String>,
    reference_id: Option<String>,
    debug: String,
    json: serde_json::Value,
}

fn seen(e: &CallEvent<'_>) -> Seen {
    Seen {
        endpoint: e.endpoint,
        attempts: e.attempts,
        http_status: e.http_status,
        outcome: e.outcome.to_owned(),
        error: e.error,
        retry_safe: e.retry_safe,
        customer_number: e.customer_number.map(str::to_owned),
        reference_id: e.reference_id.map(str::to_owned),
        debug: format!("{e:?}"),
        json: e.to_json_value(),
    }
}

async fn sandbox() -> Sandbox {
    let config = SandboxConfig::default().slow_delay(Duration::from_secs(2));
    Sandbox::start_with(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
}

fn observed(url: &str) -> (Client, Arc<Mutex<Vec<Seen>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let client = Client::builder()
        .registration_id("AOP-554")
        .base_url(url)
        .header("X-Api-Key", "s3cr3t-key")
        .timeout(Duration::from_secs(1))
        .on_call(move |e: &CallEvent<'_>| sink.lock().unwrap().push(seen(e)))
        .build()
        .unwrap();
    (client, events)
}

fn recharge(number: &str) -> MobileRecharge {
    MobileRecharge::new(518, 10, number, GEO).unwrap()
}

#[tokio::test]
async fn a_recharge_and_its_status_are_one_event_each() {
    let sb = sandbox().await;
    let (c, events) = observed(sb.url());
    let r = c.mobile_recharge(&recharge("9876543210")).await.unwrap();
    let reference = r.reference_id.clone().unwrap();
    c.recharge_status(&reference).await.unwrap();
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 2, "{events:#?}");
    let (write, read) = (&events[0], &events[1]);
    assert_eq!(write.endpoint, "MobileRecharge");
    assert_eq!(write.attempts, 1);
    assert_eq!(write.http_status, Some(200));
    assert_eq!(write.outcome, "SUCCESS");
    assert_eq!((write.error, write.retry_safe), (None, None));
    assert_eq!(write.customer_number.as_deref(), Some("98XXXXXX10"));
    assert_eq!(write.reference_id.as_deref(), Some(reference.as_str()));
    assert_eq!(read.endpoint, "RechargeStatus");
    // What the bindings are handed: every field, the duration in microseconds.
    let keys: Vec<&str> = write
        .json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 9, "{keys:?}");
    assert_eq!(write.json["customer_number"], "98XXXXXX10");
    assert!(write.json["duration_us"].as_u64().unwrap() > 0);
    assert_eq!(write.json["retry_safe"], serde_json::Value::Null);
    assert_eq!(read.customer_number, None);
    for e in &events {
        assert!(
            !e.debug.contains("s3cr3t") && !e.debug.contains("9876543210"),
            "{}",
            e.debug
        );
    }
}

#[tokio::test]
async fn a_write_that_may_have_arrived_is_an_error_event_never_safe_to_retry() {
    let sb = sandbox().await;
    let (c, events) = observed(sb.url());
    // Recorded, then answered after 2 s: past the 1 s deadline.
    let e = c
        .mobile_recharge(&recharge("9000000007"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    let ev = &events[0];
    assert_eq!(
        (ev.outcome.as_str(), ev.error),
        ("error", Some("AOPAY_OUTCOME_UNKNOWN"))
    );
    assert_eq!(ev.retry_safe, Some(false));
    assert_eq!(ev.attempts, 1);
    assert_eq!(ev.http_status, None);
}

#[tokio::test]
async fn a_refusal_is_an_error_event_with_its_status_and_a_read_counts_its_retries() {
    let sb = sandbox().await;
    let (c, events) = observed(sb.url());
    let e = c
        .mobile_recharge(&recharge("9000000004"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    // SUCCESS, and its first two status checks get 503: three requests.
    let r = c.mobile_recharge(&recharge("9000000010")).await.unwrap();
    let reference = r.reference_id.unwrap();
    let c2 = Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .timeout(Duration::from_secs(10))
        .on_call({
            let events = Arc::clone(&events);
            move |e: &CallEvent<'_>| events.lock().unwrap().push(seen(e))
        })
        .build()
        .unwrap();
    c2.recharge_status(&reference).await.unwrap();
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 3, "{events:#?}");
    assert_eq!(events[0].http_status, Some(401));
    assert_eq!(events[0].error, Some("AOPAY_AUTHENTICATION"));
    assert_eq!(events[0].retry_safe, Some(true));
    assert_eq!(events[2].endpoint, "RechargeStatus");
    assert_eq!(events[2].attempts, 3);
    assert_eq!(events[2].http_status, Some(200));
}

#[tokio::test]
async fn every_poll_of_a_wait_is_an_event() {
    let sb = sandbox().await;
    let (c, events) = observed(sb.url());
    let r = c.mobile_recharge(&recharge("9000000002")).await.unwrap();
    let options = WaitOptions::with_timeout(Duration::from_secs(10))
        .intervals(Duration::from_millis(10), Duration::from_millis(20));
    let done = c
        .wait_for_final(r.reference_id.as_deref().unwrap(), options)
        .await
        .unwrap();
    assert_eq!(done.status.as_str(), "SUCCESS");
    let events = events.lock().unwrap().clone();
    let polls: Vec<&str> = events[1..].iter().map(|e| e.outcome.as_str()).collect();
    assert_eq!(events[0].outcome, "PENDING");
    assert_eq!(polls.last(), Some(&"SUCCESS"), "{polls:?}");
    assert!(polls.len() >= 2, "{polls:?}");
    assert!(events[1..].iter().all(|e| e.endpoint == "RechargeStatus"));
}

#[tokio::test]
async fn a_panicking_observer_loses_no_result() {
    let sb = sandbox().await;
    let c = Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .on_call(|_: &CallEvent<'_>| panic!("observer bug"))
        .build()
        .unwrap();
    let r = c.mobile_recharge(&recharge("9876543210")).await.unwrap();
    assert_eq!(r.status.as_str(), "SUCCESS");
    assert_eq!(sb.recharges_for(9_876_543_210), 1);
}
