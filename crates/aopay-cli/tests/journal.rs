//! Idempotency across processes: 16 `aopay` processes with one key, a
//! caller killed between intent and outcome, and reconciliation from the
//! command line — on SQLite, and on PostgreSQL when `AOPAY_TEST_POSTGRES` is
//! set (required under CI).

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use aopay_sandbox::{Sandbox, SandboxConfig};

fn temp_db(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("aopay-cli-journal-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("orders.db").display().to_string()
}

fn postgres_dsn() -> Option<String> {
    match std::env::var("AOPAY_TEST_POSTGRES") {
        Ok(dsn) if !dsn.is_empty() => Some(dsn),
        _ if std::env::var_os("CI").is_some() => panic!("CI must provide AOPAY_TEST_POSTGRES"),
        _ => None,
    }
}

fn unique_key(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

fn aopay(url: &str, journal: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aopay"));
    c.args(args)
        .env("AOPAY_BASE_URL", url)
        .env("AOPAY_REGISTRATION_ID", "AOP-554")
        .env("AOPAY_GEOCODE", "23.6784,76.8764")
        .env("AOPAY_JOURNAL", journal);
    c
}

fn recharge(url: &str, journal: &str, number: &str, key: &str) -> Command {
    aopay(
        url,
        journal,
        &[
            "recharge",
            "--product",
            "518",
            "--amount",
            "10",
            "--number",
            number,
            "--idempotency-key",
            key,
            "--json",
        ],
    )
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

async fn sandbox() -> Sandbox {
    let config = SandboxConfig::default().slow_delay(Duration::from_secs(20));
    Sandbox::start_with(config, std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
}

async fn sixteen_processes_one_key(journal: &str, key: &str) {
    let sb = sandbox().await;
    let children: Vec<_> = (0..16)
        .map(|_| {
            recharge(sb.url(), journal, "9000000001", key)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let mut references = std::collections::HashSet::new();
    for o in &outputs {
        assert_eq!(o.status.code(), Some(3), "FAILED is exit 3: {}", text(o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        references.insert(v["reference_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(references.len(), 1);
    assert_eq!(
        sb.recharges_for(9_000_000_001),
        1,
        "16 processes, one key: sent once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_sixteen_processes_send_once() {
    sixteen_processes_one_key(&temp_db("p16"), "order-16").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_sixteen_processes_send_once() {
    let Some(dsn) = postgres_dsn() else { return };
    sixteen_processes_one_key(&dsn, &unique_key("p16")).await;
}

/// Kill the caller between intent and outcome: a second call with the same
/// key must not send; it sees at once (the killed process is gone, on this
/// machine) that the outcome is unknown, without waiting out the deadline;
/// the entry stays visible as unresolved.
async fn crash_between_intent_and_outcome(journal: &str, key: &str) {
    let sb = sandbox().await;
    let mut child = recharge(sb.url(), journal, "9000000007", key)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while sb.recharges_for(9_000_000_007) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the first call never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let mut second = recharge(sb.url(), journal, "9000000007", key);
    second.args(["--timeout", "1"]);
    let o = tokio::task::spawn_blocking(move || second.output().unwrap())
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(5), "outcome unknown: {}", text(&o));
    assert!(
        text(&o).contains("its process may have crashed"),
        "{}",
        text(&o)
    );
    assert_eq!(sb.recharges_for(9_000_000_007), 1, "never resent");

    let mut pending = aopay(sb.url(), journal, &["journal", "pending", "--json"]);
    let o = tokio::task::spawn_blocking(move || pending.output().unwrap())
        .await
        .unwrap();
    let entries: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mine = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == key)
        .expect("listed");
    assert_eq!(mine["state"], "unknown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_crash_between_intent_and_outcome() {
    crash_between_intent_and_outcome(&temp_db("crash"), "order-crash").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_crash_between_intent_and_outcome() {
    let Some(dsn) = postgres_dsn() else { return };
    crash_between_intent_and_outcome(&dsn, &unique_key("crash")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pending_entries_reconcile_from_the_command_line() {
    let sb = sandbox().await;
    let journal = temp_db("reconcile");
    let run = |cmd: Command| {
        let mut cmd = cmd;
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    let o = run(recharge(sb.url(), &journal, "9000000002", "order-p"))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "PENDING: {}", text(&o));
    let o = run(aopay(sb.url(), &journal, &["journal", "reconcile"]))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("order-p  PENDING"), "{}", text(&o));
    let o = run(aopay(sb.url(), &journal, &["journal", "reconcile"]))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("order-p  SUCCESS"), "{}", text(&o));
    let o = run(aopay(sb.url(), &journal, &["journal", "pending"]))
        .await
        .unwrap();
    assert!(text(&o).contains("no unresolved entries"));
    let o = run(recharge(sb.url(), &journal, "9000000002", "order-p"))
        .await
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "final outcome from the journal: {}",
        text(&o)
    );
    let o = run(recharge(sb.url(), &journal, "9876543210", "order-p"))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("AOPAY_IDEMPOTENCY_CONFLICT"),
        "{}",
        text(&o)
    );
    assert_eq!(sb.recharges_for(9_000_000_002), 1);
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 1);
    // A journal that cannot be created is a journal error (reading one that
    // is not there: reading_a_journal_that_is_not_there_creates_nothing).
    let o = run(aopay(
        sb.url(),
        "/nonexistent-aopay/x.db",
        &["journal", "reconcile"],
    ))
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("journal error"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reconcile_json_gives_each_entry_its_endpoint_and_outcome_slot() {
    let sb = sandbox().await;
    let journal = temp_db("reconcile-json");
    let run = |cmd: Command| {
        tokio::task::spawn_blocking(move || {
            let mut cmd = cmd;
            cmd.output().unwrap()
        })
    };
    let o = run(recharge(sb.url(), &journal, "9000000002", "v2-order"))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "PENDING: {}", text(&o));
    let v1 = [
        "recharge-v1",
        "--operator",
        "11",
        "--number",
        "9000000301",
        "--amount",
        "10",
        "--idempotency-key",
        "v1-order",
    ];
    let o = run(aopay(sb.url(), &journal, &v1)).await.unwrap();
    assert_eq!(o.status.code(), Some(4), "PENDING: {}", text(&o));
    let o = run(aopay(
        sb.url(),
        &journal,
        &["journal", "reconcile", "--json"],
    ))
    .await
    .unwrap();
    let all: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let entry = |key: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("no {key} in {all}"))
    };
    let (v2, v1) = (entry("v2-order"), entry("v1-order"));
    assert_eq!(v2["endpoint"], "mobile_recharge", "{v2}");
    assert_eq!(v2["recharge"]["status_call"], "recharge_status", "{v2}");
    assert_eq!(v2["status"], v2["recharge"]["status"]);
    assert_eq!(v1["endpoint"], "do_recharge", "{v1}");
    assert_eq!(v1["payment"]["status_call"], "do_recharge_status", "{v1}");
    assert!(v1["reference_id"].is_string(), "{v1}");
    assert_eq!(v1["payment"]["reference_id"], v1["reference_id"], "{v1}");
    assert!(v1["recharge"].is_null() && v1["error"].is_null(), "{v1}");
}

#[test]
fn reading_a_journal_that_is_not_there_creates_nothing() {
    let missing = temp_db("missing");
    for args in [
        vec!["journal", "pending"],
        vec!["batch", "status"],
        vec!["batch", "status", missing.as_str()],
    ] {
        let o = aopay("http://127.0.0.1:9", &missing, &args)
            .env_remove("AOPAY_REGISTRATION_ID")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let err = text(&o);
        assert!(
            err.contains("does not exist") && err.contains("--journal"),
            "{args:?}: {err}"
        );
        assert!(
            !std::path::Path::new(&missing).exists(),
            "{args:?} created {missing}"
        );
    }
}

/// A PostgreSQL DSN in any spelling (the URL's scheme in any case, libpq's
/// keyword form) is never taken for a SQLite path: no local file named
/// after a password is created, and nothing is sent without the journal.
/// A spec that is neither for sure is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_dsn_never_becomes_a_local_file() {
    let sb = Sandbox::start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("aopay-cli-dsn-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for spec in [
        "host=127.0.0.1 port=1 user=u password=PASSWORD dbname=x connect_timeout=2",
        "Postgres://u:PASSWORD@127.0.0.1:1/x?connect_timeout=2",
        "mysql://u:PASSWORD@127.0.0.1/x",
        "host=127.0.0.1 colour=PASSWORD",
    ] {
        let key = unique_key("dsn");
        let o = recharge(sb.url(), spec, "9876500021", &key)
            .current_dir(&dir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_ne!(o.status.code(), Some(0), "{spec}: {err}");
        assert!(!err.contains("PASSWORD"), "{spec}: {err}");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert!(left.is_empty(), "{spec} made files: {left:?}");
    }
    assert_eq!(
        sb.stats().requests_to("mobile_recharge"),
        0,
        "nothing was sent"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// When a command ends, its journal is whole in the `.db` file: no WAL is
/// left beside it, and a copy of the `.db` alone (a backup) still knows the
/// key, which then pays nothing again.
#[tokio::test(flavor = "multi_thread")]
async fn a_journal_is_whole_in_its_file_when_the_command_ends() {
    let sb = sandbox().await;
    let journal = temp_db("whole");
    let key = unique_key("whole");
    let o = recharge(sb.url(), &journal, "9876500031", &key)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let wal = format!("{journal}-wal");
    let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(left, 0, "the WAL still holds {left} bytes");
    let copy = format!("{journal}.backup");
    std::fs::copy(&journal, &copy).unwrap();
    let again = recharge(sb.url(), &copy, "9876500031", &key)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(sb.recharges_for(9_876_500_031), 1, "the copy knew the key");
}

/// What an operator checked against the AOPay statement, done by hand:
/// an unknown MobileRecharge (no reference to check) settled as SUCCESS is
/// final and never sent again; one released is sent by the next call; each
/// change is kept with who, when and why; a final entry, a missing one, a
/// status the write cannot have and an empty note are refused (exit 2).
async fn settled_and_released_by_hand(journal: &str, k1: &str, k2: &str) {
    let sb = sandbox().await;
    let run = |cmd: &mut Command| {
        let o = cmd.env("AOPAY_ACTOR", "ops-test").output().unwrap();
        (o.status.code(), text(&o), o.stdout)
    };
    for key in [k1, k2] {
        let (code, out, _) = run(&mut recharge(sb.url(), journal, "9000000008", key));
        assert_eq!(code, Some(5), "dropped: outcome unknown: {out}");
    }
    assert_eq!(sb.recharges_for(9_000_000_008), 2);

    let note = "statement 2026-12-06, line 14: paid";
    let (code, out, stdout) = run(&mut aopay(
        sb.url(),
        journal,
        &[
            "journal", "settle", k1, "--status", "success", "--note", note, "--json",
        ],
    ));
    assert_eq!(code, Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(
        (v["state"].as_str(), v["status"].as_str()),
        (Some("final"), Some("SUCCESS")),
        "{v}"
    );
    // Final now: the same call answers from the journal, sends nothing.
    let (code, out, _) = run(&mut recharge(sb.url(), journal, "9000000008", k1));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(sb.recharges_for(9_000_000_008), 2, "not sent again");

    for (args, why) in [
        (
            vec![
                "journal", "settle", k1, "--status", "FAILED", "--note", "again",
            ],
            "final already",
        ),
        (
            vec![
                "journal",
                "settle",
                "no-such-key",
                "--status",
                "FAILED",
                "--note",
                "x",
            ],
            "no entry",
        ),
        (
            vec![
                "journal", "settle", k2, "--status", "REFUNDED", "--note", "x",
            ],
            "MobileRecharge",
        ),
        (
            vec!["journal", "settle", k2, "--status", "FAILED", "--note", " "],
            "empty note",
        ),
        (
            vec!["journal", "release", k1, "--note", "x"],
            "final release",
        ),
    ] {
        let (code, out, _) = run(&mut aopay(sb.url(), journal, &args));
        assert_eq!(code, Some(2), "{why}: {out}");
    }

    let (code, out, _) = run(&mut aopay(
        sb.url(),
        journal,
        &["journal", "release", k2, "--note", "not on the statement"],
    ));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("released (was unknown)"), "{out}");
    // Released: the next call with the key sends.
    let _ = run(&mut recharge(sb.url(), journal, "9000000008", k2));
    assert_eq!(sb.recharges_for(9_000_000_008), 3, "sent once more");

    for (key, action, status, why) in [
        (k1, "settle", Some("SUCCESS"), note),
        (k2, "release", None, "not on the statement"),
    ] {
        let (code, out, stdout) = run(&mut aopay(
            sb.url(),
            journal,
            &["journal", "audit", key, "--json"],
        ));
        assert_eq!(code, Some(0), "{out}");
        let v: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
        let records = v.as_array().unwrap();
        assert_eq!(records.len(), 1, "{v}");
        let r = &records[0];
        assert_eq!(
            (
                r["action"].as_str(),
                r["status"].as_str(),
                r["note"].as_str(),
                r["actor"].as_str(),
                r["from_state"].as_str()
            ),
            (
                Some(action),
                status,
                Some(why),
                Some("ops-test"),
                Some("unknown")
            ),
            "{r}"
        );
        assert!(r["at_ms"].as_i64().unwrap() > 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_entries_are_settled_and_released_by_hand_with_an_audit_trail() {
    settled_and_released_by_hand(&temp_db("by-hand"), "hand-1", "hand-2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_entries_are_settled_and_released_by_hand_with_an_audit_trail() {
    let Some(dsn) = postgres_dsn() else { return };
    settled_and_released_by_hand(&dsn, &unique_key("hand-1"), &unique_key("hand-2")).await;
}

/// A PostgreSQL journal whose server accepts connections and never answers
/// (a listener that is never read): every command fails within the DSN's
/// connect_timeout, saying so, instead of hanging; a batch sends nothing
/// (its orders not sent, exit 6).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_journal_that_never_answers_fails_within_its_deadline() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dsn = format!(
        "postgres://u@127.0.0.1:{}/aopay?connect_timeout=2",
        silent.local_addr().unwrap().port()
    );
    let sb = sandbox().await;
    let dir = std::path::PathBuf::from(temp_db("silent")).with_file_name("orders.csv");
    std::fs::write(
        &dir,
        "order_id,product_id,amount,customer_number\ns1,518,10,9876543210\ns2,518,10,9876543211\n",
    )
    .unwrap();
    for args in [
        vec!["journal", "pending"],
        vec!["batch", "run", dir.to_str().unwrap(), "--json"],
    ] {
        let started = Instant::now();
        let mut cmd = aopay(sb.url(), &dsn, &args);
        let o = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(30),
            "{args:?} took {took:?}: {}",
            text(&o)
        );
        assert_ne!(o.status.code(), Some(0), "{}", text(&o));
        assert!(
            text(&o).contains("did not answer within the connect timeout (2 s)"),
            "{args:?}: {}",
            text(&o)
        );
        if args[0] == "batch" {
            assert_eq!(o.status.code(), Some(6), "{}", text(&o));
            let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(summary["halted"], "journal", "{summary}");
            assert_eq!(summary["by_status"]["NOT_SENT"], 2, "{summary}");
        }
    }
    // No connect_timeout in the DSN: a keyed call's intent still waits no
    // longer than the call's own timeout.
    let no_timeout = dsn.replace("?connect_timeout=2", "");
    let started = Instant::now();
    let mut cmd = recharge(sb.url(), &no_timeout, "9876543210", "silent-1");
    cmd.args(["--timeout", "2"]);
    let o = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("within the call's timeout"),
        "{}",
        text(&o)
    );
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 0, "nothing sent");
    drop(silent);
}
