//! Every invalid flag and environment variable is refused before anything
//! is sent: each row runs `aopay recharge` (a number that stays PENDING)
//! against a sandbox and asserts that the sandbox received nothing at all.

use std::process::{Command, Output};

use aopay_sandbox::Sandbox;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("aopay-before-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `aopay recharge --json` with valid defaults, each replaced when `flags`
/// gives that flag, and `env` on top.
fn recharge(url: &str, flags: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aopay"));
    for var in [
        "AOPAY_REGISTRATION_ID",
        "AOPAY_BASE_URL",
        "AOPAY_GEOCODE",
        "AOPAY_JOURNAL",
        "AOPAY_ROOT_CERTIFICATES",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AOPAY_REGISTRATION_ID", "AOP-554")
        .args(["recharge", "--json"]);
    let defaults = [
        ("--product", "518"),
        ("--amount", "10"),
        ("--number", "9000000002"),
        ("--geocode", "23.6784,76.8764"),
        ("--base-url", url),
    ];
    for (flag, value) in defaults {
        if !flags.contains(&flag) {
            cmd.args([flag, value]);
        }
    }
    cmd.args(flags);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_invalid_option_is_refused_before_sending() {
    let sb = Sandbox::start().await.unwrap();
    let dir = scratch("table");
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let not_pem = not_pem.to_str().unwrap().to_owned();
    let journal = dir.join("j.db").to_str().unwrap().to_owned();
    let long_id = "A".repeat(65);
    // (flags, environment, the field the error must name; None: a usage
    // error from the argument parser, which names the flag itself)
    #[allow(clippy::type_complexity)]
    let rows: &[(&[&str], &[(&str, &str)], Option<&str>)] = &[
        (
            &["--wait", "--wait-timeout", "0"],
            &[],
            Some("wait_timeout"),
        ),
        (
            &["--wait", "--wait-timeout", "-1"],
            &[],
            Some("wait_timeout"),
        ),
        (
            &["--wait", "--wait-timeout", "nan"],
            &[],
            Some("wait_timeout"),
        ),
        (
            &["--wait", "--wait-timeout", "1e309"],
            &[],
            Some("wait_timeout"),
        ),
        (
            &["--wait", "--wait-timeout", "inf"],
            &[],
            Some("wait_timeout"),
        ),
        (&["--wait-timeout", "0"], &[], Some("wait_timeout")),
        (&["--wait", "--wait-timeout", "soon"], &[], None),
        (&["--timeout", "0"], &[], Some("timeout")),
        (&["--timeout", "-1"], &[], Some("timeout")),
        (&["--timeout", "nan"], &[], Some("timeout")),
        (&["--timeout", "1e309"], &[], Some("timeout")),
        (&["--connect-timeout", "0"], &[], Some("connect_timeout")),
        (&["--connect-timeout", "nan"], &[], Some("connect_timeout")),
        (
            &["--read-attempt-timeout", "-1"],
            &[],
            Some("read_attempt_timeout"),
        ),
        (
            &["--read-max-attempts", "0"],
            &[],
            Some("read_max_attempts"),
        ),
        (
            &["--read-max-attempts", "101"],
            &[],
            Some("read_max_attempts"),
        ),
        (&["--read-max-attempts", "two"], &[], None),
        (
            &["--max-response-bytes", "0"],
            &[],
            Some("max_response_bytes"),
        ),
        (
            &["--pool-idle-timeout", "-1"],
            &[],
            Some("pool_idle_timeout"),
        ),
        (&["--header", "NoColon"], &[], Some("headers")),
        (&["--header", "Bad Name:x"], &[], Some("headers")),
        (&["--header", "X-Key:caf\u{e9}"], &[], Some("headers")),
        (
            &["--root-certificates", "/nonexistent/ca.pem"],
            &[],
            Some("root_certificates"),
        ),
        (
            &["--root-certificates", &not_pem],
            &[],
            Some("root_certificates"),
        ),
        (
            &[],
            &[("AOPAY_ROOT_CERTIFICATES", &not_pem)],
            Some("root_certificates"),
        ),
        (
            &["--idempotency-key", "order-1"],
            &[],
            Some("idempotency_key"),
        ),
        (
            &["--idempotency-key", "", "--journal", &journal],
            &[],
            Some("idempotency_key"),
        ),
        (&["--base-url", "http://example.com"], &[], Some("base_url")),
        (&["--base-url", "ftp://127.0.0.1"], &[], Some("base_url")),
        (
            &["--base-url", "https://u:p@127.0.0.1"],
            &[],
            Some("base_url"),
        ),
        (&["--base-url", "not a url"], &[], Some("base_url")),
        (&["--registration-id", ""], &[], Some("registration_id")),
        (
            &["--registration-id", &long_id],
            &[],
            Some("registration_id"),
        ),
        (
            &[],
            &[("AOPAY_REGISTRATION_ID", "AOP\u{7}554")],
            Some("registration_id"),
        ),
        (&["--product", "0"], &[], Some("product_id")),
        (&["--product", "abc"], &[], Some("product_id")),
        (&["--amount", "0"], &[], Some("amount")),
        (&["--amount", "1.5"], &[], Some("amount")),
        (&["--amount", "1000001"], &[], Some("amount")),
        (&["--number", "abc"], &[], Some("customer_number")),
        (&["--number", "0123"], &[], Some("customer_number")),
        (&["--geocode", "91,0"], &[], Some("geocode")),
        (&["--geocode", "nan,0"], &[], Some("geocode")),
    ];
    for (flags, env, field) in rows {
        let out = recharge(sb.url(), flags, env);
        let shown = format!(
            "{flags:?} {env:?}: exit {:?}\n{}{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{shown}");
        if let Some(field) = field {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect(&shown);
            assert_eq!(v["error"]["code"], "AOPAY_VALIDATION", "{shown}");
            assert_eq!(v["error"]["field"], *field, "{shown}");
            assert_eq!(v["error"]["retry_safe"], true, "{shown}");
        }
        let s = sb.stats();
        assert_eq!(
            (
                s.requests_to("mobile_recharge"),
                s.requests_to("recharge_status"),
                s.rejected_requests
            ),
            (0, 0, 0),
            "sent although invalid: {shown}"
        );
    }
    // A journal that cannot be opened is refused too, as a journal error.
    for (flags, env) in [
        (&["--journal", "/nonexistent/dir/j.db"][..], &[][..]),
        (&[], &[("AOPAY_JOURNAL", "/nonexistent/dir/j.db")][..]),
    ] {
        let out = recharge(sb.url(), flags, env);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["error"]["code"], "AOPAY_JOURNAL", "{v}");
        assert_eq!(sb.stats().requests_to("mobile_recharge"), 0);
    }
    let _ = std::fs::remove_dir_all(dir);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_after_the_send_is_not_retry_safe_and_names_the_reference() {
    let sb = Sandbox::start().await.unwrap();
    // The wait runs out: the recharge was sent and is still PENDING.
    let out = recharge(sb.url(), &["--wait", "--wait-timeout", "0.01"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(5), "{v}");
    assert_eq!(v["error"]["code"], "AOPAY_OUTCOME_UNKNOWN", "{v}");
    assert_eq!(v["error"]["retry_safe"], false, "{v}");
    let reference = v["error"]["reference_id"].as_str().expect("a reference");
    assert!(reference.starts_with("AOP554R"), "{v}");
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 1);
    sb.stop().await;
}

#[test]
fn every_client_option_of_the_core_has_a_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_aopay"))
        .args(["recharge", "--help"])
        .output()
        .unwrap();
    let help = text(&out.stdout);
    for option in aopay_core::CLIENT_OPTIONS {
        // Headers are given one at a time.
        let flag = match option.kind {
            aopay_core::OptionKind::Headers => "--header".to_owned(),
            // A function in the bindings; a command here.
            aopay_core::OptionKind::Credentials => "--credentials-command".to_owned(),
            // A JwtSigner or a function in the bindings; the JWT's settings here.
            aopay_core::OptionKind::Signer => "--jwt-partner-id".to_owned(),
            // A function in the bindings; the CLI shows each call with -v.
            aopay_core::OptionKind::Observer => continue,
            _ => format!("--{}", option.cli_name()),
        };
        assert!(
            help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
            "{flag} missing from:\n{help}"
        );
    }
}

#[test]
fn every_batch_option_of_the_core_has_a_flag_with_its_help_and_default() {
    let out = Command::new(env!("CARGO_BIN_EXE_aopay"))
        .args(["batch", "run", "--help"])
        .output()
        .unwrap();
    let help = text(&out.stdout);
    for option in aopay_core::batch::BATCH_OPTIONS {
        let flag = format!("--{}", option.cli_name());
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{flag} ")))
            .unwrap_or_else(|| panic!("{flag} missing from:\n{help}"));
        let words: String = option.doc.chars().take(30).collect();
        assert!(
            line.contains(&words),
            "{flag}'s help is not the table's: {line}"
        );
        if !option.default.is_empty() && option.kind != aopay_core::OptionKind::Flag {
            assert!(
                line.contains(&format!("[default: {}]", option.default)),
                "{flag}'s default is not the table's: {line}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_error_carries_every_field_of_the_bindings_errors() {
    let sb = Sandbox::start().await.unwrap();
    let out = recharge(sb.url(), &["--number", "9000000005"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &v["error"];
    assert_eq!(e["code"], "AOPAY_RATE_LIMIT", "{v}");
    assert_eq!(e["name"], "RateLimitError", "{v}");
    assert_eq!(e["retry_after_ms"], 1000, "{v}");
    assert_eq!(e["http_status"], 429, "{v}");
    assert_eq!(e["retry_safe"], true, "{v}");
    for key in [
        "detail",
        "api_code",
        "field",
        "reference_id",
        "body_excerpt",
        "message",
    ] {
        assert!(e.get(key).is_some(), "{key} missing: {v}");
    }
    sb.stop().await;
}
