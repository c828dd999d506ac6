//! The magic numbers of the shared contract data (`testdata/contract.json`,
//! also read by the Python and Node suites): each one's outcome through the
//! core client, and the file in step with the sandbox's own list.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use aopay_core::{Client, MobileRecharge};
use aopay_sandbox::{MAGIC_NUMBERS, Sandbox, SandboxConfig};
use serde_json::Value;

fn contract() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/contract.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("testdata/contract.json")).unwrap()
}

#[test]
fn the_contract_lists_every_magic_number_of_the_sandbox() {
    let c = contract();
    let listed: BTreeSet<u64> = c["magic_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_u64().unwrap())
        .collect();
    let mut served: BTreeSet<u64> = MAGIC_NUMBERS.iter().map(|(n, _, _)| *n).collect();
    served.insert(9_876_543_210); // any other number: SUCCESS
    assert_eq!(listed, served);
}

#[tokio::test]
async fn every_magic_number_ends_as_the_contract_says() {
    let config = SandboxConfig::default().slow_delay(Duration::from_secs(3));
    let sb = Sandbox::start_with(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    // Below the slow number's delay, so that it times out.
    let client = Client::builder()
        .registration_id("AOP-554")
        .base_url(sb.url())
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    for row in contract()["magic_numbers"].as_array().unwrap() {
        let number = row["number"].as_u64().unwrap();
        let req = MobileRecharge::new(518, 10, &number.to_string(), "23.6784,76.8764").unwrap();
        let result = client.mobile_recharge(&req).await;
        let (outcome, http_status, retry_safe) = match &result {
            Ok(r) => (r.status.as_str().to_owned(), Some(r.meta.http_status), None),
            Err(e) => (
                e.kind().class_name().to_owned(),
                e.http_status(),
                Some(e.retry_safe()),
            ),
        };
        assert_eq!(outcome, row["outcome"], "{number}: {result:?}");
        assert_eq!(
            http_status.map(u64::from),
            row["http_status"].as_u64(),
            "{number}"
        );
        assert_eq!(retry_safe, row["retry_safe"].as_bool(), "{number}");
        assert_eq!(sb.recharges_for(number), 1, "{number}: sent once");
    }
    sb.stop().await;
}
