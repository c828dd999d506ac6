//! Request signers against a sandbox that requires a JWT, as the upstream
//! does (docs/protocol.md §11), over loopback: the built-in HS256 and
//! RS256 signers pass; a wrong key, a stale timestamp and a replayed token
//! are `AuthenticationError` with nothing recorded (after one resend with
//! a fresh token); a custom signer that signs the body sends exactly what
//! it signed; every call carries its own `reqid`; secrets never show.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aopay_core::batch::{BatchOptions, OrderStream};
use aopay_core::{Client, DoRechargeRequest, ErrorKind, Journal, JwtSigner, Money, Signer};
use aopay_sandbox::{JwtKey, Replay, Sandbox, SandboxConfig};

const SECRET: &[u8] = b"partner-secret-for-tests";

fn pem(name: &str) -> Vec<u8> {
    let path = format!("{}/../../testdata/jwt/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap()
}

async fn sandbox(key: JwtKey) -> Sandbox {
    let config = SandboxConfig::default().require_jwt(key);
    Sandbox::start_with(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
}

fn client(sb_url: &str, signer: impl Signer) -> Client {
    Client::builder()
        .registration_id("AOP-554")
        .base_url(sb_url)
        .timeout(Duration::from_secs(10))
        .signer(signer)
        .build()
        .unwrap()
}

fn recharge(number: &str) -> DoRechargeRequest {
    DoRechargeRequest::new(11, number, Money::from_paise(1_000)).unwrap()
}

/// A token made by hand (for a stale timestamp or a fixed `reqid`).
fn token(timestamp: u64, reqid: &str) -> String {
    let claims = serde_json::json!({"timestamp": timestamp, "partnerId": "PS001", "reqid": reqid});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn the_built_in_signers_pass_and_a_wrong_key_is_refused_with_nothing_recorded() {
    for (key, good, wrong) in [
        (
            JwtKey::Hs256(SECRET.to_vec()),
            JwtSigner::hs256("PS001", SECRET).unwrap(),
            JwtSigner::hs256("PS001", b"another secret").unwrap(),
        ),
        (
            JwtKey::Rs256PublicPem(pem("rs256-public.pem")),
            JwtSigner::rs256("PS001", &pem("rs256-private.pem")).unwrap(),
            JwtSigner::rs256("PS001", &pem("rs256-other-private.pem")).unwrap(),
        ),
    ] {
        let sb = sandbox(key).await;
        let paid = client(sb.url(), good)
            .pay(&recharge("9876500001"))
            .await
            .unwrap();
        assert_eq!(paid.status, aopay_core::PaymentStatus::Success);
        let e = client(sb.url(), wrong)
            .pay(&recharge("9876500002"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");
        assert_eq!((e.http_status(), e.api_code()), (Some(412), Some(10)));
        assert!(e.retry_safe());
        assert!(e.message().contains("Signature verification failed"), "{e}");
        let s = sb.stats();
        assert_eq!((s.payments, s.requests_to("do_recharge")), (1, 1), "{s:?}");
        assert_eq!(
            s.unauthorized_requests, 2,
            "refused, resent once with a fresh token"
        );
        // No token at all: the gateway's own refusal.
        let plain = Client::builder()
            .registration_id("AOP-554")
            .base_url(sb.url())
            .build()
            .unwrap();
        let e = plain.pay(&recharge("9876500003")).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.http_status()),
            (ErrorKind::Authentication, Some(401))
        );
    }
}

#[tokio::test]
async fn a_stale_timestamp_and_a_replayed_token_are_refused() {
    let sb = sandbox(JwtKey::Hs256(SECRET.to_vec())).await;
    let stale = client(sb.url(), |_: &str, _: &[u8]| {
        let t = token(now() - 600, &format!("stale-{}", now()));
        async move { Ok(vec![("Token".to_owned(), t)]) }
    });
    let e = stale.pay(&recharge("9876500004")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert!(e.message().contains("Expired token"), "{e}");
    let fixed = token(now(), "the-same-reqid");
    let replaying = client(sb.url(), move |_: &str, _: &[u8]| {
        let t = fixed.clone();
        async move { Ok(vec![("Token".to_owned(), t)]) }
    });
    replaying.pay(&recharge("9876500005")).await.unwrap();
    let e = replaying.pay(&recharge("9876500006")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert!(e.message().contains("already used"), "{e}");
    // A signature that is not base64url: the seed's answer, word for word.
    let garbled = client(sb.url(), |_: &str, _: &[u8]| async {
        Ok(vec![("Token".to_owned(), "a.b.c+d/e=".to_owned())])
    });
    let e = garbled.pay(&recharge("9876500007")).await.unwrap_err();
    assert_eq!(
        (e.http_status(), e.api_code(), e.message().as_str()),
        (Some(401), Some(5), "Invalid signature encoding")
    );
    assert_eq!(sb.stats().payments, 1, "only the first replayed token paid");
}

#[tokio::test]
async fn sixty_four_concurrent_calls_each_carry_their_own_reqid() {
    let sb = sandbox(JwtKey::Hs256(SECRET.to_vec())).await;
    let c = client(sb.url(), JwtSigner::hs256("PS001", SECRET).unwrap());
    let calls = (0..64).map(|i| {
        let c = c.clone();
        async move { c.pay(&recharge(&format!("98765{i:05}"))).await }
    });
    let results = futures_join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(sb.stats().unauthorized_requests, 0);
    assert_eq!(sb.stats().payments, 64);
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(
    fs: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// A custom signer that signs the body (an HMAC over the exact bytes):
/// the bytes it signed are the bytes that left, on the first send and on
/// the resend after a refusal (each freshly signed).
#[tokio::test]
async fn a_body_signing_signer_signs_exactly_what_is_sent() {
    let replay = Replay::start().unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"hmac key");
    let signed = Arc::new(Mutex::new(0));
    let count = Arc::clone(&signed);
    let signing_key = key.clone();
    let c = client(replay.url(), move |path: &str, body: &[u8]| {
        *count.lock().unwrap() += 1;
        let tag = ring::hmac::sign(&signing_key, body);
        let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let path = path.to_owned();
        async move {
            Ok(vec![
                ("X-Signature".to_owned(), hex),
                ("X-Path".to_owned(), path),
            ])
        }
    });
    let refused =
        r#"{"status": false, "response_code": 10, "message": "Signature verification failed"}"#;
    let paid = r#"{"status":true,"response_code":1,"message":"ok"}"#;
    replay.serve_each(&[(412, refused), (200, paid)]);
    c.pay(&recharge("9876500008")).await.unwrap();
    assert_eq!((replay.requests(), *signed.lock().unwrap()), (2, 2));
    let (head, body) = replay.last_request().unwrap();
    let sent_tag = head
        .lines()
        .find_map(|l| l.strip_prefix("x-signature: "))
        .unwrap_or_else(|| panic!("{head}"));
    let tag = ring::hmac::sign(&key, &body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(sent_tag, hex);
    assert!(head.contains("x-path: /api/AOP/DoRecharge"), "{head}");
}

#[tokio::test]
async fn a_signer_that_fails_hangs_or_gives_bad_headers_sends_nothing() {
    let replay = Replay::start().unwrap();
    let failing = client(replay.url(), |_: &str, _: &[u8]| async {
        Err::<Vec<(String, String)>, _>("the HSM is down".to_owned())
    });
    let e = failing.pay(&recharge("9876500009")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert!(
        e.retry_safe() && e.message().contains("the HSM is down"),
        "{e}"
    );
    let bad = client(replay.url(), |_: &str, _: &[u8]| async {
        Ok(vec![("Token".to_owned(), "line\nbreak".to_owned())])
    });
    let e = bad.pay(&recharge("9876500010")).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.field()),
        (ErrorKind::Validation, Some("signer"))
    );
    let hanging = Client::builder()
        .registration_id("AOP-554")
        .base_url(replay.url())
        .timeout(Duration::from_millis(300))
        .signer(|_: &str, _: &[u8]| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(Vec::new())
        })
        .build()
        .unwrap();
    let e = hanging.pay(&recharge("9876500011")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert!(e.retry_safe() && e.message().contains("deadline"), "{e}");
    assert_eq!(replay.requests(), 0, "nothing was sent");
}

/// The secret, the key and every token never show: not in Debug, not in
/// any log line at TRACE, not in an error.
#[tokio::test]
async fn secrets_never_show_at_trace() {
    use tracing_subscriber::layer::SubscriberExt;
    let sink = common::Capture::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("trace"))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        );
    let _guard = tracing::subscriber::set_default(subscriber);
    let replay = Replay::start().unwrap();
    let signer = JwtSigner::rs256("PS001", &pem("rs256-private.pem"))
        .unwrap()
        .static_header("Authorisedkey", "UAT-SECRET-KEY")
        .unwrap();
    let shown = format!("{signer:?}");
    let c = client(replay.url(), signer);
    replay.serve(
        412,
        r#"{"status": false, "response_code": 10, "message": "Signature verification failed"}"#,
    );
    let e = c.pay(&recharge("9876500012")).await.unwrap_err();
    let (head, _) = replay.last_request().unwrap();
    let token = head
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap()
        .to_owned();
    let logs = sink.text();
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG"),
        "logging was on"
    );
    let private = String::from_utf8(pem("rs256-private.pem")).unwrap();
    let key_line = private.lines().nth(1).unwrap();
    for text in [
        &logs,
        &shown,
        &format!("{c:?}"),
        &e.to_string(),
        &e.to_json_value().to_string(),
    ] {
        assert!(!text.contains(&token), "a token showed: {text}");
        assert!(
            !text.contains("UAT-SECRET-KEY"),
            "a static header showed: {text}"
        );
        assert!(!text.contains(key_line), "the private key showed");
    }
}

/// A batch of 1,000 orders under the built-in signer: every request
/// carries a fresh token, and none is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_orders_under_the_signer_are_refused_nothing() {
    let sb = sandbox(JwtKey::Hs256(SECRET.to_vec())).await;
    let dir = std::env::temp_dir().join(format!("aopay-signer-batch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let orders = dir.join("orders.csv");
    let mut csv = String::from("order_id,kind,operator,number,amount\n");
    for i in 0..1000 {
        csv += &format!("o-{i},do_recharge,11,97{i:08},10\n");
    }
    std::fs::write(&orders, csv).unwrap();
    let c = Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .journal(Journal::sqlite(dir.join("j.db")).unwrap())
        .signer(JwtSigner::hs256("PS001", SECRET).unwrap())
        .build()
        .unwrap();
    let mut run = c
        .run_batch(
            OrderStream::open(&orders, None).unwrap(),
            BatchOptions::default()
                .with_concurrency(16)
                .unwrap()
                .with_create_journal(true),
        )
        .unwrap();
    let mut paid = 0;
    while let Some(r) = run.next().await {
        assert_eq!(r.status(), "SUCCESS", "{:?}", r.outcome);
        paid += 1;
    }
    assert_eq!(paid, 1000);
    assert_eq!(sb.stats().unauthorized_requests, 0);
    assert_eq!(sb.stats().payments, 1000);
    let _ = std::fs::remove_dir_all(&dir);
}
