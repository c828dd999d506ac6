//! Every generated endpoint through the generic path (`Client::prepare`,
//! what the bindings and the CLI call) against the real sandbox over
//! loopback, row by row from `testdata/contract.json`: the good call's
//! answer, each magic input (and how many requests it cost), each bad
//! input refused with nothing sent. Also the exact wire body.

use aopay_core::{ArgValue, Args, Binding, Client, ENDPOINTS, Lang, endpoint};
use aopay_sandbox::{
    MAGIC_BILL_ACCOUNTS, MAGIC_DTH_ACCOUNTS, MAGIC_PAYMENT_ACCOUNTS, MAGIC_PLAN_OPERATORS,
    MAGIC_VEHICLES, Sandbox,
};
use serde_json::Value;

fn contract() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/contract.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("testdata/contract.json")).unwrap()
}

/// JSON values as the neutral arguments a binding would pass.
fn args(good: &Value, over: &Value) -> Args {
    let mut merged = good.as_object().unwrap().clone();
    for (k, v) in over.as_object().unwrap() {
        merged.insert(k.clone(), v.clone());
    }
    let mut args = Args::new(Lang::Python);
    for (k, v) in merged {
        let value = match v {
            Value::Null => ArgValue::Null,
            Value::Bool(b) => ArgValue::Bool(b),
            Value::Number(n) => n
                .as_i64()
                .map_or(ArgValue::Float(n.as_f64().unwrap()), ArgValue::Int),
            Value::String(s) => ArgValue::Text(s),
            other @ (Value::Array(_) | Value::Object(_)) => ArgValue::Json(other),
        };
        args.set(k, value);
    }
    args
}

/// The contract's bad-input rows of an endpoint, and those its arguments'
/// kinds give (`ArgSpec::bad_values`): `{field, override}` each.
fn bad_rows(spec: &aopay_core::EndpointSpec, rows: &Value) -> Vec<Value> {
    let derived = spec.args.iter().flat_map(|a| {
        a.bad_values()
            .into_iter()
            .map(|v| serde_json::json!({"field": a.name, "override": {a.name: v}}))
    });
    let own = rows["bad"].as_array().into_iter().flatten().cloned();
    own.chain(derived).collect()
}

fn count(sb: &Sandbox, endpoint: &str) -> u64 {
    sb.stats().requests_to(endpoint)
}

#[test]
fn every_generated_endpoint_has_contract_rows_and_every_magic_account_is_listed() {
    let c = contract();
    for e in ENDPOINTS.iter().filter(|e| e.binding == Binding::Generated) {
        let rows = &c["endpoints"][e.method];
        assert!(
            rows["good"].is_object(),
            "no contract rows for {}",
            e.method
        );
        let bad = bad_rows(e, rows);
        for a in e.args {
            assert!(
                bad.iter().any(|r| r["field"] == a.name),
                "{}: no bad-input row for {}",
                e.method,
                a.name
            );
        }
    }
    let listed = |method: &str, key: &str| -> Vec<String> {
        c["endpoints"][method]["magic"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["override"][key].as_str().unwrap().to_owned())
            .collect()
    };
    let served: Vec<String> = MAGIC_DTH_ACCOUNTS
        .iter()
        .map(|(n, _, _)| (*n).to_owned())
        .collect();
    assert_eq!(listed("dth_info", "number"), served);
    let served: Vec<String> = MAGIC_PLAN_OPERATORS
        .iter()
        .map(|(o, _)| (*o).to_owned())
        .collect();
    // Every plan lookup (an endpoint answering Plans) lists them.
    let plan_lookups = ENDPOINTS.iter().filter(|e| e.answer.name == "Plans");
    let mut n = 0;
    for e in plan_lookups {
        assert_eq!(listed(e.method, "operator"), served, "{}", e.method);
        n += 1;
    }
    assert!(
        n >= 2,
        "the plan lookups are found by their operator's kind"
    );
    let served: Vec<String> = MAGIC_BILL_ACCOUNTS
        .iter()
        .map(|(a, _)| (*a).to_owned())
        .collect();
    assert_eq!(listed("fetch_bill", "account"), served);
    let served: Vec<String> = MAGIC_VEHICLES
        .iter()
        .map(|(v, _)| (*v).to_owned())
        .collect();
    assert_eq!(listed("fetch_fastag", "vehicle"), served);
    let served: Vec<String> = MAGIC_PAYMENT_ACCOUNTS
        .iter()
        .map(|(a, _, _)| (*a).to_owned())
        .collect();
    assert_eq!(listed("do_recharge", "number"), served);
    for write in ["pay_bill", "fastag_recharge"] {
        let accounts: Vec<String> = c["endpoints"][write]["magic"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["override"]["bill"]["account"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(accounts, served, "{write}");
    }
}

/// A status read's good arguments: its write's good call runs first and
/// gives the reference (see the contract's `about`).
async fn good_args(client: &Client, c: &Value, rows: &Value) -> Value {
    let mut good = rows["good"].clone();
    if let Some(write) = rows["after"].as_str() {
        let none = Value::Object(Default::default());
        let paid = client
            .prepare(write, &args(&c["endpoints"][write]["good"], &none))
            .unwrap()
            .await
            .unwrap();
        good["reference_id"] = paid["reference_id"].clone();
    }
    good
}

#[tokio::test]
async fn the_sandbox_counts_every_endpoint_of_the_table_under_its_method_name() {
    let sb = Sandbox::start().await.unwrap();
    let mut table: Vec<&str> = ENDPOINTS.iter().map(|e| e.method).collect();
    table.sort_unstable();
    let stats = sb.stats();
    let served: Vec<&str> = stats.requests.keys().map(String::as_str).collect();
    assert_eq!(served, table);
    assert!(stats.requests.values().all(|n| *n == 0));
    let sent = std::panic::catch_unwind(|| stats.requests_to("mobile_recharges"));
    assert!(sent.is_err(), "a misspelt endpoint is no count of zero");
}

#[tokio::test]
async fn every_row_ends_as_the_contract_says_and_bad_input_sends_nothing() {
    let sb = Sandbox::start().await.unwrap();
    let client = Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .build()
        .unwrap();
    let c = contract();
    for (method, rows) in c["endpoints"].as_object().unwrap() {
        let Some(spec) = endpoint(method) else {
            assert_eq!(method, "about");
            continue;
        };
        let counter = spec.method;
        let none = Value::Object(Default::default());
        let good = good_args(&client, &c, rows).await;
        let answer = client
            .prepare(spec.method, &args(&good, &none))
            .unwrap()
            .await
            .unwrap();
        for (k, v) in rows["answer"].as_object().unwrap() {
            assert_eq!(&answer[k], v, "{method}.{k}");
        }
        for f in spec.answer_fields() {
            assert!(answer.get(f.name).is_some(), "{method}: no {}", f.name);
        }
        for row in rows["magic"].as_array().unwrap() {
            let before = count(&sb, counter);
            let result = client
                .prepare(spec.method, &args(&good, &row["override"]))
                .unwrap()
                .await;
            if let Some(expected) = row["answer"].as_object() {
                let answer = result.unwrap();
                for (k, v) in expected {
                    assert_eq!(&answer[k], v, "{method} {row}: {k}");
                }
                assert_eq!(count(&sb, counter) - before, 1);
                continue;
            }
            let e = result.unwrap_err();
            assert_eq!(e.kind().class_name(), row["error"], "{row}");
            assert_eq!(e.http_status().map(u64::from), row["http_status"].as_u64());
            assert_eq!(e.api_code(), row["api_code"].as_i64());
            // A read's failure is always safe to repeat; a write's says.
            let safe = row["retry_safe"].as_bool().unwrap_or(true);
            assert_eq!(e.retry_safe(), safe, "{row}");
            if row["reference"] == true {
                assert!(
                    e.reference_id().is_some_and(|r| !r.is_empty()),
                    "{row}: {e}"
                );
            }
            assert_eq!(
                count(&sb, counter) - before,
                row["requests"].as_u64().unwrap(),
                "{row}"
            );
        }
        let before = sb.stats();
        for row in &bad_rows(spec, rows) {
            let result = client.prepare(spec.method, &args(&good, &row["override"]));
            let e = result
                .err()
                .unwrap_or_else(|| panic!("{method} accepted {row}"));
            assert_eq!(e.kind().class_name(), "ValidationError");
            assert!(e.retry_safe());
            assert_eq!(
                serde_json::to_value(e.to_json_value()).unwrap()["field"],
                row["field"],
                "{row}: {e}"
            );
        }
        assert_eq!(
            sb.stats(),
            before,
            "{method}: a refused input reached the sandbox"
        );
    }
    sb.stop().await;
}

/// What the client writes, byte for byte, read off a raw socket.
#[tokio::test]
async fn the_wire_body_is_the_documented_one() {
    let server = aopay_sandbox::Replay::start().unwrap();
    server.serve(
        200,
        r#"{"status":true,"data":{"customerName":"A","Balance":"1"}}"#,
    );
    let url = server.url().to_owned();
    let client = Client::builder()
        .registration_id("AOP-554")
        .base_url(&url)
        .build()
        .unwrap();
    let req = aopay_core::DthInfoRequest::new("Jio", "62638787325776", "Delhi NCR").unwrap();
    let info = client.call(&req).await.unwrap();
    assert_eq!(info.balance, Some(aopay_core::Money::from_paise(100)));
    let (head, body) = server.last_request().unwrap();
    let body = String::from_utf8(body).unwrap();
    assert!(
        head.starts_with("POST /api/AOP/V2/GetDthInfo HTTP/1.1"),
        "{head}"
    );
    assert_eq!(
        body,
        r#"{"RegistrationID":"AOP-554","circle":"Delhi NCR","operator":"Jio","Opnumber":"62638787325776"}"#
    );
}
