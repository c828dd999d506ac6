//! `--jwt-*`: every request signed with a fresh JWT, against `aopay sandbox
//! --require-jwt-…` in its own process (HS256 and RS256): a recharge and
//! a batch pass; a wrong key is an AuthenticationError (exit 1) with
//! nothing recorded; the secret and the tokens never show, even at -vv.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::SandboxProcess;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/jwt")
        .join(name)
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aopay-cli-jwt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn aopay(args: &[&str], url: &str, signer: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aopay"))
        .args(args)
        .args(["--base-url", url, "--registration-id", "AOP-554"])
        .args(signer)
        .env_remove("AOPAY_LOG")
        .env_remove("AOPAY_JWT_SECRET")
        .env_remove("AOPAY_JOURNAL")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

const RECHARGE: [&str; 10] = [
    "recharge-v1",
    "--operator",
    "11",
    "--number",
    "9876543210",
    "--amount",
    "10",
    "--json",
    "-vv",
    "--reference-id",
];

#[test]
fn hs256_and_rs256_sign_every_command_and_a_wrong_key_is_refused() {
    let dir = tempdir("keys");
    let secret = dir.join("secret");
    std::fs::write(&secret, "partner-secret\n").unwrap();
    let wrong = dir.join("wrong");
    std::fs::write(&wrong, "not-the-secret").unwrap();
    let (private, other, public) = (
        testdata("rs256-private.pem"),
        testdata("rs256-other-private.pem"),
        testdata("rs256-public.pem"),
    );
    let cases = [
        (
            "--require-jwt-secret-file",
            &secret,
            "--jwt-secret-file",
            &secret,
            &wrong,
        ),
        (
            "--require-jwt-public-key-file",
            &public,
            "--jwt-private-key-file",
            &private,
            &other,
        ),
    ];
    for (n, (require, key, flag, good, bad)) in cases.into_iter().enumerate() {
        let sb = SandboxProcess::start(&[require.as_ref(), key.as_os_str()]);
        let reference = format!("jwt-{n}-ok");
        let mut args = RECHARGE.to_vec();
        args.push(&reference);
        let signer = ["--jwt-partner-id", "PS001", flag, good.to_str().unwrap()];
        let o = aopay(&args, &sb.url, &signer);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(json(&o)["status"], "SUCCESS");
        // Neither the secret nor a token shows, even at -vv.
        let all = text(&o);
        assert!(
            !all.contains("partner-secret") && !all.contains("eyJ"),
            "{all}"
        );
        // Its status call is signed too.
        let st = aopay(
            &["recharge-v1-status", "--reference-id", &reference, "--json"],
            &sb.url,
            &signer,
        );
        assert_eq!(json(&st)["status"], "SUCCESS", "{}", text(&st));
        // The wrong key: refused (after one resend), nothing recorded.
        let refused = format!("jwt-{n}-refused");
        let mut args = RECHARGE.to_vec();
        args.push(&refused);
        let o = aopay(
            &args,
            &sb.url,
            &["--jwt-partner-id", "PS001", flag, bad.to_str().unwrap()],
        );
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let e = &json(&o)["error"];
        assert_eq!(
            (
                e["name"].as_str(),
                e["http_status"].as_u64(),
                e["api_code"].as_i64()
            ),
            (Some("AuthenticationError"), Some(412), Some(10)),
            "{e}"
        );
        let st = aopay(
            &["recharge-v1-status", "--reference-id", &refused, "--json"],
            &sb.url,
            &signer,
        );
        assert_eq!(st.status.code(), Some(4), "nothing recorded: {}", text(&st));
        // Unsigned: the gateway's 401.
        let o = aopay(
            &["recharge-v1-status", "--reference-id", &reference, "--json"],
            &sb.url,
            &[],
        );
        assert_eq!(json(&o)["error"]["http_status"], 401, "{}", text(&o));
    }
}

#[test]
fn a_batch_under_the_signer_is_refused_nothing_and_settings_are_checked_first() {
    let dir = tempdir("batch");
    let secret = dir.join("secret");
    std::fs::write(&secret, "partner-secret").unwrap();
    let sb = SandboxProcess::start(&["--require-jwt-secret-file".as_ref(), secret.as_os_str()]);
    let orders = dir.join("orders.csv");
    let mut csv = String::from("order_id,kind,operator,number,amount\n");
    for i in 0..40 {
        csv += &format!("b-{i},do_recharge,11,96{i:08},10\n");
    }
    std::fs::write(&orders, csv).unwrap();
    let journal = dir.join("j.db");
    let o = Command::new(env!("CARGO_BIN_EXE_aopay"))
        .args([
            "batch",
            "run",
            "--create-journal",
            orders.to_str().unwrap(),
            "--json",
        ])
        .args(["--journal", journal.to_str().unwrap()])
        .args(["--base-url", &sb.url, "--registration-id", "AOP-554"])
        .args(["--jwt-partner-id", "PS001"])
        .env("AOPAY_JWT_SECRET", "partner-secret")
        .env_remove("AOPAY_LOG")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)["by_status"]["SUCCESS"], 40);
    // Settings that cannot sign: refused before anything is sent (exit 2).
    for (signer, field) in [
        (
            vec!["--jwt-secret-file", secret.to_str().unwrap()],
            "jwt_partner_id",
        ),
        (vec!["--jwt-partner-id", "PS001"], "secret"),
        (
            vec![
                "--jwt-partner-id",
                "PS001",
                "--jwt-private-key-file",
                secret.to_str().unwrap(),
            ],
            "private_key",
        ),
        (
            vec![
                "--jwt-partner-id",
                "PS001",
                "--jwt-secret-file",
                "/nonexistent/secret",
            ],
            "jwt_secret_file",
        ),
    ] {
        let o = aopay(
            &["recharge-v1-status", "--reference-id", "x", "--json"],
            &sb.url,
            &signer,
        );
        assert_eq!(o.status.code(), Some(2), "{signer:?}: {}", text(&o));
        assert_eq!(json(&o)["error"]["field"], field, "{signer:?}");
    }
    // A sandbox key it cannot use is an invalid option.
    let o = Command::new(env!("CARGO_BIN_EXE_aopay"))
        .args(["sandbox", "--port", "0", "--require-jwt-public-key-file"])
        .arg(&secret)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
