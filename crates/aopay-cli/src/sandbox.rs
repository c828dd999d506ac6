//! `aopay sandbox`: the AOPay-compatible server, until Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;

use aopay_sandbox::{
    MAGIC_BILL_ACCOUNTS, MAGIC_DTH_ACCOUNTS, MAGIC_NUMBERS, MAGIC_PLAN_OPERATORS, MAGIC_VEHICLES,
    Sandbox, SandboxConfig,
};

use crate::{Failure, exit, other};

pub(crate) async fn serve_sandbox(
    addr: SocketAddr,
    config: SandboxConfig,
    tls: bool,
    ca_out: Option<std::path::PathBuf>,
) -> Result<u8, Failure> {
    let jwt = config.require_jwt.as_ref().map(|k| {
        format!("{k:?}")
            .split('(')
            .next()
            .unwrap_or_default()
            .to_owned()
    });
    let jwt_header = config.jwt_header.clone();
    let sb = if tls {
        Sandbox::start_tls_with(config, addr).await
    } else {
        Sandbox::start_with(config, addr).await
    }
    .map_err(|e| match e.kind() {
        // A key the sandbox cannot use: an invalid option, nothing served.
        std::io::ErrorKind::InvalidInput => {
            Failure::Sdk(aopay_core::ValidationError::new("require_jwt", e.to_string()).into())
        }
        _ => other(format!("cannot listen on {addr}: {e}")),
    })?;
    if let (Some(path), Some(pem)) = (&ca_out, sb.ca_pem()) {
        std::fs::write(path, pem)
            .map_err(|e| other(format!("cannot write {}: {e}", path.display())))?;
    }
    // A closed stdout (a parent that read only the URL) must not stop the server.
    let mut banner = format!("aopay sandbox listening on {}\n", sb.url());
    banner.push_str(&format!(
        "  export AOPAY_BASE_URL={} AOPAY_REGISTRATION_ID=AOP-554\n",
        sb.url()
    ));
    if let Some(path) = &ca_out {
        banner.push_str(&format!(
            "  export AOPAY_ROOT_CERTIFICATES={}\n",
            path.display()
        ));
    }
    if let Some(alg) = jwt {
        banner.push_str(&format!(
            "  every call needs a JWT ({alg}) in the {jwt_header} header: timestamp within 5 minutes, partnerId, a fresh reqid\n"
        ));
    }
    banner.push_str("magic customer numbers (any other number succeeds):\n");
    for (number, _, what) in MAGIC_NUMBERS {
        banner.push_str(&format!("  {number}  {what}\n"));
    }
    banner.push_str("magic DTH account numbers (any other account is found):\n");
    for (number, _, what) in MAGIC_DTH_ACCOUNTS {
        banner.push_str(&format!("  {number}  {what}\n"));
    }
    banner.push_str("other magic inputs:\n");
    for (input, what) in MAGIC_PLAN_OPERATORS
        .iter()
        .chain(MAGIC_BILL_ACCOUNTS)
        .chain(MAGIC_VEHICLES)
    {
        banner.push_str(&format!("  {input}  {what}\n"));
    }
    banner.push_str("Ctrl-C to stop\n");
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    let _ = tokio::signal::ctrl_c().await;
    let stats = sb.stats();
    sb.stop().await;
    err!(
        "stopped: {} requests received, {} refused for the rate limit",
        stats.requests.values().sum::<u64>(),
        stats.rate_limited_requests
    );
    Ok(exit::SUCCESS)
}
