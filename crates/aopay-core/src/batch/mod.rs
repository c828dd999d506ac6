//! Batches (docs/protocol.md §9): a stream of orders, each paid at most
//! once through the journal, whatever crashes, reruns and duplicates in
//! the input happen. An order's id is its idempotency key.
//!
//! - [`OrderReader`] reads orders from CSV or JSON Lines, one line at a
//!   time (the input is streamed, never loaded whole).
//! - [`crate::Client::run_batch`] pays them, `concurrency` at a time and at
//!   most `rate` per second, and yields one [`BatchResult`] per order as it
//!   finishes; [`BatchSummary`] adds them up.

mod input;
mod options;
mod run;
mod stop;
mod stream;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::endpoints::{ArgKind, ArgValue, Args, EndpointSpec, Lang, endpoint};
use crate::error::{Error, ErrorKind, ValidationError};
use crate::money::Money;
use crate::wire::Effect;

pub(crate) use crate::client::pace::Pacer;
pub use crate::client::pace::parse_rate;
pub use input::{MAX_LINE_BYTES, MAX_SKIPPED_BYTES, OrderFormat, OrderReader};
pub use options::{
    BATCH_OPTIONS, BatchOption, BatchOptions, batch_default, batch_option, batch_option_in,
};
pub use run::BatchRun;
pub use stop::{BatchStop, Halt, JOURNAL_PAUSE};
pub use stream::OrderStream;

/// The kind of write an order is when it names none.
pub const DEFAULT_KIND: &str = "mobile_recharge";

/// One order of a batch: a write, keyed by the caller's order id.
#[derive(Clone)]
pub struct Order {
    line: u64,
    order_id: String,
    kind: &'static EndpointSpec,
    args: Args,
    /// A hash of the kind and every field, to tell a repeat of this order
    /// from another order under the same id.
    fields: u64,
    amount: Option<Money>,
}

// The fields hold customer numbers: Debug shows only where the order is.
impl std::fmt::Debug for Order {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Order")
            .field("line", &self.line)
            .field("order_id", &self.order_id)
            .field("kind", &self.kind.method)
            .finish_non_exhaustive()
    }
}

/// The writes a batch can pay: every write of the endpoint table.
pub fn batch_kinds() -> impl Iterator<Item = &'static EndpointSpec> {
    crate::endpoints::ENDPOINTS
        .iter()
        .copied()
        .filter(|e| e.effect == Effect::Write && e.args.iter().any(|a| a.name == KEY_ARG))
}

const KEY_ARG: &str = "idempotency_key";

fn kind_of(kind: Option<&str>) -> Result<&'static EndpointSpec, ValidationError> {
    let name = kind.map_or(DEFAULT_KIND, str::trim);
    let name = if name.is_empty() { DEFAULT_KIND } else { name };
    endpoint(&name.replace('-', "_"))
        .filter(|e| batch_kinds().any(|k| std::ptr::eq(k, *e)))
        .ok_or_else(|| {
            let known: Vec<&str> = batch_kinds().map(|k| k.method).collect();
            ValidationError::new(
                "kind",
                format!("{name:?} is not a write (one of {})", known.join(", ")),
            )
        })
}

impl Order {
    /// An order from its fields (argument names of its kind's method, in
    /// the caller's spelling). `kind` is a write's method name
    /// (`mobile_recharge` when `None` or empty). Nothing is checked against
    /// the endpoint's rules yet: that happens, as for any call, before the
    /// order is sent, and a refused order is a result, not a panic.
    pub fn new(
        line: u64,
        order_id: &str,
        kind: Option<&str>,
        lang: Lang,
        fields: Vec<(String, ArgValue)>,
    ) -> Result<Self, RowError> {
        let id = order_id.trim();
        let fail = |e: ValidationError| RowError {
            line,
            order_id: (!id.is_empty()).then(|| id.to_owned()),
            error: e.into(),
        };
        if id.is_empty() {
            return Err(fail(ValidationError::new("order_id", "is required")));
        }
        let kind = kind_of(kind).map_err(fail)?;
        let mut args = Args::new(lang);
        let mut text = vec![kind.method.to_owned()];
        let mut sorted: Vec<&(String, ArgValue)> = fields.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, value) in sorted {
            if *name == lang.spell(KEY_ARG) {
                return Err(fail(ValidationError::new(
                    "idempotency_key",
                    "is the order_id in a batch: give no idempotency_key field",
                )));
            }
            if *value == ArgValue::Null {
                continue;
            }
            text.push(format!("{name}={value:?}"));
        }
        let amount = fields.iter().find_map(|(n, v)| match (n.as_str(), v) {
            ("amount", ArgValue::Text(t) | ArgValue::Decimal(t)) => Money::parse("amount", t).ok(),
            ("amount", ArgValue::Int(n)) => n.checked_mul(100).map(Money::from_paise),
            _ => None,
        });
        for (name, value) in fields {
            args.set(name, value);
        }
        args.set(lang.spell(KEY_ARG), ArgValue::Text(id.to_owned()));
        let parts: Vec<&str> = text.iter().map(String::as_str).collect();
        Ok(Self {
            line,
            order_id: id.to_owned(),
            kind,
            args,
            fields: hash128(&parts.join("\u{1f}")) as u64,
            amount,
        })
    }

    /// The line (or position, from 1) it came from.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The caller's order id: the idempotency key it is paid under.
    pub fn order_id(&self) -> &str {
        &self.order_id
    }

    /// The write's method name (`mobile_recharge`, `pay_bill`…).
    pub fn kind(&self) -> &'static str {
        self.kind.method
    }
}

/// An input row that is not an order (bad syntax, no order id, an unknown
/// kind): reported with its line, never sent.
#[derive(Debug)]
pub struct RowError {
    /// Its line in the input (1 is the first).
    pub line: u64,
    /// Its order id, when one could be read.
    pub order_id: Option<String>,
    /// What is wrong (a `ValidationError`).
    pub error: Error,
}

impl RowError {
    pub(crate) fn new(line: u64, field: &'static str, rule: impl Into<String>) -> Self {
        Self {
            line,
            order_id: None,
            error: ValidationError::new(field, rule).into(),
        }
    }
}

/// What became of one order.
#[derive(Debug)]
#[non_exhaustive]
pub struct BatchResult {
    /// Its line in the input.
    pub line: u64,
    /// Its order id, when it had one.
    pub order_id: Option<String>,
    /// The write's method name, when known.
    pub kind: Option<&'static str>,
    /// The amount ordered, exact.
    pub amount: Option<Money>,
    /// The answer (its endpoint's JSON, as `Client::prepare` gives it; after
    /// a wait, the final one), or why there is none.
    pub outcome: Result<Value, Error>,
    /// For an order id seen earlier in this input with the same fields: that
    /// line. Nothing was sent for it.
    pub duplicate_of: Option<u64>,
    /// Not sent, because the API stopped the batch (an empty wallet,
    /// refused credentials): a rerun sends it.
    pub not_sent: Option<Halt>,
}

impl BatchResult {
    fn of_row(e: RowError) -> Self {
        Self {
            line: e.line,
            order_id: e.order_id,
            kind: None,
            amount: None,
            outcome: Err(e.error),
            duplicate_of: None,
            not_sent: None,
        }
    }

    /// `SUCCESS`, `PENDING`, `FAILED`, `REFUNDED`, `UNKNOWN` (the answer's
    /// status), `DUPLICATE`, `NOT_SENT`, or the error's class
    /// (`ValidationError`, `OutcomeUnknownError`…).
    pub fn status(&self) -> &str {
        if self.duplicate_of.is_some() {
            return "DUPLICATE";
        }
        if self.not_sent.is_some() {
            return "NOT_SENT";
        }
        match &self.outcome {
            Ok(a) => a["status"].as_str().unwrap_or("UNKNOWN"),
            Err(e) => e.kind().class_name(),
        }
    }

    /// Nothing more will change for this order: its answer is final, or it
    /// was refused before anything was paid (invalid, a conflicting order
    /// id, refused by the API), or it repeats an earlier line. A pending
    /// answer, an unknown outcome, or a failure that a rerun will retry is
    /// not final.
    pub fn is_final(&self) -> bool {
        if self.duplicate_of.is_some() {
            return true;
        }
        if self.not_sent.is_some() {
            return false;
        }
        match &self.outcome {
            Ok(a) => a["is_final"] == true,
            Err(e) => matches!(
                e.kind(),
                ErrorKind::Validation | ErrorKind::IdempotencyConflict | ErrorKind::Api
            ),
        }
    }

    /// The amount paid: the order's amount when its answer is SUCCESS.
    pub fn paid(&self) -> Option<Money> {
        (self.duplicate_of.is_none() && self.status() == "SUCCESS")
            .then_some(self.amount)
            .flatten()
    }

    fn answer_text(&self, key: &str) -> Option<&str> {
        self.outcome.as_ref().ok().and_then(|a| a[key].as_str())
    }

    /// The result as one JSON object (one line of a JSON Lines report).
    pub fn to_json_value(&self) -> Value {
        let reference = self
            .answer_text("reference_id")
            .or_else(|| self.outcome.as_ref().err().and_then(Error::reference_id));
        serde_json::json!({
            "line": self.line,
            "order_id": self.order_id,
            "kind": self.kind,
            "status": self.status(),
            "is_final": self.is_final(),
            "amount": self.amount.map(|m| m.to_string()),
            "reference_id": reference,
            "txn_id": self.answer_text("txn_id"),
            "operator_id": self.answer_text("operator_id"),
            "duplicate_of": self.duplicate_of,
            "not_sent": self.not_sent.map(Halt::as_str),
            "error": self.outcome.as_ref().err().map(Error::to_json_value),
        })
    }

    /// The columns of a CSV report, in order.
    pub const CSV_HEADER: [&'static str; 10] = [
        "line",
        "order_id",
        "kind",
        "status",
        "is_final",
        "amount",
        "reference_id",
        "txn_id",
        "operator_id",
        "error",
    ];

    /// The result as one CSV row (the columns of [`Self::CSV_HEADER`]),
    /// every cell safe to open in a spreadsheet: one that would start a
    /// formula (`=`, `+`, `-`, `@`, a tab or a CR first, from an order id or
    /// an answer) gets a `'` before it, as OWASP recommends, so that it
    /// reads as text.
    pub fn to_csv_row(&self) -> Vec<String> {
        self.csv_cells().into_iter().map(spreadsheet_safe).collect()
    }

    fn csv_cells(&self) -> Vec<String> {
        let v = self.to_json_value();
        let cell = |k: &str| match &v[k] {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut row: Vec<String> = Self::CSV_HEADER[..9].iter().map(|k| cell(k)).collect();
        row.push(match (&self.outcome, self.duplicate_of) {
            _ if self.not_sent.is_some() => {
                format!("not sent: {}", self.not_sent.map_or("", Halt::message))
            }
            (_, Some(first)) => format!("same order as line {first}"),
            (Err(e), None) => e.to_string(),
            (Ok(_), None) => String::new(),
        });
        row
    }
}

/// A CSV cell that a spreadsheet reads as text, never as a formula.
pub fn spreadsheet_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// Counts and totals over a batch's results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Results seen (every input row gives one).
    pub orders: u64,
    /// How many of each [`BatchResult::status`].
    pub by_status: BTreeMap<String, u64>,
    /// What the successful orders paid, exact.
    pub paid: Money,
    /// Results that are not final (pending, unknown, to be retried).
    pub not_final: u64,
}

impl BatchSummary {
    /// Count one result.
    pub fn add(&mut self, r: &BatchResult) {
        self.orders += 1;
        *self.by_status.entry(r.status().to_owned()).or_default() += 1;
        if let Some(p) = r.paid() {
            self.paid = Money::from_paise(self.paid.paise().saturating_add(p.paise()));
        }
        if !r.is_final() {
            self.not_final += 1;
        }
    }

    /// Every order is final.
    pub fn all_final(&self) -> bool {
        self.not_final == 0
    }

    /// Every order is final and paid (duplicates of paid ones included).
    pub fn all_succeeded(&self) -> bool {
        let ok = |s: &str| s == "SUCCESS" || s == "DUPLICATE";
        self.all_final() && self.by_status.iter().all(|(s, n)| ok(s) || *n == 0)
    }

    /// The summary as one JSON object.
    pub fn to_json_value(&self) -> Value {
        serde_json::json!({
            "orders": self.orders,
            "by_status": self.by_status,
            "paid": self.paid.to_string(),
            "paid_paise": self.paid.paise(),
            "not_final": self.not_final,
            "all_final": self.all_final(),
        })
    }
}

/// The value of a JSON field for an argument of `kind`: text is read as
/// the CLI reads it; numbers, booleans and objects are passed as they are,
/// for the endpoint's rules to accept or refuse.
fn json_arg(name: &'static str, kind: ArgKind, v: Value) -> Result<ArgValue, ValidationError> {
    Ok(match v {
        Value::Null => ArgValue::Null,
        Value::Bool(b) => ArgValue::Bool(b),
        Value::String(s) => ArgValue::from_text(name, kind, &s)?,
        // A number with a fraction or an exponent is not exact: money and
        // whole numbers refuse it as a float.
        Value::Number(n) => n.as_i64().map_or_else(
            || ArgValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            ArgValue::Int,
        ),
        obj @ (Value::Object(_) | Value::Array(_)) => ArgValue::Json(obj),
    })
}

/// 128 bits of two SipHashes: an order id as a batch remembers it (16
/// bytes, not the id), where a collision between two ids in one input is
/// far less likely than a disk error.
pub(crate) fn hash128(text: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let half = |salt: u8| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut h);
        text.hash(&mut h);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

/// The argument spec of `name` on `kind`, if it takes one.
fn arg_of(kind: &'static EndpointSpec, name: &str) -> Option<&'static crate::endpoints::ArgSpec> {
    kind.args.iter().find(|a| a.name == name)
}

#[cfg(test)]
mod tests;
