//! Transport security against the real HTTPS sandbox over loopback: its
//! throwaway CA is refused until the caller adds it, and a refused
//! handshake sends nothing.

use std::time::Duration;

use aopay_core::{Client, ClientBuilder, ErrorKind, MobileRecharge, Status};
use aopay_sandbox::Sandbox;

fn builder(url: &str) -> ClientBuilder {
    Client::builder()
        .registration_id("AOP-554")
        .base_url(url)
        .timeout(Duration::from_secs(10))
}

fn recharge() -> MobileRecharge {
    MobileRecharge::new(518, 10, "9876543210", "23.6784,76.8764").unwrap()
}

#[tokio::test]
async fn https_sandbox_is_refused_without_its_ca_and_nothing_is_sent() {
    let sb = Sandbox::start_tls().await.unwrap();
    assert!(sb.url().starts_with("https://127.0.0.1:"), "{}", sb.url());
    let client = builder(sb.url()).build().unwrap();
    let e = client.mobile_recharge(&recharge()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert!(e.retry_safe());
    assert!(e.to_string().contains("certificate"), "{e}");
    let e = client.recharge_status("AOP554R318820").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert_eq!(
        sb.stats().requests_to("mobile_recharge") + sb.stats().requests_to("recharge_status"),
        0
    );
    sb.stop().await;
}

#[tokio::test]
async fn https_sandbox_is_trusted_once_its_ca_is_added() {
    let sb = Sandbox::start_tls().await.unwrap();
    let ca = sb.ca_pem().expect("a TLS sandbox has a CA");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    let client = builder(sb.url()).root_certificates_pem(ca).build().unwrap();
    let r = client.mobile_recharge(&recharge()).await.unwrap();
    assert_eq!(r.status, Status::Success);
    let reference = r
        .reference_id
        .expect("a successful recharge has a reference");
    let again = client.recharge_status(&reference).await.unwrap();
    assert_eq!(again.reference_id.as_deref(), Some(reference.as_str()));
    // `localhost` is in the certificate too.
    let url = sb.url().replace("127.0.0.1", "localhost");
    let by_name = builder(&url).root_certificates_pem(ca).build().unwrap();
    by_name.recharge_status(&reference).await.unwrap();
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 1);
    assert_eq!(sb.stats().requests_to("recharge_status"), 2);
    sb.stop().await;
}

#[tokio::test]
async fn another_sandboxs_ca_does_not_help() {
    let sb = Sandbox::start_tls().await.unwrap();
    let other = Sandbox::start_tls().await.unwrap();
    let client = builder(sb.url())
        .root_certificates_pem(other.ca_pem().unwrap())
        .build()
        .unwrap();
    let e = client.mobile_recharge(&recharge()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 0);
}

#[tokio::test]
async fn plain_sandbox_has_no_ca() {
    let sb = Sandbox::start().await.unwrap();
    assert!(sb.ca_pem().is_none());
    assert!(sb.url().starts_with("http://"));
}

#[test]
fn bad_root_certificates_are_validation_errors() {
    let cases: [(&[u8], &str); 4] = [
        (b"", "at least one PEM CERTIFICATE"),
        (b"not pem at all", "at least one PEM CERTIFICATE"),
        (
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "not a usable CA certificate",
        ),
        (
            b"-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----\n",
            "not valid PEM",
        ),
    ];
    for (pem, rule) in cases {
        let e = builder("https://api.aopay.co.in")
            .root_certificates_pem(pem)
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
        assert_eq!(e.field(), Some("root_certificates"), "{e}");
        assert!(e.to_string().contains(rule), "{pem:?}: {e}");
    }
}

#[test]
fn plain_http_is_refused_for_remote_hosts_unless_allowed() {
    for url in [
        "http://api.aopay.co.in",
        "http://10.0.0.1:8080",
        "http://[2001:db8::1]",
    ] {
        let e = builder(url).build().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{url}");
        assert_eq!(e.field(), Some("base_url"));
        builder(url).allow_insecure_http(true).build().unwrap();
    }
    for url in [
        "http://127.0.0.1:1",
        "http://localhost:1",
        "http://[::1]:1",
        "http://127.8.9.10",
    ] {
        builder(url).build().unwrap();
    }
}
