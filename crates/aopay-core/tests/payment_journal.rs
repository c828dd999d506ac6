//! Every referenced write through the journal, on SQLite and on a real
//! PostgreSQL server (`AOPAY_TEST_POSTGRES`, from `scripts/postgres`;
//! required when `CI` is set), against the sandbox over loopback: 16
//! concurrent callers with one key pay once; a lost answer is resolved
//! through the write's own status call; a key reused for another payment
//! is a conflict; journals written before payments existed still open.

use std::net::SocketAddr;
use std::time::Duration;

use aopay_core::{
    Client, EntryState, ErrorKind, FastagRechargeRequest, FetchBillRequest, FetchFastagRequest,
    Journal, Money, PayBillRequest, Payment, PaymentStatus,
};
use aopay_core::{DoRechargeRequest, Endpoint};
use aopay_sandbox::{Sandbox, SandboxConfig};

const GEO: &str = "27.2232,78.26535";

fn postgres_dsn() -> Option<String> {
    match std::env::var("AOPAY_TEST_POSTGRES") {
        Ok(dsn) if !dsn.is_empty() => Some(dsn),
        _ if std::env::var_os("CI").is_some() => panic!("CI must provide AOPAY_TEST_POSTGRES"),
        _ => None,
    }
}

fn sqlite(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("aopay-payj-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("orders.db")
}

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

async fn sandbox() -> Sandbox {
    Sandbox::start_with(
        SandboxConfig::default(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap()
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

/// One write of each kind, keyed, for `account` (a magic one or not).
#[derive(Clone, Copy, Debug)]
enum Write {
    DoRecharge,
    PayBill,
    FastagRecharge,
}

const WRITES: [Write; 3] = [Write::DoRecharge, Write::PayBill, Write::FastagRecharge];

impl Write {
    async fn send(
        self,
        c: &Client,
        account: &str,
        key: &str,
    ) -> Result<Payment, aopay_core::Error> {
        match self {
            Self::DoRecharge => {
                let req = DoRechargeRequest::new(11, account, Money::from_paise(1_000))?
                    .with_idempotency_key(key)?;
                c.pay(&req).await
            }
            Self::PayBill => {
                let bill = c.call(&FetchBillRequest::new(11, account, None)?).await?;
                c.pay(&PayBillRequest::new(&bill, None, GEO)?.with_idempotency_key(key)?)
                    .await
            }
            Self::FastagRecharge => {
                let tag = c.call(&FetchFastagRequest::new(311, account)?).await?;
                let req = FastagRechargeRequest::new(&tag, Some(Money::from_paise(50_000)), GEO)?
                    .with_idempotency_key(key)?;
                c.pay(&req).await
            }
        }
    }

    fn sent(self, sb: &Sandbox) -> u64 {
        let s = sb.stats();
        match self {
            Self::DoRecharge => s.requests_to("do_recharge"),
            Self::PayBill => s.requests_to("pay_bill"),
            Self::FastagRecharge => s.requests_to("fastag_recharge"),
        }
    }

    fn checked(self, sb: &Sandbox) -> u64 {
        let s = sb.stats();
        match self {
            Self::DoRecharge => s.requests_to("do_recharge_status"),
            Self::PayBill => s.requests_to("bill_status"),
            Self::FastagRecharge => s.requests_to("fastag_status"),
        }
    }

    fn method(self) -> &'static str {
        match self {
            Self::DoRecharge => DoRechargeRequest::SPEC.method,
            Self::PayBill => PayBillRequest::SPEC.method,
            Self::FastagRecharge => FastagRechargeRequest::SPEC.method,
        }
    }
}

async fn sixteen_callers_one_payment(open: impl Fn() -> Journal, write: Write) {
    let sb = sandbox().await;
    let key = unique("sixteen");
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let c = client(&sb, open());
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            write.send(&c, "102277100", &key).await
        }));
    }
    let mut references = std::collections::HashSet::new();
    for t in tasks {
        let p = t.await.unwrap().expect("every caller gets the one outcome");
        assert_eq!(p.status, PaymentStatus::Success, "{write:?}");
        references.insert(p.reference_id);
    }
    assert_eq!(references.len(), 1, "{write:?}: one payment for all");
    assert_eq!(write.sent(&sb), 1, "{write:?}: sent exactly once");
    let entry = open().get(&key).await.unwrap().unwrap();
    assert_eq!(
        (entry.endpoint.as_str(), entry.state),
        (write.method(), EntryState::Final)
    );
    assert_eq!(
        entry.outcome.unwrap().reference_id,
        *references.iter().next().unwrap()
    );
}

async fn a_lost_answer_is_resolved_by_its_status_call(journal: Journal, write: Write) {
    let sb = sandbox().await;
    let c = client(&sb, journal.clone());
    let key = unique("lost");
    // Recorded, then the connection is dropped unanswered.
    let e = write.send(&c, "9000000306", &key).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown, "{write:?}: {e}");
    let reference = e
        .reference_id()
        .expect("the reference of a lost write")
        .to_owned();
    let entry = journal.get(&key).await.unwrap().unwrap();
    assert_eq!(entry.state, EntryState::Unknown);
    assert_eq!(entry.reference_id.as_deref(), Some(reference.as_str()));
    // Reconciling asks the write's own status call, and records the answer.
    let report = c.reconcile_journal().await.unwrap();
    let (_, settled) = report.iter().find(|(e, _)| e.key == key).unwrap();
    match settled {
        Ok(p) => {
            assert_eq!(
                (p.status, p.reference_id.as_deref().unwrap_or_default()),
                (PaymentStatus::Success, reference.as_str())
            );
        }
        other => panic!("{write:?}: {other:?}"),
    }
    assert_eq!(write.checked(&sb), 1);
    // The key again: the recorded outcome, nothing sent or checked.
    let again = write.send(&c, "9000000306", &key).await.unwrap();
    assert_eq!(again.reference_id.as_deref(), Some(reference.as_str()));
    assert_eq!((write.sent(&sb), write.checked(&sb)), (1, 1));
    // The same key for another amount or account: a conflict, nothing sent.
    let e = write.send(&c, "102277100", &key).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::IdempotencyConflict);
    assert_eq!(write.sent(&sb), 1);
}

async fn pending_then_refunded_is_resolved_without_resending(journal: Journal, write: Write) {
    let sb = sandbox().await;
    let c = client(&sb, journal.clone());
    let key = unique("refund");
    let first = write.send(&c, "9000000302", &key).await.unwrap();
    assert_eq!(first.status, PaymentStatus::Pending);
    // Check 1 of 2: still pending; check 2: refunded, final, not a success.
    let again = write.send(&c, "9000000302", &key).await.unwrap();
    assert_eq!(again.status, PaymentStatus::Pending);
    let done = write.send(&c, "9000000302", &key).await.unwrap();
    assert_eq!(done.status, PaymentStatus::Refunded);
    // Every status call answers as the UAT log shows: `refunded` "1".
    assert_eq!(done.refunded, Some(true), "{write:?}");
    assert!(done.is_final());
    let settled = write.send(&c, "9000000302", &key).await.unwrap();
    assert_eq!(settled, done);
    assert_eq!((write.sent(&sb), write.checked(&sb)), (1, 2), "{write:?}");
    assert_eq!(
        journal.get(&key).await.unwrap().unwrap().state,
        EntryState::Final
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_every_write_pays_once_for_sixteen_callers() {
    for write in WRITES {
        let path = sqlite(&format!("sixteen-{write:?}"));
        sixteen_callers_one_payment(|| Journal::sqlite(&path).unwrap(), write).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_every_write_pays_once_for_sixteen_callers() {
    let Some(dsn) = postgres_dsn() else { return };
    for write in WRITES {
        sixteen_callers_one_payment(|| Journal::postgres(&dsn).unwrap(), write).await;
    }
}

/// A database of its own on the test server (created afresh), and its
/// DSN: for a test that reconciles the whole journal, whose counts other
/// tests' entries would change.
async fn own_database(dsn: &str, name: &str) -> String {
    let (admin, conn) = tokio_postgres::connect(dsn, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let db = format!("aopay_{name}_{}", std::process::id());
    // Two statements: neither may run inside a transaction block.
    for sql in [
        format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        format!("CREATE DATABASE {db}"),
    ] {
        admin.batch_execute(&sql).await.unwrap();
    }
    match dsn.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{db}"),
        None => panic!("{dsn}"),
    }
}

#[tokio::test]
async fn every_write_lost_or_refunded_is_resolved_on_both_journals() {
    let mut journals = vec![("sqlite", Journal::sqlite(sqlite("lost")).unwrap())];
    if let Some(dsn) = postgres_dsn() {
        let own = own_database(&dsn, "lost").await;
        journals.push(("postgres", Journal::postgres(&own).unwrap()));
    }
    for (_, journal) in journals {
        for write in WRITES {
            a_lost_answer_is_resolved_by_its_status_call(journal.clone(), write).await;
            pending_then_refunded_is_resolved_without_resending(journal.clone(), write).await;
        }
    }
}

const V1_SCHEMA: &str = "CREATE TABLE aopay_journal_meta (version INTEGER NOT NULL);
    CREATE TABLE aopay_journal (
        key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL,
        status TEXT, reference_id TEXT, txn_id TEXT, ackno TEXT, message TEXT,
        api_code BIGINT, http_status BIGINT, raw TEXT, reason TEXT,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, deadline_at BIGINT NOT NULL);
    INSERT INTO aopay_journal_meta (version) VALUES (1);
    INSERT INTO aopay_journal VALUES ('old-order', 'fnv1a64:0', 'final', 'SUCCESS', 'AOP554R1',
        'T1', '7', 'ok', 1, 200, '{\"ReferanceID\":\"AOP554R1\",\"data\":{\"status\":\"SUCCESS\"}}',
        NULL, 1, 2, 3);";

#[tokio::test]
async fn a_journal_written_before_payments_opens_and_reads_its_recharges() {
    let path = sqlite("v1");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(V1_SCHEMA)
        .unwrap();
    let j = Journal::sqlite(&path).unwrap();
    let old = j.get("old-order").await.unwrap().unwrap();
    assert_eq!(old.endpoint, "mobile_recharge");
    assert_eq!(
        old.outcome.unwrap().reference_id.as_deref(),
        Some("AOP554R1")
    );
    drop(j);
    // Reopened (migrated already): the same.
    let j = Journal::sqlite(&path).unwrap();
    assert_eq!(
        j.get("old-order").await.unwrap().unwrap().endpoint,
        "mobile_recharge"
    );

    let Some(dsn) = postgres_dsn() else { return };
    let old_dsn = own_database(&dsn, "v1").await;
    let (c, conn) = tokio_postgres::connect(&old_dsn, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(conn);
    c.batch_execute(V1_SCHEMA).await.unwrap();
    drop(c);
    let _ = task.await;
    let j = Journal::postgres(&old_dsn).unwrap();
    let old = j.get("old-order").await.unwrap().unwrap();
    assert_eq!(old.endpoint, "mobile_recharge");
    assert_eq!(old.outcome.unwrap().status, aopay_core::Status::Success);
}

/// A reference already used (code 18 at HTTP 402): unkeyed, a
/// `DuplicateReferenceError` that is never retry-safe and carries the
/// reference; keyed, the journal takes it as "the first send arrived" and
/// settles the key through the status call, which tells the first
/// payment's fate. Nothing is paid twice.
#[tokio::test]
async fn a_duplicate_reference_is_never_retry_safe_and_a_keyed_one_settles_through_its_status_call()
{
    let sb = sandbox().await;
    let c = client(&sb, Journal::sqlite(sqlite("duplicate")).unwrap());
    let reference = format!("dup{}", std::process::id());
    let req = || {
        DoRechargeRequest::new(11, "9876500011", Money::from_paise(1_000))
            .unwrap()
            .with_reference(&reference)
            .unwrap()
    };
    let first = c.pay(&req()).await.unwrap();
    assert_eq!(first.status, PaymentStatus::Success);
    let e = c.pay(&req()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DuplicateReference, "{e}");
    assert!(!e.retry_safe());
    assert_eq!(
        (e.http_status(), e.api_code(), e.reference_id()),
        (Some(402), Some(18), Some(reference.as_str()))
    );
    let key = unique("dup");
    let settled = c
        .pay(&req().with_idempotency_key(&key).unwrap())
        .await
        .unwrap();
    assert_eq!(
        (
            settled.status,
            settled.reference_id.as_deref().unwrap_or_default()
        ),
        (PaymentStatus::Success, reference.as_str())
    );
    assert_eq!(sb.stats().requests_to("do_recharge_status"), 1);
    assert_eq!(sb.recorded_payments_for("9876500011"), 1);
    // The key again: the recorded outcome, nothing sent.
    let again = c
        .pay(&req().with_idempotency_key(&key).unwrap())
        .await
        .unwrap();
    assert_eq!(again, settled);
    assert_eq!(sb.stats().requests_to("do_recharge"), 3);
}

/// A status call that finds nothing yet is not a failure: the wait asks
/// again until the payment shows (the sandbox hides 9000000307's from its
/// first check), and a write answered "re-query" is never final before its
/// status call says so.
#[tokio::test]
async fn not_found_yet_is_asked_again_and_a_re_query_answer_settles_later() {
    let sb = sandbox().await;
    let c = client(&sb, Journal::sqlite(sqlite("notfound")).unwrap());
    let req = DoRechargeRequest::new(11, "9000000307", Money::from_paise(1_000)).unwrap();
    let e = c.pay(&req).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
    let reference = e.reference_id().unwrap().to_owned();
    let first = c.payment_status("do_recharge_status", &reference).await;
    assert_eq!(
        first.unwrap_err().kind(),
        ErrorKind::TransactionNotFound,
        "hidden from the first check"
    );
    let fast = aopay_core::WaitOptions::with_timeout(Duration::from_secs(5))
        .intervals(Duration::from_millis(20), Duration::from_millis(50));
    let p = c
        .wait_for_payment("do_recharge_status", &reference, fast)
        .await
        .unwrap();
    assert_eq!(p.status, PaymentStatus::Success);
    // Never found: the wait runs out as an unknown outcome with the
    // reference, never a failure.
    let short = aopay_core::WaitOptions::with_timeout(Duration::from_millis(300))
        .intervals(Duration::from_millis(20), Duration::from_millis(50));
    let e = c
        .wait_for_payment("bill_status", "NEVER-SENT-1", short)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutcomeUnknown, "{e}");
    assert_eq!(e.reference_id(), Some("NEVER-SENT-1"));
    // Keyed, answered "re-query" (code 0): pending, then settled through
    // its status call on the next call with the key; sent once.
    let key = unique("requery");
    let keyed = || {
        DoRechargeRequest::new(11, "9000000303", Money::from_paise(1_000))
            .unwrap()
            .with_idempotency_key(&key)
            .unwrap()
    };
    let first = c.pay(&keyed()).await.unwrap();
    assert_eq!(
        (first.status, first.meta.api_code),
        (PaymentStatus::Pending, Some(0))
    );
    assert!(!first.is_final());
    let later = c.pay(&keyed()).await.unwrap();
    assert_eq!(later.status, PaymentStatus::Refunded);
    assert_eq!(sb.payments_for("9000000303"), 1);
}
