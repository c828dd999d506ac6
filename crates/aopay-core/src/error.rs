//! The error model (docs/protocol.md §2): one enum, each variant telling the
//! caller whether resubmitting the same recharge is safe.

use std::fmt;
use std::time::Duration;

/// Longest body excerpt kept on an error, in bytes: enough to diagnose, never
/// a whole (possibly huge or personal) body.
pub const BODY_EXCERPT_LIMIT: usize = 512;

/// An input broke one of the rules of docs/protocol.md §3. Nothing was sent.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {rule}")]
pub struct ValidationError {
    field: &'static str,
    rule: String,
}

impl ValidationError {
    /// A failure of `rule` on `field`.
    pub fn new(field: &'static str, rule: impl Into<String>) -> Self {
        Self {
            field,
            rule: rule.into(),
        }
    }

    /// The value had the wrong type (used by the bindings, whose users can
    /// pass anything): `got` is the type name as the user's language says it.
    pub fn wrong_type(field: &'static str, expected: &str, got: &str) -> Self {
        Self::new(field, format!("must be {expected}, not {got}"))
    }

    /// The same rule broken on another field (a shared rule, such as a
    /// customer number's, under the name an endpoint gives the argument).
    pub(crate) fn on_field(mut self, field: &'static str) -> Self {
        self.field = field;
        self
    }

    /// The input field, as the contract names it (`amount`, `customer_number`, …).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The rule that was broken, in words.
    pub fn rule(&self) -> &str {
        &self.rule
    }
}

impl fmt::Debug for ValidationError {
    // The rule text never holds the offending value, so this is safe to show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidationError")
            .field("field", &self.field)
            .field("rule", &self.rule)
            .finish()
    }
}

/// What the SDK knows about a failed call besides its kind.
#[derive(Default)]
pub struct ErrorDetails {
    pub(crate) message: String,
    pub(crate) http_status: Option<u16>,
    pub(crate) api_code: Option<i64>,
    pub(crate) body_excerpt: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) reference_id: Option<String>,
    pub(crate) source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ErrorDetails {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }

    pub(crate) fn http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    pub(crate) fn api_code(mut self, code: Option<i64>) -> Self {
        self.api_code = code;
        self
    }

    pub(crate) fn body(mut self, body: &[u8]) -> Self {
        if !body.is_empty() {
            self.body_excerpt = Some(excerpt(body));
        }
        self
    }

    pub(crate) fn retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }

    pub(crate) fn reference_id(mut self, reference: Option<String>) -> Self {
        self.reference_id = reference;
        self
    }

    pub(crate) fn source(mut self, err: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(err));
        self
    }
}

impl fmt::Debug for ErrorDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorDetails")
            .field("message", &self.message)
            .field("http_status", &self.http_status)
            .field("api_code", &self.api_code)
            .field("body_excerpt", &self.body_excerpt)
            .field("retry_after", &self.retry_after)
            .field("reference_id", &self.reference_id)
            .field("source", &self.source)
            .finish()
    }
}

/// Cut a body to [`BODY_EXCERPT_LIMIT`] bytes on a character boundary.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.len() <= BODY_EXCERPT_LIMIT {
        return text.into_owned();
    }
    let mut end = BODY_EXCERPT_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Every way a call can fail. Match on [`Error::kind`] or the variant; ask
/// [`Error::retry_safe`] before ever resubmitting a recharge.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input is invalid; nothing was sent.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// No connection could be made; nothing was sent.
    #[error("connect error: {}", .0.message)]
    Connect(Box<ErrorDetails>),
    /// HTTP 401/403: the API refused the credentials.
    #[error("authentication failed (HTTP {}): {}", fmt_opt(.0.http_status), .0.message)]
    Authentication(Box<ErrorDetails>),
    /// HTTP 429: slow down; see [`Error::retry_after`].
    #[error("rate limited (HTTP 429): {}", .0.message)]
    RateLimit(Box<ErrorDetails>),
    /// Another 4xx, or a refusal (`status: false`) that names no transaction.
    #[error("API error{}: {}", fmt_status(.0.http_status), .0.message)]
    Api(Box<ErrorDetails>),
    /// The recharge may have been processed. Never resubmit: reconcile with
    /// `recharge_status`/`wait_for_final` (or your AOPay statement) first.
    #[error("outcome unknown: {}", .0.message)]
    OutcomeUnknown(Box<ErrorDetails>),
    /// HTTP 5xx on a status call, after its retries.
    #[error("server error{}: {}", fmt_status(.0.http_status), .0.message)]
    Server(Box<ErrorDetails>),
    /// An unreadable answer to a status call.
    #[error("protocol error: {}", .0.message)]
    Protocol(Box<ErrorDetails>),
    /// An idempotency key was reused with a different request; nothing was sent.
    #[error("idempotency conflict: {}", .0.message)]
    IdempotencyConflict(Box<ErrorDetails>),
    /// The API refused a write because a payment under its reference
    /// exists already (`response_code` 18). Never resend under a new
    /// reference: the first one's fate is read through the status call.
    #[error("duplicate reference{}: {}", fmt_status(.0.http_status), .0.message)]
    DuplicateReference(Box<ErrorDetails>),
    /// The wallet holds too little (`response_code` 16): nothing was done.
    /// Top it up, then send again. A kind of [`Error::Api`] in the bindings.
    #[error("insufficient balance{}: {}", fmt_status(.0.http_status), .0.message)]
    InsufficientBalance(Box<ErrorDetails>),
    /// A status call found no transaction under the reference (yet). Never
    /// a failure: a write may arrive late, so keep asking.
    #[error("transaction not found{}: {}", fmt_status(.0.http_status), .0.message)]
    TransactionNotFound(Box<ErrorDetails>),
    /// The idempotency journal could not be opened, read or written before
    /// sending; nothing was sent.
    #[error("journal error: {}", .0.message)]
    Journal(Box<ErrorDetails>),
}

fn fmt_opt(v: Option<u16>) -> String {
    v.map_or_else(|| "?".to_owned(), |s| s.to_string())
}

fn fmt_status(v: Option<u16>) -> String {
    v.map_or_else(String::new, |s| format!(" (HTTP {s})"))
}

/// The kind of an [`Error`], without its data; stable across versions.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// See [`Error::Validation`].
    Validation,
    /// See [`Error::Connect`].
    Connect,
    /// See [`Error::Authentication`].
    Authentication,
    /// See [`Error::RateLimit`].
    RateLimit,
    /// See [`Error::Api`].
    Api,
    /// See [`Error::OutcomeUnknown`].
    OutcomeUnknown,
    /// See [`Error::Server`].
    Server,
    /// See [`Error::Protocol`].
    Protocol,
    /// See [`Error::IdempotencyConflict`].
    IdempotencyConflict,
    /// See [`Error::DuplicateReference`].
    DuplicateReference,
    /// See [`Error::InsufficientBalance`].
    InsufficientBalance,
    /// See [`Error::TransactionNotFound`].
    TransactionNotFound,
    /// See [`Error::Journal`].
    Journal,
}

impl ErrorKind {
    /// Every kind: the error classes of both bindings are checked against it.
    pub const ALL: [ErrorKind; 13] = [
        Self::Validation,
        Self::Connect,
        Self::Authentication,
        Self::RateLimit,
        Self::Api,
        Self::OutcomeUnknown,
        Self::Server,
        Self::Protocol,
        Self::IdempotencyConflict,
        Self::Journal,
        Self::DuplicateReference,
        Self::InsufficientBalance,
        Self::TransactionNotFound,
    ];

    /// The stable code both bindings expose (`AOPAY_…`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Validation => "AOPAY_VALIDATION",
            Self::Connect => "AOPAY_CONNECT",
            Self::Authentication => "AOPAY_AUTHENTICATION",
            Self::RateLimit => "AOPAY_RATE_LIMIT",
            Self::Api => "AOPAY_API",
            Self::OutcomeUnknown => "AOPAY_OUTCOME_UNKNOWN",
            Self::Server => "AOPAY_SERVER",
            Self::Protocol => "AOPAY_PROTOCOL",
            Self::IdempotencyConflict => "AOPAY_IDEMPOTENCY_CONFLICT",
            Self::Journal => "AOPAY_JOURNAL",
            Self::DuplicateReference => "AOPAY_DUPLICATE_REFERENCE",
            Self::InsufficientBalance => "AOPAY_INSUFFICIENT_BALANCE",
            Self::TransactionNotFound => "AOPAY_TRANSACTION_NOT_FOUND",
        }
    }

    /// The class name both bindings use (`ValidationError`, …).
    pub fn class_name(self) -> &'static str {
        match self {
            Self::Validation => "ValidationError",
            Self::Connect => "ConnectError",
            Self::Authentication => "AuthenticationError",
            Self::RateLimit => "RateLimitError",
            Self::Api => "ApiError",
            Self::OutcomeUnknown => "OutcomeUnknownError",
            Self::Server => "ServerError",
            Self::Protocol => "ProtocolError",
            Self::IdempotencyConflict => "IdempotencyConflictError",
            Self::Journal => "JournalError",
            Self::DuplicateReference => "DuplicateReferenceError",
            Self::InsufficientBalance => "InsufficientBalanceError",
            Self::TransactionNotFound => "TransactionNotFoundError",
        }
    }

    /// The kind whose class this kind's class extends in the bindings, if
    /// not the base (`InsufficientBalanceError` is an `ApiError`).
    pub fn parent(self) -> Option<ErrorKind> {
        match self {
            Self::InsufficientBalance => Some(Self::Api),
            _ => None,
        }
    }

    /// The API refused the call and did nothing ([`ErrorKind::Api`] and its
    /// kinds).
    pub fn is_refusal(self) -> bool {
        matches!(self, Self::Api | Self::InsufficientBalance)
    }

    /// Whether submitting the same recharge again is safe (docs/protocol.md §2).
    pub fn retry_safe(self) -> bool {
        !matches!(
            self,
            Self::OutcomeUnknown | Self::IdempotencyConflict | Self::DuplicateReference
        )
    }
}

/// The details every variant but `Validation` carries: one list of the
/// variants, for a shared and for a unique borrow.
macro_rules! details_of {
    ($error:expr) => {
        match $error {
            Error::Validation(_) => None,
            Error::Connect(d)
            | Error::Authentication(d)
            | Error::RateLimit(d)
            | Error::Api(d)
            | Error::OutcomeUnknown(d)
            | Error::Server(d)
            | Error::Protocol(d)
            | Error::IdempotencyConflict(d)
            | Error::DuplicateReference(d)
            | Error::InsufficientBalance(d)
            | Error::TransactionNotFound(d)
            | Error::Journal(d) => Some(d),
        }
    };
}

impl Error {
    pub(crate) fn connect(d: ErrorDetails) -> Self {
        Self::Connect(Box::new(d))
    }
    pub(crate) fn outcome_unknown(d: ErrorDetails) -> Self {
        Self::OutcomeUnknown(Box::new(d))
    }
    pub(crate) fn protocol(d: ErrorDetails) -> Self {
        Self::Protocol(Box::new(d))
    }
    pub(crate) fn journal(message: impl Into<String>) -> Self {
        Self::Journal(Box::new(ErrorDetails::new(message)))
    }

    /// An error of `kind` with `d` (a kind that carries no details, a
    /// validation, becomes an API refusal: the answer tables never name it).
    pub(crate) fn of_kind(kind: ErrorKind, d: ErrorDetails) -> Self {
        let d = Box::new(d);
        match kind {
            ErrorKind::Connect => Self::Connect(d),
            ErrorKind::Authentication => Self::Authentication(d),
            ErrorKind::RateLimit => Self::RateLimit(d),
            ErrorKind::OutcomeUnknown => Self::OutcomeUnknown(d),
            ErrorKind::Server => Self::Server(d),
            ErrorKind::Protocol => Self::Protocol(d),
            ErrorKind::IdempotencyConflict => Self::IdempotencyConflict(d),
            ErrorKind::Journal => Self::Journal(d),
            ErrorKind::DuplicateReference => Self::DuplicateReference(d),
            ErrorKind::InsufficientBalance => Self::InsufficientBalance(d),
            ErrorKind::TransactionNotFound => Self::TransactionNotFound(d),
            ErrorKind::Api | ErrorKind::Validation => Self::Api(d),
        }
    }

    /// This error, for a step that came after a referenced write was sent
    /// and answered `status` (the wait for its final status): resubmitting
    /// is then never safe, so the result is an `OutcomeUnknown` carrying
    /// the reference and this error's message (one that is already an
    /// `OutcomeUnknown` with a reference is returned as it is).
    pub fn after_payment_sent(self, status: &str, reference: &str) -> Self {
        self.after_sent("payment", status, Some(reference), None)
    }

    /// The `OutcomeUnknown` of a step after a `what` was sent and answered
    /// `status`, with that answer's HTTP status and API code when known
    /// (else this error's).
    pub(crate) fn after_sent(
        self,
        what: &str,
        status: &str,
        reference: Option<&str>,
        answered: Option<(u16, Option<i64>)>,
    ) -> Self {
        if let Self::OutcomeUnknown(d) = &self {
            if d.reference_id.is_some() {
                return self;
            }
        }
        let (http, api) =
            answered.map_or((self.http_status(), self.api_code()), |(h, a)| (Some(h), a));
        let mut d = ErrorDetails::new(format!(
            "the {what} was sent and answered {status} (reference {}); then: {self}",
            reference.unwrap_or("none given")
        ))
        .reference_id(reference.map(str::to_owned))
        .api_code(api);
        if let Some(h) = http {
            d = d.http_status(h);
        }
        Self::OutcomeUnknown(Box::new(d))
    }

    /// This error, carrying the caller's `reference` of the write it came
    /// from (unless it names one already): the write's status call finds
    /// the transaction by it. A [`Error::Validation`] came before anything
    /// was built and carries none.
    pub fn with_reference(mut self, reference: &str) -> Self {
        if let Some(d) = self.details_mut() {
            if d.reference_id.is_none() {
                d.reference_id = Some(reference.to_owned());
            }
        }
        self
    }

    /// The error as one JSON object (snake_case keys): the one structured
    /// form every surface builds its errors from: the CLI's `--json`, the
    /// journal's reconciliation report, Node's error classes (camelCased)
    /// and Python's. `message` is the whole text, `detail` without the kind.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code(),
            "name": self.kind().class_name(),
            "message": self.to_string(),
            "detail": self.message(),
            "retry_safe": self.retry_safe(),
            "http_status": self.http_status(),
            "api_code": self.api_code(),
            "field": self.field(),
            "retry_after_ms": self.retry_after().map(|d| d.as_millis() as u64),
            "reference_id": self.reference_id(),
            "body_excerpt": self.body_excerpt(),
        })
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Validation(_) => ErrorKind::Validation,
            Self::Connect(_) => ErrorKind::Connect,
            Self::Authentication(_) => ErrorKind::Authentication,
            Self::RateLimit(_) => ErrorKind::RateLimit,
            Self::Api(_) => ErrorKind::Api,
            Self::OutcomeUnknown(_) => ErrorKind::OutcomeUnknown,
            Self::Server(_) => ErrorKind::Server,
            Self::Protocol(_) => ErrorKind::Protocol,
            Self::IdempotencyConflict(_) => ErrorKind::IdempotencyConflict,
            Self::Journal(_) => ErrorKind::Journal,
            Self::DuplicateReference(_) => ErrorKind::DuplicateReference,
            Self::InsufficientBalance(_) => ErrorKind::InsufficientBalance,
            Self::TransactionNotFound(_) => ErrorKind::TransactionNotFound,
        }
    }

    /// Stable code, e.g. `AOPAY_OUTCOME_UNKNOWN`.
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// Whether resubmitting the same recharge is safe. `false` means it may
    /// already have been processed: reconcile before anything else.
    pub fn retry_safe(&self) -> bool {
        self.kind().retry_safe()
    }

    fn details(&self) -> Option<&ErrorDetails> {
        details_of!(self)
    }

    fn details_mut(&mut self) -> Option<&mut ErrorDetails> {
        details_of!(self)
    }

    /// The HTTP status of the answer, if one was read.
    pub fn http_status(&self) -> Option<u16> {
        self.details().and_then(|d| d.http_status)
    }

    /// `statusCode` / `response_code` from the body, if any.
    pub fn api_code(&self) -> Option<i64> {
        self.details().and_then(|d| d.api_code)
    }

    /// The invalid input field, for validation errors.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Validation(v) => Some(v.field()),
            _ => None,
        }
    }

    /// The message without the kind prefix: the API's own words where it gave
    /// some, else the SDK's.
    pub fn message(&self) -> String {
        match self {
            Self::Validation(v) => v.to_string(),
            _ => self
                .details()
                .map(|d| d.message.clone())
                .unwrap_or_default(),
        }
    }

    /// At most [`BODY_EXCERPT_LIMIT`] bytes of the response body.
    pub fn body_excerpt(&self) -> Option<&str> {
        self.details().and_then(|d| d.body_excerpt.as_deref())
    }

    /// For rate limits: how long the API asked to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        self.details().and_then(|d| d.retry_after)
    }

    /// The API's reference for the transaction, when the error concerns one
    /// (e.g. `wait_for_final` running out of time while it is pending).
    pub fn reference_id(&self) -> Option<&str> {
        self.details().and_then(|d| d.reference_id.as_deref())
    }
}

/// `outer: inner: root`: libraries keep the detail ("connection refused",
/// the certificate problem) in `source()`. A part equal to the one before it
/// (reqwest's URL-bearing wrapper) is not repeated.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if parts.last() != Some(&t) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_after_the_send_is_never_retry_safe_and_keeps_the_reference() {
        let sent = crate::interpret(
            crate::Call::RechargeStatus,
            200,
            None,
            br#"{"ReferanceID":"AOP554R1","statusCode":7,"data":{"status":"PENDING"}}"#,
        )
        .unwrap();
        assert_eq!(sent.status, crate::Status::Pending);
        let later = [
            Error::Server(Box::new(ErrorDetails::new("503 on status"))),
            ValidationError::new("reference_id", "too long").into(),
            Error::connect(ErrorDetails::new("refused")),
            Error::outcome_unknown(ErrorDetails::new("wait ran out")),
        ];
        for e in later {
            let shown = e.to_string();
            let e = e.after_recharge_sent(&sent);
            assert!(!e.retry_safe(), "{e}");
            assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
            assert_eq!(e.reference_id(), Some("AOP554R1"));
            assert!(e.to_string().contains(&shown), "{e}");
            assert!(e.to_string().contains("PENDING"), "{e}");
        }
        let known = Error::outcome_unknown(
            ErrorDetails::new("still PENDING").reference_id(Some("AOP554R1".into())),
        );
        let before = known.to_string();
        assert_eq!(known.after_recharge_sent(&sent).to_string(), before);
    }

    #[test]
    fn excerpt_is_bounded_and_char_safe() {
        let body = "é".repeat(1000);
        let e = excerpt(body.as_bytes());
        assert!(e.len() <= BODY_EXCERPT_LIMIT + "…".len());
        assert!(e.ends_with('…'));
        assert_eq!(excerpt(b"short"), "short");
    }

    #[test]
    fn retry_safety_follows_the_contract() {
        use ErrorKind::*;
        for k in [
            Validation,
            Connect,
            Authentication,
            RateLimit,
            Api,
            Server,
            Protocol,
        ] {
            assert!(k.retry_safe(), "{k:?}");
        }
        assert!(InsufficientBalance.retry_safe());
        assert!(TransactionNotFound.retry_safe());
        assert!(!OutcomeUnknown.retry_safe());
        assert!(!IdempotencyConflict.retry_safe());
        assert!(!DuplicateReference.retry_safe());
    }
}
