//! What an answer means (docs/protocol.md §10): one table per endpoint
//! family, as data. Each row matches what an answer says (HTTP status,
//! `response_code`/`responsecode`, the top-level `status`, `data.status`,
//! `refunded`, a "not found" message) and gives an outcome or an error
//! kind; the first row that matches wins, and the last row of every table
//! matches anything, so an answer nobody wrote a row for is never final.
//! The client, the journal, batches and the protocol document all read
//! these tables; nothing else decides what an answer means.

use serde_json::{Map, Value};

use super::json::{first_text, flag, integer, lookup};
use crate::error::ErrorKind;

/// A transaction's fate as an answer states it (what a referenced write
/// and its status call answer: `PaymentStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Done: paid (final).
    Success,
    /// Still in process: its status call will tell.
    Pending,
    /// Done: not paid (final).
    Failed,
    /// Done: it failed and the wallet was credited back (final, not a
    /// success).
    Refunded,
    /// The answer names a transaction but not its fate: its status call
    /// will tell.
    Unknown,
}

impl Outcome {
    /// Every outcome, in the order the docs list them.
    pub const ALL: [Self; 5] = [
        Self::Success,
        Self::Pending,
        Self::Failed,
        Self::Refunded,
        Self::Unknown,
    ];

    /// A status word as stored (`SUCCESS`…), case-insensitively; a word
    /// not known is `Unknown`.
    pub fn from_api(text: &str) -> Self {
        match text.trim().to_ascii_uppercase().as_str() {
            "SUCCESS" | "SUCCESSFUL" => Self::Success,
            "FAILED" | "FAILURE" => Self::Failed,
            "PENDING" | "PROCESSING" | "INITIATED" => Self::Pending,
            "REFUNDED" | "REFUND" | "REVERSED" => Self::Refunded,
            _ => Self::Unknown,
        }
    }

    /// `SUCCESS`, `PENDING`, `FAILED`, `REFUNDED` or `UNKNOWN`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Pending => "PENDING",
            Self::Failed => "FAILED",
            Self::Refunded => "REFUNDED",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// `SUCCESS`, `FAILED` and `REFUNDED` are final.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Success | Self::Failed | Self::Refunded)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a row makes of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The transaction's fate.
    Outcome(Outcome),
    /// An error of this kind.
    Error(ErrorKind),
    /// An answer the SDK cannot place: after a write, `OutcomeUnknown`
    /// (never safe to retry); after a read, `Protocol` (the read is
    /// retried).
    Unplaced,
}

/// A class of `data.status` (or, for V2, of a top-level status word).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word {
    /// `1` or `"1"` (the bill and recharge status calls).
    One,
    /// `0` or `"0"`.
    Zero,
    /// `SUCCESS`, `SUCCESSFUL`.
    Success,
    /// `FAILED`, `FAILURE`.
    Failure,
    /// `PENDING`, `PROCESSING`, `INITIATED`.
    Pending,
    /// `REFUNDED`, `REFUND`, `REVERSED`.
    Refunded,
    /// Anything else that is there (`"2"`, `"hold"`).
    Other,
}

impl Word {
    /// The class of one `data.status` value.
    pub fn of(v: &Value) -> Option<Self> {
        let text = match v {
            Value::String(s) if !s.trim().is_empty() => s.trim().to_ascii_uppercase(),
            Value::Number(n) => n.to_string(),
            Value::Null => return None,
            Value::String(_) => return None,
            _ => return Some(Self::Other),
        };
        Some(match text.as_str() {
            "1" => Self::One,
            "0" => Self::Zero,
            "SUCCESS" | "SUCCESSFUL" => Self::Success,
            "FAILED" | "FAILURE" => Self::Failure,
            "PENDING" | "PROCESSING" | "INITIATED" => Self::Pending,
            "REFUNDED" | "REFUND" | "REVERSED" => Self::Refunded,
            _ => Self::Other,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::One => "1",
            Self::Zero => "0",
            Self::Success => "success word",
            Self::Failure => "failure word",
            Self::Pending => "pending word",
            Self::Refunded => "refunded word",
            Self::Other => "anything else",
        }
    }
}

/// What one answer says, as the tables look at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The HTTP status.
    pub http: u16,
    /// `response_code` / `responsecode` / `statusCode`, as a number or
    /// digits.
    pub code: Option<i64>,
    /// The top-level `status` as a flag (`true`, `"false"`, `1`).
    pub accepted: Option<bool>,
    /// `data.status` (for V2 also a top-level status word).
    pub word: Option<Word>,
    /// `refunded` (in `data` or at the top level) as a flag.
    pub refunded: Option<bool>,
    /// A message saying no transaction was found.
    pub not_found: bool,
    /// A transaction id, acknowledgement or reference is named.
    pub names_transaction: bool,
}

impl Facts {
    /// Read the facts of a JSON object answer.
    pub fn of(http: u16, obj: &Map<String, Value>) -> Self {
        let data = lookup(obj, &["data"]).find_map(Value::as_object);
        let in_data = |names: &'static [&'static str]| {
            data.into_iter()
                .flat_map(move |d| lookup(d, names))
                .chain(lookup(obj, names))
        };
        let word = data
            .and_then(|d| lookup(d, &["status"]).find_map(Word::of))
            .or_else(|| {
                // A top-level status word (never the flag): V2 writes one.
                lookup(obj, &["status"])
                    .filter(|v| flag(v).is_none())
                    .find_map(Word::of)
                    .filter(|w| *w != Word::Other)
            });
        let not_found = data
            .and_then(|d| first_text(d, &["message"]))
            .into_iter()
            .chain(
                lookup(obj, &["message", "msg", "error"])
                    .filter_map(|v| v.as_str().map(str::to_owned)),
            )
            .any(|m| says_not_found(&m));
        Self {
            http,
            code: lookup(obj, &["responsecode", "statuscode"]).find_map(integer),
            accepted: lookup(obj, &["status"]).find_map(flag),
            word,
            refunded: in_data(&["refunded"]).find_map(flag),
            not_found,
            names_transaction: in_data(&[
                "txnid",
                "transactionid",
                "ackno",
                "referanceid",
                "referenceid",
                "refid",
            ])
            .any(|v| super::json::text(v).is_some()),
        }
    }
}

fn says_not_found(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("no transaction found")
        || m.contains("transaction not found")
        || m.contains("no record found")
}

/// Which HTTP statuses a row takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Http {
    /// Any.
    Any,
    /// 200..=299.
    Ok,
    /// 400..=499.
    ClientError,
    /// Exactly these.
    In(&'static [u16]),
}

/// Which codes a row takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Any code, or none.
    Any,
    /// No code at all.
    Absent,
    /// One of these.
    In(&'static [i64]),
    /// One of these, or none.
    InOrAbsent(&'static [i64]),
}

/// Which `data.status` a row takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataStatus {
    /// Any, or none.
    Any,
    /// None given.
    Absent,
    /// Given, whatever it is.
    Present,
    /// One of these classes.
    In(&'static [Word]),
}

/// What a row asks of the top-level `status` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// Anything, or nothing.
    Any,
    /// Not `false` (`true`, or absent).
    NotFalse,
    /// `false`.
    False,
}

/// One row of a table.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The HTTP statuses it takes.
    pub http: Http,
    /// The codes it takes.
    pub code: Code,
    /// What the top-level `status` flag must be.
    pub status: Flag,
    /// The `data.status` it takes.
    pub data: DataStatus,
    /// `Some(b)`: `refunded` must be `b` (absent counts as `false`).
    pub refunded: Option<bool>,
    /// Whether the message must say "no transaction found".
    pub not_found: bool,
    /// Whether the answer must name a transaction.
    pub names_transaction: bool,
    /// What it reads as.
    pub reading: Reading,
    /// Why, in a few words.
    pub meaning: &'static str,
    /// Where the row comes from.
    pub source: &'static str,
}

/// A row that takes anything: tables spell only what a row narrows.
const ANY: Row = Row {
    http: Http::Any,
    code: Code::Any,
    status: Flag::Any,
    data: DataStatus::Any,
    refunded: None,
    not_found: false,
    names_transaction: false,
    reading: Reading::Unplaced,
    meaning: "",
    source: "",
};

impl Row {
    fn matches(&self, f: &Facts) -> bool {
        let http = match self.http {
            Http::Any => true,
            Http::Ok => (200..300).contains(&f.http),
            Http::ClientError => (400..500).contains(&f.http),
            Http::In(list) => list.contains(&f.http),
        };
        let code = match self.code {
            Code::Any => true,
            Code::Absent => f.code.is_none(),
            Code::In(list) => f.code.is_some_and(|c| list.contains(&c)),
            Code::InOrAbsent(list) => f.code.is_none_or(|c| list.contains(&c)),
        };
        let data = match self.data {
            DataStatus::Any => true,
            DataStatus::Absent => f.word.is_none(),
            DataStatus::Present => f.word.is_some(),
            DataStatus::In(list) => f.word.is_some_and(|w| list.contains(&w)),
        };
        http && code
            && data
            && match self.status {
                Flag::Any => true,
                Flag::NotFalse => f.accepted != Some(false),
                Flag::False => f.accepted == Some(false),
            }
            && self
                .refunded
                .is_none_or(|r| f.refunded.unwrap_or(false) == r)
            && (!self.not_found || f.not_found)
            && (!self.names_transaction || f.names_transaction)
    }
}

/// The answer table of one endpoint family.
#[derive(Debug)]
pub struct AnswerTable {
    /// Its name, as the protocol document heads it.
    pub name: &'static str,
    /// The endpoints it reads, by method name.
    pub endpoints: &'static [&'static str],
    /// Its rows, in groups (a group may be shared by several tables);
    /// first match wins.
    pub groups: &'static [&'static [Row]],
}

impl AnswerTable {
    /// The first row that matches `facts`.
    pub fn row(&self, facts: &Facts) -> &Row {
        self.rows()
            .find(|r| r.matches(facts))
            .unwrap_or(&LAST_RESORT)
    }

    /// Every row, in order.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.groups.iter().flat_map(|g| g.iter())
    }

    /// The table as Markdown, for docs/protocol.md.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "#### {}\n\n`{}`. First matching row wins.\n\n| HTTP | code | `status` | `data.status` | `refunded` | other | reads as | why | source |\n|---|---|---|---|---|---|---|---|---|\n",
            self.name,
            self.endpoints.join("`, `")
        );
        for r in self.rows() {
            let http = match r.http {
                Http::Any => "any".to_owned(),
                Http::Ok => "2xx".to_owned(),
                Http::ClientError => "4xx".to_owned(),
                Http::In(l) => join(l),
            };
            let code = match r.code {
                Code::Any => "any".to_owned(),
                Code::Absent => "none".to_owned(),
                Code::In(l) => join(l),
                Code::InOrAbsent(l) => format!("{} or none", join(l)),
            };
            let data = match r.data {
                DataStatus::Any => "any".to_owned(),
                DataStatus::Absent => "none".to_owned(),
                DataStatus::Present => "given".to_owned(),
                DataStatus::In(l) => l.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(", "),
            };
            let mut other = Vec::new();
            if r.not_found {
                other.push("message \"No Transaction found\"");
            }
            if r.names_transaction {
                other.push("names a transaction");
            }
            let reading = match r.reading {
                Reading::Outcome(o) => format!("`{}`", o.as_str()),
                Reading::Error(k) => format!("`{}`", k.class_name()),
                Reading::Unplaced => {
                    "not placed: `OutcomeUnknownError` (write), `ProtocolError` (read)".to_owned()
                }
            };
            out.push_str(&format!(
                "| {http} | {code} | {} | {data} | {} | {} | {reading} | {} | {} |\n",
                match r.status {
                    Flag::Any => "any",
                    Flag::NotFalse => "not false",
                    Flag::False => "false",
                },
                r.refunded.map_or("any".to_owned(), |b| if b {
                    "1/true".to_owned()
                } else {
                    "not 1/true".to_owned()
                }),
                if other.is_empty() {
                    "".to_owned()
                } else {
                    other.join(", ")
                },
                r.meaning,
                r.source,
            ));
        }
        out
    }
}

fn join<T: std::fmt::Display>(l: &[T]) -> String {
    l.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}

static LAST_RESORT: Row = Row {
    meaning: "no row placed it",
    ..ANY
};

const FASTAG_DOC: &str = "Paysprint FASTag recharge (pay-sprint.readme.io/reference/recharge-1)";
const BILL_STATUS_DOC: &str =
    "Paysprint bill status enquiry (pay-sprint.readme.io/reference/status-enquiry-4)";
const RECHARGE_STATUS_DOC: &str =
    "Paysprint status enquiry (pay-sprint.readme.io/reference/status-enquiry-5)";
const PRINCIPLE: &str = "final only on evidence";

/// Codes of a refusal documented for writes: nothing was done.
const WRITE_REFUSALS: &[i64] = &[6, 8, 9, 12, 13, 14, 17];
/// Codes of a refused token or signature.
const TOKEN_REFUSALS: &[i64] = &[5, 10, 11];
const TOKEN_HTTP: &[u16] = &[401, 412];
const AUTH_HTTP: &[u16] = &[401, 403];
const ACCEPTED: &[i64] = &[1];

/// `data.status` that says success on the upstream's tables.
const SUCCESS: &[Word] = &[Word::One, Word::Success];
/// `data.status` that says failure.
const FAILURE: &[Word] = &[Word::Zero, Word::Failure];

const fn outcome(o: Outcome) -> Reading {
    Reading::Outcome(o)
}

const fn error(k: ErrorKind) -> Reading {
    Reading::Error(k)
}

/// What `data.status` (and `refunded`) say of an accepted transaction,
/// for the answers whose code is one of `code`.
const fn data_rows(code: Code) -> [Row; 6] {
    const fn row(
        code: Code,
        data: &'static [Word],
        refunded: Option<bool>,
        o: Outcome,
        meaning: &'static str,
        source: &'static str,
    ) -> Row {
        Row {
            http: Http::Ok,
            code,
            status: Flag::NotFalse,
            data: DataStatus::In(data),
            refunded,
            reading: Reading::Outcome(o),
            meaning,
            source,
            ..ANY
        }
    }
    [
        row(
            code,
            SUCCESS,
            Some(false),
            Outcome::Success,
            "successful",
            "UAT log RechargesStatus; Paysprint status enquiry",
        ),
        row(
            code,
            FAILURE,
            Some(true),
            Outcome::Refunded,
            "failed, and the wallet was credited back",
            BILL_STATUS_DOC,
        ),
        row(
            code,
            &[Word::Refunded],
            None,
            Outcome::Refunded,
            "refunded",
            PRINCIPLE,
        ),
        row(
            code,
            FAILURE,
            None,
            Outcome::Failed,
            "failed",
            BILL_STATUS_DOC,
        ),
        row(
            code,
            SUCCESS,
            None,
            Outcome::Unknown,
            "says success and refunded at once: not final",
            PRINCIPLE,
        ),
        row(
            code,
            &[Word::Pending, Word::Other],
            None,
            Outcome::Pending,
            "any other data.status: pending",
            BILL_STATUS_DOC,
        ),
    ]
}

/// A write answered code 1 with its transaction's `data.status`.
static WRITE_DATA: [Row; 6] = data_rows(Code::In(ACCEPTED));
/// A status call's transaction (code 1, or none).
static STATUS_DATA: [Row; 6] = data_rows(Code::InOrAbsent(ACCEPTED));

/// The referenced writes: `do_recharge`, `pay_bill`, `fastag_recharge`.
pub static WRITES: AnswerTable = AnswerTable {
    name: "Referenced writes",
    endpoints: &["do_recharge", "pay_bill", "fastag_recharge"],
    groups: &[
        &[
            Row {
                code: Code::In(&[18]),
                reading: error(ErrorKind::DuplicateReference),
                meaning: "a payment under this reference exists: resending under a new one pays twice",
                source: FASTAG_DOC,
                ..ANY
            },
            Row {
                code: Code::In(&[16]),
                reading: error(ErrorKind::InsufficientBalance),
                meaning: "the wallet is empty: nothing was done",
                source: "Paysprint FASTag recharge (200); UAT log (402)",
                ..ANY
            },
            Row {
                http: Http::In(TOKEN_HTTP),
                code: Code::In(TOKEN_REFUSALS),
                reading: error(ErrorKind::Authentication),
                meaning: "token or signature refused: nothing was done",
                source: "seed 401 code 5; UAT log 412 code 10; Paysprint 401 codes 10, 11",
                ..ANY
            },
            Row {
                http: Http::Ok,
                code: Code::In(ACCEPTED),
                status: Flag::NotFalse,
                data: DataStatus::Absent,
                refunded: Some(false),
                reading: outcome(Outcome::Success),
                meaning: "successful",
                source: "Paysprint FASTag recharge; UAT log DoRecharge",
                ..ANY
            },
        ],
        &WRITE_DATA,
        &[
            Row {
                http: Http::Ok,
                code: Code::In(&[0, 2]),
                reading: outcome(Outcome::Pending),
                meaning: "\"re-query the transaction after 30 min\": its status call tells",
                source: FASTAG_DOC,
                ..ANY
            },
            Row {
                code: Code::In(WRITE_REFUSALS),
                reading: error(ErrorKind::Api),
                meaning: "a documented refusal: nothing was done",
                source: FASTAG_DOC,
                ..ANY
            },
            AUTH_REFUSED,
            Row {
                http: Http::ClientError,
                code: Code::Absent,
                reading: error(ErrorKind::Api),
                meaning: "HTTP refused the request and the API gave no code",
                source: "HTTP semantics",
                ..ANY
            },
            Row {
                meaning: "anything else may have been done: never safe to retry",
                source: PRINCIPLE,
                ..ANY
            },
        ],
    ],
};

/// HTTP 401/403 whatever the code: refused before processing.
const AUTH_REFUSED: Row = Row {
    http: Http::In(AUTH_HTTP),
    reading: error(ErrorKind::Authentication),
    meaning: "refused before processing",
    source: "seed 401",
    ..ANY
};

/// A status call's rows around its transaction's: token refusals
/// (`tokens`) before, "No Transaction found" (`not_found`) and the
/// documented refusals of the read (`refusals`) after.
const fn status_rows(
    tokens: &'static [i64],
    not_found: &'static [i64],
    refusals: &'static [i64],
    source: &'static str,
) -> ([Row; 1], [Row; 7]) {
    let before = [Row {
        http: Http::In(TOKEN_HTTP),
        code: Code::In(tokens),
        reading: error(ErrorKind::Authentication),
        meaning: "token or signature refused",
        source: "UAT log 412 code 6; Paysprint 401 codes 10, 11",
        ..ANY
    }];
    let after = [
        Row {
            http: Http::Ok,
            code: Code::In(not_found),
            data: DataStatus::Absent,
            reading: error(ErrorKind::TransactionNotFound),
            meaning: "no transaction (yet): a write may arrive late",
            source,
            ..ANY
        },
        Row {
            data: DataStatus::Absent,
            not_found: true,
            reading: error(ErrorKind::TransactionNotFound),
            meaning: "no transaction (yet): a write may arrive late",
            source: "Paysprint status enquiries",
            ..ANY
        },
        Row {
            http: Http::Ok,
            code: Code::In(ACCEPTED),
            status: Flag::NotFalse,
            reading: outcome(Outcome::Unknown),
            meaning: "answered without data.status: not final",
            source: PRINCIPLE,
            ..ANY
        },
        Row {
            code: Code::In(refusals),
            reading: error(ErrorKind::Api),
            meaning: "a documented refusal of the read",
            source,
            ..ANY
        },
        AUTH_REFUSED,
        Row {
            http: Http::ClientError,
            reading: error(ErrorKind::Api),
            meaning: "HTTP refused the read",
            source: "HTTP semantics",
            ..ANY
        },
        Row {
            meaning: "a read the SDK cannot place: asked again",
            source: PRINCIPLE,
            ..ANY
        },
    ];
    (before, after)
}

// The recharge status documents 6 (JWT) and 7 (authentication) for
// tokens, and 4 (validation) as a refusal; the bill status 10, 11 for
// tokens and 8, 9, 12. Its 5 ("unable to process") is also what AOPay's own
// gateway answers a bad signature with at 401 (the seed): no row names it,
// so at 401 it is an AuthenticationError, at another 4xx an ApiError, and
// at 200 a read not placed (asked again).
static RECHARGE_STATUS_ROWS: ([Row; 1], [Row; 7]) =
    status_rows(&[6, 7, 10, 11], &[2], &[4], RECHARGE_STATUS_DOC);
static BILL_STATUS_ROWS: ([Row; 1], [Row; 7]) =
    status_rows(TOKEN_REFUSALS, &[0], &[8, 9, 12], BILL_STATUS_DOC);

/// The V1 recharge's status call: "No Transaction found" is code 2.
pub static RECHARGE_STATUS: AnswerTable = AnswerTable {
    name: "V1 recharge status",
    endpoints: &["do_recharge_status"],
    groups: &[
        &RECHARGE_STATUS_ROWS.0,
        &STATUS_DATA,
        &RECHARGE_STATUS_ROWS.1,
    ],
};

/// The bill and FASTag status calls: "No Transaction found" is code 0.
pub static BILL_STATUS: AnswerTable = AnswerTable {
    name: "Bill and FASTag status",
    endpoints: &["bill_status", "fastag_status"],
    groups: &[&BILL_STATUS_ROWS.0, &STATUS_DATA, &BILL_STATUS_ROWS.1],
};

/// The V2 recharge and its status call: `data.status` words.
pub static V2: AnswerTable = AnswerTable {
    name: "V2 recharge",
    endpoints: &["mobile_recharge", "recharge_status"],
    groups: &[&[
        Row {
            http: Http::Ok,
            data: DataStatus::In(&[Word::Success]),
            reading: outcome(Outcome::Success),
            meaning: "a success word",
            source: "AOPay V2; the vendor's Android client",
            ..ANY
        },
        Row {
            http: Http::Ok,
            data: DataStatus::In(&[Word::Failure]),
            reading: outcome(Outcome::Failed),
            meaning: "a failure word",
            source: "AOPay seed page",
            ..ANY
        },
        Row {
            http: Http::Ok,
            data: DataStatus::In(&[Word::Pending]),
            reading: outcome(Outcome::Pending),
            meaning: "a pending word",
            source: "AOPay V2",
            ..ANY
        },
        Row {
            http: Http::Ok,
            data: DataStatus::Present,
            reading: outcome(Outcome::Unknown),
            meaning: "any other word: not final",
            source: PRINCIPLE,
            ..ANY
        },
        Row {
            http: Http::Ok,
            names_transaction: true,
            reading: outcome(Outcome::Unknown),
            meaning: "names a transaction but not its fate: not final",
            source: PRINCIPLE,
            ..ANY
        },
        AUTH_REFUSED,
        Row {
            http: Http::In(&[412]),
            code: Code::In(TOKEN_REFUSALS),
            reading: error(ErrorKind::Authentication),
            meaning: "token or signature refused",
            source: "public UAT log",
            ..ANY
        },
        Row {
            http: Http::ClientError,
            reading: error(ErrorKind::Api),
            meaning: "HTTP refused the request",
            source: "HTTP semantics",
            ..ANY
        },
        Row {
            http: Http::Ok,
            status: Flag::False,
            reading: error(ErrorKind::Api),
            meaning: "status false and no transaction: refused",
            source: "AOPay seed page",
            ..ANY
        },
        Row {
            meaning: "names no transaction and no refusal",
            source: PRINCIPLE,
            ..ANY
        },
    ]],
};

/// Every table, for the protocol document.
pub static TABLES: [&AnswerTable; 4] = [&WRITES, &RECHARGE_STATUS, &BILL_STATUS, &V2];

/// The table that reads `method`'s answers, if it has one.
pub fn table_for(method: &str) -> Option<&'static AnswerTable> {
    TABLES
        .iter()
        .copied()
        .find(|t| t.endpoints.contains(&method))
}

/// Every table as Markdown (the generated part of docs/protocol.md).
pub fn markdown() -> String {
    TABLES
        .iter()
        .map(|t| t.to_markdown())
        .collect::<Vec<_>>()
        .join("\n")
}

/// An answer's body for a log line: bounded, every run of five or more
/// digits masked (customer numbers, accounts), as `mask_digits` does, and
/// every control character escaped (a terminal never acts on one).
pub fn mask_body(body: &[u8]) -> String {
    let text = crate::error::excerpt(body);
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 5 {
            out.push_str(&crate::validate::mask_digits(digits));
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
    }
    flush(&mut digits, &mut out);
    out
}
