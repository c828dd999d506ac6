//! The idempotency journal against the real sandbox over loopback, on
//! SQLite and on a real PostgreSQL server (`AOPAY_TEST_POSTGRES`, started by
//! `scripts/postgres`; required when `CI` is set), plain and over TLS.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use aopay_core::{Client, EntryState, ErrorKind, Journal, MobileRecharge, Status};
use aopay_sandbox::{Sandbox, SandboxConfig};

const GEO: &str = "23.6784,76.8764";

fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aopay-journal-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("orders.db")
}

fn postgres_dsn() -> Option<String> {
    match std::env::var("AOPAY_TEST_POSTGRES") {
        Ok(dsn) if !dsn.is_empty() => Some(dsn),
        _ if std::env::var_os("CI").is_some() => panic!("CI must provide AOPAY_TEST_POSTGRES"),
        _ => {
            eprintln!(
                "AOPAY_TEST_POSTGRES unset: PostgreSQL journal tests skipped (run scripts/postgres)"
            );
            None
        }
    }
}

/// A key no other test run uses (the PostgreSQL journal is shared).
fn unique_key(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

fn client(sb: &Sandbox, journal: Journal) -> Client {
    Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .timeout(Duration::from_secs(5))
        .journal(journal)
        .build()
        .unwrap()
}

fn keyed(number: u64, amount: i64, key: &str) -> MobileRecharge {
    MobileRecharge::new(518, amount, &number.to_string(), GEO)
        .unwrap()
        .with_idempotency_key(key)
        .unwrap()
}

async fn sandbox() -> Sandbox {
    let config = SandboxConfig::default().slow_delay(Duration::from_secs(3));
    Sandbox::start_with(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
}

/// Same key and request twice: one send; the second answer comes from the journal.
async fn same_key_sends_once(journal: Journal, key: &str) {
    let sb = sandbox().await;
    let c = client(&sb, journal.clone());
    let first = c
        .mobile_recharge(&keyed(9_876_543_210, 10, key))
        .await
        .unwrap();
    let second = c
        .mobile_recharge(&keyed(9_876_543_210, 10, key))
        .await
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(first.status, Status::Success);
    assert_eq!(sb.recharges_for(9_876_543_210), 1);
    let entry = journal.get(key).await.unwrap().unwrap();
    assert_eq!(entry.state, EntryState::Final);
    assert_eq!(entry.outcome.as_ref(), Some(&first));
    // The same key with another amount: a conflict, and nothing sent.
    let e = c
        .mobile_recharge(&keyed(9_876_543_210, 20, key))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::IdempotencyConflict);
    assert!(!e.retry_safe());
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 1);
    // Without a key nothing changes: it sends.
    c.mobile_recharge(&MobileRecharge::new(518, 10, "9876543210", GEO).unwrap())
        .await
        .unwrap();
    assert_eq!(sb.recharges_for(9_876_543_210), 2);
}

/// 16 concurrent callers, each with its own client and journal handle (as
/// separate threads or machines would be): exactly one sends.
async fn concurrent_callers_send_once(open: impl Fn() -> Journal, key: &str) {
    let sb = sandbox().await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let c = client(&sb, open());
        let req = keyed(9_000_000_001, 10, key);
        tasks.push(tokio::spawn(async move { c.mobile_recharge(&req).await }));
    }
    let mut references = std::collections::HashSet::new();
    for t in tasks {
        let r = t.await.unwrap().expect("every caller gets the one outcome");
        assert_eq!(r.status, Status::Failed);
        references.insert(r.reference_id);
    }
    assert_eq!(references.len(), 1, "one transaction for all");
    assert_eq!(sb.recharges_for(9_000_000_001), 1, "sent exactly once");
}

/// A pending outcome is reconciled through RechargeStatus, never resent.
async fn pending_is_reconciled(journal: Journal, key: &str) {
    let sb = sandbox().await;
    let c = client(&sb, journal.clone());
    let first = c
        .mobile_recharge(&keyed(9_000_000_002, 10, key))
        .await
        .unwrap();
    assert_eq!(first.status, Status::Pending);
    assert_eq!(
        journal
            .unresolved()
            .await
            .unwrap()
            .iter()
            .filter(|e| e.key == key)
            .count(),
        1
    );
    // Check 1 of 2: still pending; check 2: SUCCESS, recorded as final.
    let again = c
        .mobile_recharge(&keyed(9_000_000_002, 10, key))
        .await
        .unwrap();
    assert_eq!(again.status, Status::Pending);
    let done = c
        .mobile_recharge(&keyed(9_000_000_002, 10, key))
        .await
        .unwrap();
    assert_eq!(done.status, Status::Success);
    assert_eq!(done.reference_id, first.reference_id);
    let settled = c
        .mobile_recharge(&keyed(9_000_000_002, 10, key))
        .await
        .unwrap();
    assert_eq!(settled, done);
    assert_eq!(sb.recharges_for(9_000_000_002), 1);
    assert_eq!(
        sb.stats().requests_to("recharge_status"),
        2,
        "final outcomes come from the journal"
    );
    assert_eq!(
        journal.get(key).await.unwrap().unwrap().state,
        EntryState::Final
    );
}

/// An unknown outcome without a reference is never resent: it stays unknown.
async fn unknown_stays_unknown(journal: Journal, key: &str) {
    let sb = sandbox().await;
    let c = client(&sb, journal.clone());
    let e = c
        .mobile_recharge(&keyed(9_000_000_008, 10, key))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
    let e = c
        .mobile_recharge(&keyed(9_000_000_008, 10, key))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
    assert!(e.message().contains("no reference"), "{e}");
    assert_eq!(sb.recharges_for(9_000_000_008), 1);
    let entry = journal.get(key).await.unwrap().unwrap();
    assert_eq!(entry.state, EntryState::Unknown);
    assert!(entry.reason.unwrap().contains("connection"));
    // A retry-safe failure frees the key: a later attempt may send.
    let refused = format!("{key}-refused");
    let e = c
        .mobile_recharge(&keyed(9_000_000_011, 10, &refused))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api);
    assert!(journal.get(&refused).await.unwrap().is_none());
    let _ = c.mobile_recharge(&keyed(9_000_000_011, 10, &refused)).await;
    assert_eq!(sb.recharges_for(9_000_000_011), 2);
}

#[tokio::test]
async fn sqlite_same_key_sends_once() {
    same_key_sends_once(Journal::sqlite(temp_db("once")).unwrap(), "order-1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_callers_send_once() {
    let path = temp_db("concurrent");
    concurrent_callers_send_once(|| Journal::sqlite(&path).unwrap(), "order-16").await;
}

#[tokio::test]
async fn sqlite_pending_is_reconciled() {
    pending_is_reconciled(Journal::sqlite(temp_db("pending")).unwrap(), "order-p").await;
}

#[tokio::test]
async fn sqlite_unknown_stays_unknown() {
    unknown_stays_unknown(Journal::sqlite(temp_db("unknown")).unwrap(), "order-u").await;
}

#[tokio::test]
async fn sqlite_schema_is_created_and_reopened() {
    let path = temp_db("schema");
    std::fs::write(&path, b"").unwrap(); // an empty file is an empty database
    let j = Journal::sqlite(&path).unwrap();
    assert!(j.unresolved().await.unwrap().is_empty());
    assert!(j.get("nothing").await.unwrap().is_none());
    drop(j);
    let j = Journal::sqlite(&path).unwrap(); // idempotent migration
    assert!(j.unresolved().await.unwrap().is_empty());
    assert!(format!("{j:?}").contains("orders.db"));
}

#[tokio::test]
async fn bad_journals_fail_clearly_and_send_nothing() {
    for path in ["/nonexistent-aopay-dir/sub/orders.db", "/", ""] {
        let e = Journal::sqlite(path).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Journal, "{path}: {e}");
        assert!(e.retry_safe());
    }
    let not_a_db = temp_db("garbage");
    std::fs::write(&not_a_db, vec![0xAB; 4096]).unwrap();
    assert_eq!(
        Journal::sqlite(&not_a_db).unwrap_err().kind(),
        ErrorKind::Journal
    );
    for dsn in ["postgres://u@h:notaport/db", "postgresql://[bad"] {
        let e = Journal::open(dsn).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Journal, "{dsn}");
    }
    // A well-formed DSN that nobody answers: the claim fails, nothing is sent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let sb = sandbox().await;
    let c = client(
        &sb,
        Journal::open(&format!("postgres://u@127.0.0.1:{port}/db")).unwrap(),
    );
    let e = c
        .mobile_recharge(&keyed(9_876_543_210, 10, "k"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Journal);
    assert!(e.message().contains("cannot connect"), "{e}");
    assert!(e.message().contains("refused"), "the cause is kept: {e}");
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 0);
    // A key without a journal is refused before sending.
    let plain = Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .build()
        .unwrap();
    let e = plain
        .mobile_recharge(&keyed(9_876_543_210, 10, "k"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.field()),
        (ErrorKind::Validation, Some("idempotency_key"))
    );
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 0);
}

/// A keyed V2 recharge answered PENDING whose status read then refuses
/// its reference (another server: "No transaction found", read as a
/// refusal) is never "safe to retry": reconciling it, and calling its key
/// again, give an unknown outcome with its reference, and nothing is sent.
#[tokio::test]
async fn a_sent_recharge_whose_status_read_fails_is_never_retry_safe() {
    let journal = Journal::sqlite(temp_db("lost-reference")).unwrap();
    let first = sandbox().await;
    let pending = client(&first, journal.clone())
        .mobile_recharge(&keyed(9_000_000_002, 10, "lost-1"))
        .await
        .unwrap();
    assert_eq!(pending.status, Status::Pending);
    let reference = pending.reference_id.clone().unwrap();
    let other = sandbox().await;
    let c = client(&other, journal);
    let refused = c.recharge_status(&reference).await.unwrap_err();
    assert!(refused.retry_safe(), "a read's refusal alone: {refused}");
    let results = c.reconcile_journal().await.unwrap();
    let (_, result) = results.iter().find(|(e, _)| e.key == "lost-1").unwrap();
    let e = result.as_ref().unwrap_err();
    assert_eq!(
        (e.kind(), e.retry_safe()),
        (ErrorKind::OutcomeUnknown, false),
        "{e}"
    );
    assert_eq!(e.reference_id(), Some(reference.as_str()));
    let e = c
        .mobile_recharge(&keyed(9_000_000_002, 10, "lost-1"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.retry_safe()),
        (ErrorKind::OutcomeUnknown, false),
        "{e}"
    );
    assert_eq!(e.reference_id(), Some(reference.as_str()));
    assert_eq!(
        other.stats().requests_to("mobile_recharge"),
        0,
        "never sent again"
    );
}

#[tokio::test]
async fn reconcile_journal_resolves_what_it_can() {
    let sb = sandbox().await;
    let journal = Journal::sqlite(temp_db("reconcile")).unwrap();
    let c = client(&sb, journal.clone());
    c.mobile_recharge(&keyed(9_000_000_002, 10, "pending-1"))
        .await
        .unwrap();
    c.mobile_recharge(&keyed(9_000_000_006, 10, "unknown-1"))
        .await
        .unwrap_err();
    let results = c.reconcile_journal().await.unwrap();
    assert_eq!(results.len(), 2);
    for (entry, result) in &results {
        match entry.key.as_str() {
            "pending-1" => assert_eq!(
                result.as_ref().unwrap().status.as_str(),
                Status::Pending.as_str()
            ),
            "unknown-1" => assert_eq!(
                result.as_ref().unwrap_err().kind(),
                ErrorKind::OutcomeUnknown
            ),
            other => panic!("unexpected {other}"),
        }
    }
    let results = c.reconcile_journal().await.unwrap();
    let pending = results.iter().find(|(e, _)| e.key == "pending-1").unwrap();
    assert_eq!(
        pending.1.as_ref().unwrap().status.as_str(),
        Status::Success.as_str()
    );
    assert_eq!(
        c.reconcile_journal().await.unwrap().len(),
        1,
        "only the unknown one is left"
    );
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 2);
}

#[tokio::test]
async fn postgres_same_key_sends_once() {
    let Some(dsn) = postgres_dsn() else { return };
    same_key_sends_once(Journal::postgres(&dsn).unwrap(), &unique_key("once")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_callers_send_once() {
    let Some(dsn) = postgres_dsn() else { return };
    concurrent_callers_send_once(|| Journal::postgres(&dsn).unwrap(), &unique_key("c16")).await;
}

#[tokio::test]
async fn postgres_pending_is_reconciled() {
    let Some(dsn) = postgres_dsn() else { return };
    pending_is_reconciled(Journal::postgres(&dsn).unwrap(), &unique_key("pending")).await;
}

#[tokio::test]
async fn postgres_unknown_stays_unknown() {
    let Some(dsn) = postgres_dsn() else { return };
    unknown_stays_unknown(Journal::postgres(&dsn).unwrap(), &unique_key("unknown")).await;
}

/// The test server's CA (`scripts/postgres ca`), required with `CI`.
fn postgres_ca() -> Option<String> {
    match std::env::var("AOPAY_TEST_POSTGRES_CA") {
        Ok(path) if !path.is_empty() => Some(path),
        _ if std::env::var_os("CI").is_some() => panic!("CI must provide AOPAY_TEST_POSTGRES_CA"),
        _ => {
            eprintln!("AOPAY_TEST_POSTGRES_CA unset: PostgreSQL TLS tests skipped");
            None
        }
    }
}

/// Whether the server sees the connections named `application` over TLS.
async fn connections_use_tls(dsn: &str, application: &str) -> Vec<bool> {
    let (admin, connection) = tokio_postgres::connect(dsn, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    admin
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = $1",
            &[&application],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// A recharge through `journal` that must fail in the journal, sending nothing.
async fn journal_refuses(journal: Journal, expect: &str) {
    let sb = sandbox().await;
    let e = client(&sb, journal)
        .mobile_recharge(&keyed(9_876_543_210, 10, &unique_key("tls-refused")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Journal, "{e}");
    assert!(e.retry_safe());
    assert!(e.message().contains(expect), "{expect:?} not in {e}");
    assert_eq!(
        sb.stats().requests_to("mobile_recharge"),
        0,
        "nothing may be sent"
    );
}

#[tokio::test]
async fn postgres_tls_verifies_the_server() {
    let (Some(dsn), Some(ca)) = (postgres_dsn(), postgres_ca()) else {
        return;
    };
    // The test server's certificate names "localhost" only.
    let by_name = dsn.replace("@127.0.0.1:", "@localhost:");
    assert_ne!(by_name, dsn, "scripts/postgres gives a 127.0.0.1 DSN");
    let app = unique_key("tls");
    let verified = format!("{by_name}?sslmode=verify-full&sslrootcert={ca}&application_name={app}");
    same_key_sends_once(Journal::open(&verified).unwrap(), &unique_key("tls-once")).await;
    // The journal keeps its connection: the server sees it encrypted.
    let journal = Journal::open(&verified).unwrap();
    assert!(journal.get("absent").await.unwrap().is_none());
    assert_eq!(connections_use_tls(&dsn, &app).await, [true]);

    // Without the CA the chain is not trusted.
    journal_refuses(
        Journal::open(&format!("{by_name}?sslmode=require")).unwrap(),
        "UnknownIssuer",
    )
    .await;
    // With the CA but by another name, the certificate does not match.
    journal_refuses(
        Journal::open(&format!("{dsn}?sslmode=require&sslrootcert={ca}")).unwrap(),
        "not valid for name \"127.0.0.1\"",
    )
    .await;
    // A loopback DSN without sslmode stays plain; `disable` keeps it plain.
    let plain = unique_key("plain");
    let journal = Journal::open(&format!("{by_name}?application_name={plain}")).unwrap();
    assert!(journal.get("absent").await.unwrap().is_none());
    assert_eq!(connections_use_tls(&dsn, &plain).await, [false]);
    // A file that is no certificate is refused when the journal is opened.
    let not_pem = temp_db("not-pem").with_extension("pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let e = Journal::open(&format!("{by_name}?sslrootcert={}", not_pem.display())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Journal);
    assert!(e.message().contains("sslrootcert"), "{e}");
}

/// The journal keeps a few connections; one the server closed (a restart,
/// an idle timeout, an administrator) is made again on its next use.
#[tokio::test]
async fn postgres_connections_the_server_closed_are_made_again() {
    let Some(dsn) = postgres_dsn() else { return };
    let app = unique_key("closed");
    let journal = Journal::open(&format!("{dsn}?application_name={app}")).unwrap();
    let sb = sandbox().await;
    let c = client(&sb, journal);
    let pay_eight = |round: &'static str| {
        let c = c.clone();
        async move {
            for i in 0..8 {
                let key = unique_key(&format!("closed-{round}-{i}"));
                let r = c.mobile_recharge(&keyed(9_876_543_210, 10, &key)).await;
                assert_eq!(r.unwrap().status, Status::Success, "{round} {i}");
            }
        }
    };
    pay_eight("before").await;
    let (admin, connection) = tokio_postgres::connect(&dsn, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let closed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .await
        .unwrap();
    assert!(!closed.is_empty(), "the journal holds connections");
    tokio::time::sleep(Duration::from_millis(300)).await;
    pay_eight("after").await;
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 16);
}
