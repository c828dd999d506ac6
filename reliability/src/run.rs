//! One fault run's plan and its checks, shared by the Rust run (`faults`)
//! and the bindings' runs (`fault_harness`): the same faults for the same
//! seed, and one set of rules for every language.

use std::collections::BTreeMap;
use std::time::Duration;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aopay_sandbox::Sandbox;

use crate::{Fault, FaultProxy, IdleClose};

/// The whole-call timeout every client of a fault run uses.
pub const TIMEOUT: Duration = Duration::from_millis(1500);

/// Slack on top of [`TIMEOUT`] before a call counts as hung.
pub const SLACK: Duration = Duration::from_secs(1);

/// The errors a recharge may end in under transport faults, with the
/// `retry_safe` docs/protocol.md §2 gives each. Input, journal and
/// idempotency errors cannot happen here, so they count as violations.
const DOCUMENTED_ERRORS: [(&str, bool); 7] = [
    ("ConnectError", true),
    ("AuthenticationError", true),
    ("RateLimitError", true),
    ("ApiError", true),
    ("OutcomeUnknownError", false),
    ("ServerError", true),
    ("ProtocolError", true),
];

/// xorshift64*: a reproducible stream from the seed.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn pick(rng: &mut Rng) -> Option<Fault> {
    // `None`: connect to a port where nothing listens (a refused connection).
    Some(match rng.next() % 11 {
        0 => return None,
        1 => Fault::Pass,
        2 => Fault::ResetAfterRequestBytes((rng.next() % 60) as usize),
        3 => Fault::ResetAfterRequestBytes(60 + (rng.next() % 200) as usize),
        4 => Fault::ResetAfterResponseBytes((rng.next() % 300) as usize),
        5 => Fault::Stall,
        6 => Fault::Drip(1 + rng.next() % 8),
        7 => Fault::CloseMidBody,
        8 => Fault::Status([500, 502, 503, 504][(rng.next() % 4) as usize]),
        9 => Fault::Status([400, 401, 403, 404, 409, 429][(rng.next() % 6) as usize]),
        _ => Fault::Status([301, 302, 204][(rng.next() % 3) as usize]),
    })
}

/// `n` calls, one customer number each, `first` upwards, with their faults.
pub fn plan(n: u64, seed: u64, first: u64) -> Vec<(u64, Option<Fault>)> {
    // Spread the seed: neighbouring seeds must not share a stream.
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    (0..n).map(|i| (first + i, pick(&mut rng))).collect()
}

/// What stands between the clients and the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The fault proxy, one planned fault per call.
    Faults,
    /// The fault proxy passing every exchange, closing connections left
    /// idle after 50–500 ms (by FIN and by RST).
    IdleClose,
    /// A real nginx with `keepalive_timeout 1s`, passing every exchange.
    Nginx,
}

impl Scenario {
    /// `faults`, `idle` or `nginx`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "faults" => Some(Self::Faults),
            "idle" => Some(Self::IdleClose),
            "nginx" => Some(Self::Nginx),
            _ => None,
        }
    }

    /// For reports.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Faults => "through the fault proxy",
            Self::IdleClose => {
                "through a proxy that closes idle connections after 50-500 ms (FIN and RST)"
            }
            Self::Nginx => "through nginx with keepalive_timeout 1s",
        }
    }

    /// The pauses between one client's calls in the idle scenarios, in ms:
    /// on both sides of the servers' idle timeouts (50–500 ms for the
    /// proxy, 1 s for nginx), but never within 25 ms of one. The closes
    /// fall on multiples of 50 ms and the pauses half-way between, so no
    /// call races a close on the wire: that race (a close crossing the
    /// request) is the one no client can win, and would make the run flaky.
    pub fn pauses_ms() -> Vec<u64> {
        (1..30).map(|k| 50 * k + 25).collect()
    }

    /// One pause drawn from [`Self::pauses_ms`].
    pub fn pause() -> Duration {
        let pauses = Self::pauses_ms();
        let i = (crate::fraction() * pauses.len() as f64) as usize;
        Duration::from_millis(pauses[i.min(pauses.len() - 1)])
    }
}

/// A run's sandbox, its planned calls, the fault proxy in front of the
/// sandbox, and a URL where connections are refused.
#[derive(Debug)]
pub struct Setup {
    /// The sandbox behind the proxy.
    pub sandbox: Sandbox,
    /// Every call: its customer number and fault (`None`: refused connection).
    pub calls: Vec<(u64, Option<Fault>)>,
    /// The proxy that applies the faults.
    pub proxy: FaultProxy,
    /// Where clients send calls: the proxy, or nginx.
    pub url: String,
    /// `http://127.0.0.1:PORT` where nothing listens.
    pub refused: String,
    /// What stands in front of the sandbox.
    pub scenario: Scenario,
    /// The nginx in front of the sandbox (stopped when dropped).
    pub nginx: Option<crate::nginx::Nginx>,
}

impl Setup {
    /// Print `report`, stop the servers, and exit: non-zero on a violation.
    pub async fn finish(self, report: &Report) -> ! {
        print!("{}", report.text);
        drop((self.proxy, self.nginx));
        self.sandbox.stop().await;
        std::process::exit(i32::from(!report.violations.is_empty()));
    }
}

/// Start a sandbox and a fault proxy for `n` calls planned from `seed`.
pub async fn setup(n: u64, seed: u64, first: u64) -> Setup {
    setup_scenario(n, seed, first, Scenario::Faults).await
}

/// Start a sandbox and what `scenario` puts in front of it, for `n` calls.
pub async fn setup_scenario(n: u64, seed: u64, first: u64, scenario: Scenario) -> Setup {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let calls = match scenario {
        Scenario::Faults => plan(n, seed, first),
        Scenario::IdleClose | Scenario::Nginx => {
            (0..n).map(|i| (first + i, Some(Fault::Pass))).collect()
        }
    };
    let faults = calls
        .iter()
        .filter_map(|(number, f)| f.map(|f| (*number, f)))
        .collect::<HashMap<_, _>>();
    let idle = (scenario == Scenario::IdleClose).then_some(IdleClose {
        min: Duration::from_millis(50),
        max: Duration::from_millis(500),
        step: Duration::from_millis(50),
    });
    let proxy = FaultProxy::start_with(sandbox.addr(), Arc::new(Mutex::new(faults)), idle)
        .await
        .expect("proxy");
    let nginx = (scenario == Scenario::Nginx)
        .then(|| crate::nginx::Nginx::start(sandbox.addr(), 1).expect("nginx"));
    let url = nginx
        .as_ref()
        .map_or_else(|| proxy.url.clone(), |n| n.url.clone());
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    Setup {
        sandbox,
        calls,
        proxy,
        url,
        refused,
        scenario,
        nginx,
    }
}

/// How one call ended, in any language.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The call's customer number.
    pub number: u64,
    /// `Recharge SUCCESS` and the like, or the error's class name.
    pub outcome: String,
    /// For an error: whether it said resubmitting is safe.
    pub retry_safe: Option<bool>,
    /// From the call to its end.
    pub elapsed: Duration,
}

/// An answer, as a run's outcome names it (`Recharge SUCCESS`).
pub trait Answered {
    /// The type and its status.
    fn describe(&self) -> String;
}

impl Answered for aopay_core::Payment {
    fn describe(&self) -> String {
        // One outcome type; the surfaces still name a V2 recharge's
        // `Recharge`.
        let name = match self.status_call {
            "recharge_status" => "Recharge",
            _ => "Payment",
        };
        format!("{name} {}", self.status)
    }
}

impl Outcome {
    /// How a Rust call ended: a recharge or a referenced write.
    pub fn of<A: Answered>(
        number: u64,
        result: &Result<A, aopay_core::Error>,
        elapsed: Duration,
    ) -> Self {
        let (outcome, retry_safe) = match result {
            Ok(a) => (a.describe(), None),
            Err(e) => (e.kind().class_name().to_owned(), Some(e.retry_safe())),
        };
        Self {
            number,
            outcome,
            retry_safe,
            elapsed,
        }
    }
}

/// What a run found.
#[derive(Debug)]
pub struct Report {
    /// Printable: the fault × outcome matrix and every violation.
    pub text: String,
    /// Broken guarantees (empty when the run passed).
    pub violations: Vec<String>,
}

impl Report {
    /// A violation found outside `check` (listed and printed).
    pub fn violation(&mut self, v: String) {
        self.text.push_str(&format!("VIOLATION {v}\n"));
        self.violations.push(v);
    }
}

/// Check every outcome against what the sandbox received, and tabulate.
pub fn check(
    label: &str,
    plan: &[(u64, Option<Fault>)],
    outcomes: &[Outcome],
    sandbox: &Sandbox,
    concurrency: usize,
) -> Report {
    check_scenario(
        label,
        plan,
        outcomes,
        sandbox,
        concurrency,
        Scenario::Faults,
    )
}

/// [`check`], for `scenario`: in the idle scenarios nothing is broken on
/// the way, so every call must end in a Recharge (a connection the server
/// closed while idle must never be written to, nor reported as unknown).
pub fn check_scenario(
    label: &str,
    plan: &[(u64, Option<Fault>)],
    outcomes: &[Outcome],
    sandbox: &Sandbox,
    concurrency: usize,
    scenario: Scenario,
) -> Report {
    let received = |n: u64| sandbox.recharges_for(n);
    let total = sandbox.stats().requests_to("mobile_recharge");
    check_received(
        label,
        plan,
        outcomes,
        &received,
        total,
        concurrency,
        scenario,
    )
}

/// [`check`] for referenced writes: what the sandbox received is counted
/// by `canumber` (the call's number).
pub fn check_payments(
    label: &str,
    plan: &[(u64, Option<Fault>)],
    outcomes: &[Outcome],
    sandbox: &Sandbox,
    concurrency: usize,
) -> Report {
    let received = |n: u64| sandbox.payments_for(&n.to_string());
    let s = sandbox.stats();
    let total =
        s.requests_to("do_recharge") + s.requests_to("pay_bill") + s.requests_to("fastag_recharge");
    check_received(
        label,
        plan,
        outcomes,
        &received,
        total,
        concurrency,
        Scenario::Faults,
    )
}

fn check_received(
    label: &str,
    plan: &[(u64, Option<Fault>)],
    outcomes: &[Outcome],
    received_for: &dyn Fn(u64) -> u64,
    total_received: u64,
    concurrency: usize,
    scenario: Scenario,
) -> Report {
    let faults: std::collections::HashMap<u64, Option<Fault>> = plan.iter().copied().collect();
    let mut matrix: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut violations = Vec::new();
    // Unknown outcomes for recharges that never reached the sandbox: not a
    // violation (the client cannot tell a request cut on the way from an
    // answer lost on the way back), but reported, since they cost a
    // reconciliation.
    let mut unknown_unreceived: BTreeMap<String, u64> = BTreeMap::new();
    if outcomes.len() != plan.len() {
        violations.push(format!(
            "{} outcomes reported for {} calls",
            outcomes.len(),
            plan.len()
        ));
    }
    for o in outcomes {
        let Some(fault) = faults.get(&o.number).copied() else {
            violations.push(format!("{}: not a planned number", o.number));
            continue;
        };
        let received = received_for(o.number);
        let answered = o.outcome.starts_with("Recharge ") || o.outcome.starts_with("Payment ");
        let fault_name = fault.map_or_else(|| "refused connection".to_owned(), Fault::name);
        let fault_key = if fault_name.starts_with("status") {
            fault_name.clone()
        } else if fault_name.starts_with("reset") {
            let side = if fault_name.contains("request") {
                "request"
            } else {
                "answer"
            };
            format!("reset during the {side}")
        } else {
            fault_name.split(" after ").next().unwrap_or("").to_owned()
        };
        *matrix
            .entry(fault_key.clone())
            .or_default()
            .entry(o.outcome.clone())
            .or_default() += 1;
        let number = o.number;
        if o.elapsed > TIMEOUT + SLACK {
            violations.push(format!("{number} ({fault_name}): took {:?}", o.elapsed));
        }
        if received > 1 {
            violations.push(format!(
                "{number} ({fault_name}): received {received} times"
            ));
        }
        let documented = if answered {
            o.retry_safe.is_none()
        } else {
            DOCUMENTED_ERRORS
                .iter()
                .any(|(class, safe)| *class == o.outcome && o.retry_safe == Some(*safe))
        };
        if !documented {
            violations.push(format!(
                "{number} ({fault_name}): not a documented outcome: {} (retry_safe {:?})",
                o.outcome, o.retry_safe
            ));
        }
        if scenario != Scenario::Faults && !answered {
            violations.push(format!(
                "{number} ({}): failed with {}",
                scenario.describe(),
                o.outcome
            ));
        }
        if o.retry_safe == Some(false) && received == 0 {
            *unknown_unreceived.entry(fault_key.clone()).or_default() += 1;
        }
        match o.retry_safe {
            None if received != 1 => violations.push(format!(
                "{number} ({fault_name}): {} but received {received}",
                o.outcome
            )),
            Some(true) if received != 0 => violations.push(format!(
                "{number} ({fault_name}): {} says retry-safe but the sandbox received it",
                o.outcome
            )),
            _ => {}
        }
    }
    let mut text = format!(
        "{label}: {} calls {}, {concurrency} in flight, timeout {TIMEOUT:?}\n\n",
        plan.len(),
        scenario.describe()
    );
    text.push_str("| fault | outcomes |\n|---|---|\n");
    for (fault, counts) in &matrix {
        let cells: Vec<String> = counts.iter().map(|(o, c)| format!("{o}: {c}")).collect();
        text.push_str(&format!("| {fault} | {} |\n", cells.join(", ")));
    }
    let slowest = outcomes.iter().map(|o| o.elapsed).max().unwrap_or_default();
    text.push_str(&format!(
        "\nsandbox received {} writes for {} calls; slowest call {slowest:?}; violations: {}\n",
        total_received,
        plan.len(),
        violations.len()
    ));
    let cells: Vec<String> = unknown_unreceived
        .iter()
        .map(|(f, c)| format!("{f}: {c}"))
        .collect();
    text.push_str(&format!(
        "retry_safe=false although the sandbox never received the write: {} ({})\n",
        unknown_unreceived.values().sum::<u64>(),
        if cells.is_empty() {
            "none".to_owned()
        } else {
            cells.join(", ")
        }
    ));
    for v in violations.iter().take(20) {
        text.push_str(&format!("VIOLATION {v}\n"));
    }
    Report { text, violations }
}
