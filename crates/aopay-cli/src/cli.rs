//! The commands and their options (clap): the written ones, and one per
//! endpoint of the core's table.

use aopay_core::{ArgKind, Binding, ENDPOINTS, EndpointSpec};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::batch;

/// Exit codes, per command (`aopay COMMAND --help` shows its own).
pub(crate) const EXITS_RECHARGE: &str = "Exit codes: 0 SUCCESS, 3 FAILED, 4 PENDING or UNKNOWN \
(not final yet: check its status), 5 outcome unknown (do NOT resubmit: check the status first), \
2 invalid input or an idempotency key reused for another order (nothing was sent), 1 any other error.";
const EXITS_STATUS: &str = "Exit codes: 0 SUCCESS, 3 FAILED, 4 PENDING or UNKNOWN, 5 --wait \
ended before the status was final, 2 invalid input, 1 any other error (nothing was changed: \
asking again is safe).";
const EXITS_PAYMENT: &str = "Exit codes: 0 SUCCESS, 3 FAILED or REFUNDED, 4 PENDING (not \
final yet: check its status), 5 outcome unknown or a duplicate reference (do NOT resubmit: check \
the status first), 2 invalid input or an idempotency key reused for another order (nothing was \
sent), 1 any other error (an empty wallet among them: nothing was paid).";
const EXITS_PAYMENT_STATUS: &str = "Exit codes: 0 SUCCESS, 3 FAILED or REFUNDED, 4 PENDING or \
no transaction found yet (not a failure), 5 --wait ended before the status was final, 2 invalid \
input, 1 any other error (nothing was changed: asking again is safe).";
const EXITS_READ: &str = "Exit codes: 0 answered, 2 invalid input, 1 any other error (a read: \
asking again is safe).";
const EXITS_PENDING: &str = "Exit codes: 0 no unresolved entries, 4 some entries are not final \
(listed), 2 no journal given or none at that path, 1 any other error.";
const EXITS_BY_HAND: &str = "Exit codes: 0 done (recorded with who, when and why), 2 invalid \
input, no such entry, a final one, or one still in flight (nothing changed), 1 any other error.";
const EXITS_READ_JOURNAL: &str = "Exit codes: 0 listed, 2 no journal given or none at that path, \
1 any other error.";
const EXITS_RECONCILE: &str = "Exit codes: 0 every entry is final, 4 some are still not final or \
could not be checked (run it again later), 2 invalid options, 1 any other error.";
pub(crate) const EXITS_BATCH_STATUS: &str = "Exit codes: 0 every order final, 4 some orders not final (run \
the batch again to settle them), 2 no journal given or none at that path, 1 any other error.";
const EXITS_SANDBOX: &str = "Exit codes: 0 stopped by Ctrl-C, 2 invalid options, 1 cannot \
listen or write --ca-out.";
const EXITS_PRINT: &str = "Exit codes: 0 printed (a reader that closes the pipe early \
included), 2 invalid arguments, 1 cannot write.";

#[derive(Parser, Debug)]
#[command(
    name = "aopay",
    version,
    about = "Recharges, bill payments and FASTag top-ups through the AOPay API",
    after_help = "Each command takes the options it uses (`aopay COMMAND --help`): the \
connection options for the commands that call the API, --journal for those that keep or read a \
journal, --json for those that print an outcome.\n\nExit codes (each command lists its own): \
0 SUCCESS, 3 FAILED, 4 not final yet, 5 outcome unknown (do NOT resubmit: check the status \
first), 2 invalid input (nothing was sent), 1 any other error."
)]
pub(crate) struct Cli {
    /// More diagnostics on stderr (-v: calls, -vv: everything). AOPAY_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = "Shared options")]
    pub(crate) verbose: u8,
    /// `None` for a subcommand generated from the endpoint table.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// How a command reaches the API: the client's options.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Connection")]
pub(crate) struct Connection {
    /// Your AOPay registration id (e.g. AOP-554).
    #[arg(long, env = "AOPAY_REGISTRATION_ID")]
    pub(crate) registration_id: Option<String>,
    /// API base URL (default https://api.aopay.co.in).
    #[arg(long, env = "AOPAY_BASE_URL")]
    pub(crate) base_url: Option<String>,
    /// Run against an embedded sandbox instead of the API.
    #[arg(long)]
    pub(crate) sandbox: bool,
    /// Whole-call timeout in seconds.
    #[arg(long, default_value_t = 30.0, allow_hyphen_values = true)]
    pub(crate) timeout: f64,
    /// Longest time to connect, in seconds (default 10).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) connect_timeout: Option<f64>,
    /// Longest time for one attempt of a status read before it is retried, in seconds (default 10).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) read_attempt_timeout: Option<f64>,
    /// Most attempts for one status read (default 4).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) read_max_attempts: Option<i64>,
    /// Largest answer read, in bytes (default 1048576).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) max_response_bytes: Option<i64>,
    /// How long an idle connection is kept for reuse, in seconds (default 4).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) pool_idle_timeout: Option<f64>,
    /// Allow plain http:// to a host that is not loopback (never in production).
    #[arg(long)]
    pub(crate) allow_insecure_http: bool,
    /// Extra header for every request, as NAME:VALUE (repeatable). Values are never printed.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub(crate) headers: Vec<String>,
    /// Extra trusted CA certificates (a PEM file), added to the system's:
    /// for a private gateway or `aopay sandbox --tls`.
    #[arg(long, value_name = "PEM_FILE", env = "AOPAY_ROOT_CERTIFICATES")]
    pub(crate) root_certificates: Option<std::path::PathBuf>,
    /// A command that prints the headers for calls, as JSON:
    /// {"headers": {"Authorization": "Bearer …"}, "lifetime": SECONDS}
    /// ("lifetime" optional). Run when first needed, again before the
    /// lifetime ends and after a 401; its output is never printed.
    #[arg(long, value_name = "CMD", env = "AOPAY_CREDENTIALS_COMMAND")]
    pub(crate) credentials_command: Option<String>,
    /// Sign every request with a fresh JWT (the upstream's scheme): your
    /// partner id, the `partnerId` claim. With --jwt-secret-file (or
    /// AOPAY_JWT_SECRET) for HS256, or --jwt-private-key-file for RS256.
    #[arg(long, value_name = "ID", env = "AOPAY_JWT_PARTNER_ID")]
    pub(crate) jwt_partner_id: Option<String>,
    /// HS256: a file holding the shared secret (one trailing newline is
    /// dropped); AOPAY_JWT_SECRET may hold it instead. Never printed.
    #[arg(long, value_name = "FILE")]
    pub(crate) jwt_secret_file: Option<std::path::PathBuf>,
    /// RS256: the private key, a PEM file.
    #[arg(long, value_name = "PEM_FILE", env = "AOPAY_JWT_PRIVATE_KEY_FILE")]
    pub(crate) jwt_private_key_file: Option<std::path::PathBuf>,
    /// The header that carries the token (default Token).
    #[arg(long, value_name = "NAME", env = "AOPAY_JWT_HEADER")]
    pub(crate) jwt_header: Option<String>,
}

/// The idempotency journal a command keeps or reads.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct JournalOpt {
    /// Idempotency journal: a SQLite file path or postgres://….
    #[arg(long, env = "AOPAY_JOURNAL")]
    pub(crate) journal: Option<String>,
}

/// How a command prints its outcome.
#[derive(Args, Debug, Clone, Copy, Default)]
pub(crate) struct Output {
    /// Print the outcome (or error) as JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The options commands share (connection, journal, output), as one command was given them.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Its connection, for a command that calls the API.
    pub(crate) conn: Option<Connection>,
    pub(crate) journal: Option<String>,
    pub(crate) json: bool,
}

impl Shared {
    /// Whether it runs against an embedded sandbox (`--sandbox`).
    pub(crate) fn sandbox(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| c.sandbox)
    }

    pub(crate) fn of(conn: Option<&Connection>, journal: Option<&JournalOpt>, out: Output) -> Self {
        Self {
            conn: conn.cloned(),
            journal: journal.and_then(|j| j.journal.clone()),
            json: out.json,
        }
    }

    /// A generated endpoint command's: its flags were added by
    /// `endpoint_command`, so they are there to read.
    pub(crate) fn of_endpoint(
        spec: &EndpointSpec,
        sub: &clap::ArgMatches,
    ) -> Result<Self, clap::Error> {
        let journal = match spec.effect {
            aopay_core::Effect::Write => Some(JournalOpt::from_arg_matches(sub)?),
            aopay_core::Effect::Read => None,
        };
        Ok(Self::of(
            Some(&Connection::from_arg_matches(sub)?),
            journal.as_ref(),
            Output::from_arg_matches(sub)?,
        ))
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Recharge a prepaid mobile number or a DTH account.
    #[command(after_help = EXITS_RECHARGE)]
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
        #[command(flatten)]
        journal: JournalOpt,
        #[command(flatten)]
        out: Output,
        #[command(flatten)]
        conn: Box<Connection>,
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
    #[command(after_help = EXITS_STATUS)]
    Status {
        /// The reference id a recharge returned.
        reference_id: String,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        out: Output,
        #[command(flatten)]
        conn: Box<Connection>,
    },
    /// Run the sandbox server until Ctrl-C.
    #[command(after_help = EXITS_SANDBOX)]
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
        /// The wallet covers N referenced payments; every later one gets
        /// HTTP 402 code 16 (insufficient fund), as an empty wallet does.
        #[arg(long, value_name = "N")]
        wallet_payments: Option<u64>,
        /// Require a JWT on every call, HS256 with the secret in this file
        /// (one trailing newline dropped), checked as the upstream does.
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with = "require_jwt_public_key_file"
        )]
        require_jwt_secret_file: Option<std::path::PathBuf>,
        /// Require a JWT on every call, RS256 with this public key (PEM).
        #[arg(long, value_name = "PEM_FILE")]
        require_jwt_public_key_file: Option<std::path::PathBuf>,
        /// The header that carries the JWT (default Token).
        #[arg(long, value_name = "NAME")]
        jwt_header: Option<String>,
    },
    /// Print a shell's completion script.
    ///
    /// For bash: `aopay completions bash > ~/.local/share/bash-completion/completions/aopay`;
    /// zsh: `aopay completions zsh > "${fpath[1]}/_aopay"`; fish: `aopay
    /// completions fish > ~/.config/fish/completions/aopay.fish`.
    #[command(after_help = EXITS_PRINT)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    ///
    /// `aopay man > aopay.1 && man ./aopay.1`, or install it as
    /// `/usr/local/share/man/man1/aopay.1`.
    #[command(after_help = EXITS_PRINT)]
    Man,
}

impl Command {
    /// Its connection, journal and output options.
    pub(crate) fn shared(&self) -> Shared {
        match self {
            Self::Recharge {
                conn, journal, out, ..
            } => Shared::of(Some(conn), Some(journal), *out),
            Self::Status { conn, out, .. } => Shared::of(Some(conn), None, *out),
            Self::Journal {
                action:
                    JournalAction::Pending { journal, out }
                    | JournalAction::Settle { journal, out, .. }
                    | JournalAction::Release { journal, out, .. }
                    | JournalAction::Audit { journal, out, .. },
            } => Shared::of(None, Some(journal), *out),
            Self::Journal {
                action: JournalAction::Reconcile { conn, journal, out },
            } => Shared::of(Some(conn), Some(journal), *out),
            Self::Batch { action } => action.shared(),
            Self::Sandbox { .. } | Self::Completions { .. } | Self::Man => Shared::default(),
        }
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum JournalAction {
    /// List the entries that are not final (claimed, sending, pending, unknown).
    /// Reads the journal only: no registration id, nothing sent.
    #[command(after_help = EXITS_PENDING)]
    Pending {
        #[command(flatten)]
        journal: JournalOpt,
        #[command(flatten)]
        out: Output,
    },
    /// Check every unresolved entry that has a reference, and record the answers.
    #[command(after_help = EXITS_RECONCILE)]
    Reconcile {
        #[command(flatten)]
        journal: JournalOpt,
        #[command(flatten)]
        out: Output,
        #[command(flatten)]
        conn: Box<Connection>,
    },
    /// Settle by hand an entry that is not final, with what the AOPay
    /// statement shows; who, when and why are kept (`aopay journal audit`).
    /// Reads and writes the journal only: nothing sent.
    #[command(after_help = EXITS_BY_HAND)]
    Settle {
        /// The entry's idempotency key (a batch's order id).
        key: String,
        /// What the statement shows: SUCCESS, FAILED, or for a referenced
        /// write REFUNDED.
        #[arg(long, value_parser = ["SUCCESS", "FAILED", "REFUNDED"], ignore_case = true)]
        status: String,
        /// The reference the statement shows, if the entry lacks one.
        #[arg(long)]
        reference: Option<String>,
        /// Why: what was checked (kept with the entry's audit trail).
        #[arg(long)]
        note: String,
        #[command(flatten)]
        journal: JournalOpt,
        #[command(flatten)]
        out: Output,
    },
    /// Release by hand an entry that is not final (the statement shows it
    /// was never paid): the next run with its key sends it again. Kept in
    /// the audit trail. Nothing sent.
    #[command(after_help = EXITS_BY_HAND)]
    Release {
        /// The entry's idempotency key (a batch's order id).
        key: String,
        /// Why: what was checked (kept with the entry's audit trail).
        #[arg(long)]
        note: String,
        #[command(flatten)]
        journal: JournalOpt,
        #[command(flatten)]
        out: Output,
    },
    /// List what was settled or released by hand for a key: who, when, why.
    #[command(after_help = EXITS_READ_JOURNAL)]
    Audit {
        /// The idempotency key.
        key: String,
        #[command(flatten)]
        journal: JournalOpt,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Args, Debug)]
pub(crate) struct WaitArgs {
    /// Poll the status until it is final (SUCCESS, FAILED or, for a payment, REFUNDED).
    #[arg(long)]
    pub(crate) wait: bool,
    /// Longest wait, in seconds.
    #[arg(long, default_value_t = 120.0, allow_hyphen_values = true)]
    pub(crate) wait_timeout: f64,
}

/// The endpoints whose subcommand is generated from the table (`dth-info`).
pub(crate) fn generated_endpoints() -> impl Iterator<Item = &'static EndpointSpec> {
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
    let mut cmd = clap::Command::new(name);
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
    let write = spec.effect == aopay_core::Effect::Write;
    let exits = match (spec.answer.name == "Payment", write) {
        (true, true) => EXITS_PAYMENT,
        (true, false) => EXITS_PAYMENT_STATUS,
        (false, _) => EXITS_READ,
    };
    if spec.answer.name == "Payment" {
        cmd = WaitArgs::augment_args(cmd);
    }
    if write {
        cmd = JournalOpt::augment_args(cmd);
    }
    cmd = Connection::augment_args(Output::augment_args(cmd));
    // Last: an options struct's doc would otherwise describe the command.
    cmd.about(command_summary(spec))
        .long_about(None::<&str>)
        .after_help(exits)
}

/// What a generated command does, in one line: the table's summary.
pub(crate) fn command_summary(spec: &EndpointSpec) -> &'static str {
    spec.summary.trim_end_matches('.')
}

/// Every command: the written ones and one per endpoint of the core's table
/// (grouped by family: `aopay bill pay`).
pub(crate) fn full_command() -> clap::Command {
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
