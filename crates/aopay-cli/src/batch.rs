//! `aopay batch`: pay a file of orders, each at most once (through the
//! journal), with a report per order and a summary; `aopay batch status`
//! says where a journal's orders stand without sending anything.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aopay_core::batch::{
    BatchOptions, BatchResult, BatchSummary, OrderFormat, OrderStream, batch_default, batch_option,
};
use aopay_core::{Client, EntryState, OptionValue, ValidationError};
use clap::{Subcommand, ValueEnum};

use crate::cli::{Connection, JournalOpt, Output, Shared};
use crate::{Failure, exit, other};

pub(crate) const ORDERS_HELP: &str = "\
Orders: CSV with a header, or JSON Lines (one object per line), one order per line.
  order_id   your id for the order: its idempotency key (required)
  kind       the write: mobile_recharge (the default), do_recharge, pay_bill, fastag_recharge
  …and the fields of that write, named as its flags are (snake_case):
  mobile_recharge  product_id, amount (whole rupees), customer_number, geocode
  do_recharge      operator, number, amount, reference_id (generated when empty)
  pay_bill         bill (the fetch's JSON), amount, reference_id, geocode
  fastag_recharge  bill (the fetch's JSON), amount, reference_id, geocode
A malformed row is reported with its line number and never paid; an order id seen
again with the same fields is reported as DUPLICATE, with other fields as a conflict.

Exit codes: 0 every order final and paid, 3 every order final but some failed, were
refunded or refused, 4 some not final (pending, outcome unknown, or to be retried):
run the same command again to settle them; 6 stopped by the API (an empty wallet, or
credentials refused): no new order was sent, the rest are NOT_SENT; top up (or fix the
credentials), then run the same command again; 2 invalid options, 1 any other error.";

#[derive(Subcommand, Debug)]
pub(crate) enum BatchAction {
    /// Pay every order of a file, each once: a rerun pays only what was never sent
    #[command(after_help = ORDERS_HELP)]
    Run(Box<RunArgs>),
    /// Where the orders of a journal stand (reads the journal only; sends nothing)
    #[command(after_help = crate::cli::EXITS_BATCH_STATUS)]
    Status {
        /// The journal (a SQLite file or postgres://…); default --journal / AOPAY_JOURNAL.
        #[arg(value_name = "JOURNAL")]
        path: Option<String>,
        #[command(flatten)]
        journal: JournalOpt,
        #[command(flatten)]
        out: Output,
    },
}

impl BatchAction {
    pub(crate) fn shared(&self) -> Shared {
        match self {
            Self::Run(args) => Shared::of(Some(&args.conn), Some(&args.journal), args.output),
            Self::Status { path, journal, out } => {
                let mut g = Shared::of(None, Some(journal), *out);
                g.journal = path.clone().or(g.journal);
                g
            }
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Format {
    Csv,
    Jsonl,
}

#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    /// The orders file (.csv or .jsonl); `-` reads standard input.
    #[arg(value_name = "ORDERS")]
    orders: PathBuf,
    /// The orders' format (default: from the extension; CSV otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write one result per order to FILE: JSON Lines (.jsonl) or CSV (.csv).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    // The batch's own options: name, default and help from the core's
    // table (`BATCH_OPTIONS`), each set through `BatchOptions::set`.
    #[arg(long, default_value = batch_default("concurrency"), help = doc("concurrency"), allow_hyphen_values = true)]
    concurrency: i64,
    #[arg(long, help = doc("rate"))]
    rate: Option<String>,
    #[arg(long, env = "AOPAY_GEOCODE", help = doc("geocode"))]
    geocode: Option<String>,
    #[arg(long, default_value = batch_default("wait_timeout"), help = doc("wait_timeout"), allow_hyphen_values = true)]
    wait_timeout: f64,
    #[arg(long, default_value = batch_default("attempts"), help = doc("attempts"), allow_hyphen_values = true)]
    attempts: i64,
    #[arg(long, help = doc("resend_unarrived"))]
    resend_unarrived: bool,
    #[arg(long, help = doc("create_journal"))]
    create_journal: bool,
    #[command(flatten)]
    journal: JournalOpt,
    #[command(flatten)]
    output: Output,
    #[command(flatten)]
    conn: Connection,
}

/// A file for personal data (customer numbers, answers): created readable
/// by its owner only (0600 on Unix), whatever the umask; an existing one is
/// truncated and made so.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// Where the per-order results go.
enum Report {
    None,
    Json(std::io::BufWriter<std::fs::File>),
    Csv(Box<csv::Writer<std::fs::File>>),
}

impl Report {
    fn open(path: Option<&Path>) -> Result<Self, Failure> {
        let Some(path) = path else {
            return Ok(Self::None);
        };
        let format = OrderFormat::from_path(path).ok_or_else(|| {
            ValidationError::new("out", "must end in .jsonl (JSON Lines) or .csv")
        })?;
        let file = private_file(path)
            .map_err(|e| other(format!("cannot write {}: {e}", path.display())))?;
        let mut report = match format {
            OrderFormat::Csv => Self::Csv(Box::new(csv::Writer::from_writer(file))),
            OrderFormat::JsonLines => Self::Json(std::io::BufWriter::new(file)),
        };
        if let Self::Csv(c) = &mut report {
            c.write_record(BatchResult::CSV_HEADER)
                .map_err(|e| other(format!("cannot write {}: {e}", path.display())))?;
        }
        Ok(report)
    }

    fn write(&mut self, r: &BatchResult) -> std::io::Result<()> {
        use std::io::Write;
        match self {
            Self::None => Ok(()),
            Self::Json(w) => writeln!(w, "{}", r.to_json_value()),
            Self::Csv(c) => c
                .write_record(r.to_csv_row())
                .map_err(std::io::Error::other),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        match self {
            Self::None => Ok(()),
            Self::Json(w) => w.flush(),
            Self::Csv(c) => c.flush(),
        }
    }
}

/// Every option checked (by the core's rules) before anything is sent.
pub(crate) fn options(
    args: &RunArgs,
    sandbox_geocode: Option<&str>,
) -> Result<BatchOptions, Failure> {
    let mut set = vec![
        ("concurrency", OptionValue::Count(args.concurrency)),
        ("attempts", OptionValue::Count(args.attempts)),
        ("wait_timeout", OptionValue::Seconds(args.wait_timeout)),
        ("resend_unarrived", OptionValue::Flag(args.resend_unarrived)),
        ("create_journal", OptionValue::Flag(args.create_journal)),
    ];
    if let Some(rate) = &args.rate {
        set.push(("rate", OptionValue::Text(rate.clone())));
    }
    if let Some(g) = args.geocode.as_deref().or(sandbox_geocode) {
        set.push(("geocode", OptionValue::Text(g.to_owned())));
    }
    let mut o = BatchOptions::default();
    for (name, value) in set {
        o = o.set(name, value)?;
    }
    Ok(o)
}

/// Count the orders of a file (its lines, less a CSV header) for the
/// progress bar, reading it once without keeping it. Only a regular file:
/// a pipe or a device (`-`, `/dev/zero`) may never end, and is read once.
fn count_orders(path: &Path, format: OrderFormat) -> Option<u64> {
    if path == Path::new("-") || !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut r = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path).ok()?);
    let mut n = 0u64;
    // Line ends as the reader takes them: LF, CRLF or a lone CR.
    let mut last = b'\n';
    loop {
        let buf = r.fill_buf().ok()?;
        if buf.is_empty() {
            break;
        }
        for &b in buf {
            if b == b'\n' && last != b'\r' || b == b'\r' {
                n += 1;
            }
            last = b;
        }
        let len = buf.len();
        r.consume(len);
    }
    if last != b'\n' && last != b'\r' {
        n += 1;
    }
    Some(match format {
        OrderFormat::Csv => n.saturating_sub(1),
        OrderFormat::JsonLines => n,
    })
}

pub(crate) async fn run(
    client: &Client,
    args: &RunArgs,
    opts: BatchOptions,
    json: bool,
) -> Result<u8, Failure> {
    let format = match args.format {
        Some(Format::Csv) => Some(OrderFormat::Csv),
        Some(Format::Jsonl) => Some(OrderFormat::JsonLines),
        None => None,
    };
    // The options and the journal first (one that does not exist is
    // refused without --create-journal), then the orders: nothing is read
    // for a refused batch.
    client.check_batch(&opts)?;
    // The orders first: a file that is not an orders file is refused
    // before anything is sent or written (exit 2).
    let orders = OrderStream::open(&args.orders, format).map_err(|e| {
        Failure::from(ValidationError::new(
            "orders",
            format!("cannot read {}: {e}", args.orders.display()),
        ))
    })?;
    let mut report = Report::open(args.out.as_deref())?;
    // The total (a second read of the file) only when progress is shown.
    let total = if json {
        None
    } else {
        count_orders(
            &args.orders,
            format
                .or_else(|| OrderFormat::from_path(&args.orders))
                .unwrap_or(OrderFormat::Csv),
        )
    };
    let mut run = client.run_batch(orders, opts)?;
    let stopper = run.stopper();
    let stopped = run.stopper();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            err!(
                "stopping: no new orders; waiting for the ones in flight (Ctrl-C again abandons them: the next run settles them)"
            );
            stopper.stop();
            if tokio::signal::ctrl_c().await.is_ok() {
                err!("abandoned the orders in flight: run the same command again to settle them");
                // What the journal has is moved into its file (bounded wait).
                aopay_core::Journal::checkpoint_all();
                std::process::exit(130);
            }
        }
    });
    let mut progress = Progress::new(total, json);
    let mut summary = BatchSummary::default();
    let mut write_error = None;
    while let Some(r) = run.next().await {
        summary.add(&r);
        if let Err(e) = report.write(&r) {
            write_error.get_or_insert(e);
        }
        progress.update(&summary);
    }
    progress.finish(&summary);
    if let Err(e) = report.flush() {
        write_error.get_or_insert(e);
    }
    // A stopped batch did not read all its orders: it is not done.
    let halted = run.halted();
    let stopped = stopped.is_stopped();
    if json {
        let mut v = summary.to_json_value();
        v["stopped"] = stopped.into();
        v["halted"] = halted.map(|h| h.as_str()).into();
        out!("{v}");
    } else {
        print_summary(&summary, args.out.as_deref());
        match halted {
            Some(h) => out!("{}", h.message()),
            None if stopped => out!(
                "stopped     before the end of the orders: run the same command again to pay the rest"
            ),
            None => {}
        }
    }
    if let Some(e) = write_error {
        return Err(other(format!("the report could not be written: {e}")));
    }
    Ok(if halted.is_some() {
        exit::HALTED
    } else if stopped || !summary.all_final() {
        exit::NOT_FINAL
    } else if summary.all_succeeded() {
        exit::SUCCESS
    } else {
        exit::FAILED
    })
}

fn print_summary(s: &BatchSummary, out: Option<&Path>) {
    out!("orders      {}", s.orders);
    for (status, n) in &s.by_status {
        out!("  {status:<26}{n}");
    }
    out!("paid        {}", s.paid);
    if s.not_final > 0 {
        out!(
            "not final   {} (run the same command again: what was paid is not paid again, what is in doubt is checked first)",
            s.not_final
        );
    }
    if let Some(path) = out {
        out!("results     {}", path.display());
    }
}

/// A progress bar on a terminal; plain lines every few seconds otherwise;
/// nothing with --json.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    last: std::time::Instant,
    started: std::time::Instant,
    total: Option<u64>,
}

impl Progress {
    fn new(total: Option<u64>, json: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!json && terminal).then(|| {
            let bar = total.map_or_else(
                indicatif::ProgressBar::no_length,
                indicatif::ProgressBar::new,
            );
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} orders  {per_sec}  eta {eta}  {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        let now = std::time::Instant::now();
        Self {
            bar,
            plain: !json && !terminal,
            last: now,
            started: now,
            total,
        }
    }

    fn counts(s: &BatchSummary) -> String {
        s.by_status
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn update(&mut self, s: &BatchSummary) {
        if let Some(bar) = &self.bar {
            bar.set_position(s.orders);
            bar.set_message(Self::counts(s));
        } else if self.plain && self.last.elapsed() >= Duration::from_secs(5) {
            self.last = std::time::Instant::now();
            let of = self.total.map(|t| format!("/{t}")).unwrap_or_default();
            let rate = s.orders as f64 / self.started.elapsed().as_secs_f64().max(0.001);
            err!("{}{of} orders, {rate:.0}/s: {}", s.orders, Self::counts(s));
        }
    }

    fn finish(&self, s: &BatchSummary) {
        if let Some(bar) = &self.bar {
            bar.set_message(Self::counts(s));
            bar.finish();
        }
    }
}

/// `aopay batch status`: the journal's entries counted by write, state and
/// status. Nothing is sent.
pub(crate) async fn status(journal: &str, json: bool) -> Result<u8, Failure> {
    let journal = crate::journal::open_to_read(journal)?;
    let tally = journal.tally().await?;
    let unresolved: u64 = tally
        .iter()
        .filter(|t| t.state != EntryState::Final)
        .map(|t| t.count)
        .sum();
    let total: u64 = tally.iter().map(|t| t.count).sum();
    if json {
        let rows: Vec<serde_json::Value> = tally
            .iter()
            .map(|t| {
                serde_json::json!({
                    "endpoint": t.endpoint,
                    "state": t.state.as_str(),
                    "status": t.status,
                    "count": t.count,
                })
            })
            .collect();
        out!(
            "{}",
            serde_json::json!({"entries": total, "unresolved": unresolved, "by_state": rows})
        );
    } else {
        out!("entries     {total}");
        for t in &tally {
            out!(
                "  {:<17}{:<9}{:<10}{}",
                t.endpoint,
                t.state.as_str(),
                t.status.as_deref().unwrap_or("-"),
                t.count
            );
        }
        if unresolved > 0 {
            out!(
                "unresolved  {unresolved} (the next `aopay batch run` settles them first; `aopay journal pending` lists them)"
            );
        }
    }
    Ok(if unresolved == 0 {
        exit::SUCCESS
    } else {
        exit::NOT_FINAL
    })
}

/// A batch option's help line, from the core's table (without the final
/// period, as clap writes help).
fn doc(name: &str) -> &'static str {
    batch_option(name).map_or("", |o| o.doc.trim_end_matches('.'))
}
