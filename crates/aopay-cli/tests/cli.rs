//! The `aopay` binary as a user runs it: every magic input's documented
//! exit code, JSON output, bad input, and a separate sandbox process.

mod common;

use std::process::{Command, Output};

use common::SandboxProcess;

fn aopay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aopay"))
        .args(args)
        .env_remove("AOPAY_REGISTRATION_ID")
        .env_remove("AOPAY_BASE_URL")
        .env_remove("AOPAY_GEOCODE")
        .output()
        .unwrap()
}

fn recharge(number: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "recharge",
        "--sandbox",
        "--product",
        "518",
        "--amount",
        "10",
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
fn every_magic_number_has_its_documented_exit_code() {
    let cases: &[(&str, &[&str], i32, &str)] = &[
        ("9876543210", &[], 0, "SUCCESS"),
        ("9000000001", &[], 3, "FAILED"),
        ("9000000002", &[], 4, "PENDING"),
        ("9000000002", &["--wait"], 0, "SUCCESS"),
        ("9000000003", &["--wait"], 3, "FAILED"),
        ("9000000004", &[], 1, "authentication failed"),
        ("9000000005", &[], 1, "rate limited"),
        ("9000000006", &[], 5, "outcome unknown"),
        ("9000000007", &["--timeout", "0.5"], 5, "outcome unknown"),
        ("9000000008", &[], 5, "outcome unknown"),
        ("9000000009", &[], 5, "502"),
        ("9000000010", &["--wait"], 0, "SUCCESS"),
        ("9000000011", &[], 1, "Insufficient balance"),
        ("9000000012", &[], 5, "outcome unknown"),
        ("9000000013", &["--wait"], 0, "SUCCESS"),
    ];
    for (number, extra, code, needle) in cases {
        let out = recharge(number, extra);
        let all = text(&out.stdout) + &text(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{number} {extra:?}: {all}");
        assert!(all.contains(needle), "{number}: {all}");
        if *code == 5 {
            assert!(all.contains("do NOT resubmit"), "{all}");
        }
    }
}

#[test]
fn json_output_is_the_recharge() {
    let out = recharge("9876543210", &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "SUCCESS");
    assert_eq!(v["http_status"], 200);
    assert!(v["reference_id"].as_str().unwrap().starts_with("AOP554R"));
    assert_eq!(v["raw"]["data"]["status"], "SUCCESS");
    let out = recharge("9000000006", &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "AOPAY_OUTCOME_UNKNOWN");
    assert_eq!(v["error"]["retry_safe"], false);
    assert_eq!(v["error"]["http_status"], 500);
}

#[test]
fn bad_input_is_one_line_naming_the_field() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "recharge",
                "--sandbox",
                "--product",
                "518",
                "--amount",
                "ten",
                "--number",
                "9876543210",
            ],
            "amount",
        ),
        (
            &[
                "recharge",
                "--sandbox",
                "--product",
                "518",
                "--amount",
                "0",
                "--number",
                "9876543210",
            ],
            "amount",
        ),
        (
            &[
                "recharge",
                "--sandbox",
                "--product",
                "-1",
                "--amount",
                "10",
                "--number",
                "9876543210",
            ],
            "product_id",
        ),
        (
            &[
                "recharge",
                "--sandbox",
                "--product",
                "518",
                "--amount",
                "10",
                "--number",
                "0123",
            ],
            "customer_number",
        ),
        (
            &[
                "recharge",
                "--sandbox",
                "--product",
                "518",
                "--amount",
                "10",
                "--number",
                "98765",
                "--geocode",
                "91,0",
            ],
            "geocode",
        ),
        (
            &[
                "recharge",
                "--product",
                "518",
                "--amount",
                "10",
                "--number",
                "9876543210",
            ],
            "registration_id",
        ),
        (
            &[
                "recharge",
                "--registration-id",
                "AOP-554",
                "--product",
                "518",
                "--amount",
                "10",
                "--number",
                "9876543210",
            ],
            "geocode",
        ),
        (
            &[
                "status",
                "AOP554R1",
                "--registration-id",
                "AOP-554",
                "--base-url",
                "http://api.aopay.co.in",
            ],
            "base_url",
        ),
        (&["status", "", "--sandbox"], "reference_id"),
        (
            &["status", "R1", "--sandbox", "--header", "nocolon"],
            "headers",
        ),
        (&["status", "R1", "--sandbox", "--timeout", "-3"], "timeout"),
    ];
    for (args, field) in cases {
        let out = aopay(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(&format!("invalid {field}")), "{err}");
        assert!(!err.contains("panicked"));
    }
}

/// `aopay ARGS` configured (through the environment) for `sb`.
fn against(sb: &SandboxProcess, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_aopay"))
        .args(args)
        .env("AOPAY_BASE_URL", &sb.url)
        .env("AOPAY_REGISTRATION_ID", "AOP-554")
        .env("AOPAY_GEOCODE", "23.6784,76.8764")
        .output()
        .unwrap()
}

#[test]
fn a_user_session_against_a_sandbox_process() {
    let sb = SandboxProcess::start(&[]);
    let run = |args: &[&str]| against(&sb, args);
    let out = run(&[
        "recharge",
        "--product",
        "518",
        "--amount",
        "10",
        "--number",
        "9000000002",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reference = v["reference_id"].as_str().unwrap().to_owned();
    let out = run(&["status", &reference]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        text(&out.stdout).starts_with("PENDING"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&["status", &reference, "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("SUCCESS"));
    let out = run(&["status", "NOPE1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("No transaction found"));
}

#[test]
fn a_sandbox_process_keeps_at_most_max_transactions() {
    let sb = SandboxProcess::start(&["--max-transactions".as_ref(), "2".as_ref()]);
    let run = |args: &[&str]| against(&sb, args);
    let references: Vec<String> = ["9876500001", "9876500002", "9876500003"]
        .iter()
        .map(|number| {
            let out = run(&[
                "recharge",
                "--product",
                "518",
                "--amount",
                "10",
                "--number",
                number,
                "--json",
            ]);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v["reference_id"].as_str().unwrap().to_owned()
        })
        .collect();
    let codes: Vec<Option<i32>> = references
        .iter()
        .map(|r| run(&["status", r]).status.code())
        .collect();
    assert_eq!(
        codes,
        [Some(1), Some(0), Some(0)],
        "the oldest is forgotten"
    );
}

// The subcommands generated from the endpoint table (`aopay dth-info`):
// text and JSON answers, each magic account's exit code, bad input refused
// before anything is sent (checked against the sandbox's counts).

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
    assert_eq!(stats.requests_to("dth_info"), 1 + 3, "{stats:?}");
    assert_eq!(stats.rejected_requests, 0, "{stats:?}");
    rt.block_on(sb.stop());
}

// Conventions of a command-line tool (what a user meets around the calls).

#[test]
fn a_closed_stderr_is_not_a_panic_and_piped_diagnostics_have_no_colour() {
    let bin = env!("CARGO_BIN_EXE_aopay");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{bin}' recharge --sandbox --product 518 --amount 10 --number 9000000004 -vv 2>&-"
        ))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an error, reported where it can be, never 101"
    );
    let out = recharge("9876543210", &["-v"]);
    let err = text(&out.stderr);
    assert!(err.contains("call finished"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "no ANSI codes into a pipe: {err:?}"
    );
    let micros = err
        .split("elapsed_us=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default();
    assert!(
        !micros.is_empty() && micros.bytes().all(|b| b.is_ascii_digit()),
        "{err}"
    );
}

#[test]
fn hints_fit_the_situation() {
    // A pending recharge on the embedded sandbox: its reference dies with it.
    let out = recharge("9000000002", &[]);
    let said = text(&out.stdout);
    assert!(
        said.contains("add --wait") && !said.contains("aopay status"),
        "{said}"
    );
    // A key without a journal names the flag, not the Rust API.
    let out = recharge("9876543210", &["--idempotency-key", "order-1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("--journal") && !err.contains("ClientBuilder"),
        "{err}"
    );
    // A conflict sent nothing: no "do NOT resubmit" warning.
    let dir = std::env::temp_dir().join(format!("aopay-cli-hints-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("j.db");
    let journal = journal.to_str().unwrap();
    let first = recharge(
        "9876543210",
        &["--idempotency-key", "k1", "--journal", journal],
    );
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let out = aopay(&[
        "recharge",
        "--sandbox",
        "--product",
        "518",
        "--amount",
        "20",
        "--number",
        "9876543210",
        "--idempotency-key",
        "k1",
        "--journal",
        journal,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("different recharge") && !err.contains("do NOT"),
        "{err}"
    );
}

#[test]
fn completions_and_the_man_page_come_from_the_commands_themselves() {
    let help = text(&aopay(&["--help"]).stdout);
    // Every command `aopay --help` lists, written or generated per endpoint.
    let commands: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("Options:").next())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(
        commands.contains(&"batch") && commands.contains(&"bill"),
        "{help}"
    );
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = aopay(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for c in &commands {
            assert!(script.contains(c), "{shell} completes {c}");
        }
        // A generated endpoint's own options are completed too.
        let option = if shell == "fish" { "-l bill" } else { "--bill" };
        assert!(script.contains(option), "{shell}");
    }
    let dir = std::env::temp_dir().join(format!("aopay-completions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("aopay.bash");
    std::fs::write(&script, aopay(&["completions", "bash"]).stdout).unwrap();
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "bash reads it: {}",
        text(&checked.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let out = aopay(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
    assert!(
        text(&out.stderr).contains("possible values"),
        "{}",
        text(&out.stderr)
    );

    let page = text(&aopay(&["man"]).stdout);
    assert!(page.contains(".TH aopay 1"), "{page}");
    for c in &commands {
        let entry = format!("aopay\\-{}(1)", c.replace('-', "\\-"));
        assert!(page.contains(&entry), "the page lists {entry}");
    }
    // A reader that stops early ends it quietly, not with a panic.
    let bin = env!("CARGO_BIN_EXE_aopay");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{bin}' man | head -c 1 > /dev/null; '{bin}' completions zsh | head -c 1 >/dev/null"
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        text(&out.stderr)
    );
}

/// Every command path (`recharge`, `bill pay`, …), from the help screens.
fn command_paths() -> Vec<Vec<String>> {
    fn listed(help: &str) -> Vec<String> {
        help.split("Commands:")
            .nth(1)
            .map(|rest| rest.split("\n\n").next().unwrap_or_default())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|c| *c != "help")
            .map(str::to_owned)
            .collect()
    }
    let mut paths = Vec::new();
    let mut todo: Vec<Vec<String>> = listed(&text(&aopay(&["--help"]).stdout))
        .into_iter()
        .map(|c| vec![c])
        .collect();
    while let Some(path) = todo.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let children = listed(&text(&aopay(&args).stdout));
        if children.is_empty() {
            paths.push(path);
        } else {
            todo.extend(children.into_iter().map(|c| {
                let mut p = path.clone();
                p.push(c);
                p
            }));
        }
    }
    paths
}

#[test]
fn each_command_takes_only_the_options_it_uses_and_documents_its_exit_codes() {
    let paths = command_paths();
    assert!(paths.len() >= 12, "{paths:?}");
    let calls_api = |p: &[String]| {
        !matches!(
            p.iter().map(String::as_str).collect::<Vec<_>>().as_slice(),
            ["sandbox"]
                | ["completions"]
                | ["man"]
                | ["journal", "pending" | "settle" | "release" | "audit"]
                | ["batch", "status"]
        )
    };
    for path in &paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = text(&aopay(&args).stdout);
        let name = path.join(" ");
        assert!(
            help.contains("Exit codes: 0 "),
            "{name} documents its exit codes:\n{help}"
        );
        assert!(help.contains("-v, --verbose"), "{name}: -v is global");
        for flag in [
            "--registration-id",
            "--base-url",
            "--sandbox",
            "--timeout",
            "--header",
        ] {
            assert_eq!(
                help.contains(flag),
                calls_api(path),
                "{name} and {flag}:\n{help}"
            );
        }
        if calls_api(path) {
            // Connection options under their own heading, after the command's.
            let (own, connection) = help
                .split_once("Connection:")
                .expect("a Connection heading");
            assert!(
                !own.contains("--registration-id") && connection.contains("--registration-id"),
                "{name}"
            );
        }
    }
    // Given anyway, an option a command does not use is refused (exit 2),
    // never silently accepted.
    for args in [
        &["sandbox", "--json"][..],
        &["sandbox", "--journal", "x.db"],
        &["sandbox", "--base-url", "http://127.0.0.1:9"],
        &["man", "--timeout", "5"],
        &["completions", "bash", "--sandbox"],
        &["journal", "pending", "--registration-id", "AOP-554"],
    ] {
        let out = aopay(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        // With --json among them, the refusal is JSON on stdout.
        let said = text(&out.stderr) + &text(&out.stdout);
        assert!(said.contains("unexpected argument"), "{args:?}");
    }
}

#[test]
fn status_takes_no_journal_and_creates_no_file() {
    let help = text(&aopay(&["status", "--help"]).stdout);
    assert!(!help.contains("--journal"), "{help}");
    let dir = std::env::temp_dir().join(format!("aopay-status-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("y.db");
    let out = aopay(&[
        "status",
        "AOP554R1",
        "--sandbox",
        "--journal",
        journal.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!journal.exists(), "no journal file is created");
    // A generated read takes none either; a generated write does.
    assert!(!text(&aopay(&["dth-info", "--help"]).stdout).contains("--journal"));
    assert!(text(&aopay(&["bill", "pay", "--help"]).stdout).contains("--journal"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// With `--json`, a command line that cannot be parsed is a JSON error on
/// stdout (exit 2), as every other error of a `--json` command is; without
/// it, clap's text on stderr. Help still prints as help.
#[test]
fn usage_errors_are_json_with_json() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_aopay"))
            .args(args)
            .env_remove("AOPAY_REGISTRATION_ID")
            .output()
            .unwrap()
    };
    for args in [
        &["recharge", "--bogus", "--json"][..],
        &["recharge", "--product", "518", "--json"][..],
        &["bill", "status", "--json"][..],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&o.stdout)));
        assert_eq!(v["error"]["code"], "AOPAY_USAGE", "{args:?}");
        assert_eq!(v["error"]["retry_safe"], true);
    }
    let o = run(&["recharge", "--bogus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--bogus"));
    let o = run(&["recharge", "--help", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Usage:"));
}

/// `--sandbox` with a `--base-url` on the command line is refused (which
/// server?), nothing sent; `AOPAY_BASE_URL` in the environment is only the
/// default that `--sandbox` replaces.
#[test]
fn sandbox_and_a_base_url_given_together_are_refused() {
    let run = |args: &[&str], env: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_aopay"));
        c.args(args)
            .env_remove("AOPAY_BASE_URL")
            .env_remove("AOPAY_JOURNAL");
        if let Some(url) = env {
            c.env("AOPAY_BASE_URL", url);
        }
        c.output().unwrap()
    };
    let recharge = [
        "recharge",
        "--product",
        "518",
        "--amount",
        "10",
        "--number",
        "9876543210",
        "--sandbox",
    ];
    let mut both = recharge.to_vec();
    both.extend(["--base-url", "http://127.0.0.1:9", "--json"]);
    let o = run(&both, None);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["error"]["detail"].as_str().unwrap().contains("not both"),
        "{v}"
    );
    let o = run(
        &[
            "bill",
            "status",
            "--reference-id",
            "a",
            "--sandbox",
            "--base-url",
            "http://x",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let mut env_only = recharge.to_vec();
    env_only.push("--json");
    let o = run(&env_only, Some("http://127.0.0.1:9"));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every command says what it does: each generated one's help line is its
/// summary in the core's endpoint table (top level and under its family),
/// and no command anywhere borrows an options struct's description.
#[test]
fn every_command_says_what_it_does_from_the_table() {
    let line_of = |help: &str, name: &str| -> Option<String> {
        help.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(name).filter(|rest| rest.starts_with(' ')))
            .map(|rest| rest.trim().to_owned())
    };
    let mut checked = 0;
    for spec in aopay_core::ENDPOINTS
        .iter()
        .filter(|s| s.binding == aopay_core::Binding::Generated)
    {
        let (parent, name): (Vec<&str>, &str) = match spec.cli {
            [family, name] => (vec![*family], *name),
            [name] => (vec![], *name),
            _ => continue,
        };
        let mut args = parent.clone();
        args.push("--help");
        let help = text(&aopay(&args).stdout);
        let summary = spec.summary.trim_end_matches('.');
        assert_eq!(
            line_of(&help, name).as_deref(),
            Some(summary),
            "{:?} in `aopay {} --help`:\n{help}",
            spec.cli,
            parent.join(" ")
        );
        let mut own = spec.cli.to_vec();
        own.push("--help");
        assert!(
            text(&aopay(&own).stdout).starts_with(summary),
            "{:?} --help starts with its summary",
            spec.cli
        );
        checked += 1;
    }
    assert!(checked >= 8, "{checked} generated commands");
    for path in command_paths() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = text(&aopay(&args).stdout);
        assert!(
            !help.contains("How a command reaches the API"),
            "{path:?}:\n{help}"
        );
        let first = help.lines().next().unwrap_or_default();
        assert!(
            !first.trim().is_empty() && !first.starts_with("Usage"),
            "{path:?} says what it does:\n{help}"
        );
    }
}
