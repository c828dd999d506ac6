//! The sandbox spoken to in raw HTTP over loopback, as a strict server.

use aopay_sandbox::{MAGIC_NUMBERS, Sandbox, SandboxConfig, Scenario, scenario_for};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const RECHARGE: &str = "/api/AOP/V2/MobileRecharge";
const STATUS: &str = "/api/AOP/V2/RechargeStatus";

/// Send one request (Connection: close) and return (status, body).
async fn send(
    sb: &Sandbox,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(sb.addr()).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out);
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let start = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(out.len(), |p| p + 4);
    (status, out[start..].to_vec())
}

async fn post(sb: &Sandbox, path: &str, body: &Value) -> (u16, Value) {
    let (status, bytes) = send(
        sb,
        "POST",
        path,
        "application/json",
        body.to_string().as_bytes(),
    )
    .await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn recharge(number: Value) -> Value {
    json!({"RegistrationID": "AOP-554", "ProductID": 518, "Amount": 10,
           "Geocode": "23.6784,76.8764", "CustomerNumber": number})
}

#[tokio::test]
async fn success_and_status_have_the_documented_shape() {
    let sb = Sandbox::start().await.unwrap();
    let (status, body) = post(&sb, RECHARGE, &recharge(json!(9_876_543_210u64))).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], true);
    assert_eq!(body["data"]["status"], "SUCCESS");
    let reference = body["ReferanceID"].as_str().unwrap().to_owned();
    assert!(reference.starts_with("AOP554R"));
    for key in ["msg", "error", "statusCode", "Status", "message", "Value"] {
        assert!(body.get(key).is_some(), "{key} missing");
    }
    assert!(
        !body.to_string().contains("9876543210"),
        "the number is masked in messages"
    );
    let (status, s) = post(
        &sb,
        STATUS,
        &json!({"RegistrationID": "AOP-554", "ReferanceId": reference}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(s["ReferanceID"], body["ReferanceID"]);
    assert_eq!(s["data"]["txnId"], body["data"]["txnId"]);
    let stats = sb.stats();
    assert_eq!(
        (
            stats.requests_to("mobile_recharge"),
            stats.requests_to("recharge_status"),
            stats.transactions
        ),
        (1, 1, 1)
    );
}

/// The sandbox reads integers as docs/openapi.yaml's JSON Schema does:
/// `518.0` is the integer 518, and the ranges the spec gives are enforced
/// (the schema fuzzer found both disagreements).
#[tokio::test]
async fn integers_are_read_as_the_spec_defines_them() {
    let sb = Sandbox::start().await.unwrap();
    let floats = json!({"RegistrationID": "AOP-554", "ProductID": 518.0, "Amount": 10.0,
                        "Geocode": "23.6784,76.8764", "CustomerNumber": 9_876_543_210.0});
    let (status, body) = post(&sb, RECHARGE, &floats).await;
    assert_eq!(
        (status, &body["data"]["status"]),
        (200, &json!("SUCCESS")),
        "{body}"
    );
    let (status, body) = post(
        &sb,
        "/api/AOP/DoRecharge",
        &json!({"operator": 11.0, "canumber": "9876543210", "amount": 10.0,
                "referenceid": "F1", "RegisterID": "AOP-554"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(
        &sb,
        "/api/AOP/FetchBilPaymentDetails",
        &json!({"RegistrationID": "AOP-554", "operator": 89.0, "canumber": 96740.0, "mode": "online"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for (key, past_max) in [
        ("ProductID", json!(2_147_483_648u64)),
        ("Amount", json!(1_000_001)),
        ("CustomerNumber", json!(1_000_000_000_000_000_000u64)),
    ] {
        let mut body = recharge(json!(9_876_543_210u64));
        body[key] = past_max;
        let (status, answer) = post(&sb, RECHARGE, &body).await;
        assert_eq!(status, 400, "{key}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(key),
            "{answer}"
        );
    }
    assert_eq!(
        sb.stats().requests_to("mobile_recharge"),
        1,
        "only the valid one was paid"
    );
}

#[tokio::test]
async fn malformed_requests_get_the_documented_error_shape() {
    let sb = Sandbox::start().await.unwrap();
    let mut cases: Vec<(Value, &str)> = vec![
        (json!([1, 2]), "JSON object"),
        (json!({}), "RegistrationID is required"),
    ];
    for (key, bad, rule) in [
        ("ProductID", json!("518"), "ProductID must be an integer"),
        ("Amount", json!(10.5), "Amount must be a positive integer"),
        ("Amount", json!(-1), "Amount must be a positive integer"),
        (
            "CustomerNumber",
            json!("9876543210"),
            "CustomerNumber must be an integer",
        ),
        ("Geocode", json!("north"), "Geocode must be"),
        ("Geocode", json!([23.6, 76.8]), "Geocode must be a string"),
        (
            "RegistrationID",
            json!(""),
            "RegistrationID must not be empty",
        ),
    ] {
        let mut body = recharge(json!(9_876_543_210u64));
        body[key] = bad;
        cases.push((body, rule));
    }
    for (body, rule) in cases {
        let (status, answer) = post(&sb, RECHARGE, &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["status"], false);
        assert!(answer["response_code"].is_i64());
        assert!(
            answer["message"].as_str().unwrap().contains(rule),
            "{answer} vs {rule}"
        );
    }
    let (status, _) = send(&sb, "POST", RECHARGE, "application/json", b"{not json").await;
    assert_eq!(status, 400);
    let (status, _) = post(&sb, STATUS, &json!({"RegistrationID": "AOP-554"})).await;
    assert_eq!(status, 400);
    let (status, _) = send(&sb, "POST", RECHARGE, "text/plain", b"{}").await;
    assert_eq!(status, 415);
    let (status, _) = send(&sb, "GET", RECHARGE, "application/json", b"").await;
    assert_eq!(status, 405);
    let (status, _) = send(&sb, "POST", "/nope", "application/json", b"{}").await;
    assert_eq!(status, 404);
    let big = vec![b' '; 100 * 1024];
    let (status, _) = send(&sb, "POST", RECHARGE, "application/json", &big).await;
    assert_eq!(status, 413);
    let stats = sb.stats();
    assert_eq!(
        stats.requests_to("mobile_recharge"),
        0,
        "malformed requests are not recharges"
    );
    assert_eq!(stats.rejected_requests, 15);
}

#[tokio::test]
async fn magic_numbers_map_to_their_scenarios() {
    assert_eq!(scenario_for(9_876_543_210), Scenario::Success);
    let mut seen = std::collections::HashSet::new();
    for (n, s, doc) in MAGIC_NUMBERS {
        assert_eq!(scenario_for(*n), *s);
        assert!(seen.insert(*n) && !doc.is_empty());
    }
    let sb = Sandbox::start().await.unwrap();
    let expect = [
        (9_000_000_001u64, 200u16),
        (9_000_000_004, 401),
        (9_000_000_005, 429),
        (9_000_000_006, 500),
        (9_000_000_009, 502),
        (9_000_000_011, 200),
    ];
    for (n, code) in expect {
        let (status, _) = post(&sb, RECHARGE, &recharge(json!(n))).await;
        assert_eq!(status, code, "{n}");
        assert_eq!(sb.recharges_for(n), 1);
    }
    // The dropped connection: no status line at all, but the recharge is recorded.
    let (status, body) = send(
        &sb,
        "POST",
        RECHARGE,
        "application/json",
        recharge(json!(9_000_000_008u64)).to_string().as_bytes(),
    )
    .await;
    assert_eq!((status, body.len()), (0, 0));
    assert_eq!(sb.recharges_for(9_000_000_008), 1);
    // Recorded: FAILED (1), 500 (6), dropped (8). Not recorded: 401, 429, 502, refused.
    assert_eq!(sb.stats().transactions, 3);
    sb.reset();
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
async fn unknown_reference_is_a_refusal_without_transaction() {
    let sb = Sandbox::start().await.unwrap();
    let (status, body) = post(
        &sb,
        STATUS,
        &json!({"RegistrationID": "AOP-554", "ReferanceId": "X1"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], false);
    assert_eq!(body["data"], Value::Null);
}

#[tokio::test]
async fn past_max_transactions_the_oldest_are_forgotten() {
    let config = SandboxConfig::default().max_transactions(3);
    let sb = Sandbox::start_with(config, ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let mut references = Vec::new();
    for number in 0..5u64 {
        let (_, body) = post(&sb, RECHARGE, &recharge(json!(9_876_500_000 + number))).await;
        references.push(body["ReferanceID"].as_str().unwrap().to_owned());
    }
    let found = |reference: String| {
        let sb = &sb;
        async move {
            let (_, s) = post(
                sb,
                STATUS,
                &json!({"RegistrationID": "AOP-554", "ReferanceId": reference}),
            )
            .await;
            s["status"] == true
        }
    };
    let mut kept = Vec::new();
    for reference in references {
        kept.push(found(reference).await);
    }
    assert_eq!(kept, [false, false, true, true, true]);
    let stats = sb.stats();
    assert_eq!(
        (stats.requests_to("mobile_recharge"), stats.transactions),
        (5, 3)
    );
    // What was received is still counted per number.
    assert_eq!(sb.recharges_for(9_876_500_000), 1);
    sb.reset();
    assert_eq!(sb.stats().transactions, 0);
}

#[tokio::test]
async fn stop_is_graceful_and_closes_the_port() {
    let sb = Sandbox::start().await.unwrap();
    let addr = sb.addr();
    sb.stop().await;
    assert!(TcpStream::connect(addr).await.is_err());
}

/// Write `head` and `body` while reading the answer at the same time (the
/// server may answer and close before the body is all sent); the status.
async fn send_streaming(sb: &Sandbox, head: String, body: Vec<u8>) -> u16 {
    let s = TcpStream::connect(sb.addr()).await.unwrap();
    let (mut r, mut w) = s.into_split();
    let writer = tokio::spawn(async move {
        let _ = w.write_all(head.as_bytes()).await;
        for chunk in body.chunks(1 << 20) {
            if w.write_all(chunk).await.is_err() {
                break;
            }
        }
    });
    let mut out = Vec::new();
    let _ = r.read_to_end(&mut out).await;
    writer.abort();
    String::from_utf8_lossy(&out)
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn hostile_bodies_are_refused_without_unbounded_work() {
    let sb = Sandbox::start().await.unwrap();
    let valid = recharge(json!(9_876_543_210u64)).to_string();
    // Deep nesting within the size bound: serde_json's depth limit stops it.
    let deep = "[".repeat(60_000);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (deep.into_bytes(), "JSON object"),
        ("{\"a\":".repeat(10_000).into_bytes(), "JSON object"),
        (
            valid.replace("AOP-554", "AOP-\u{1}").into_bytes(),
            "JSON object",
        ),
        (
            {
                let mut b = valid.clone().into_bytes();
                let at = b.windows(3).position(|w| w == b"AOP").unwrap();
                b[at] = 0xff;
                b
            },
            "JSON object",
        ),
        (
            valid
                .replacen("\"Amount\":10", "\"Amount\":10,\"Amount\":1000000", 1)
                .into_bytes(),
            "duplicate field `Amount`",
        ),
        (
            valid
                .replace("\"Amount\":10", "\"Amount\":1e400")
                .into_bytes(),
            "JSON object",
        ),
        (
            valid
                .replace("\"Amount\":10", "\"Amount\":100000000000000000000000000000")
                .into_bytes(),
            "Amount must be a positive integer",
        ),
    ];
    for (body, rule) in cases {
        let (status, answer) = send(&sb, "POST", RECHARGE, "application/json", &body).await;
        let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        assert_eq!(status, 400, "{rule}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(rule),
            "{answer} vs {rule}"
        );
    }
    // 50 MB, announced and not: read up to the 64 KiB bound, then 413.
    let fifty = vec![b' '; 50 << 20];
    let head = format!(
        "POST {RECHARGE} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        fifty.len()
    );
    assert_eq!(send_streaming(&sb, head, fifty.clone()).await, 413);
    let mut chunked = format!("{:x}\r\n", fifty.len()).into_bytes();
    chunked.extend_from_slice(&fifty);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let head = format!(
        "POST {RECHARGE} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    assert_eq!(send_streaming(&sb, head, chunked).await, 413);
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 0);
    assert_eq!(sb.stats().transactions, 0);
}

#[tokio::test]
async fn a_rate_limit_answers_429_with_retry_after_and_does_nothing() {
    let config = SandboxConfig::default().rate_limit(5);
    let sb = Sandbox::start_with(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut codes = Vec::new();
    for n in 0..8u64 {
        let (status, body) = post(&sb, RECHARGE, &recharge(json!(9_876_543_200u64 + n))).await;
        let word = body["data"]["status"].as_str().map(str::to_owned);
        codes.push((
            status,
            word.or_else(|| body["response_code"].as_i64().map(|c| c.to_string())),
        ));
    }
    let ok = (200, Some("SUCCESS".to_owned()));
    assert_eq!(codes[..5], vec![ok; 5], "{codes:?}");
    assert_eq!(
        codes[5..],
        vec![(429, Some("429".to_owned())); 3],
        "{codes:?}"
    );
    let stats = sb.stats();
    assert_eq!(
        (
            stats.requests_to("mobile_recharge"),
            stats.transactions,
            stats.rate_limited_requests
        ),
        (5, 5, 3)
    );
    // Retry-After says when the window has room again, in whole seconds.
    let mut s = TcpStream::connect(sb.addr()).await.unwrap();
    let body = recharge(json!(9_876_543_299u64)).to_string();
    let head = format!(
        "POST {RECHARGE} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out).await;
    assert!(out.starts_with("HTTP/1.1 429"), "{out}");
    assert!(
        out.to_ascii_lowercase().contains("retry-after: 1\r\n"),
        "{out}"
    );
    // A second later the window has room again.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (status, _) = post(&sb, RECHARGE, &recharge(json!(9_876_543_298u64))).await;
    assert_eq!(status, 200);
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 6);
}
