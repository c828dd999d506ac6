//! `aopay bill|fastag|recharge-v1` as a user runs them: fetch, then pay
//! what was fetched (a file or stdin), exit codes per outcome, unknown
//! outcomes with the reference to check, keyed payments through a journal.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::SandboxProcess;

fn aopay(args: &[&str], stdin: Option<&[u8]>) -> Output {
    aopay_at(args, stdin, None)
}

/// With `geocode`, as if `AOPAY_GEOCODE` were exported.
fn aopay_at(args: &[&str], stdin: Option<&[u8]>, geocode: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aopay"));
    cmd.env_remove("AOPAY_GEOCODE");
    if let Some(g) = geocode {
        cmd.env("AOPAY_GEOCODE", g);
    }
    let mut child = cmd
        .args(args)
        .env_remove("AOPAY_REGISTRATION_ID")
        .env_remove("AOPAY_BASE_URL")
        .env_remove("AOPAY_JOURNAL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)))
}

/// One sandbox process for the commands of a test, so that a later command
/// sees what an earlier one paid.
struct Shared {
    _sandbox: SandboxProcess,
    url: String,
}

impl Shared {
    fn start() -> Self {
        let sandbox = SandboxProcess::start(&[]);
        let url = sandbox.url.clone();
        Self {
            _sandbox: sandbox,
            url,
        }
    }

    /// `args` with the connection options after the command's words: a
    /// command takes its own options, not the program.
    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut all: Vec<&str> = args.iter().copied().filter(|a| *a != "--json").collect();
        if args.contains(&"--json") {
            all.push("--json");
        }
        all.extend(["--base-url", &self.url, "--registration-id", "AOP-554"]);
        aopay_at(&all, stdin, Some("27.2232,78.26535"))
    }

    fn fetch_bill(&self, account: &str) -> Vec<u8> {
        let out = self.run(
            &[
                "--json",
                "bill",
                "fetch",
                "--operator",
                "11",
                "--account",
                account,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        out.stdout
    }
}

#[test]
fn the_readme_bill_payment_runs_on_the_embedded_sandbox() {
    let fetched = aopay(
        &[
            "bill",
            "fetch",
            "--sandbox",
            "--operator",
            "11",
            "--account",
            "102277100",
            "--json",
        ],
        None,
    );
    assert_eq!(fetched.status.code(), Some(0));
    let dir = std::env::temp_dir().join(format!("aopay-cli-bill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bill.json");
    std::fs::write(&file, &fetched.stdout).unwrap();
    let paid = aopay(
        &["bill", "pay", "--sandbox", "--bill", file.to_str().unwrap()],
        None,
    );
    let out = text(&paid.stdout);
    assert_eq!(paid.status.code(), Some(0), "{out}{}", text(&paid.stderr));
    assert!(
        out.contains("SUCCESS") && out.contains("bill_status"),
        "{out}"
    );
    // The same from stdin, as JSON.
    let paid = aopay(
        &["bill", "pay", "--sandbox", "--bill", "-", "--json"],
        Some(&fetched.stdout),
    );
    let v = json(&paid);
    assert_eq!(v["status"], "SUCCESS");
    assert_eq!(v["reference_id"].as_str().unwrap().len(), 25);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn each_outcome_has_its_exit_code() {
    let sb = Shared::start();
    for (account, extra, code, status) in [
        ("102277100", &[][..], 0, "SUCCESS"),
        ("9000000301", &[][..], 4, "PENDING"),
        ("9000000301", &["--wait"][..], 0, "SUCCESS"),
        ("9000000302", &["--wait"][..], 3, "REFUNDED"),
        // Pending on the write ("re-query"): never final from a code alone.
        ("9000000303", &[][..], 4, "PENDING"),
        ("9000000303", &["--wait"][..], 3, "REFUNDED"),
    ] {
        let bill = sb.fetch_bill(account);
        let mut args = vec!["--json", "bill", "pay", "--bill", "-"];
        args.extend_from_slice(extra);
        let out = sb.run(&args, Some(&bill));
        assert_eq!(out.status.code(), Some(code), "{account} {extra:?}");
        assert_eq!(json(&out)["status"], status, "{account} {extra:?}");
    }
}

#[test]
fn an_unknown_outcome_names_its_reference_and_its_status_call_resolves_it() {
    let sb = Shared::start();
    for (family, account, fetch) in [
        (
            "bill",
            "9000000305",
            ["bill", "fetch", "--operator", "11", "--account"],
        ),
        (
            "fastag",
            "9000000306",
            ["fastag", "fetch", "--operator", "311", "--vehicle"],
        ),
    ] {
        let mut args = vec!["--json"];
        args.extend_from_slice(&fetch);
        args.push(account);
        let bill = sb.run(&args, None).stdout;
        let (write, amount) = if family == "bill" {
            ("pay", "820.50")
        } else {
            ("recharge", "500")
        };
        let out = sb.run(
            &[
                family,
                write,
                "--bill",
                "-",
                "--amount",
                amount,
                "--reference-id",
                "lost-1",
            ],
            Some(&bill),
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{err}");
        assert!(err.contains("do NOT resubmit"), "{err}");
        assert!(
            err.contains(&format!(
                "aopay {family} status --reference-id lost-1 --wait"
            )),
            "{err}"
        );
        let status = sb.run(
            &["--json", family, "status", "--reference-id", "lost-1"],
            None,
        );
        assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
        assert_eq!(json(&status)["status"], "SUCCESS");
    }
}

#[test]
fn refused_input_exits_2_before_anything_is_sent() {
    let sb = Shared::start();
    let bill = sb.fetch_bill("102277100");
    for (args, needle) in [
        (
            &["bill", "pay", "--bill", "-", "--amount", "100"][..],
            "no part payment",
        ),
        (
            &["bill", "pay", "--bill", "-", "--amount", "8.2e2"][..],
            "amount",
        ),
        (
            &["bill", "pay", "--bill", "-", "--reference-id", "a b"][..],
            "reference_id",
        ),
        (
            &["bill", "pay", "--bill", "/nonexistent/bill.json"][..],
            "cannot read",
        ),
        (
            &["bill", "pay", "--bill", "-", "--idempotency-key", "k"][..],
            "journal",
        ),
        (
            &[
                "recharge-v1",
                "--operator",
                "11",
                "--number",
                "98765",
                "--amount",
                "0",
            ][..],
            "amount",
        ),
    ] {
        let out = sb.run(args, Some(&bill));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(needle),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let raw = json(&sb.run(
        &[
            "--json",
            "bill",
            "fetch",
            "--operator",
            "11",
            "--account",
            "1",
        ],
        None,
    ))["raw"]
        .to_string();
    let out = sb.run(&["bill", "pay", "--bill", "-"], Some(raw.as_bytes()));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("which account"),
        "{}",
        text(&out.stderr)
    );
    // Nothing above reached the sandbox: no such payment is known, which
    // is not final (a payment may arrive late), never a failure.
    let out = sb.run(&["bill", "status", "--reference-id", "a"], None);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("not a failure"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_key_pays_once_through_the_journal() {
    let sb = Shared::start();
    let dir = std::env::temp_dir().join(format!("aopay-cli-pay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("orders.db");
    let journal = journal.to_str().unwrap();
    let out = sb.run(
        &[
            "--json",
            "recharge-v1",
            "--journal",
            journal,
            "--operator",
            "11",
            "--number",
            "9876543210",
            "--amount",
            "199.50",
            "--idempotency-key",
            "order-9",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let first = json(&out);
    let again = json(&sb.run(
        &[
            "--json",
            "recharge-v1",
            "--journal",
            journal,
            "--operator",
            "11",
            "--number",
            "9876543210",
            "--amount",
            "199.50",
            "--idempotency-key",
            "order-9",
        ],
        None,
    ));
    assert_eq!(again["reference_id"], first["reference_id"]);
    let other = sb.run(
        &[
            "recharge-v1",
            "--journal",
            journal,
            "--operator",
            "11",
            "--number",
            "9876543210",
            "--amount",
            "200",
            "--idempotency-key",
            "order-9",
        ],
        None,
    );
    assert_eq!(other.status.code(), Some(2), "{}", text(&other.stderr));
    assert!(text(&other.stderr).contains("different recharge or payment"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The README's bill payment, its shell lines as written (those on the
/// embedded sandbox), in a scratch directory with `aopay` on the PATH.
#[test]
fn the_readme_shell_lines_run_as_written() {
    let readme = include_str!("../../../README.md");
    let section = readme.split("## Paying a bill").nth(1).unwrap();
    let block = section
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let lines: Vec<&str> = block.lines().filter(|l| l.contains("--sandbox")).collect();
    assert_eq!(lines.len(), 2, "{block}");
    let dir = std::env::temp_dir().join(format!("aopay-cli-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_aopay"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in lines {
        let out = Command::new("sh")
            .args(["-c", line])
            .current_dir(&dir)
            .env("PATH", &path)
            .env_remove("AOPAY_GEOCODE")
            .output()
            .unwrap();
        assert!(out.status.success(), "{line}: {}", text(&out.stderr));
        if line.contains("bill pay") {
            assert!(
                text(&out.stdout).contains("SUCCESS"),
                "{}",
                text(&out.stdout)
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A read never creates the journal file it has no use for; a write does.
#[test]
fn only_writes_open_the_journal() {
    let dir = std::env::temp_dir().join(format!("aopay-cli-reads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("orders.db");
    let j = journal.to_str().unwrap();
    for args in [
        &["status", "AOP554R1", "--sandbox", "--journal", j][..],
        &[
            "bill",
            "fetch",
            "--sandbox",
            "--journal",
            j,
            "--operator",
            "11",
            "--account",
            "1",
        ][..],
        &[
            "bill",
            "status",
            "--sandbox",
            "--journal",
            j,
            "--reference-id",
            "r1",
        ][..],
    ] {
        let _ = aopay(args, None);
        assert!(!journal.exists(), "{args:?} created the journal");
    }
    let out = aopay(
        &[
            "recharge-v1",
            "--sandbox",
            "--journal",
            j,
            "--operator",
            "11",
            "--number",
            "9876543210",
            "--amount",
            "10",
            "--idempotency-key",
            "k1",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(journal.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Answers as the upstream writes them, from a plain HTTP server (not the
/// sandbox): each command's exit code and `--json` follow the answer
/// tables, and an answer the SDK cannot place is a warning on stderr,
/// digits masked.
#[test]
fn upstream_answers_give_their_exit_codes_and_an_unplaced_one_warns() {
    let replay = aopay_sandbox::Replay::start().unwrap();
    let url = replay.url().to_owned();
    let write = [
        "recharge-v1",
        "--operator",
        "11",
        "--number",
        "7067018549",
        "--amount",
        "10",
        "--reference-id",
        "RSUAT1772710798",
    ];
    let status = ["recharge-v1-status", "--reference-id", "RSUAT1772710798"];
    let uat_status = r#"{"responsecode":1,"status":true,"data":{"txnid":"1739594884","status":"1","refid":"RSUAT1772710798","refunded":"0"},"message":"Transaction Enquiry Successful"}"#;
    for (args, http, body, code, name) in [
        (
            &write[..],
            200,
            r#"{"status":true,"response_code":1,"ackno":1739594884,"message":"ok"}"#,
            0,
            "SUCCESS",
        ),
        (
            &write[..],
            200,
            r#"{"status":true,"response_code":0,"message":"Please re-query the transaction after 30 min for latest update."}"#,
            4,
            "PENDING",
        ),
        (
            &write[..],
            402,
            r#"{"status":false,"response_code":18,"message":"Duplicate Transaction"}"#,
            5,
            "DuplicateReferenceError",
        ),
        (
            &write[..],
            402,
            r#"{"status":false,"response_code":16,"message":"Insufficient fund"}"#,
            1,
            "InsufficientBalanceError",
        ),
        (
            &write[..],
            412,
            r#"{"status":false,"response_code":10,"message":"Signature verification failed"}"#,
            1,
            "AuthenticationError",
        ),
        (&status[..], 200, uat_status, 0, "SUCCESS"),
        (
            &status[..],
            200,
            r#"{"response_code":2,"status":false,"message":"No Transaction found"}"#,
            4,
            "TransactionNotFoundError",
        ),
    ] {
        replay.serve(http, body);
        let mut all = args.to_vec();
        all.extend(["--json", "--base-url", &url, "--registration-id", "AOP-554"]);
        let out = aopay(&all, None);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{body}: {}",
            text(&out.stderr)
        );
        let v = json(&out);
        let got = v["status"].as_str().or(v["error"]["name"].as_str());
        assert_eq!(got, Some(name), "{body}: {v}");
    }
    replay.serve(
        200,
        r#"{"status":false,"response_code":99,"canumber":"7067018549"}"#,
    );
    let mut all = write.to_vec();
    all.extend(["--base-url", &url, "--registration-id", "AOP-554"]);
    let out = aopay(&all, None);
    assert_eq!(out.status.code(), Some(5));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot place") && err.contains("WARN"),
        "{err}"
    );
    assert!(
        err.contains("70XXXXXX49") && !err.contains("7067018549"),
        "{err}"
    );
    assert!(
        err.contains("do NOT resubmit") && err.contains("RSUAT1772710798"),
        "{err}"
    );
}

/// A server's text holding terminal escapes (a title change, a colour, a
/// CR that overwrites the line) is shown escaped by the human output,
/// never acted on; `--json` carries it as JSON escapes.
#[test]
fn escape_sequences_from_the_server_are_shown_not_acted_on() {
    let replay = aopay_sandbox::Replay::start().unwrap();
    let url = replay.url().to_owned();
    replay.serve(
        200,
        r#"{"responsecode":1,"status":true,"data":{"status":"1","txnid":"T\u001b]0;pwned\u0007","operatorid":"\u001b[31mRED","refid":"R1"},"message":"paid\rFAILED"}"#,
    );
    let args = [
        "recharge-v1-status",
        "--reference-id",
        "R1",
        "--base-url",
        &url,
        "--registration-id",
        "AOP-554",
    ];
    let out = aopay(&args, None);
    let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
    assert!(
        !all.contains(&0x1b) && !all.contains(&0x07) && !all.contains(&b'\r'),
        "{}",
        text(&all)
    );
    assert!(text(&all).contains("\\u{1b}"), "{}", text(&all));
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let out = aopay(&json_args, None);
    assert!(!out.stdout.contains(&0x1b));
    assert_eq!(json(&out)["txn_id"], "T\u{1b}]0;pwned\u{7}");
}

/// An outcome that cannot be written (stdout on a full disk) is not a
/// success: exit 1 and a message on stderr.
#[cfg(target_os = "linux")]
#[test]
fn an_outcome_that_cannot_be_written_exits_1() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_aopay"))
        .args([
            "recharge",
            "--sandbox",
            "--product",
            "518",
            "--amount",
            "10",
            "--number",
            "9876543210",
            "--json",
        ])
        .env_remove("AOPAY_JOURNAL")
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("could not be written"),
        "{}",
        text(&out.stderr)
    );
}
