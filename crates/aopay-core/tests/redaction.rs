//! Secrets never reach Debug output, error messages or trace events (at the
//! most verbose level); customer numbers appear only masked.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::Capture;

use aopay_core::{Client, Credentials, MobileRecharge};
use aopay_sandbox::{Sandbox, SandboxConfig};

#[test]
fn secrets_stay_out_of_debug_errors_and_traces() {
    const SECRET: &str = "tok-7f3a9c-SECRET";
    let capture = Capture::default();
    let sink = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sb = Sandbox::start().await.unwrap();
        let c = Client::builder()
            .registration_id("AOP-554")
            .base_url(sb.url())
            .header("Authorization", format!("Bearer {SECRET}"))
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let mut shown = format!("{c:?}");
        for number in ["9876543210", "9000000004", "9000000008", "9000000009"] {
            let req = MobileRecharge::new(518, 10, number, "23.6784,76.8764").unwrap();
            shown.push_str(&format!("{req:?}"));
            match c.mobile_recharge(&req).await {
                Ok(r) => shown.push_str(&format!("{r:?}")),
                Err(e) => shown.push_str(&format!("{e} {e:?}")),
            }
        }
        let traces = capture.text();
        assert!(
            traces.contains("98XXXXXX10"),
            "calls are traced with masked numbers: {traces}"
        );
        for text in [&shown, &traces] {
            assert!(!text.contains(SECRET), "secret leaked: {text}");
            assert!(!text.contains("9876543210"), "unmasked number: {text}");
        }
        assert!(shown.contains("Authorization"), "header names stay visible");

        // Tokens from a credentials provider, through a fetch, a 401 (the
        // sandbox revoked them), a refresh and a resend: never shown either.
        let config = SandboxConfig::default().require_tokens(true);
        let sb = Arc::new(
            Sandbox::start_with(config, SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .unwrap(),
        );
        let issuer = Arc::clone(&sb);
        let c = Client::builder()
            .registration_id("AOP-554")
            .base_url(sb.url())
            .credentials(move || {
                let token = issuer.issue_token(Duration::from_secs(600));
                async move {
                    Ok(
                        Credentials::new([("Authorization", format!("Bearer {token}"))])
                            .lifetime(Duration::from_secs(600)),
                    )
                }
            })
            .build()
            .unwrap();
        let mut shown = format!("{c:?}");
        for (i, number) in ["9876500005", "9000000004", "9876500006"]
            .into_iter()
            .enumerate()
        {
            if i == 2 {
                sb.revoke_tokens();
            }
            let req = MobileRecharge::new(518, 10, number, "23.6784,76.8764").unwrap();
            match c.mobile_recharge(&req).await {
                Ok(r) => shown.push_str(&format!("{r:?}")),
                Err(e) => shown.push_str(&format!("{e} {e:?} {:?}", e.to_json_value())),
            }
        }
        assert_eq!(
            sb.stats().unauthorized_requests,
            1,
            "the revoked token was refused once"
        );
        let traces = capture.text();
        assert!(traces.contains("credentials fetched"), "{traces}");
        assert!(traces.contains("resending once"), "{traces}");
        // The sandbox's tokens all start with "sbx.".
        for text in [&shown, &traces] {
            assert!(!text.contains("sbx."), "a token leaked: {text}");
        }
    });
}
