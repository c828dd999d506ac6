//! `aopay`: recharges, status checks and a local sandbox from the shell.

use std::net::SocketAddr;
use std::process::ExitCode;

use aopay_core::{EndpointSpec, Error, MobileRecharge, Recharge, Status, ValidationError};
use aopay_sandbox::{Sandbox, SandboxConfig};
use clap::FromArgMatches;

use crate::cli::{Cli, Command, JournalAction, Shared, full_command, generated_endpoints};
use crate::client::{build_client, wait_options};
use crate::endpoint::{STATUS_HINT, endpoint_call};
use crate::journal::{journal_by_hand, journal_reconcile};
use crate::sandbox::serve_sandbox;

/// `println!` without the panic on a closed stdout (`aopay … | head -1`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), "{}", $crate::printable(&format!($($arg)*))).is_err() {
            $crate::OUTPUT_LOST.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }};
}

/// Set when a line of the outcome could not be written to stdout (a full
/// disk, a closed pipe): the command then exits 1, the journal having the
/// outcome already.
pub(crate) static OUTPUT_LOST: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// `eprintln!` without the panic on a closed stderr (`aopay … 2>&- `).
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "{}", $crate::printable(&format!($($arg)*)));
    }};
}

/// Text for a terminal: every control character but the line break (an
/// escape sequence, a CR, a BEL from a server's message or reference) is
/// shown escaped (`\u{1b}`), never acted on. JSON output has none to
/// escape: its strings are escaped already.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Exit codes (documented in the README and `aopay --help`).
mod exit {
    pub const SUCCESS: u8 = 0;
    pub const OTHER_ERROR: u8 = 1;
    pub const INVALID_INPUT: u8 = 2;
    pub const FAILED: u8 = 3;
    pub const NOT_FINAL: u8 = 4;
    pub const OUTCOME_UNKNOWN: u8 = 5;
    /// A batch the API stopped: the wallet is empty or the credentials
    /// were refused; the orders left were not sent.
    pub const HALTED: u8 = 6;
}

mod batch;
mod cli;
mod client;
mod endpoint;
mod journal;
mod sandbox;

/// Geocode used against the sandbox when none is given.
const SANDBOX_GEOCODE: &str = "23.6784,76.8764";
const SANDBOX_REGISTRATION_ID: &str = "AOP-554";

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            err!("error: cannot start: {e}");
            return ExitCode::from(exit::OTHER_ERROR);
        }
    };
    let code = runtime.block_on(cli_main());
    // Not waited for: a batch's reader blocked on a pipe that never ends
    // (stopped by Ctrl-C). Everything that must finish has: the command
    // returned, and a journal's thread is joined when its client drops.
    runtime.shutdown_background();
    code
}

async fn cli_main() -> ExitCode {
    let matches = match full_command().try_get_matches() {
        Ok(m) => m,
        Err(e) => usage_error(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => usage_error(e),
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
    sandbox_or_base_url(&matches);
    init_tracing(cli.verbose);
    let g = match (&cli.command, &generated) {
        (Some(command), _) => command.shared(),
        (None, Some((spec, sub))) => Shared::of_endpoint(spec, sub).unwrap_or_else(|e| e.exit()),
        (None, None) => Shared::default(),
    };
    let json = g.json;
    let code = match run(cli.command, g, generated).await {
        Ok(code) => code,
        Err(e) => {
            report_error(&e, json);
            exit_code_for(&e)
        }
    };
    if OUTPUT_LOST.load(std::sync::atomic::Ordering::SeqCst) {
        err!(
            "error: the output could not be written (stdout): what was printed is incomplete; the journal, if any, has the outcome"
        );
        return ExitCode::from(exit::OTHER_ERROR);
    }
    ExitCode::from(code)
}

/// `--sandbox` with a `--base-url` given on the command line is a
/// contradiction (which server?), refused as a usage error; a base URL from
/// `AOPAY_BASE_URL` is only the default `--sandbox` replaces.
fn sandbox_or_base_url(matches: &clap::ArgMatches) {
    let mut m = matches;
    while let Some((_, sub)) = m.subcommand() {
        m = sub;
    }
    let given = |id: &str| {
        m.try_contains_id(id).unwrap_or(false)
            && m.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
    };
    if given("sandbox") && given("base_url") {
        usage_error(full_command().error(
            clap::error::ErrorKind::ArgumentConflict,
            "--sandbox runs against an embedded sandbox: give --sandbox or --base-url, not both",
        ));
    }
}

/// A command line clap refuses: with `--json` among the arguments, the
/// error as JSON on stdout (`AOPAY_USAGE`, exit 2), as every other error of
/// a `--json` command is; else clap's own text. Help and version requests
/// print as usual.
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    let json = std::env::args_os().any(|a| a == "--json");
    let informational = matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if !json || informational {
        e.exit()
    }
    // clap's message up to its usage line, on one line.
    let rendered = e.to_string();
    let detail = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let detail = detail.trim_start_matches("error: ");
    out!(
        "{}",
        serde_json::json!({"error": {
            "code": "AOPAY_USAGE",
            "name": "UsageError",
            "message": format!("usage error: {detail}"),
            "detail": detail,
            "retry_safe": true,
        }})
    );
    std::process::exit(i32::from(exit::INVALID_INPUT))
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
    // Colour only on a terminal, never with NO_COLOR set (no-color.org) nor
    // on a dumb one (TERM=dumb).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
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
    command: Option<Command>,
    g: Shared,
    generated: Option<(&'static EndpointSpec, clap::ArgMatches)>,
) -> Result<u8, Failure> {
    match &command {
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
        wallet_payments,
        require_jwt_secret_file,
        require_jwt_public_key_file,
        jwt_header,
    }) = command
    {
        let mut config = SandboxConfig::default()
            .max_transactions(usize::try_from(max_transactions).unwrap_or(usize::MAX))
            .rate_limit(rate_limit);
        if let Some(n) = wallet_payments {
            config = config.wallet_payments(n);
        }
        match (require_jwt_secret_file, require_jwt_public_key_file) {
            (Some(path), _) => {
                let secret = client::secret_file("require_jwt_secret_file", &path)?;
                config = config.require_jwt(aopay_sandbox::JwtKey::Hs256(secret));
            }
            (None, Some(path)) => {
                let pem = std::fs::read(&path).map_err(|e| {
                    ValidationError::new(
                        "require_jwt_public_key_file",
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                config = config.require_jwt(aopay_sandbox::JwtKey::Rs256PublicPem(pem));
            }
            (None, None) => {}
        }
        if let Some(name) = jwt_header {
            config = config.jwt_header(name);
        }
        return serve_sandbox(SocketAddr::new(host, port), config, tls, ca_out).await;
    }
    // Every journal command but reconcile reads or writes the journal only.
    if let Some(Command::Journal { action }) = &command {
        if !matches!(action, JournalAction::Reconcile { .. }) {
            return journal_by_hand(action, &g).await;
        }
    }
    if let Some(Command::Batch {
        action: batch::BatchAction::Status { .. },
    }) = &command
    {
        let journal = g.journal.as_deref().ok_or_else(|| {
            ValidationError::new(
                "journal",
                "is required (aopay batch status JOURNAL, --journal or AOPAY_JOURNAL)",
            )
        })?;
        return batch::status(journal, g.json).await;
    }
    let batch_options = match &command {
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
            Some(batch::options(
                args,
                g.sandbox().then_some(SANDBOX_GEOCODE),
            )?)
        }
        _ => None,
    };
    // The embedded sandbox lives as long as this command.
    let sandbox = if g.sandbox() {
        Some(
            Sandbox::start()
                .await
                .map_err(|e| other(format!("cannot start the sandbox: {e}")))?,
        )
    } else {
        None
    };
    let client = build_client(&g, sandbox.as_ref())?;
    let Some(command) = command else {
        let Some((spec, sub)) = generated else {
            return Err(other("no command given".to_owned()));
        };
        let result = endpoint_call(&client, spec, &sub, &g).await;
        sandbox_stop(sandbox).await;
        return result;
    };
    let outcome = match command {
        Command::Journal { .. } => {
            sandbox_stop(sandbox).await;
            return journal_reconcile(&client, g.json).await;
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
            ..
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
        Command::Status {
            reference_id, wait, ..
        } => {
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
        print_next_step(&outcome, g.sandbox());
    }
    sandbox_stop(sandbox).await;
    Ok(match outcome.status {
        Status::Success => exit::SUCCESS,
        // A V2 recharge is never refunded; the one outcome type can say it.
        Status::Failed | Status::Refunded => exit::FAILED,
        Status::Pending | Status::Unknown => exit::NOT_FINAL,
    })
}

async fn sandbox_stop(sandbox: Option<Sandbox>) {
    if let Some(sb) = sandbox {
        sb.stop().await;
    }
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
    if let Some(m) = &r.meta.message {
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
    if matches!(e, Error::InsufficientBalance(_)) {
        err!("       nothing was paid: top up the AOPay wallet, then send it again.");
    }
    if matches!(e, Error::TransactionNotFound(_)) {
        err!(
            "       AOPay knows no transaction under this reference yet: this is not a failure (a payment may arrive late). Ask again later."
        );
    }
    // Only an unknown outcome may hide a payment; a conflict sent nothing.
    if matches!(e, Error::OutcomeUnknown(_) | Error::DuplicateReference(_)) {
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
        // A payment under the reference exists: as unknown as a lost answer.
        Failure::Sdk(Error::OutcomeUnknown(_) | Error::DuplicateReference(_)) => {
            exit::OUTCOME_UNKNOWN
        }
        // No transaction (yet): a status read that is not final.
        Failure::Sdk(Error::TransactionNotFound(_)) => exit::NOT_FINAL,
        _ => exit::OTHER_ERROR,
    }
}
