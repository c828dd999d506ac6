//! The corpus of real answers (`testdata/answers.json`): each body served,
//! as the upstream writes it, by a plain HTTP server on loopback (not our
//! sandbox: it would only say what it was told), and read through the
//! client's real call path. Each must get the reading the corpus names.

mod common;

use std::sync::Arc;
use std::time::Duration;

use aopay_core::{ArgValue, Args, Client, Lang, endpoint};
use aopay_sandbox::Replay;
use serde_json::Value;

fn corpus() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/answers.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("testdata/answers.json")).unwrap()
}

fn args(call: &Value) -> Args {
    let mut args = Args::new(Lang::Python);
    for (k, v) in call.as_object().unwrap() {
        let value = match v {
            Value::Null => ArgValue::Null,
            Value::Bool(b) => ArgValue::Bool(*b),
            Value::Number(n) => ArgValue::Int(n.as_i64().unwrap()),
            Value::String(s) => ArgValue::Text(s.clone()),
            other => ArgValue::Json(other.clone()),
        };
        args.set(k.clone(), value);
    }
    args
}

#[tokio::test]
async fn every_answer_of_the_corpus_reads_as_it_says() {
    let c = corpus();
    let server = Replay::start().unwrap();
    let client = Client::builder()
        .registration_id("AOP-554")
        .base_url(server.url())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let rows = c["answers"].as_array().unwrap();
    assert!(rows.len() >= 60, "the corpus lost rows");
    for row in rows {
        let method = row["endpoint"].as_str().unwrap();
        let spec = endpoint(method).unwrap();
        let is_write = spec.status.is_some();
        server.serve(
            row["http_status"].as_u64().unwrap() as u16,
            row["body"].as_str().unwrap(),
        );
        let call = client.prepare(method, &args(&c["calls"][method])).unwrap();
        let result = call.await;
        let expect = row["expect"].as_object().unwrap();
        let what = format!("{method} {} {}", row["http_status"], row["body"]);
        match (&result, expect.get("error")) {
            (Ok(answer), None) => {
                for (k, v) in expect {
                    assert_eq!(&answer[k], v, "{k} of {what}: {answer}");
                }
            }
            (Err(e), Some(class)) => {
                let json = e.to_json_value();
                assert_eq!(json["name"], *class, "{what}: {e}");
                for (k, v) in expect.iter().filter(|(k, _)| *k != "error") {
                    assert_eq!(&json[k], v, "{k} of {what}: {json}");
                }
                if is_write && !e.retry_safe() {
                    assert_eq!(
                        e.reference_id(),
                        c["calls"][method]["reference_id"].as_str(),
                        "{what}"
                    );
                }
            }
            (other, _) => panic!("{what}: expected {expect:?}, got {other:?}"),
        }
        if is_write {
            assert_eq!(server.requests(), 1, "a write is sent once: {what}");
        }
    }
}

/// The protocol document carries the tables as the code has them.
#[test]
fn the_tables_are_rendered_for_the_protocol_document() {
    let doc = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");
    let text = std::fs::read_to_string(doc).unwrap();
    let tables = aopay_core::answers::markdown();
    assert!(
        text.contains(&tables),
        "docs/protocol.md does not hold the generated answer tables: run `cargo run -p aopay-codegen` (or paste aopay_core::answers::markdown())"
    );
}

/// A token refused at 412 (the UAT log's "Signature verification failed")
/// did nothing: the credentials provider is asked again and the write is
/// resent once, as after a 401; a second refusal is the error.
#[tokio::test]
async fn a_refused_signature_at_412_refreshes_the_credentials_and_resends_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let server = Replay::start().unwrap();
    let asked = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&asked);
    let client = Client::builder()
        .registration_id("AOP-554")
        .base_url(server.url())
        .credentials(move || {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move { Ok(aopay_core::Credentials::new([("Token", format!("t{n}"))])) }
        })
        .build()
        .unwrap();
    let refused =
        r#"{"status": false, "response_code": 10, "message": "Signature verification failed"}"#;
    let paid = r#"{"status":true,"response_code":1,"operatorid":"OP","ackno":1,"message":"ok"}"#;
    let args = args(&corpus()["calls"]["do_recharge"]);
    server.serve_each(&[(412, refused), (200, paid)]);
    let answer = client.prepare("do_recharge", &args).unwrap().await.unwrap();
    assert_eq!(answer["status"], "SUCCESS");
    assert_eq!((server.requests(), asked.load(Ordering::SeqCst)), (2, 2));
    server.serve_each(&[(412, refused)]);
    let e = client
        .prepare("do_recharge", &args)
        .unwrap()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), aopay_core::ErrorKind::Authentication);
    assert!(e.retry_safe());
    assert_eq!(server.requests(), 2, "one resend, no more");
}

/// An answer no row places is logged at WARN with its endpoint and its
/// body, digits masked.
#[tokio::test]
async fn an_answer_the_sdk_cannot_place_is_logged_at_warn_masked() {
    use tracing_subscriber::layer::SubscriberExt;
    let lines = common::Capture::default();
    let sink = lines.clone();
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || sink.clone()),
    );
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = Replay::start().unwrap();
    let client = Client::builder()
        .registration_id("AOP-554")
        .base_url(server.url())
        .build()
        .unwrap();
    server.serve(
        200,
        r#"{"status":false,"response_code":99,"canumber":"7067018549","message":"new"}"#,
    );
    let e = client
        .prepare("do_recharge", &args(&corpus()["calls"]["do_recharge"]))
        .unwrap()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), aopay_core::ErrorKind::OutcomeUnknown);
    let text = lines.text();
    let line = text
        .lines()
        .find(|l| l.contains("cannot place"))
        .unwrap_or_else(|| panic!("no warning in {text:?}"));
    assert!(
        line.contains("WARN") && line.contains("DoRecharge"),
        "{line}"
    );
    assert!(
        line.contains("70XXXXXX49") && !line.contains("7067018549"),
        "{line}"
    );
}
