//! The Rust quick start against the embedded sandbox:
//! `cargo run -p aopay-core --example quickstart --features sqlite`.

use std::time::Duration;

use aopay_core::{Client, Journal, MobileRecharge, WaitOptions};
use aopay_sandbox::Sandbox;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    let journal_path =
        std::env::temp_dir().join(format!("aopay-quickstart-{}.db", std::process::id()));
    let client = Client::builder()
        .registration_id("AOP-554")
        .base_url(sandbox.url())
        .timeout(Duration::from_secs(30))
        .journal(Journal::sqlite(&journal_path)?)
        .build()?;

    // A plain recharge.
    let req = MobileRecharge::new(518, 10, "9876543210", "23.6784,76.8764")?;
    let r = client.mobile_recharge(&req).await?;
    println!("{} {:?}", r.status, r.reference_id);

    // A pending one, resolved by waiting.
    let req = MobileRecharge::new(518, 10, "9000000002", "23.6784,76.8764")?;
    let r = client.mobile_recharge(&req).await?;
    if let (false, Some(reference)) = (r.is_final(), r.reference_id.as_deref()) {
        let r = client
            .wait_for_final(reference, WaitOptions::default())
            .await?;
        println!("after waiting: {}", r.status);
    }

    // An outcome-unknown one: never resubmit blindly.
    let req = MobileRecharge::new(518, 10, "9000000006", "23.6784,76.8764")?;
    if let Err(e) = client.mobile_recharge(&req).await {
        println!("{} (retry_safe: {})", e.code(), e.retry_safe());
    }

    // An idempotent one: the second call returns the first outcome, unsent.
    let req = MobileRecharge::new(518, 10, "9876543210", "23.6784,76.8764")?
        .with_idempotency_key("order-123")?;
    let first = client.mobile_recharge(&req).await?;
    let again = client.mobile_recharge(&req).await?;
    assert_eq!(first, again);
    println!(
        "order-123 sent {} time(s)",
        sandbox.recharges_for(9_876_543_210) - 1
    );

    sandbox.stop().await;
    let _ = std::fs::remove_file(journal_path);
    Ok(())
}
