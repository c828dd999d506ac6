//! Turning an HTTP answer into an endpoint's answer or an [`Error`]
//! (docs/protocol.md §2): pure functions of (call, status, body), testable
//! and fuzzable without HTTP.

use std::time::Duration;

use super::{Answer, Endpoint, EndpointSpec, RechargeStatus};
use crate::endpoints::Recharge;
use crate::error::Error;
use crate::models::MobileRecharge;
use crate::wire::answers::{AnswerTable, table_for};
use crate::wire::{Effect, answered};

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

/// Interpret one HTTP answer of `call` (the fuzzed entry point).
pub fn interpret(
    call: Call,
    http_status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<Recharge, Error> {
    let mut recharge: Recharge = read_answer_of(
        call.effect(),
        table_for(call.spec().method),
        call.name(),
        http_status,
        retry_after,
        body,
    )?;
    recharge.status_call = <RechargeStatus as Endpoint>::SPEC.method;
    Ok(recharge)
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

/// [`read_answer`] for an endpoint whose answers `table` places.
pub(crate) fn read_answer_of<A: Answer>(
    effect: Effect,
    table: Option<&'static AnswerTable>,
    endpoint: &'static str,
    http_status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<A, Error> {
    answered(effect, table, endpoint, http_status, retry_after, body).and_then(A::from_answered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::models::Status;
    use serde_json::Value;

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
            r.meta.message.as_deref(),
            Some("Your payment for Reliance Jio Bill Payment Prepaid failed | Transaction failed")
        );
        assert_eq!(r.meta.api_code, Some(401));
        assert_eq!(r.meta.http_status, 200);
        assert_eq!(
            r.meta.raw,
            serde_json::from_str::<Value>(SEED_FAILED).unwrap()
        );
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
        assert_eq!(r.meta.message.as_deref(), Some("m"));
        let body = r#"{"ReferanceID":"R","data":{"status":"PENDING"},"msg":"x"}"#;
        let r = interpret(Call::MobileRecharge, 200, None, body.as_bytes()).unwrap();
        assert_eq!(r.meta.message.as_deref(), Some("x"));
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
        assert_eq!(
            r.meta.raw["data"]["txnId"].as_f64(),
            Some(1.2345678901234568e29)
        );
        // Duplicate keys only matter within one object.
        let body = br#"{"ReferanceID":"R1","data":{"status":"SUCCESS"},"x":[{"a":1},{"a":2}]}"#;
        interpret(Call::MobileRecharge, 200, None, body).unwrap();
    }
}
