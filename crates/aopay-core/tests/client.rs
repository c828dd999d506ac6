//! The client against the real sandbox (and a raw server for the rest),
//! over real loopback HTTP.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use aopay_core::{Client, Error, ErrorKind, MobileRecharge, Status, WaitOptions};
use aopay_sandbox::{Sandbox, SandboxConfig};
use common::{Behaviour, RawServer, http_response};

const GEO: &str = "23.6784,76.8764";

fn client(url: &str) -> Client {
    Client::builder()
        .registration_id("AOP-554")
        .base_url(url)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn recharge_of(number: u64) -> MobileRecharge {
    MobileRecharge::new(518, 10, &number.to_string(), GEO).unwrap()
}

async fn sandbox() -> Sandbox {
    let config = SandboxConfig::default().slow_delay(Duration::from_secs(3));
    Sandbox::start_with(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
}

fn fast_wait() -> WaitOptions {
    WaitOptions::with_timeout(Duration::from_secs(10))
        .intervals(Duration::from_millis(10), Duration::from_millis(50))
}

/// Recharge a magic number, expecting an error; check exactly one request arrived.
async fn recharge_error(number: u64, expect: ErrorKind) -> (Sandbox, Error) {
    let sb = sandbox().await;
    let e = client(sb.url())
        .mobile_recharge(&recharge_of(number))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), expect, "{number}: {e}");
    assert_eq!(
        sb.recharges_for(number),
        1,
        "{number} must be received exactly once"
    );
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 1);
    (sb, e)
}

#[tokio::test]
async fn success_returns_a_final_recharge_with_a_reference() {
    let sb = sandbox().await;
    let c = client(sb.url());
    let r = c
        .mobile_recharge(&recharge_of(9_876_543_210))
        .await
        .unwrap();
    assert_eq!(r.status, Status::Success);
    assert!(r.is_final());
    let reference = r.reference_id.clone().unwrap();
    assert!(reference.starts_with("AOP554R"), "{reference}");
    assert!(r.txn_id.is_some());
    assert_eq!(r.meta.http_status, 200);
    assert_eq!(r.meta.api_code, Some(200));
    assert_eq!(r.meta.raw["ReferanceID"], reference.as_str());
    let s = c.recharge_status(&reference).await.unwrap();
    assert_eq!(
        (s.status, s.reference_id.as_deref()),
        (Status::Success, Some(reference.as_str()))
    );
    assert_eq!(sb.recharges_for(9_876_543_210), 1);
    assert_eq!(sb.stats().requests_to("recharge_status"), 1);
}

#[tokio::test]
async fn failed_is_an_outcome_not_an_error() {
    let sb = sandbox().await;
    let r = client(sb.url())
        .mobile_recharge(&recharge_of(9_000_000_001))
        .await
        .unwrap();
    assert_eq!(r.status, Status::Failed);
    assert!(r.is_final());
    assert_eq!(r.meta.api_code, Some(401));
    assert!(r.meta.message.unwrap().contains("Transaction failed"));
}

#[tokio::test]
async fn pending_resolves_with_wait_for_final() {
    let sb = sandbox().await;
    let c = client(sb.url());
    for (number, fate) in [
        (9_000_000_002, Status::Success),
        (9_000_000_003, Status::Failed),
    ] {
        let r = c.mobile_recharge(&recharge_of(number)).await.unwrap();
        assert_eq!(r.status, Status::Pending);
        assert!(!r.is_final());
        let reference = r.reference_id.unwrap();
        let f = c.wait_for_final(&reference, fast_wait()).await.unwrap();
        assert_eq!(f.status, fate, "{number}");
        assert_eq!(sb.recharges_for(number), 1);
    }
    // Two checks each (pending_checks = 2): the wait stops at the first final answer.
    assert_eq!(sb.stats().requests_to("recharge_status"), 4);
}

/// One outcome, one wait: a V2 recharge and a referenced write are both a
/// `Payment`, each waited on through its own status call; an outcome with
/// no reference is refused before anything is sent.
#[tokio::test]
async fn one_wait_settles_every_writes_outcome_through_its_status_call() {
    let sb = sandbox().await;
    let c = client(sb.url());
    let r = c
        .mobile_recharge(&recharge_of(9_000_000_002))
        .await
        .unwrap();
    assert_eq!(
        (r.status, r.status_call),
        (Status::Pending, "recharge_status")
    );
    let f = c.wait_for(&r, fast_wait()).await.unwrap();
    assert_eq!(
        (f.status, f.reference_id.as_deref(), f.status_call),
        (
            Status::Success,
            r.reference_id.as_deref(),
            "recharge_status"
        )
    );
    let p = c
        .pay(
            &aopay_core::DoRechargeRequest::new(
                11,
                "9000000302",
                aopay_core::Money::from_paise(1_000),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        (p.status, p.status_call),
        (Status::Pending, "do_recharge_status")
    );
    let f = c.wait_for(&p, fast_wait()).await.unwrap();
    assert_eq!(
        (f.status, &f.reference_id),
        (Status::Refunded, &p.reference_id)
    );
    let checks = sb.stats().requests_to("recharge_status");
    let mut nameless = r.clone();
    nameless.reference_id = None;
    let e = c.wait_for(&nameless, fast_wait()).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.field()),
        (ErrorKind::Validation, Some("reference_id"))
    );
    assert!(e.retry_safe());
    assert_eq!(
        sb.stats().requests_to("recharge_status"),
        checks,
        "nothing sent"
    );
}

#[tokio::test]
async fn wait_for_final_times_out_as_outcome_unknown_with_the_reference() {
    let config = SandboxConfig::default().pending_checks(1_000);
    let sb = Sandbox::start_with(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let c = client(sb.url());
    let r = c
        .mobile_recharge(&recharge_of(9_000_000_002))
        .await
        .unwrap();
    let reference = r.reference_id.unwrap();
    let opts = WaitOptions::with_timeout(Duration::from_millis(300))
        .intervals(Duration::from_millis(20), Duration::from_millis(40));
    let e = c.wait_for_final(&reference, opts).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
    assert!(!e.retry_safe());
    assert_eq!(e.reference_id(), Some(reference.as_str()));
    assert!(e.message().contains("still PENDING"), "{e}");
    assert!(sb.stats().requests_to("recharge_status") >= 2);
}

#[tokio::test]
async fn unauthorized_is_authentication_error_with_api_code() {
    let (_sb, e) = recharge_error(9_000_000_004, ErrorKind::Authentication).await;
    assert_eq!(e.http_status(), Some(401));
    assert_eq!(e.api_code(), Some(5));
    assert_eq!(e.message(), "Invalid signature encoding");
    assert!(e.retry_safe());
    assert_eq!(e.code(), "AOPAY_AUTHENTICATION");
}

#[tokio::test]
async fn rate_limit_carries_retry_after() {
    let (_sb, e) = recharge_error(9_000_000_005, ErrorKind::RateLimit).await;
    assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(e.http_status(), Some(429));
    assert!(e.retry_safe());
}

/// A gateway's 429 with `Retry-After` as an HTTP date.
#[tokio::test]
async fn rate_limit_retry_after_as_an_http_date() {
    let at = std::time::SystemTime::now() + Duration::from_secs(30);
    let answer = format!(
        "HTTP/1.1 429 Too Many Requests\r\nretry-after: {}\r\ncontent-length: 0\r\n\r\n",
        httpdate::fmt_http_date(at)
    )
    .into_bytes();
    let srv = RawServer::start(Behaviour::Respond(answer)).await;
    let e = client(&srv.url)
        .mobile_recharge(&recharge_of(9_876_543_210))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimit, "{e}");
    let wait = e.retry_after().expect("Retry-After is read");
    assert!(
        (Duration::from_secs(28)..=Duration::from_secs(30)).contains(&wait),
        "{wait:?}"
    );
    assert!(e.retry_safe());
}

#[tokio::test]
async fn server_error_after_recording_is_outcome_unknown() {
    let (sb, e) = recharge_error(9_000_000_006, ErrorKind::OutcomeUnknown).await;
    assert_eq!(e.http_status(), Some(500));
    assert!(!e.retry_safe());
    assert_eq!(sb.stats().transactions, 1, "the sandbox did record it");
}

#[tokio::test]
async fn slow_answer_times_out_as_outcome_unknown_within_the_deadline() {
    let sb = sandbox().await;
    let c = Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let started = Instant::now();
    let e = c
        .mobile_recharge(&recharge_of(9_000_000_007))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
    assert!(
        started.elapsed() < Duration::from_millis(2_900),
        "the deadline was not kept"
    );
    assert_eq!(sb.recharges_for(9_000_000_007), 1);
}

#[tokio::test]
async fn dropped_connection_is_outcome_unknown_and_never_resent() {
    let (sb, e) = recharge_error(9_000_000_008, ErrorKind::OutcomeUnknown).await;
    assert_eq!(e.http_status(), None);
    assert_eq!(sb.stats().transactions, 1);
}

#[tokio::test]
async fn html_502_is_outcome_unknown_with_a_bounded_excerpt() {
    let (_sb, e) = recharge_error(9_000_000_009, ErrorKind::OutcomeUnknown).await;
    assert_eq!(e.http_status(), Some(502));
    assert!(e.body_excerpt().unwrap().contains("502 Bad Gateway"));
}

#[tokio::test]
async fn refusal_without_transaction_is_api_error() {
    let (_sb, e) = recharge_error(9_000_000_011, ErrorKind::Api).await;
    assert_eq!(e.api_code(), Some(402));
    assert_eq!(e.message(), "Insufficient balance in wallet");
    assert!(e.retry_safe());
}

#[tokio::test]
async fn truncated_2xx_body_is_outcome_unknown() {
    let (_sb, e) = recharge_error(9_000_000_012, ErrorKind::OutcomeUnknown).await;
    assert_eq!(e.http_status(), Some(200));
}

#[tokio::test]
async fn status_retries_through_503s() {
    let sb = sandbox().await;
    let c = client(sb.url());
    let r = c
        .mobile_recharge(&recharge_of(9_000_000_010))
        .await
        .unwrap();
    let s = c
        .recharge_status(r.reference_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(s.status, Status::Success);
    assert_eq!(
        sb.stats().requests_to("recharge_status"),
        3,
        "two 503s, then the answer"
    );
}

#[tokio::test]
async fn status_retry_honours_retry_after() {
    let sb = sandbox().await;
    let c = client(sb.url());
    let r = c
        .mobile_recharge(&recharge_of(9_000_000_013))
        .await
        .unwrap();
    let started = Instant::now();
    let s = c
        .recharge_status(r.reference_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(s.status, Status::Success);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured"
    );
    assert_eq!(sb.stats().requests_to("recharge_status"), 2);
}

#[tokio::test]
async fn status_retry_after_beyond_the_deadline_gives_up_at_once() {
    let sb = sandbox().await;
    let c = Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let r = c
        .mobile_recharge(&recharge_of(9_000_000_013))
        .await
        .unwrap();
    let e = c
        .recharge_status(r.reference_id.as_deref().unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimit);
    assert_eq!(sb.stats().requests_to("recharge_status"), 1);
}

#[tokio::test]
async fn unknown_reference_is_api_error() {
    let sb = sandbox().await;
    let e = client(sb.url())
        .recharge_status("AOP554R1")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api);
    assert_eq!(e.api_code(), Some(404));
    assert!(e.message().contains("AOP554R1"));
}

#[tokio::test]
async fn refused_connection_is_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let c = client(&url);
    let e = c
        .mobile_recharge(&recharge_of(9_876_543_210))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect);
    assert!(e.retry_safe());
    assert_eq!(e.code(), "AOPAY_CONNECT");
    let e = c.recharge_status("AOP554R1").await.unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Connect,
        "status retries end in the last error"
    );
}

#[tokio::test]
async fn status_5xx_after_all_retries_is_server_error() {
    let srv = RawServer::start(Behaviour::Respond(http_response(
        "503 Service Unavailable",
        "text/plain",
        b"down",
    )))
    .await;
    let c = Client::builder()
        .registration_id("AOP-554")
        .base_url(&srv.url)
        .read_max_attempts(3)
        .build()
        .unwrap();
    let e = c.recharge_status("AOP554R1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(e.http_status(), Some(503));
    assert!(e.retry_safe());
    assert_eq!(srv.count(), 3);
    // The same 503 on a recharge: it may have been processed, and it is not resent.
    let e = c
        .mobile_recharge(&recharge_of(9_876_543_210))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(srv.count(), 4);
}

#[tokio::test]
async fn status_timeouts_are_retried_within_one_deadline() {
    let srv = RawServer::start(Behaviour::Silent).await;
    let c = Client::builder()
        .registration_id("AOP-554")
        .base_url(&srv.url)
        .timeout(Duration::from_millis(900))
        .read_attempt_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    let e = c.recharge_status("AOP554R1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "deadline not kept"
    );
    assert!(
        srv.count() >= 2,
        "a timed-out read must be retried (got {})",
        srv.count()
    );
    // A silent server on a recharge: one request, outcome unknown.
    let before = srv.count();
    let e = c
        .mobile_recharge(&recharge_of(9_876_543_210))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(srv.count(), before + 1);
}

#[tokio::test]
async fn unreadable_status_answer_is_protocol_error() {
    let srv = RawServer::start(Behaviour::Respond(http_response(
        "200 OK",
        "text/html",
        b"<html>",
    )))
    .await;
    let c = Client::builder()
        .registration_id("AOP-554")
        .base_url(&srv.url)
        .read_max_attempts(2)
        .build()
        .unwrap();
    let e = c.recharge_status("AOP554R1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(e.retry_safe());
}

#[tokio::test]
async fn oversized_answer_is_cut_and_outcome_unknown() {
    let body = vec![b' '; 64 * 1024];
    let srv = RawServer::start(Behaviour::Respond(http_response(
        "200 OK",
        "application/json",
        &body,
    )))
    .await;
    let c = Client::builder()
        .registration_id("AOP-554")
        .base_url(&srv.url)
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let e = c
        .mobile_recharge(&recharge_of(9_876_543_210))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
    assert!(e.message().contains("1024-byte limit"), "{e}");
}

/// 50 MB answers, announced (Content-Length) and not (chunked): the client
/// stops at its 1 MiB default bound, and the outcome is unknown.
#[tokio::test]
async fn fifty_megabyte_answers_stop_at_the_bound() {
    let fifty = vec![b' '; 50 << 20];
    let mut announced = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        fifty.len()
    )
    .into_bytes();
    announced.extend_from_slice(&fifty);
    let mut chunked =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    for piece in fifty.chunks(1 << 20) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    for answer in [announced, chunked] {
        let srv = RawServer::start(Behaviour::Respond(answer)).await;
        let c = client(&srv.url);
        let e = c
            .mobile_recharge(&recharge_of(9_876_543_210))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::OutcomeUnknown, "{e}");
        assert!(e.message().contains("1048576-byte limit"), "{e}");
        let e = c.recharge_status("AOP554R1").await.unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Protocol | ErrorKind::Server),
            "{e}"
        );
    }
}

#[tokio::test]
async fn request_bytes_match_the_wire_protocol() {
    let ok = br#"{"ReferanceID":"R1","data":{"status":"SUCCESS"}}"#;
    let srv = RawServer::start(Behaviour::Respond(http_response(
        "200 OK",
        "application/json",
        ok,
    )))
    .await;
    let c = Client::builder()
        .registration_id("AOP-554")
        .base_url(format!("{}/prefix/", srv.url))
        .header("X-Api-Key", "k-123")
        .build()
        .unwrap();
    let req = MobileRecharge::new(518, 10, "+91 98765-43210", "23.6784,76.8764").unwrap();
    c.mobile_recharge(&req).await.unwrap();
    c.recharge_status("AOP554R318820").await.unwrap();
    let seen = srv.requests.lock().unwrap().clone();
    let text: Vec<String> = seen
        .iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect();
    let lower = text[0].to_ascii_lowercase();
    assert!(
        text[0].starts_with("POST /prefix/api/AOP/V2/MobileRecharge HTTP/1.1\r\n"),
        "{}",
        text[0]
    );
    assert!(lower.contains("content-type: application/json\r\n"));
    assert!(lower.contains("accept: application/json\r\n"));
    assert!(lower.contains(&format!("user-agent: {}\r\n", aopay_core::USER_AGENT)));
    assert!(lower.contains("x-api-key: k-123\r\n"));
    assert!(text[0].ends_with(
        r#"{"RegistrationID":"AOP-554","ProductID":518,"Amount":10,"Geocode":"23.6784,76.8764","CustomerNumber":9876543210}"#
    ));
    assert!(text[1].starts_with("POST /prefix/api/AOP/V2/RechargeStatus HTTP/1.1\r\n"));
    assert!(text[1].ends_with(r#"{"RegistrationID":"AOP-554","ReferanceId":"AOP554R318820"}"#));
}

#[tokio::test]
async fn invalid_inputs_send_nothing() {
    let sb = sandbox().await;
    let c = client(sb.url());
    let e = c.recharge_status("").await.unwrap_err();
    assert_eq!(
        (e.kind(), e.field()),
        (ErrorKind::Validation, Some("reference_id"))
    );
    let e = c.recharge_status("AOP\u{7}1").await.unwrap_err();
    assert_eq!(e.field(), Some("reference_id"));
    let e = c
        .wait_for_final(&"R".repeat(200), fast_wait())
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("reference_id"));
    let zeroed = sb.stats();
    assert!(zeroed.requests.values().all(|n| *n == 0), "{zeroed:?}");
    let requests = zeroed.requests.clone();
    assert_eq!(
        zeroed,
        aopay_sandbox::Stats {
            requests,
            ..Default::default()
        }
    );
}

#[tokio::test]
async fn builder_validates_its_inputs() {
    let field = |r: Result<Client, Error>| r.unwrap_err().field();
    assert_eq!(field(Client::builder().build()), Some("registration_id"));
    let b = || Client::builder().registration_id("AOP-554");
    assert_eq!(
        field(b().base_url("http://api.aopay.co.in").build()),
        Some("base_url")
    );
    assert!(
        b().base_url("http://api.aopay.co.in")
            .allow_insecure_http(true)
            .build()
            .is_ok()
    );
    assert_eq!(field(b().timeout(Duration::ZERO).build()), Some("timeout"));
    assert_eq!(field(b().header("bad name", "v").build()), Some("headers"));
    assert_eq!(
        field(b().header("X-Key", "line\nbreak").build()),
        Some("headers")
    );
    let e = b().header("X-Key", "sec\nret").build().unwrap_err();
    assert!(!e.to_string().contains("sec"), "{e}");
}

#[tokio::test]
async fn one_client_many_concurrent_calls() {
    let sb = sandbox().await;
    let c = client(sb.url());
    let mut tasks = Vec::new();
    for i in 0..200u64 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.mobile_recharge(&recharge_of(8_000_000_000 + i))
                .await
                .unwrap()
                .reference_id
                .unwrap()
        }));
    }
    let mut refs = std::collections::HashSet::new();
    for t in tasks {
        refs.insert(t.await.unwrap());
    }
    assert_eq!(refs.len(), 200, "every recharge gets its own reference");
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 200);
}

#[tokio::test]
async fn a_stopped_sandbox_refuses_connections() {
    let sb = sandbox().await;
    let url = sb.url().to_owned();
    sb.stop().await;
    let e = client(&url)
        .mobile_recharge(&recharge_of(9_876_543_210))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect);
}

/// A closed client takes no new call (nothing sent), waits for the calls in
/// flight, and every clone of it is closed.
#[tokio::test]
async fn a_closed_client_waits_for_its_calls_and_takes_no_new_one() {
    let sb = aopay_sandbox::Sandbox::start_with(
        aopay_sandbox::SandboxConfig::default().slow_delay(Duration::from_millis(600)),
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap();
    let client = aopay_core::Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let slow = aopay_core::MobileRecharge::new(518, 10, "9000000007", "1,1").unwrap();
    let in_flight = {
        let c = client.clone();
        tokio::spawn(async move { c.mobile_recharge(&slow).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    client.close().await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "close waited for the call"
    );
    let answered = in_flight.await.unwrap().unwrap();
    assert_eq!(answered.status, aopay_core::Status::Success);
    let req = aopay_core::MobileRecharge::new(518, 10, "9876543210", "1,1").unwrap();
    let e = client.clone().mobile_recharge(&req).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.field()),
        (aopay_core::ErrorKind::Validation, Some("client"))
    );
    assert!(client.is_closed());
    assert_eq!(
        sb.recharges_for(9_876_543_210),
        0,
        "nothing sent after close"
    );
    client.close().await; // twice is once
}
