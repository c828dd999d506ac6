//! The subcommands generated from the endpoint table (`aopay dth-info`), as
//! a user runs them: text and JSON answers, each magic account's exit code,
//! bad input refused before anything is sent (checked against the
//! sandbox's counts).

use std::process::{Command, Output};

fn aopay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aopay"))
        .args(args)
        .env_remove("AOPAY_REGISTRATION_ID")
        .env_remove("AOPAY_BASE_URL")
        .output()
        .unwrap()
}

fn dth(number: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "dth-info",
        "--operator",
        "Jio",
        "--circle",
        "Delhi NCR",
        "--number",
        number,
    ];
    args.extend_from_slice(extra);
    aopay(&args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn dth_info_answers_in_text_and_json() {
    let out = dth("62638787325776", &["--sandbox"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("customer name   Sandbox Customer"),
        "{shown}"
    );
    assert!(shown.contains("balance         245.50"), "{shown}");
    assert!(!shown.contains("raw"), "{shown}");
    let out = dth("62638787325776", &["--sandbox", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["balance"], "245.50");
    assert_eq!(v["monthly_amount"], "320.00");
    assert_eq!(v["http_status"], 200);
    assert!(v["raw"].is_object());
}

#[test]
fn magic_accounts_and_bad_input_have_their_exit_codes() {
    for (number, code, said) in [
        ("9000000101", 1, "No DTH account found"),
        ("9000000102", 1, "server error (HTTP 503)"),
        ("6263 8787", 2, "invalid number"),
        ("", 2, "invalid number"),
    ] {
        let out = dth(number, &["--sandbox", "--read-max-attempts", "2"]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{number}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(said),
            "{number}: {}",
            text(&out.stderr)
        );
        // Reads are safe to repeat: never the "do NOT resubmit" warning.
        assert!(!text(&out.stderr).contains("do NOT"));
    }
    let out = aopay(&[
        "dth-info",
        "--sandbox",
        "--json",
        "--operator",
        "Jio",
        "--number",
        "1",
        "--circle",
        " ",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["field"], "circle");
    let out = aopay(&[
        "dth-info",
        "--sandbox",
        "--operator",
        "Jio",
        "--number",
        "1",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a missing flag is a usage error"
    );
    assert!(text(&out.stderr).contains("--circle"));
}

#[test]
fn refused_input_never_reaches_the_sandbox() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sb = rt.block_on(aopay_sandbox::Sandbox::start()).unwrap();
    let url = sb.url().to_owned();
    let base = ["--base-url", url.as_str(), "--registration-id", "AOP-554"];
    let out = dth("62638787325776", &base);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bad: [&[&str]; 3] = [
        &[
            "--operator",
            "Jio",
            "--number",
            "6263-8787",
            "--circle",
            "x",
        ],
        &["--operator", "", "--number", "1", "--circle", "x"],
        &[
            "--operator",
            "Jio",
            "--number",
            "1",
            "--circle",
            "Delhi\nNCR",
        ],
    ];
    for flags in bad {
        let out = aopay(&[&["dth-info"][..], &base[..], flags].concat());
        assert_eq!(
            out.status.code(),
            Some(2),
            "{flags:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("invalid "),
            "{}",
            text(&out.stderr)
        );
    }
    let out = dth(
        "9000000102",
        &[&base[..], &["--read-max-attempts", "3"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stats = sb.stats();
    assert_eq!(stats.dth_info_requests, 1 + 3, "{stats:?}");
    assert_eq!(stats.rejected_requests, 0, "{stats:?}");
    rt.block_on(sb.stop());
}
