//! A credentials provider against a sandbox that requires bearer tokens
//! (as AOPay refuses unsigned calls with 401): one fetch serves concurrent
//! calls, a 401 refreshes once and resends once (never a second payment),
//! a stated lifetime is refreshed before it ends (the redaction of tokens
//! is in redaction.rs).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aopay_core::{Client, Credentials, DthInfoRequest, ErrorKind, MobileRecharge};
use aopay_sandbox::{Sandbox, SandboxConfig};

async fn sandbox() -> Arc<Sandbox> {
    let config = SandboxConfig::default().require_tokens(true);
    Arc::new(
        Sandbox::start_with(config, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap(),
    )
}

/// A client whose provider asks the sandbox for a token (as one would ask a
/// token service), counting its calls.
fn client(
    sb: &Arc<Sandbox>,
    lifetime: Duration,
    stated: Option<Duration>,
) -> (Client, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let (seen, sb) = (Arc::clone(&calls), Arc::clone(sb));
    let c = Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .credentials(move || {
            seen.fetch_add(1, Ordering::SeqCst);
            let token = sb.issue_token(lifetime);
            async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                let c = Credentials::new([("Authorization", format!("Bearer {token}"))]);
                Ok(match stated {
                    Some(l) => c.lifetime(l),
                    None => c,
                })
            }
        })
        .build()
        .unwrap();
    (c, calls)
}

fn recharge(number: &str) -> MobileRecharge {
    MobileRecharge::new(518, 10, number, "23.6784,76.8764").unwrap()
}

#[tokio::test]
async fn without_credentials_the_call_is_refused_and_nothing_is_recorded() {
    let sb = sandbox().await;
    let plain = Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .build()
        .unwrap();
    let e = plain
        .mobile_recharge(&recharge("9876543210"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.api_code()),
        (ErrorKind::Authentication, Some(5))
    );
    assert!(e.retry_safe());
    let s = sb.stats();
    assert_eq!(
        (s.unauthorized_requests, s.requests_to("mobile_recharge")),
        (1, 0)
    );
}

#[tokio::test]
async fn one_fetch_serves_many_concurrent_calls() {
    let sb = sandbox().await;
    let (c, calls) = client(
        &sb,
        Duration::from_secs(600),
        Some(Duration::from_secs(600)),
    );
    let first = c.mobile_recharge(&recharge("9876500000")).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..48u64 {
        let c = c.clone();
        let reference = first.reference_id.clone().unwrap();
        tasks.push(tokio::spawn(async move {
            match i % 3 {
                0 => c
                    .mobile_recharge(&recharge(&format!("98765{:05}", i)))
                    .await
                    .map(|_| ()),
                1 => c
                    .call(&DthInfoRequest::new("Jio", "62638787325776", "x").unwrap())
                    .await
                    .map(|_| ()),
                _ => c.recharge_status(&reference).await.map(|_| ()),
            }
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one fetch for every caller"
    );
    assert_eq!(sb.stats().unauthorized_requests, 0);
}

#[tokio::test]
async fn a_401_refreshes_once_and_resends_once_without_paying_twice() {
    let sb = sandbox().await;
    let (c, calls) = client(&sb, Duration::from_secs(600), None);
    c.mobile_recharge(&recharge("9876500001")).await.unwrap();
    sb.revoke_tokens(); // the key rotated: the cached token is now refused
    let r = c.mobile_recharge(&recharge("9876500002")).await.unwrap();
    assert_eq!(r.status.as_str(), "SUCCESS");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(sb.stats().unauthorized_requests, 1);
    assert_eq!(
        sb.recharges_for(9_876_500_002),
        1,
        "the refused send charged nothing; one resend"
    );

    // Many calls refused at once refresh once.
    sb.revoke_tokens();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let c = c.clone();
        let reference = r.reference_id.clone().unwrap();
        tasks.push(tokio::spawn(
            async move { c.recharge_status(&reference).await },
        ));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3, "16 refusals, one refresh");
    assert_eq!(sb.stats().unauthorized_requests, 1 + 16);
}

#[tokio::test]
async fn a_token_refused_twice_is_an_authentication_error_after_exactly_one_resend() {
    let sb = sandbox().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let c = Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .credentials(move || {
            seen.fetch_add(1, Ordering::SeqCst);
            async { Ok(Credentials::new([("Authorization", "Bearer forged")])) }
        })
        .build()
        .unwrap();
    let e = c
        .mobile_recharge(&recharge("9876500003"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert!(e.retry_safe());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let s = sb.stats();
    assert_eq!(
        (s.unauthorized_requests, s.requests_to("mobile_recharge")),
        (2, 0)
    );
    // A read is not retried past it either: a 401 is not transient.
    let e = c.recharge_status("AOP554R318820").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert_eq!(sb.stats().unauthorized_requests, 4);
}

#[tokio::test]
async fn a_stated_lifetime_is_refreshed_before_it_ends_with_no_401() {
    let sb = sandbox().await;
    let (c, calls) = client(
        &sb,
        Duration::from_millis(600),
        Some(Duration::from_millis(600)),
    );
    for _ in 0..4 {
        c.call(&DthInfoRequest::new("Jio", "62638787325776", "x").unwrap())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(350)).await;
    }
    assert!(calls.load(Ordering::SeqCst) >= 2, "refreshed");
    assert_eq!(
        sb.stats().unauthorized_requests,
        0,
        "never sent an expired token"
    );
}

#[tokio::test]
async fn a_failing_provider_sends_nothing_and_is_safe_to_retry() {
    let sb = sandbox().await;
    let c = Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .credentials(|| async { Err::<Credentials, _>("token service unreachable".to_owned()) })
        .build()
        .unwrap();
    let e = c
        .mobile_recharge(&recharge("9876500004"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
    assert!(
        e.retry_safe() && e.message().contains("token service unreachable"),
        "{e}"
    );
    let s = sb.stats();
    assert_eq!(
        s.unauthorized_requests + s.requests_to("mobile_recharge"),
        0,
        "nothing was sent"
    );
}
