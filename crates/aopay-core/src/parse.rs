//! Turning an HTTP answer into a [`Recharge`] or an [`Error`] (docs/protocol.md §2). Pure
//! functions of (call, status, body): testable and fuzzable without HTTP.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::answers::{AnswerTable, Facts, Outcome, Reading, mask_body, table_for};
use crate::endpoints::{Answer, Endpoint, EndpointSpec, RechargeStatus};
use crate::error::{Error, ErrorDetails, ErrorKind};
use crate::models::{MobileRecharge, Recharge, Status};

/// A JSON value parsed strictly: a key twice in one object is an error, not
/// "last one wins" (an answer saying both SUCCESS and FAILED is unreadable,
/// not one or the other). serde_json's depth limit (128) still applies.
struct StrictValue(Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never yields a non-finite number; `Null` is unreachable.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut obj = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if obj.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate key {key:?}"
                )));
            }
            let StrictValue(v) = map.next_value()?;
            obj.insert(key, v);
        }
        Ok(Value::Object(obj))
    }
}

/// Which endpoint answered: the same answer means different things for a
/// recharge (money may have moved) and for a status read (safe to repeat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `POST /api/AOP/V2/MobileRecharge`.
    MobileRecharge,
    /// `POST /api/AOP/V2/RechargeStatus`.
    RechargeStatus,
}

impl Call {
    /// Its entry in the endpoint table.
    pub fn spec(self) -> &'static EndpointSpec {
        match self {
            Self::MobileRecharge => <MobileRecharge as Endpoint>::SPEC,
            Self::RechargeStatus => <RechargeStatus as Endpoint>::SPEC,
        }
    }

    /// The endpoint's path.
    pub fn path(self) -> &'static str {
        self.spec().path
    }

    /// The endpoint's name, as in traces.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Whether the call moves money (a write) or only reads.
    pub fn effect(self) -> Effect {
        self.spec().effect
    }
}

/// What a call does, and so what its failures mean (docs/protocol.md §2):
/// after a write's bytes may have left, any failure may hide a processed
/// payment; a read's failure is only a failed read, safe to repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Safe to repeat: retried under one deadline.
    Read,
    /// Moves money: sent once, never resent by the SDK.
    Write,
}

impl Effect {
    /// An answer that cannot be trusted (unreadable, cut off, a 3xx).
    pub(crate) fn unreadable(self, d: ErrorDetails) -> Error {
        match self {
            Self::Write => Error::outcome_unknown(d),
            Self::Read => Error::protocol(d),
        }
    }

    /// The exchange broke after the request may have left: a timeout, a
    /// lost connection, or an HTTP 5xx.
    pub(crate) fn lost(self, d: ErrorDetails) -> Error {
        match self {
            Self::Write => Error::outcome_unknown(d),
            Self::Read => Error::Server(Box::new(d)),
        }
    }
}

/// Lenient key match: case-insensitive, `_` ignored (`ReferanceID`,
/// `referance_id`, `REFERANCEID` are one key). `name` is lowercase ASCII,
/// so a byte-wise comparison is exact (and this runs on every call).
fn key_is(key: &str, name: &str) -> bool {
    let mut expected = name.bytes();
    for b in key.bytes().filter(|b| *b != b'_') {
        if expected.next() != Some(b.to_ascii_lowercase()) {
            return false;
        }
    }
    expected.next().is_none()
}

/// Every value whose key matches one of `names`, in `names` order.
pub(crate) fn lookup<'a>(
    obj: &'a Map<String, Value>,
    names: &'a [&'a str],
) -> impl Iterator<Item = &'a Value> + 'a {
    names.iter().flat_map(move |n| {
        obj.iter()
            .filter(move |(k, _)| key_is(k, n))
            .map(|(_, v)| v)
    })
}

/// A non-empty string, or a number written as text.
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn first_text(obj: &Map<String, Value>, names: &[&str]) -> Option<String> {
    lookup(obj, names).find_map(text)
}

pub(crate) fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `true`/`false`, `"true"`/`"Y"`/`"yes"`/`"1"` and their opposites, `1`/`0`.
pub(crate) fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().filter(|n| *n == 0 || *n == 1).map(|n| n == 1),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "y" | "yes" | "1" => Some(true),
            "false" | "n" | "no" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// What a JSON object body says, leniently read.
struct Fields {
    status: Option<Status>,
    reference_id: Option<String>,
    txn_id: Option<String>,
    ackno: Option<String>,
    message: Option<String>,
    api_code: Option<i64>,
}

fn read_fields(obj: &Map<String, Value>) -> Fields {
    let data = lookup(obj, &["data"]).find_map(Value::as_object);
    let from_data = |names: &[&str]| data.and_then(|d| first_text(d, names));
    let status = from_data(&["status"])
        .map(|s| Status::from_api(&s))
        .or_else(|| {
            // Some answers carry the transaction status at the top level.
            lookup(obj, &["status"])
                .filter_map(Value::as_str)
                .map(Status::from_api)
                .find(|s| *s != Status::Unknown)
        });
    let reference_names = ["referanceid", "referenceid"];
    let reference_id = first_text(obj, &reference_names).or_else(|| from_data(&reference_names));
    Fields {
        status,
        reference_id,
        txn_id: from_data(&["txnid", "transactionid"]),
        ackno: from_data(&["ackno"]),
        message: message(obj),
        api_code: api_code(obj),
    }
}

/// The most specific non-empty message: `data.message`, then the top
/// level's `error`, `message`, `msg`.
pub(crate) fn message(obj: &Map<String, Value>) -> Option<String> {
    lookup(obj, &["data"])
        .find_map(Value::as_object)
        .and_then(|d| first_text(d, &["message"]))
        .or_else(|| first_text(obj, &["error", "message", "msg"]))
}

pub(crate) fn api_code(obj: &Map<String, Value>) -> Option<i64> {
    lookup(obj, &["responsecode", "statuscode"]).find_map(integer)
}

fn refused(obj: &Map<String, Value>) -> bool {
    lookup(obj, &["status"]).any(|v| match v {
        Value::Bool(b) => !b,
        Value::String(s) => s.trim().eq_ignore_ascii_case("false"),
        _ => false,
    })
}

/// Interpret one HTTP answer of `call` (the fuzzed entry point).
pub fn interpret(
    call: Call,
    http_status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<Recharge, Error> {
    read_answer_of(
        call.effect(),
        table_for(call.spec().method),
        call.name(),
        http_status,
        retry_after,
        body,
    )
}

/// A 2xx answer whose body is a JSON object, for an [`Answer`] to read.
pub struct Answered<'a> {
    effect: Effect,
    http_status: u16,
    obj: Map<String, Value>,
    body: &'a [u8],
    /// The table that places the answer; `None` for a stored answer read
    /// again (its status was stored beside it).
    table: Option<&'static AnswerTable>,
    /// The endpoint's name, for the warning of an answer not placed.
    endpoint: &'static str,
}

impl std::fmt::Debug for Answered<'_> {
    // The body may hold personal data: its size only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answered")
            .field("effect", &self.effect)
            .field("http_status", &self.http_status)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Answered<'static> {
    /// A stored answer's `raw`, read again (as a 200 of a read).
    pub(crate) fn restored(obj: Map<String, Value>) -> Self {
        Self {
            effect: Effect::Read,
            http_status: 200,
            obj,
            body: &[],
            table: None,
            endpoint: "",
        }
    }

    /// A stored answer of `spec` read again, placed by its table as a 200.
    pub(crate) fn restored_as(obj: Map<String, Value>, spec: &EndpointSpec) -> Self {
        Self {
            table: table_for(spec.method),
            endpoint: spec.name,
            ..Self::restored(obj)
        }
    }
}

impl Answered<'_> {
    /// The HTTP status.
    pub fn http_status(&self) -> u16 {
        self.http_status
    }

    /// The body's top-level object.
    pub fn object(&self) -> &Map<String, Value> {
        &self.obj
    }

    /// The body, given up as the answer's `raw`.
    pub fn into_raw(self) -> Value {
        Value::Object(self.obj)
    }

    /// `status: false` (or `"false"`) at the top level: the API refused.
    pub fn refused(&self) -> bool {
        refused(&self.obj)
    }

    /// The most specific non-empty message.
    pub fn message(&self) -> Option<String> {
        message(&self.obj)
    }

    /// `statusCode` / `response_code`.
    pub fn api_code(&self) -> Option<i64> {
        api_code(&self.obj)
    }

    /// The refusal this answer is: an [`Error::Api`] with its message and code.
    pub fn refusal(&self) -> Error {
        let text = self.message().unwrap_or_else(|| {
            format!(
                "HTTP {} {}",
                self.http_status,
                http_reason(self.http_status)
            )
        });
        Error::Api(Box::new(
            ErrorDetails::new(text)
                .http_status(self.http_status)
                .api_code(self.api_code())
                .body(self.body),
        ))
    }

    /// What the endpoint family's answer table makes of this answer
    /// (docs/protocol.md §10): the transaction's fate, or the error it is.
    /// `Ok(None)` when there is no table (a stored answer read again). An
    /// answer no row places, or one placed as `UNKNOWN`, is logged at WARN
    /// with its endpoint and its body, digits masked.
    pub fn place(&self) -> Result<Option<Outcome>, Error> {
        let Some(table) = self.table else {
            return Ok(None);
        };
        let row = table.row(&Facts::of(self.http_status, &self.obj));
        let warn = || {
            tracing::warn!(
                target: "aopay",
                endpoint = self.endpoint,
                http_status = self.http_status,
                body = %mask_body(self.body),
                "an answer the SDK cannot place: {}",
                row.meaning
            );
        };
        match row.reading {
            Reading::Outcome(o) => {
                if o == Outcome::Unknown {
                    warn();
                }
                Ok(Some(o))
            }
            Reading::Error(ErrorKind::Api) => Err(self.refusal()),
            Reading::Error(kind) => {
                let text = self.message().unwrap_or_else(|| row.meaning.to_owned());
                Err(Error::of_kind(
                    kind,
                    ErrorDetails::new(text)
                        .http_status(self.http_status)
                        .api_code(self.api_code())
                        .body(self.body),
                ))
            }
            Reading::Unplaced => {
                warn();
                Err(self.unreadable(&format!("is not one the SDK can place ({})", row.meaning)))
            }
        }
    }

    /// An answer that names nothing this endpoint answers: after a write,
    /// the outcome is unknown; after a read, it is a protocol error.
    pub fn unreadable(&self, why: &str) -> Error {
        self.effect.unreadable(
            ErrorDetails::new(format!("HTTP {} answer {why}", self.http_status))
                .http_status(self.http_status)
                .api_code(self.api_code())
                .body(self.body),
        )
    }
}

/// Interpret one HTTP answer: an error for every non-2xx status and every
/// body that is not a JSON object, else what `A` reads in it.
#[cfg(test)]
pub(crate) fn read_answer<A: Answer>(
    effect: Effect,
    http_status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<A, Error> {
    read_answer_of(effect, None, "", http_status, retry_after, body)
}

/// [`read_answer`] for an endpoint whose answers `table` places (its 4xx
/// JSON answers too: a code there says what was refused, or that a
/// payment under the reference exists).
pub(crate) fn read_answer_of<A: Answer>(
    effect: Effect,
    table: Option<&'static AnswerTable>,
    endpoint: &'static str,
    http_status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<A, Error> {
    let (json, unparsed) = match serde_json::from_slice::<StrictValue>(body) {
        Ok(v) => (Some(v.0), None),
        Err(e) => (None, Some(e)),
    };
    let ok = (200..300).contains(&http_status);
    // A JSON answer at 4xx (but 429) is the table's to place too.
    let placed_4xx = table.is_some() && (400..500).contains(&http_status) && http_status != 429;
    let json = match json {
        Some(Value::Object(obj)) if ok || placed_4xx => {
            return A::from_answered(Answered {
                effect,
                http_status,
                obj,
                body,
                table,
                endpoint,
            });
        }
        other => other,
    };
    if ok {
        let what = match &unparsed {
            None => "not a JSON object".to_owned(),
            Some(e) => format!("not valid JSON ({e})"),
        };
        let d = ErrorDetails::new(format!("HTTP {http_status} answer is {what}"))
            .http_status(http_status)
            .body(body);
        return Err(effect.unreadable(d));
    }
    let obj = json.as_ref().and_then(Value::as_object);
    let api_code = obj.and_then(api_code);
    let message = obj
        .and_then(message)
        .unwrap_or_else(|| format!("HTTP {http_status} {}", http_reason(http_status)));
    let details = ErrorDetails::new(message)
        .http_status(http_status)
        .api_code(api_code)
        .body(body);
    Err(match http_status {
        401 | 403 => Error::Authentication(Box::new(details)),
        429 => Error::RateLimit(Box::new(details.retry_after(retry_after))),
        400..=499 => Error::Api(Box::new(details)),
        500..=599 => effect.lost(details),
        // 1xx/3xx (redirects are not followed: a POST must not turn into a GET).
        _ => effect.unreadable(details),
    })
}

impl Answer for Recharge {
    fn from_answered(a: Answered<'_>) -> Result<Self, Error> {
        let f = read_fields(&a.obj);
        let status = match a.place()? {
            Some(o) => Status::from_outcome(o),
            None => f.status.unwrap_or(Status::Unknown),
        };
        Ok(Recharge {
            status,
            reference_id: f.reference_id,
            txn_id: f.txn_id,
            ackno: f.ackno,
            message: f.message,
            api_code: f.api_code,
            http_status: a.http_status,
            raw: a.into_raw(),
        })
    }

    fn to_json_value(&self) -> Value {
        Recharge::to_json_value(self)
    }

    fn http_status(&self) -> u16 {
        self.http_status
    }

    fn outcome(&self) -> &str {
        self.status.as_str()
    }

    fn reference_id(&self) -> Option<&str> {
        self.reference_id.as_deref()
    }
}

fn http_reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// The two bodies documented by AOPay (docs/protocol.md §1).
    pub const SEED_FAILED: &str = r#"{
        "status": false, "msg": "error", "error": "Transaction failed", "statusCode": 401,
        "ReferanceID": null,
        "data": {"message": "Your payment for Reliance Jio Bill Payment Prepaid failed | Transaction failed",
                 "txnId": "DGFIN4c31cf793a", "status": "FAILED", "ackno": "0"},
        "Status": "FALSE", "message": "", "Value": ""}"#;
    pub const SEED_401: &str =
        r#"{"status": false, "response_code": 5, "message": "Invalid signature encoding"}"#;

    #[test]
    fn seed_failed_body_parses_exactly() {
        let r = interpret(Call::MobileRecharge, 200, None, SEED_FAILED.as_bytes()).unwrap();
        assert_eq!(r.status, Status::Failed);
        assert_eq!(r.reference_id, None);
        assert_eq!(r.txn_id.as_deref(), Some("DGFIN4c31cf793a"));
        assert_eq!(r.ackno.as_deref(), Some("0"));
        assert_eq!(
            r.message.as_deref(),
            Some("Your payment for Reliance Jio Bill Payment Prepaid failed | Transaction failed")
        );
        assert_eq!(r.api_code, Some(401));
        assert_eq!(r.http_status, 200);
        assert_eq!(r.raw, serde_json::from_str::<Value>(SEED_FAILED).unwrap());
        assert!(r.is_final());
    }

    #[test]
    fn seed_401_body_is_authentication_error() {
        for call in [Call::MobileRecharge, Call::RechargeStatus] {
            let e = interpret(call, 401, None, SEED_401.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Authentication);
            assert_eq!(e.api_code(), Some(5));
            assert_eq!(e.http_status(), Some(401));
            assert_eq!(e.message(), "Invalid signature encoding");
            assert!(e.retry_safe());
            assert!(e.body_excerpt().unwrap().contains("signature"));
        }
    }

    #[test]
    fn status_mapping_and_key_variants() {
        for (word, status) in [
            ("success", Status::Success),
            ("Successful", Status::Success),
            ("FAILURE", Status::Failed),
            ("processing", Status::Pending),
            ("INITIATED", Status::Pending),
            ("weird", Status::Unknown),
        ] {
            let body =
                format!(r#"{{"referenceId":"R1","DATA":{{"Status":"{word}","TxnID":"T"}}}}"#);
            let r = interpret(Call::RechargeStatus, 200, None, body.as_bytes()).unwrap();
            assert_eq!(r.status, status, "{word}");
            assert_eq!(r.reference_id.as_deref(), Some("R1"));
            assert_eq!(r.txn_id.as_deref(), Some("T"));
        }
    }

    #[test]
    fn message_precedence() {
        let body = r#"{"ReferanceID":"R","data":{"status":"PENDING","message":""},"error":"","message":"m","msg":"x"}"#;
        let r = interpret(Call::MobileRecharge, 200, None, body.as_bytes()).unwrap();
        assert_eq!(r.message.as_deref(), Some("m"));
        let body = r#"{"ReferanceID":"R","data":{"status":"PENDING"},"msg":"x"}"#;
        let r = interpret(Call::MobileRecharge, 200, None, body.as_bytes()).unwrap();
        assert_eq!(r.message.as_deref(), Some("x"));
    }

    #[test]
    fn refusal_without_transaction_is_api_error() {
        let body = r#"{"status": false, "message": "Insufficient balance", "statusCode": 402}"#;
        let e = interpret(Call::MobileRecharge, 200, None, body.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Api);
        assert_eq!(e.api_code(), Some(402));
        assert!(e.retry_safe());
    }

    #[test]
    fn unreadable_answers_depend_on_the_call() {
        for body in ["<html>", "[1,2]", "{}", ""] {
            let e = interpret(Call::MobileRecharge, 200, None, body.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::OutcomeUnknown, "{body}");
            assert!(!e.retry_safe());
            let e = interpret(Call::RechargeStatus, 200, None, body.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Protocol, "{body}");
        }
        let e = interpret(Call::MobileRecharge, 502, None, b"<html>502</html>").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
        assert_eq!(e.http_status(), Some(502));
        let e = interpret(Call::RechargeStatus, 503, None, b"").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Server);
        let e = interpret(Call::MobileRecharge, 302, None, b"").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
    }

    #[test]
    fn http_errors() {
        let e = interpret(
            Call::RechargeStatus,
            429,
            Some(Duration::from_secs(3)),
            b"{}",
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimit);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        let e = interpret(Call::MobileRecharge, 403, None, b"nope").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert_eq!(e.message(), "HTTP 403 Forbidden");
        let e = interpret(Call::MobileRecharge, 400, None, br#"{"message":"bad"}"#).unwrap_err();
        assert_eq!((e.kind(), e.message().as_str()), (ErrorKind::Api, "bad"));
    }

    /// Hostile 2xx answers: each is unreadable, so a recharge's outcome is
    /// unknown and a status read is a (retried) protocol error, never a
    /// guess, never a panic, never unbounded work.
    #[test]
    fn hostile_answers_are_unreadable_not_guessed() {
        let deep = "[".repeat(200_000);
        let deep_obj = "{\"a\":".repeat(100_000);
        let cases: [(&[u8], &str); 8] = [
            (deep.as_bytes(), "recursion limit"),
            (deep_obj.as_bytes(), "recursion limit"),
            (
                b"{\"ReferanceID\":\"R\xff1\",\"data\":{\"status\":\"SUCCESS\"}}",
                "not valid JSON",
            ),
            (
                br#"{"ReferanceID":"R1","data":{"status":"SUCCESS","status":"FAILED"}}"#,
                "duplicate key \"status\"",
            ),
            (
                br#"{"ReferanceID":"R1","ReferanceID":"R2","data":{"status":"SUCCESS"}}"#,
                "duplicate key \"ReferanceID\"",
            ),
            (
                br#"{"ReferanceID":"R1","data":{"status":"SUCCESS","txnId":1e400}}"#,
                "out of range",
            ),
            (b"\xef\xbb\xbf\xff\xfe", "not valid JSON"),
            (
                br#"{"ReferanceID":"R1","data":{"status":"SUCCESS"}} trailing"#,
                "trailing",
            ),
        ];
        for (body, why) in cases {
            let e = interpret(Call::MobileRecharge, 200, None, body).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::OutcomeUnknown, "{why}");
            assert!(!e.retry_safe());
            assert!(e.message().contains(why), "{why}: {}", e.message());
            assert!(
                e.body_excerpt()
                    .is_some_and(|x| x.len() <= crate::BODY_EXCERPT_LIMIT + 3)
            );
            let e = interpret(Call::RechargeStatus, 200, None, body).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Protocol, "{why}");
        }
    }

    #[test]
    fn huge_but_valid_numbers_are_kept_not_rejected() {
        let body = br#"{"ReferanceID":"R1","data":{"status":"SUCCESS","txnId":123456789012345678901234567890,"ackno":-0.0}}"#;
        let r = interpret(Call::MobileRecharge, 200, None, body).unwrap();
        assert_eq!(r.status, Status::Success);
        assert_eq!(r.raw["data"]["txnId"].as_f64(), Some(1.2345678901234568e29));
        // Duplicate keys only matter within one object.
        let body = br#"{"ReferanceID":"R1","data":{"status":"SUCCESS"},"x":[{"a":1},{"a":2}]}"#;
        interpret(Call::MobileRecharge, 200, None, body).unwrap();
    }
}
