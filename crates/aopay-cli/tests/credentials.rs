//! `--credentials-command`: a command printing the headers as JSON, against
//! a sandbox that requires bearer tokens. Its output (a token) is never
//! printed, even at -vv; a failing or malformed command sends nothing; a 401
//! runs it once more and resends once.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use aopay_sandbox::{Sandbox, SandboxConfig};

fn aopay(url: &str, command: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aopay"))
        .args([
            "recharge",
            "--product",
            "518",
            "--amount",
            "10",
            "--geocode",
            "1,1",
        ])
        .args(["--base-url", url, "--registration-id", "AOP-554"])
        .args(["--credentials-command", command])
        .args(extra)
        .env_remove("AOPAY_LOG")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A command that counts its runs in `dir/runs` and prints `dir/out`.
fn script(dir: &Path, output: &str) -> String {
    std::fs::write(dir.join("out"), output).unwrap();
    format!("echo run >> '{0}/runs'; cat '{0}/out'", dir.display())
}

fn runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("runs")).map_or(0, |s| s.lines().count())
}

#[test]
fn the_command_signs_calls_and_its_output_never_shows() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let config = SandboxConfig::default().require_tokens(true);
    let sb = rt
        .block_on(Sandbox::start_with(
            config,
            SocketAddr::from(([127, 0, 0, 1], 0)),
        ))
        .unwrap();
    let dir = tempdir();

    let token = sb.issue_token(Duration::from_secs(600));
    let good = format!(r#"{{"headers": {{"Authorization": "Bearer {token}"}}, "lifetime": 600}}"#);
    let out = aopay(
        sb.url(),
        &script(&dir, &good),
        &["--number", "9876500001", "-vv"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(runs(&dir), 1);
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(!all.contains(&token), "the token was printed");

    // Revoked: refused, the command runs once more, the call is resent once.
    sb.revoke_tokens();
    let out = aopay(
        sb.url(),
        &script(&dir, &good),
        &["--number", "9876500002", "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("AOPAY_AUTHENTICATION"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(runs(&dir), 1 + 2);
    assert_eq!(sb.stats().unauthorized_requests, 2);
    assert_eq!(sb.recharges_for(9_876_500_002), 0);

    let before = sb.stats();
    for (output, said) in [
        (None, "credentials command failed"),
        (Some("not json"), "must print"),
        (Some(r#"{"headers": {"Authorization": 7}}"#), "must print"),
        (Some(r#"{"headers": {}, "lifetime": -1}"#), "lifetime"),
        (
            Some(r#"{"headers": {"Authorization": "Bearer s3cr3t\u00e9"}}"#),
            "visible ASCII",
        ),
    ] {
        let command = output.map_or_else(|| "exit 3".to_owned(), |o| script(&dir, o));
        let out = aopay(sb.url(), &command, &["--number", "9876500003"]);
        assert_ne!(out.status.code(), Some(0));
        let err = text(&out.stderr);
        assert!(err.contains(said), "{command}: {err}");
        assert!(!err.contains("s3cr3t") && !err.contains("do NOT"), "{err}");
    }
    let out = aopay(sb.url(), " ", &["--number", "9876500003"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(sb.stats(), before, "nothing was sent");
    rt.block_on(sb.stop());
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("aopay-cli-creds-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
