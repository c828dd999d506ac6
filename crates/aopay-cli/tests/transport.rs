//! Transport security and proxies, end to end: the `aopay` binary, the
//! HTTPS sandbox with its throwaway CA, and a real forward proxy
//! (tinyproxy, from Debian's `tinyproxy-bin`; `scripts/test` installs it).
//! Without tinyproxy the proxy tests are skipped, unless
//! `AOPAY_TEST_TINYPROXY` names it (as `scripts/test` does).

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aopay_sandbox::Sandbox;
use common::SandboxProcess;

const PROXY_VARS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aopay-transport-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `aopay recharge` of a plain number against `url`, with exactly `env` as
/// the proxy environment.
fn recharge(url: &str, ca: Option<&Path>, env: &[(&str, String)]) -> Output {
    recharge_command(url, ca, env).output().unwrap()
}

fn recharge_command(url: &str, ca: Option<&Path>, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aopay"));
    cmd.args([
        "recharge",
        "--registration-id",
        "AOP-554",
        "--base-url",
        url,
    ])
    .args([
        "--product",
        "518",
        "--amount",
        "10",
        "--number",
        "9876543210",
    ])
    .args(["--geocode", "23.6784,76.8764", "--timeout", "10"]);
    if let Some(ca) = ca {
        cmd.arg("--root-certificates").arg(ca);
    }
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd.env_remove("AOPAY_ROOT_CERTIFICATES");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

struct Tinyproxy {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tinyproxy {
    /// Start tinyproxy on a free loopback port, or `None` to skip.
    fn start(name: &str) -> Option<Self> {
        // scripts/test sets AOPAY_TEST_TINYPROXY: then a missing proxy fails.
        let bin = match std::env::var_os("AOPAY_TEST_TINYPROXY") {
            Some(path) => PathBuf::from(path),
            None => match ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]
                .into_iter()
                .find(|p| Path::new(p).exists())
            {
                Some(p) => PathBuf::from(p),
                None => {
                    eprintln!(
                        "skipped: tinyproxy is not installed (apt-get install tinyproxy-bin)"
                    );
                    return None;
                }
            },
        };
        let dir = scratch(name);
        let log = dir.join("tinyproxy.log");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let conf = dir.join("tinyproxy.conf");
        std::fs::write(
            &conf,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{}\"\nLogLevel Connect\n\
                 MaxClients 50\nAllow 127.0.0.1\nDisableViaHeader Yes\n",
                log.display()
            ),
        )
        .unwrap();
        let child = Command::new(&bin)
            .arg("-d")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tinyproxy did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        })
    }

    /// Requests the proxy logged that name `needle`.
    fn requests(&self, needle: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("Request (") && l.contains(needle))
            .count()
    }
}

fn write_ca(sb: &Sandbox, name: &str) -> PathBuf {
    let path = scratch(name).join("ca.pem");
    std::fs::write(&path, sb.ca_pem().unwrap()).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_carries_https_calls_through_connect() {
    let Some(proxy) = Tinyproxy::start("https-proxy") else {
        return;
    };
    let sb = Sandbox::start_tls().await.unwrap();
    let ca = write_ca(&sb, "https-proxy-ca");
    let out = recharge(sb.url(), Some(&ca), &[("HTTPS_PROXY", proxy.url.clone())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let connect = format!("CONNECT {}", sb.addr());
    assert_eq!(
        proxy.requests(&connect),
        1,
        "{connect} not in the proxy's log"
    );
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 1);

    // Lower case, as curl and most tools also read it.
    let out = recharge(sb.url(), Some(&ca), &[("https_proxy", proxy.url.clone())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(proxy.requests(&connect), 2);
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_bypasses_the_proxy() {
    let Some(proxy) = Tinyproxy::start("no-proxy") else {
        return;
    };
    let sb = Sandbox::start_tls().await.unwrap();
    let ca = write_ca(&sb, "no-proxy-ca");
    // `*` is the regression case: reqwest alone still proxied IP hosts.
    for no_proxy in ["127.0.0.1", "localhost,127.0.0.0/8", "*", "example.com, *"] {
        let out = recharge(
            sb.url(),
            Some(&ca),
            &[
                ("HTTPS_PROXY", proxy.url.clone()),
                ("NO_PROXY", no_proxy.to_owned()),
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{no_proxy}: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(proxy.requests("CONNECT"), 0);
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_carries_plain_http_calls() {
    let Some(proxy) = Tinyproxy::start("http-proxy") else {
        return;
    };
    let sb = Sandbox::start().await.unwrap();
    let out = recharge(sb.url(), None, &[("HTTP_PROXY", proxy.url.clone())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let post = format!("POST {}/api/AOP/V2/MobileRecharge", sb.url());
    assert_eq!(proxy.requests(&post), 1, "{post} not in the proxy's log");
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_proxy_is_a_connect_error_and_sends_nothing() {
    let sb = Sandbox::start_tls().await.unwrap();
    let ca = write_ca(&sb, "dead-proxy-ca");
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = recharge(
        sb.url(),
        Some(&ca),
        &[("HTTPS_PROXY", format!("http://{dead}"))],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("connect error"), "{err}");
    assert!(err.contains("tunnel"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_sandbox_needs_its_ca_on_the_command_line() {
    let sb = Sandbox::start_tls().await.unwrap();
    let out = recharge(sb.url(), None, &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("certificate"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 0);

    let missing = scratch("missing-ca").join("nope.pem");
    let out = recharge(sb.url(), Some(&missing), &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("root_certificates"), "{err}");

    let ca = write_ca(&sb, "cli-ca");
    let out = recharge(sb.url(), Some(&ca), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(sb.stats().requests_to("mobile_recharge"), 1);
}

#[test]
fn sandbox_command_serves_https_and_writes_its_ca() {
    let dir = scratch("sandbox-tls");
    let ca = dir.join("ca.pem");
    let sb = SandboxProcess::start(&["--tls".as_ref(), "--ca-out".as_ref(), ca.as_os_str()]);
    let url = sb.url.clone();
    assert!(url.starts_with("https://"), "{url}");
    let out = Command::new(env!("CARGO_BIN_EXE_aopay"))
        .args(["status", "AOP554R318820", "--registration-id", "AOP-554"])
        .env("AOPAY_BASE_URL", &url)
        .env("AOPAY_ROOT_CERTIFICATES", &ca)
        .output()
        .unwrap();
    drop(sb);
    // The sandbox answered (an unknown reference is an API refusal, exit 1),
    // so TLS with the written CA worked.
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("certificate"), "{err}");
    assert!(
        err.to_lowercase().contains("reference") || err.contains("api"),
        "{err}"
    );
}

/// Everything the process can log (`-vv`: every crate at TRACE, reqwest's,
/// hyper's and rustls's records included) over TLS and through a proxy
/// with credentials: no header value, no proxy password, no full number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn most_verbose_logs_hold_no_secret() {
    const SECRET: &str = "tok-9b1e-SECRET";
    const PROXY_PASSWORD: &str = "proxy-pw-SECRET";
    let proxy = Tinyproxy::start("trace-secrets");
    let sb = Sandbox::start_tls().await.unwrap();
    let ca = write_ca(&sb, "trace-secrets-ca");
    let mut env = vec![("AOPAY_LOG", "trace".to_owned())];
    if let Some(p) = &proxy {
        let with_credentials = p
            .url
            .replace("http://", &format!("http://aopay:{PROXY_PASSWORD}@"));
        env.push(("HTTPS_PROXY", with_credentials));
    }
    let out = recharge_command(sb.url(), Some(&ca), &env)
        .arg("-vv")
        .arg("--header")
        .arg(format!("Authorization: Bearer {SECRET}"))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.lines().count() > 20,
        "expected a TRACE-level log:\n{err}"
    );
    assert!(err.contains("98XXXXXX10"), "the masked number is logged");
    if proxy.is_some() {
        assert!(
            err.contains("CONNECT") || err.contains("tunnel") || err.contains("proxy"),
            "{err}"
        );
    }
    for secret in [
        SECRET,
        PROXY_PASSWORD,
        "9876543210",
        "YW9wYXk6cHJveHktcHctU0VDUkVU",
    ] {
        assert!(!err.contains(secret), "{secret} leaked:\n{err}");
    }
    if std::env::var_os("AOPAY_SHOW_TRACE").is_some() {
        eprintln!("{err}");
    }
    let stdout = text(&out.stdout);
    assert!(!stdout.contains(SECRET) && !stdout.contains(PROXY_PASSWORD));
}

/// A machine without CA certificates (a slim container): plain HTTP to a
/// sandbox still works, HTTPS says why it cannot, and a given root is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_system_roots_http_works_and_https_needs_a_root() {
    let no_roots = [
        (
            "SSL_CERT_FILE",
            "/nonexistent/aopay-no-roots.pem".to_owned(),
        ),
        ("SSL_CERT_DIR", "/nonexistent/aopay-no-roots".to_owned()),
    ];
    let plain = Sandbox::start().await.unwrap();
    let out = recharge(plain.url(), None, &no_roots);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let tls = Sandbox::start_tls().await.unwrap();
    let out = recharge(tls.url(), None, &no_roots);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no trusted CA certificates"), "{err}");
    assert!(err.contains("ca-certificates"), "{err}");
    assert_eq!(tls.stats().requests_to("mobile_recharge"), 0);

    let ca = write_ca(&tls, "no-roots-ca");
    let out = recharge(tls.url(), Some(&ca), &no_roots);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(tls.stats().requests_to("mobile_recharge"), 1);
}
