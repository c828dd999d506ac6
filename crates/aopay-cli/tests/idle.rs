//! A server that closes keep-alive connections left idle (here after
//! 300 ms, alternately by FIN and by RST, with no warning header) never
//! makes the CLI write into a dead connection: `aopay recharge --wait`
//! polls the status after pauses of a second and more, each on a
//! connection the server has closed meanwhile.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aopay_reliability::{FaultProxy, IdleClose};
use aopay_sandbox::Sandbox;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_through_connections_closed_while_idle() {
    let sb = Sandbox::start().await.unwrap();
    let idle = IdleClose {
        min: Duration::from_millis(300),
        max: Duration::from_millis(300),
        step: Duration::ZERO,
    };
    let proxy = FaultProxy::start_with(sb.addr(), Arc::new(Mutex::new(HashMap::new())), Some(idle))
        .await
        .unwrap();
    let cases = [
        ("9000000002", 0, "\"SUCCESS\""),
        ("9000000003", 3, "\"FAILED\""),
    ];
    for (i, (number, code, status)) in cases.into_iter().enumerate() {
        let out = Command::new(env!("CARGO_BIN_EXE_aopay"))
            .env_remove("AOPAY_JOURNAL")
            .args(["recharge", "--json", "--registration-id", "AOP-554"])
            .args(["--base-url", &proxy.url, "--geocode", "23.6784,76.8764"])
            .args(["--product", "518", "--amount", "10", "--number", number])
            .args(["--wait", "--wait-timeout", "30"])
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{number}: {shown}");
        assert!(shown.contains(status), "{shown}");
        assert_eq!(sb.recharges_for(number.parse().unwrap()), 1);
        // Each status check came after an idle second: on a new connection.
        assert!(
            sb.stats().requests_to("recharge_status") >= 2 * (i as u64 + 1),
            "{:?}",
            sb.stats()
        );
    }
    drop(proxy);
    sb.stop().await;
}
