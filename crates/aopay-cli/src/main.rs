//! `aopay`: recharges, status checks and a local sandbox from the shell.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use aopay_core::{
    ArgKind, ArgValue, Binding, Client, ENDPOINTS, EndpointSpec, Error, FieldKind, Journal,
    JournalEntry, Lang, MobileRecharge, OptionValue, Recharge, Status, ValidationError,
    WaitOptions,
};
use aopay_sandbox::{
    MAGIC_BILL_ACCOUNTS, MAGIC_DTH_ACCOUNTS, MAGIC_NUMBERS, MAGIC_PLAN_OPERATORS, MAGIC_VEHICLES,
    Sandbox, SandboxConfig,
};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

/// `println!` without the panic on a closed stdout (`aopay … | head -1`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` without the panic on a closed stderr (`aopay … 2>&- `).
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Exit codes (documented in the README and `aopay --help`).
mod exit {
    pub const SUCCESS: u8 = 0;
    pub const OTHER_ERROR: u8 = 1;
    pub const INVALID_INPUT: u8 = 2;
    pub const FAILED: u8 = 3;
    pub const NOT_FINAL: u8 = 4;
    pub const OUTCOME_UNKNOWN: u8 = 5;
}

mod batch;

/// Geocode used against the sandbox when none is given.
const SANDBOX_GEOCODE: &str = "23.6784,76.8764";
const SANDBOX_REGISTRATION_ID: &str = "AOP-554";

#[derive(Parser, Debug)]
#[command(
    name = "aopay",
    version,
    about = "Recharges, bill payments and FASTag top-ups through the AOPay API",
    after_help = "Exit codes: 0 SUCCESS, 3 FAILED, 4 PENDING or UNKNOWN (not final yet), \
5 outcome unknown (do NOT resubmit: check the status first), 2 invalid input (or an idempotency \
key reused for another recharge), 1 any other error."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    /// `None` for a subcommand generated from the endpoint table.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args, Debug)]
struct Global {
    /// Your AOPay registration id (e.g. AOP-554).
    #[arg(long, env = "AOPAY_REGISTRATION_ID", global = true)]
    registration_id: Option<String>,
    /// API base URL (default https://api.aopay.co.in).
    #[arg(long, env = "AOPAY_BASE_URL", global = true)]
    base_url: Option<String>,
    /// Run against an embedded sandbox instead of the API.
    #[arg(long, global = true)]
    sandbox: bool,
    /// Print the outcome (or error) as JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Whole-call timeout in seconds.
    #[arg(
        long,
        default_value_t = 30.0,
        global = true,
        allow_hyphen_values = true
    )]
    timeout: f64,
    /// Longest time to connect, in seconds (default 10).
    #[arg(long, global = true, allow_hyphen_values = true)]
    connect_timeout: Option<f64>,
    /// Longest time for one attempt of a status read before it is retried, in seconds (default 10).
    #[arg(long, global = true, allow_hyphen_values = true)]
    read_attempt_timeout: Option<f64>,
    /// Most attempts for one status read (default 4).
    #[arg(long, global = true, allow_hyphen_values = true)]
    read_max_attempts: Option<i64>,
    /// Largest answer read, in bytes (default 1048576).
    #[arg(long, global = true, allow_hyphen_values = true)]
    max_response_bytes: Option<i64>,
    /// How long an idle connection is kept for reuse, in seconds (default 4).
    #[arg(long, global = true, allow_hyphen_values = true)]
    pool_idle_timeout: Option<f64>,
    /// Allow plain http:// to a host that is not loopback (never in production).
    #[arg(long, global = true)]
    allow_insecure_http: bool,
    /// Extra header for every request, as NAME:VALUE (repeatable). Values are never printed.
    #[arg(long = "header", value_name = "NAME:VALUE", global = true)]
    headers: Vec<String>,
    /// Extra trusted CA certificates (a PEM file), added to the system's:
    /// for a private gateway or `aopay sandbox --tls`.
    #[arg(
        long,
        value_name = "PEM_FILE",
        env = "AOPAY_ROOT_CERTIFICATES",
        global = true
    )]
    root_certificates: Option<std::path::PathBuf>,
    /// A command that prints the headers for calls, as JSON:
    /// {"headers": {"Authorization": "Bearer …"}, "lifetime": SECONDS}
    /// ("lifetime" optional). Run when first needed, again before the
    /// lifetime ends and after a 401; its output is never printed.
    #[arg(
        long,
        value_name = "CMD",
        env = "AOPAY_CREDENTIALS_COMMAND",
        global = true
    )]
    credentials_command: Option<String>,
    /// Idempotency journal: a SQLite file path or postgres://… (needed by --idempotency-key).
    #[arg(long, env = "AOPAY_JOURNAL", global = true)]
    journal: Option<String>,
    /// More diagnostics on stderr (-v: calls, -vv: everything). AOPAY_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Recharge a prepaid mobile number or a DTH account.
    Recharge {
        /// Operator/product code (518 is Airtel).
        #[arg(long, allow_hyphen_values = true)]
        product: String,
        /// Whole rupees.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// Mobile or DTH customer number.
        #[arg(long)]
        number: String,
        /// Where the request originates, "lat,long".
        #[arg(long, env = "AOPAY_GEOCODE")]
        geocode: Option<String>,
        /// Your own id for this recharge (an order id): with --journal, the
        /// same key never pays twice.
        #[arg(long)]
        idempotency_key: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Inspect and resolve the idempotency journal (--journal).
    Journal {
        #[command(subcommand)]
        action: JournalAction,
    },
    /// Pay a file of orders (CSV or JSON Lines), each exactly once, and report.
    Batch {
        #[command(subcommand)]
        action: batch::BatchAction,
    },
    /// Look up a transaction by its reference id.
    Status {
        /// The reference id a recharge returned.
        reference_id: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Run the sandbox server until Ctrl-C.
    Sandbox {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Serve HTTPS with a certificate from a throwaway CA (clients need
        /// that CA: see --ca-out).
        #[arg(long)]
        tls: bool,
        /// With --tls, write the CA certificate (PEM) to this file.
        #[arg(long, value_name = "PEM_FILE", requires = "tls")]
        ca_out: Option<std::path::PathBuf>,
        /// Transactions kept for status calls; past this the oldest are
        /// forgotten, so a long-running sandbox stays bounded.
        #[arg(long, value_name = "N", default_value_t = 1_000_000,
              value_parser = clap::value_parser!(u64).range(1..))]
        max_transactions: u64,
        /// Answer at most N calls in any one second; the rest get HTTP 429
        /// with Retry-After, as a rate-limited API answers (0: no limit).
        #[arg(long, value_name = "N", default_value_t = 0)]
        rate_limit: u32,
    },
    /// Print a shell's completion script.
    ///
    /// For bash: `aopay completions bash > ~/.local/share/bash-completion/completions/aopay`;
    /// zsh: `aopay completions zsh > "${fpath[1]}/_aopay"`; fish: `aopay
    /// completions fish > ~/.config/fish/completions/aopay.fish`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    ///
    /// `aopay man > aopay.1 && man ./aopay.1`, or install it as
    /// `/usr/local/share/man/man1/aopay.1`.
    Man,
}

#[derive(Subcommand, Debug)]
enum JournalAction {
    /// List the entries that are not final (sending, pending, unknown).
    Pending,
    /// Check every unresolved entry that has a reference, and record the answers.
    Reconcile,
}

#[derive(Args, Debug)]
struct WaitArgs {
    /// Poll the status until it is final (SUCCESS, FAILED or, for a payment, REFUNDED).
    #[arg(long)]
    wait: bool,
    /// Longest wait, in seconds.
    #[arg(long, default_value_t = 120.0, allow_hyphen_values = true)]
    wait_timeout: f64,
}

/// The endpoints whose subcommand is generated from the table (`dth-info`).
fn generated_endpoints() -> impl Iterator<Item = &'static EndpointSpec> {
    ENDPOINTS
        .iter()
        .copied()
        .filter(|e| e.binding == Binding::Generated)
}

/// A family's name as its help line starts.
fn family_title(family: &str) -> &str {
    match family {
        "bill" => "Bills (electricity, gas, water, broadband)",
        "fastag" => "FASTag top-ups",
        other => other,
    }
}

fn kebab(name: &str) -> String {
    name.replace('_', "-")
}

/// A subcommand per generated endpoint (its `cli` words: `plans`, or
/// `bill fetch` under a family's command): one flag per argument.
fn endpoint_command(spec: &'static EndpointSpec) -> clap::Command {
    let name = spec.cli.last().copied().unwrap_or(spec.method);
    let mut cmd = clap::Command::new(name).about(spec.summary.trim_end_matches('.'));
    for a in spec.args {
        let mut arg = clap::Arg::new(a.name)
            .long(kebab(a.name))
            .help_heading("Request")
            .value_name(a.name.to_ascii_uppercase())
            .help(a.doc)
            .required(a.required)
            .allow_hyphen_values(true);
        match a.kind {
            ArgKind::Choice(options) => {
                arg = arg.value_parser(clap::builder::PossibleValuesParser::new(options));
            }
            // The embedded sandbox has a default (see `endpoint_call`).
            ArgKind::Geocode => arg = arg.env("AOPAY_GEOCODE").required(false),
            ArgKind::Bill => {
                arg = arg.value_name("FILE").help(
                    "The fetched bill: a file holding what `--json` printed for the fetch (- for stdin)",
                );
            }
            _ => {}
        }
        cmd = cmd.arg(arg);
    }
    if spec.answer.name == "Payment" {
        cmd = WaitArgs::augment_args(cmd);
    }
    cmd
}

/// The status command of a payment (`bill status`), for hints.
static STATUS_HINT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// A `--bill FILE` (`-`: stdin): the JSON a fetch printed.
fn read_bill(path: &str) -> Result<serde_json::Value, Failure> {
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| ValidationError::new("bill", format!("cannot read {path}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| {
        ValidationError::new(
            "bill",
            format!("{path} is not JSON ({e}): give it what `--json` printed for the fetch"),
        )
        .into()
    })
}

/// Every command: the written ones and one per endpoint of the core's table
/// (grouped by family: `aopay bill pay`).
fn full_command() -> clap::Command {
    let mut command = Cli::command().subcommand_required(true);
    let mut families: Vec<clap::Command> = Vec::new();
    for spec in generated_endpoints() {
        match spec.cli {
            [family, _] => {
                let i = families
                    .iter()
                    .position(|f| f.get_name() == *family)
                    .unwrap_or_else(|| {
                        families.push(
                            clap::Command::new(*family)
                                .about(format!(
                                    "{}: fetch, pay and check the status",
                                    family_title(family)
                                ))
                                .subcommand_required(true),
                        );
                        families.len() - 1
                    });
                let family = std::mem::take(&mut families[i]);
                families[i] = family.subcommand(endpoint_command(spec));
            }
            _ => command = command.subcommand(endpoint_command(spec)),
        }
    }
    for family in families {
        command = command.subcommand(family);
    }
    command
}

#[tokio::main]
async fn main() -> ExitCode {
    let matches = full_command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let generated = matches.subcommand().and_then(|(name, sub)| {
        let (words, sub) = match sub.subcommand() {
            Some((child, inner)) => (vec![name, child], inner),
            None => (vec![name], sub),
        };
        generated_endpoints()
            .find(|e| e.cli == words.as_slice())
            .map(|e| (e, sub.clone()))
    });
    init_tracing(cli.global.verbose);
    let json = cli.global.json;
    match run(cli, generated).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            report_error(&e, json);
            ExitCode::from(exit_code_for(&e))
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        // The verifier logs every refused certificate as an error of its
        // own; the one-line error already says it.
        0 => "warn,rustls_platform_verifier=off",
        1 => "aopay=debug,aopay_sandbox=debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("AOPAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour only on a terminal, and never with NO_COLOR set (no-color.org).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        // Its own report of a failed write is an eprintln!, which panics on
        // a closed pipe (`aopay -vv 2>&1 | head -1`): a lost line is fine.
        .log_internal_errors(false)
        .try_init();
}

async fn run(
    cli: Cli,
    generated: Option<(&'static EndpointSpec, clap::ArgMatches)>,
) -> Result<u8, Failure> {
    let g = cli.global;
    match &cli.command {
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut full_command(), "aopay", &mut script);
            return write_stdout(&script);
        }
        Some(Command::Man) => {
            let mut page = Vec::new();
            clap_mangen::Man::new(full_command())
                .render(&mut page)
                .map_err(|e| Failure::Local(format!("cannot render the man page: {e}")))?;
            return write_stdout(&page);
        }
        _ => {}
    }
    if let Some(Command::Sandbox {
        port,
        host,
        tls,
        ca_out,
        max_transactions,
        rate_limit,
    }) = cli.command
    {
        let config = SandboxConfig::default()
            .max_transactions(usize::try_from(max_transactions).unwrap_or(usize::MAX))
            .rate_limit(rate_limit);
        return serve_sandbox(SocketAddr::new(host, port), config, tls, ca_out).await;
    }
    if let Some(Command::Journal {
        action: JournalAction::Pending,
    }) = &cli.command
    {
        return journal_pending(&g).await;
    }
    if let Some(Command::Batch {
        action: batch::BatchAction::Status { journal },
    }) = &cli.command
    {
        let journal = journal.as_deref().or(g.journal.as_deref()).ok_or_else(|| {
            ValidationError::new(
                "journal",
                "is required (aopay batch status JOURNAL, --journal or AOPAY_JOURNAL)",
            )
        })?;
        return batch::status(journal, g.json).await;
    }
    let batch_options = match &cli.command {
        Some(Command::Batch {
            action: batch::BatchAction::Run(args),
        }) => {
            if g.journal.is_none() {
                return Err(ValidationError::new(
                    "journal",
                    "is required: a batch pays each order once through its journal (use --journal PATH|postgres://… or AOPAY_JOURNAL)",
                )
                .into());
            }
            Some(batch::options(args, g.sandbox.then_some(SANDBOX_GEOCODE))?)
        }
        _ => None,
    };
    // The embedded sandbox lives as long as this command.
    let sandbox = if g.sandbox {
        Some(
            Sandbox::start()
                .await
                .map_err(|e| other(format!("cannot start the sandbox: {e}")))?,
        )
    } else {
        None
    };
    // Only a write or a journal command opens the journal: a read must not
    // create a journal file it has no use for.
    let needs_journal = match (&cli.command, &generated) {
        (Some(Command::Recharge { .. } | Command::Journal { .. } | Command::Batch { .. }), _) => {
            true
        }
        (None, Some((spec, _))) => spec.effect == aopay_core::Effect::Write,
        _ => false,
    };
    let client = build_client(&g, sandbox.as_ref(), needs_journal)?;
    let Some(command) = cli.command else {
        let Some((spec, sub)) = generated else {
            return Err(other("no command given".to_owned()));
        };
        let result = endpoint_call(&client, spec, &sub, &g).await;
        sandbox_stop(sandbox).await;
        return result;
    };
    let outcome = match command {
        Command::Journal { action } => {
            sandbox_stop(sandbox).await;
            return journal_command(&client, action, g.json).await;
        }
        Command::Batch { action } => {
            let result = match (action, batch_options) {
                (batch::BatchAction::Run(args), Some(opts)) => {
                    batch::run(&client, &args, opts, g.json).await
                }
                _ => Err(other("no batch command given".to_owned())),
            };
            sandbox_stop(sandbox).await;
            return result;
        }
        Command::Recharge {
            product,
            amount,
            number,
            geocode,
            idempotency_key,
            wait,
        } => {
            let geocode = match (geocode, &sandbox) {
                (Some(g), _) => g,
                (None, Some(_)) => SANDBOX_GEOCODE.to_owned(),
                (None, None) => {
                    return Err(ValidationError::new(
                        "geocode",
                        "is required (use --geocode LAT,LONG or AOPAY_GEOCODE)",
                    )
                    .into());
                }
            };
            // Every option is checked before anything is sent: an error
            // after the send must never read "safe to retry".
            let wait_opts = wait_options(&wait)?;
            let mut req = MobileRecharge::new(
                parse_int("product_id", &product)?,
                parse_int("amount", &amount)?,
                &number,
                &geocode,
            )?;
            if let Some(key) = idempotency_key {
                if client.journal().is_none() {
                    return Err(ValidationError::new(
                        "idempotency_key",
                        "needs a journal (use --journal PATH|postgres://… or AOPAY_JOURNAL)",
                    )
                    .into());
                }
                req = req.with_idempotency_key(key)?;
            }
            let r = client.mobile_recharge(&req).await?;
            match (&r.reference_id, wait.wait && !r.is_final()) {
                (Some(reference), true) => {
                    if !g.json {
                        print_recharge(&r);
                        out!("waiting for the final status of {reference}…");
                    }
                    client
                        .wait_for_final(reference, wait_opts)
                        .await
                        .map_err(|e| e.after_recharge_sent(&r))?
                }
                _ => r,
            }
        }
        Command::Status { reference_id, wait } => {
            let wait_opts = wait_options(&wait)?;
            if wait.wait {
                client.wait_for_final(&reference_id, wait_opts).await?
            } else {
                client.recharge_status(&reference_id).await?
            }
        }
        // Served above, before any client is built.
        Command::Sandbox { .. } | Command::Completions { .. } | Command::Man => {
            return Ok(exit::SUCCESS);
        }
    };
    if g.json {
        out!("{}", outcome.to_json_value());
    } else {
        print_recharge(&outcome);
        print_next_step(&outcome, g.sandbox);
    }
    sandbox_stop(sandbox).await;
    Ok(match outcome.status {
        Status::Success => exit::SUCCESS,
        Status::Failed => exit::FAILED,
        Status::Pending | Status::Unknown => exit::NOT_FINAL,
    })
}

/// A generated subcommand: its flags as neutral arguments, checked by the
/// core against the endpoint's table, then the one generic call.
async fn endpoint_call(
    client: &Client,
    spec: &'static EndpointSpec,
    sub: &clap::ArgMatches,
    g: &Global,
) -> Result<u8, Failure> {
    let mut args = aopay_core::Args::new(Lang::Rust);
    for a in spec.args {
        let given = sub.get_one::<String>(a.name).cloned();
        let given = match (a.kind, given) {
            (ArgKind::Geocode, None) if g.sandbox => Some(SANDBOX_GEOCODE.to_owned()),
            (ArgKind::Geocode, None) if a.required => {
                return Err(ValidationError::new(
                    a.name,
                    "is required (use --geocode LAT,LONG or AOPAY_GEOCODE)",
                )
                .into());
            }
            (_, given) => given,
        };
        if let Some(text) = given {
            let value = match a.kind {
                // A bill is given as a file (or `-`), not as its JSON.
                ArgKind::Bill => ArgValue::Json(read_bill(&text)?),
                kind => ArgValue::from_text(a.name, kind, &text)?,
            };
            args.set(a.name, value);
        }
    }
    let keyed = matches!(sub.try_get_one::<String>("idempotency_key"), Ok(Some(_)));
    if keyed && client.journal().is_none() {
        return Err(ValidationError::new(
            "idempotency_key",
            "needs a journal (use --journal PATH|postgres://… or AOPAY_JOURNAL)",
        )
        .into());
    }
    let payment = spec.answer.name == "Payment";
    let wait = if payment {
        Some(WaitArgs::from_arg_matches(sub).map_err(|e| other(e.to_string()))?)
    } else {
        None
    };
    let wait_opts = wait.as_ref().map(wait_options).transpose()?;
    let status_words = spec
        .status
        .and_then(aopay_core::endpoint)
        .unwrap_or(spec)
        .cli
        .join(" ");
    let _ = STATUS_HINT.set(if g.sandbox {
        // A later command has a fresh embedded sandbox: nothing to check there.
        "the embedded sandbox ends with this command; against a real or shared sandbox, run \
`aopay {status} --reference-id {reference} --wait`"
            .replace("{status}", &status_words)
    } else {
        format!("run `aopay {status_words} --reference-id {{reference}} --wait`")
    });
    let mut answer = client.prepare(spec.method, &args)?.await?;
    let status = |a: &serde_json::Value| a["status"].as_str().unwrap_or_default().to_owned();
    if let (Some(w), Some(opts)) = (&wait, wait_opts) {
        if w.wait && answer["is_final"] == false {
            let reference = answer["reference_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if !g.json {
                print_fields(&spec.answer_fields().collect::<Vec<_>>(), &answer, 0);
                out!("waiting for the final status of {reference}…");
            }
            let call = answer["status_call"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            // The payment was sent: whatever the wait meets, resubmitting is
            // never safe.
            let p = client
                .wait_for_payment(&call, &reference, opts)
                .await
                .map_err(|e| e.after_payment_sent(&status(&answer), &reference))?;
            answer = aopay_core::Answer::to_json_value(&p);
        }
    }
    if g.json {
        out!("{answer}");
    } else {
        print_fields(&spec.answer_fields().collect::<Vec<_>>(), &answer, 0);
    }
    if !payment {
        return Ok(exit::SUCCESS);
    }
    let reference = answer["reference_id"].as_str().unwrap_or_default();
    Ok(match status(&answer).as_str() {
        "SUCCESS" => exit::SUCCESS,
        "FAILED" | "REFUNDED" => exit::FAILED,
        _ => {
            if g.sandbox && !g.json {
                out!(
                    "not final yet (the embedded sandbox ends with this command: add --wait to follow it)"
                );
            } else if !g.json {
                out!("not final yet: run `aopay {status_words} --reference-id {reference} --wait`");
            }
            exit::NOT_FINAL
        }
    })
}

/// An answer as `name  value` lines; a list as one line per item (its plain
/// values side by side), the lists inside an item indented below it.
fn print_fields(fields: &[&aopay_core::FieldSpec], value: &serde_json::Value, indent: usize) {
    let pad = " ".repeat(indent);
    for f in fields.iter().copied() {
        let v = &value[f.name];
        match (f.kind, v) {
            (FieldKind::Raw, _) | (_, serde_json::Value::Null) => {}
            (FieldKind::Items(inner), serde_json::Value::Array(items)) => {
                for item in items {
                    let plain: Vec<String> = inner
                        .fields
                        .iter()
                        .filter(|f| !matches!(f.kind, FieldKind::Items(_)))
                        .filter_map(|f| match &item[f.name] {
                            serde_json::Value::Null => None,
                            serde_json::Value::String(s) => Some(s.clone()),
                            other => Some(other.to_string()),
                        })
                        .collect();
                    out!("{pad}{}", plain.join("  "));
                    let lists: Vec<&aopay_core::FieldSpec> = inner
                        .fields
                        .iter()
                        .filter(|f| matches!(f.kind, FieldKind::Items(_)))
                        .collect();
                    print_fields(&lists, item, indent + 2);
                }
            }
            (_, serde_json::Value::String(s)) => {
                out!("{pad}{:<16}{s}", f.name.replace('_', " "));
            }
            (_, v) => out!("{pad}{:<16}{v}", f.name.replace('_', " ")),
        }
    }
}

async fn sandbox_stop(sandbox: Option<Sandbox>) {
    if let Some(sb) = sandbox {
        sb.stop().await;
    }
}

/// The entries that are not final, listed (or as JSON).
async fn list_pending(journal: &Journal, json: bool) -> Result<u8, Failure> {
    let entries = journal.unresolved().await?;
    if json {
        out!(
            "{}",
            serde_json::Value::from(
                entries
                    .iter()
                    .map(JournalEntry::to_json_value)
                    .collect::<Vec<_>>()
            )
        );
    } else if entries.is_empty() {
        out!("no unresolved entries");
    } else {
        for e in &entries {
            out!(
                "{}  {}  reference {}{}",
                e.key,
                e.state.as_str(),
                e.reference_id.as_deref().unwrap_or("-"),
                e.reason
                    .as_deref()
                    .map(|r| format!("  ({r})"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(if entries.is_empty() {
        exit::SUCCESS
    } else {
        exit::NOT_FINAL
    })
}

/// `aopay journal pending` only reads the local journal: no registration id,
/// no API, no sandbox.
async fn journal_pending(g: &Global) -> Result<u8, Failure> {
    let spec = g.journal.as_deref().ok_or_else(|| {
        ValidationError::new("journal", "is required (use --journal or AOPAY_JOURNAL)")
    })?;
    let journal = open_to_read(spec)?;
    list_pending(&journal, g.json).await
}

/// A journal for a command that only reads it: a SQLite file that is not
/// there is a mistyped path, not a journal to create.
pub(crate) fn open_to_read(spec: &str) -> Result<Journal, Failure> {
    if Journal::sqlite_path(spec).is_some_and(|path| !path.exists()) {
        return Err(ValidationError::new(
            "journal",
            format!("{spec:?} does not exist: no journal there to read (check --journal)"),
        )
        .into());
    }
    Ok(Journal::open(spec)?)
}

async fn journal_command(
    client: &Client,
    action: JournalAction,
    json: bool,
) -> Result<u8, Failure> {
    let journal = client.journal().ok_or_else(|| {
        ValidationError::new("journal", "is required (use --journal or AOPAY_JOURNAL)")
    })?;
    match action {
        JournalAction::Pending => list_pending(journal, json).await,
        JournalAction::Reconcile => {
            let results = client.reconcile_journal().await?;
            let mut unresolved = 0;
            let mut out = Vec::new();
            for (entry, result) in &results {
                let (line, value) = match result {
                    Ok(r) => {
                        if !r.is_final() {
                            unresolved += 1;
                        }
                        (
                            format!("{}  {}", entry.key, r.status()),
                            serde_json::json!({"key": entry.key, "recharge": r.to_json_value()}),
                        )
                    }
                    Err(e) => {
                        unresolved += 1;
                        (
                            format!("{}  error: {e}", entry.key),
                            serde_json::json!({"key": entry.key, "error": e.to_json_value()}),
                        )
                    }
                };
                if json {
                    out.push(value);
                } else {
                    out!("{line}");
                }
            }
            if json {
                out!("{}", serde_json::Value::from(out));
            } else if results.is_empty() {
                out!("no unresolved entries");
            }
            Ok(if unresolved == 0 {
                exit::SUCCESS
            } else {
                exit::NOT_FINAL
            })
        }
    }
}

fn build_client(
    g: &Global,
    sandbox: Option<&Sandbox>,
    with_journal: bool,
) -> Result<Client, Error> {
    let registration_id = match (&g.registration_id, sandbox) {
        (Some(id), _) => id.clone(),
        (None, Some(_)) => SANDBOX_REGISTRATION_ID.to_owned(),
        (None, None) => {
            return Err(ValidationError::new(
                "registration_id",
                "is required (use --registration-id or AOPAY_REGISTRATION_ID)",
            )
            .into());
        }
    };
    // Every option goes through the core's table (`ClientBuilder::set`),
    // which checks it as it does for the bindings.
    let mut options = vec![
        ("registration_id", OptionValue::Text(registration_id)),
        ("timeout", OptionValue::Seconds(g.timeout)),
        (
            "allow_insecure_http",
            OptionValue::Flag(g.allow_insecure_http),
        ),
    ];
    match (sandbox, &g.base_url) {
        (Some(sb), _) => options.push(("base_url", OptionValue::Text(sb.url().to_owned()))),
        (None, Some(url)) => options.push(("base_url", OptionValue::Text(url.clone()))),
        (None, None) => {}
    }
    for (name, secs) in [
        ("connect_timeout", g.connect_timeout),
        ("read_attempt_timeout", g.read_attempt_timeout),
        ("pool_idle_timeout", g.pool_idle_timeout),
    ] {
        if let Some(secs) = secs {
            options.push((name, OptionValue::Seconds(secs)));
        }
    }
    for (name, n) in [
        ("read_max_attempts", g.read_max_attempts),
        ("max_response_bytes", g.max_response_bytes),
    ] {
        if let Some(n) = n {
            options.push((name, OptionValue::Count(n)));
        }
    }
    if let Some(path) = &g.root_certificates {
        let pem = std::fs::read(path).map_err(|e| {
            ValidationError::new(
                "root_certificates",
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        options.push(("root_certificates", OptionValue::Pem(pem)));
    }
    let mut headers = Vec::new();
    for h in &g.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| ValidationError::new("headers", "each --header must be NAME:VALUE"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    options.push(("headers", OptionValue::Headers(headers)));
    if let Some(spec) = g.journal.as_ref().filter(|_| with_journal) {
        options.push(("journal", OptionValue::Journal(Journal::open(spec)?)));
    }
    if let Some(command) = &g.credentials_command {
        if command.trim().is_empty() {
            return Err(
                ValidationError::new("credentials", "the command must not be empty").into(),
            );
        }
        let command = command.clone();
        let provider = move || credentials_from_command(command.clone());
        options.push((
            "credentials",
            OptionValue::Credentials(std::sync::Arc::new(provider)),
        ));
    }
    let mut b = Client::builder().user_agent(concat!("aopay-cli/", env!("CARGO_PKG_VERSION")));
    for (name, value) in options {
        b = b.set(name, value)?;
    }
    b.build()
}

/// Run the credentials command (through `sh -c`) and read its JSON. Its
/// output holds secrets: an error names the problem, never the output.
async fn credentials_from_command(command: String) -> Result<aopay_core::Credentials, String> {
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run the credentials command: {e}"))?;
    if !out.status.success() {
        return Err(format!("the credentials command failed ({})", out.status));
    }
    const SHAPE: &str =
        "the credentials command must print {\"headers\": {NAME: VALUE}, \"lifetime\": SECONDS}";
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|_| SHAPE.to_owned())?;
    let headers = v["headers"].as_object().ok_or(SHAPE)?;
    let mut pairs = Vec::with_capacity(headers.len());
    for (k, value) in headers {
        pairs.push((k.clone(), value.as_str().ok_or(SHAPE)?.to_owned()));
    }
    let creds = aopay_core::Credentials::new(pairs);
    match &v["lifetime"] {
        serde_json::Value::Null => Ok(creds),
        l => match l.as_f64().filter(|s| s.is_finite() && *s > 0.0) {
            Some(secs) => Ok(creds.lifetime(Duration::from_secs_f64(secs.min(1e9)))),
            None => Err(
                "the credentials command's lifetime must be a positive number of seconds"
                    .to_owned(),
            ),
        },
    }
}

fn wait_options(w: &WaitArgs) -> Result<WaitOptions, Error> {
    Ok(WaitOptions::with_timeout(seconds(
        "wait_timeout",
        w.wait_timeout,
    )?))
}

fn seconds(field: &'static str, s: f64) -> Result<Duration, ValidationError> {
    aopay_core::duration_from_secs(field, s)
}

/// The CLI reads text; the typed APIs never accept numeric strings.
fn parse_int(field: &'static str, text: &str) -> Result<i64, ValidationError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| ValidationError::new(field, format!("must be a whole number (got {text:?})")))
}

/// A failure of the command: from the SDK, or local (the sandbox could not start).
#[derive(Debug)]
enum Failure {
    Sdk(Error),
    Local(String),
}

/// Print generated text; a reader that closed the pipe early (`| head`)
/// ends it quietly.
fn write_stdout(bytes: &[u8]) -> Result<u8, Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Local(format!(
            "cannot write to standard output: {e}"
        ))),
        _ => Ok(0),
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Sdk(e)
    }
}

impl From<ValidationError> for Failure {
    fn from(e: ValidationError) -> Self {
        Self::Sdk(e.into())
    }
}

fn other(message: String) -> Failure {
    Failure::Local(message)
}

fn print_recharge(r: &Recharge) {
    let mut line = r.status.as_str().to_owned();
    for (label, value) in [
        ("reference", &r.reference_id),
        ("txn", &r.txn_id),
        ("ackno", &r.ackno),
    ] {
        if let Some(v) = value {
            line.push_str(&format!("  {label} {v}"));
        }
    }
    out!("{line}");
    if let Some(m) = &r.message {
        out!("{m}");
    }
}

/// What to do about an outcome that is not final. `embedded`: against
/// `--sandbox`, whose transactions end with this command.
fn print_next_step(r: &Recharge, embedded: bool) {
    if !r.is_final() {
        match &r.reference_id {
            Some(_) if embedded => out!(
                "not final yet (the embedded sandbox ends with this command: add --wait to follow it)"
            ),
            Some(reference) => out!("not final yet: run `aopay status {reference} --wait`"),
            None => out!("not final yet, and the API gave no reference to check"),
        }
    }
}

fn report_error(f: &Failure, json: bool) {
    let e = match f {
        Failure::Sdk(e) => e,
        Failure::Local(m) => {
            if json {
                out!(
                    "{}",
                    serde_json::json!({"error": {"code": "AOPAY_LOCAL", "message": m}})
                );
            } else {
                err!("error: {m}");
            }
            return;
        }
    };
    if json {
        out!("{}", serde_json::json!({"error": e.to_json_value()}));
        return;
    }
    err!("error: {e}");
    // Only an unknown outcome may hide a payment; a conflict sent nothing.
    if matches!(e, Error::OutcomeUnknown(_)) {
        match (STATUS_HINT.get(), e.reference_id()) {
            (Some(hint), Some(reference)) => err!(
                "       do NOT resubmit this payment: it may have been processed. To check its \
status, {}.",
                hint.replace("{reference}", reference)
            ),
            _ => err!(
                "       do NOT resubmit this recharge: it may have been processed. Check its status \
(your AOPay statement, or `aopay status REF --wait` if you have a reference)."
            ),
        }
    }
}

fn exit_code_for(f: &Failure) -> u8 {
    match f {
        // A key reused for another recharge is a caller's mistake; nothing was sent.
        Failure::Sdk(Error::Validation(_) | Error::IdempotencyConflict(_)) => exit::INVALID_INPUT,
        Failure::Sdk(Error::OutcomeUnknown(_)) => exit::OUTCOME_UNKNOWN,
        _ => exit::OTHER_ERROR,
    }
}

async fn serve_sandbox(
    addr: SocketAddr,
    config: SandboxConfig,
    tls: bool,
    ca_out: Option<std::path::PathBuf>,
) -> Result<u8, Failure> {
    let sb = if tls {
        Sandbox::start_tls_with(config, addr).await
    } else {
        Sandbox::start_with(config, addr).await
    }
    .map_err(|e| other(format!("cannot listen on {addr}: {e}")))?;
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
        "stopped: {} recharge and {} status requests received, {} refused for the rate limit",
        stats.recharge_requests,
        stats.status_requests,
        stats.rate_limited_requests
    );
    Ok(exit::SUCCESS)
}
