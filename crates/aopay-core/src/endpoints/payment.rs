//! `Payment`: the one outcome of every write and status read, a V2
//! recharge's included (docs/protocol.md §2, §8), and how that is read.

use serde_json::Value;

use super::{AnswerMeta, AnswerSpec, FieldKind, FieldSpec, FieldValue};
use crate::error::Error;
use crate::money::Money;
use crate::wire::Answered;
use crate::wire::answers::Outcome;
use crate::wire::json::{Lenient, first_text, flag, lookup};

/// The fate of a referenced write (docs/protocol.md §8): the answer
/// tables' outcome (docs/protocol.md §10).
pub type PaymentStatus = crate::wire::answers::Outcome;

/// What a write, or its status call, says about the transaction: the one
/// outcome of every write (a V2 recharge's too, where it is also called
/// [`Recharge`](crate::Recharge)). Every field but `status` and
/// `status_call` may be absent: the API documents no schema.
#[derive(Clone, PartialEq)]
pub struct Payment {
    /// Its fate.
    pub status: PaymentStatus,
    /// The reference to track it by: the caller's it was sent with
    /// (`referenceid`), or for a V2 recharge AOPay's (`ReferanceID`),
    /// which an answer may lack.
    pub reference_id: Option<String>,
    /// AOPay's transaction id.
    pub txn_id: Option<String>,
    /// The operator's reference: what a customer quotes to support.
    pub operator_id: Option<String>,
    /// The acknowledgement number.
    pub ackno: Option<String>,
    /// The amount, in rupees.
    pub amount: Option<Money>,
    /// The wallet balance before it.
    pub opening: Option<Money>,
    /// The wallet balance after it.
    pub closing: Option<Money>,
    /// The commission earned on it.
    pub comm: Option<Money>,
    /// The tax deducted at source on the commission.
    pub tds: Option<Money>,
    /// Whether it was refunded.
    pub refunded: Option<bool>,
    /// The refund's transaction id.
    pub refund_txn_id: Option<String>,
    /// When it was refunded, as the API writes it.
    pub refunded_at: Option<String>,
    /// The method name of the status call that tells its fate
    /// (`bill_status`, `recharge_status`): `wait_for` and the journal use
    /// it.
    pub status_call: &'static str,
    /// The message, API code, HTTP status and `raw` of the answer.
    pub meta: AnswerMeta,
}

/// A V2 recharge's answer: the one outcome of every write, `Payment`
/// (docs/protocol.md §2). Before 0.2 it was a struct of its own, with
/// `message`, `api_code`, `http_status` and `raw` where a `Payment` has
/// them under `meta`.
pub type Recharge = Payment;

impl Payment {
    /// SUCCESS, FAILED or REFUNDED: nothing more will change.
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }

    /// Its entry's field list ([`Payment::field_values`] are in its order).
    pub fn spec() -> &'static AnswerSpec {
        &PAYMENT
    }

    /// Its own fields' values, in the order of its entry's field list
    /// (then [`AnswerMeta::values`]): what its JSON form is written from,
    /// and what a binding builds its object from.
    pub fn field_values(&self) -> [FieldValue<'_>; PAYMENT_FIELDS.len()] {
        [
            FieldValue::Text(Some(self.status.as_str())),
            FieldValue::Text(self.reference_id.as_deref()),
            FieldValue::Text(self.txn_id.as_deref()),
            FieldValue::Text(self.operator_id.as_deref()),
            FieldValue::Text(self.ackno.as_deref()),
            FieldValue::Money(self.amount),
            FieldValue::Money(self.opening),
            FieldValue::Money(self.closing),
            FieldValue::Money(self.comm),
            FieldValue::Money(self.tds),
            FieldValue::Bool(self.refunded),
            FieldValue::Text(self.refund_txn_id.as_deref()),
            FieldValue::Text(self.refunded_at.as_deref()),
            FieldValue::Bool(Some(self.is_final())),
            FieldValue::Text(Some(self.status_call)),
        ]
    }

    /// The outcome as one JSON object (the CLI's `--json`, and what a
    /// caller would store): every field, `raw` included.
    pub fn to_json_value(&self) -> Value {
        super::Answer::to_json_value(self)
    }

    /// [`Payment::to_json_value`], its `raw` moved rather than copied (what
    /// the bindings hand over).
    pub fn into_json_value(mut self) -> Value {
        let raw = std::mem::take(&mut self.meta.raw);
        let mut json = self.to_json_value();
        json["raw"] = raw;
        json
    }

    /// A stored answer read again, with what was stored beside it: its
    /// status is the one recorded, not read again (the raw may be the
    /// write's or its status call's).
    ///
    /// A `raw` that is no object (none was recorded) reads as an empty
    /// answer.
    pub(crate) fn restore(
        raw: Value,
        status: &str,
        http_status: u16,
        reference: Option<String>,
        status_call: &'static str,
    ) -> Self {
        // The object is read in place, then kept as the raw.
        let (obj, other) = match raw {
            Value::Object(obj) => (obj, None),
            other => (serde_json::Map::new(), Some(other)),
        };
        let answered = Answered::restored(obj);
        let mut p = Self::read(&answered, Outcome::from_api(status));
        p.meta.http_status = http_status;
        p.meta.raw = other.unwrap_or_else(|| answered.into_raw());
        p.reference_id = reference.or(p.reference_id);
        p.status_call = status_call;
        p
    }

    /// Every field but the status, which its caller decides.
    fn read(a: &Answered<'_>, status: Outcome) -> Self {
        // Fifteen fields, each looked up in `data` then at the top: each
        // object's keys are normalised once.
        let obj = Lenient::of(a.object());
        let data = obj
            .lookup(&["data"])
            .find_map(Value::as_object)
            .map(Lenient::of);
        let pick = |names: &[&str]| {
            data.as_ref()
                .and_then(|d| d.first_text(names))
                .or_else(|| obj.first_text(names))
        };
        let money = |names: &[&str]| {
            data.as_ref()
                .and_then(|d| d.lookup(names).find_map(Money::from_answer))
                .or_else(|| obj.lookup(names).find_map(Money::from_answer))
        };
        let refunded = data
            .as_ref()
            .and_then(|d| d.lookup(&["refunded"]).find_map(flag))
            .or_else(|| obj.lookup(&["refunded"]).find_map(flag));
        Self {
            status,
            // A V2 recharge's is AOPay's `ReferanceID`, at the top.
            reference_id: obj
                .first_text(&["referanceid"])
                .or_else(|| pick(&["referenceid", "referanceid", "refid"])),
            txn_id: pick(&["txnid", "transactionid"]),
            operator_id: pick(&["operatorid"]),
            ackno: pick(&["ackno"]),
            amount: money(&["amount"]),
            opening: money(&["opening"]),
            closing: money(&["closing"]),
            comm: money(&["comm"]),
            tds: money(&["tds"]),
            refunded,
            refund_txn_id: pick(&["refundtxnid"]),
            refunded_at: pick(&["daterefunded", "refundedat"]),
            status_call: "",
            meta: AnswerMeta {
                message: a.message(),
                api_code: a.api_code(),
                http_status: a.http_status(),
                raw: Value::Null,
            },
        }
    }
}

impl std::fmt::Debug for Payment {
    // From the table: personal fields and `raw` are left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        super::debug_answer(f, &PAYMENT, &super::Answer::to_json_value(self))
    }
}

impl super::Answer for Payment {
    const SPEC: &'static AnswerSpec = &PAYMENT;

    fn from_answered(a: Answered<'_>) -> Result<Self, Error> {
        // The endpoint's answer table decides (docs/protocol.md §10); an
        // answer no table places (a stored one read again) says its own.
        let status = match a.place()? {
            Some(o) => o,
            None => stated_status(a.object()).unwrap_or(Outcome::Unknown),
        };
        let mut p = Self::read(&a, status);
        p.meta.raw = a.into_raw();
        Ok(p)
    }

    fn field_values(&self) -> Vec<FieldValue<'_>> {
        Payment::field_values(self).to_vec()
    }

    fn to_json_value(&self) -> Value {
        // From the array: no list between on every write's path.
        super::json_of(&PAYMENT, &Payment::field_values(self), &self.meta)
    }

    fn meta(&self) -> &AnswerMeta {
        &self.meta
    }

    fn outcome(&self) -> &str {
        self.status.as_str()
    }

    fn reference_id(&self) -> Option<&str> {
        self.reference_id.as_deref()
    }
}

/// The status an answer states in words (`data.status`, else a top-level
/// one), for an answer no table places.
fn stated_status(obj: &serde_json::Map<String, Value>) -> Option<Outcome> {
    let data = lookup(obj, &["data"]).find_map(Value::as_object);
    data.and_then(|d| first_text(d, &["status"]))
        .map(|s| Outcome::from_api(&s))
        .or_else(|| {
            lookup(obj, &["status"])
                .filter_map(Value::as_str)
                .map(Outcome::from_api)
                .find(|s| *s != Outcome::Unknown)
        })
}

// With the outcome it names, so beside it: the error layer knows no answer.
impl Error {
    /// This error, for a step that came after `recharge` was sent and
    /// answered (the wait for its final status, say): resubmitting is then
    /// never safe, whatever the step's own error says, so the result is an
    /// `OutcomeUnknown` carrying the recharge's reference and this error's
    /// message. An `OutcomeUnknown` that already carries a reference is
    /// returned as it is.
    pub fn after_recharge_sent(self, recharge: &Recharge) -> Self {
        let answered = (recharge.meta.http_status, recharge.meta.api_code);
        self.after_sent(
            "recharge",
            recharge.status.as_str(),
            recharge.reference_id.as_deref(),
            Some(answered),
        )
    }
}

const fn field(name: &'static str, kind: FieldKind, doc: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        doc,
        personal: false,
    }
}

pub(crate) static PAYMENT: AnswerSpec = AnswerSpec {
    name: "Payment",
    doc: "What a write, or its status call, says about the transaction: the one outcome of every write, a V2 recharge's too.",
    from_request: &[],
    fields: &PAYMENT_FIELDS,
};

const PAYMENT_FIELDS: [FieldSpec; 15] = [
    field(
        "status",
        FieldKind::Outcome,
        "SUCCESS, PENDING, FAILED, REFUNDED or UNKNOWN.",
    ),
    field(
        "reference_id",
        FieldKind::Text,
        "The reference to track it by: yours it was sent with (`referenceid`), or for a V2 recharge AOPay's (`ReferanceID`), which an answer may lack.",
    ),
    field("txn_id", FieldKind::Text, "AOPay's transaction id."),
    field(
        "operator_id",
        FieldKind::Text,
        "The operator's reference: what a customer quotes to support.",
    ),
    field("ackno", FieldKind::Text, "The acknowledgement number."),
    field("amount", FieldKind::Money, "The amount, in rupees."),
    field("opening", FieldKind::Money, "The wallet balance before it."),
    field("closing", FieldKind::Money, "The wallet balance after it."),
    field("comm", FieldKind::Money, "The commission earned on it."),
    field(
        "tds",
        FieldKind::Money,
        "The tax deducted at source on the commission.",
    ),
    field("refunded", FieldKind::Bool, "Whether it was refunded."),
    field(
        "refund_txn_id",
        FieldKind::Text,
        "The refund's transaction id.",
    ),
    field(
        "refunded_at",
        FieldKind::Text,
        "When it was refunded, as the API writes it.",
    ),
    field(
        "is_final",
        FieldKind::Bool,
        "SUCCESS, FAILED or REFUNDED: nothing more will change.",
    ),
    field(
        "status_call",
        FieldKind::RequiredText,
        "The status call that tells its fate (`bill_status`, `recharge_status`).",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::read_answer_of;
    use crate::error::ErrorKind;
    use crate::wire::Effect;
    use crate::wire::answers::{BILL_STATUS, WRITES};

    fn read(effect: Effect, body: &str) -> Result<Payment, Error> {
        let table = match effect {
            Effect::Write => &WRITES,
            Effect::Read => &BILL_STATUS,
        };
        read_answer_of::<Payment>(effect, Some(table), "test", 200, None, body.as_bytes())
    }

    #[test]
    fn each_value_fits_its_field_and_the_json_form_is_written_from_them() {
        let p = read(
            Effect::Write,
            r#"{"status":true,"response_code":1,"referenceid":"R1","data":{"amount":"10.50","refunded":"N"}}"#,
        )
        .unwrap();
        let fields = PAYMENT.all_fields();
        let values = p.field_values().into_iter().chain(p.meta.values());
        let json = p.to_json_value();
        for (field, value) in fields.zip(values) {
            assert!(value.fits(field.kind), "{} holds {value:?}", field.name);
            assert_eq!(json[field.name], value.to_json(), "{}", field.name);
        }
        assert_eq!(json["amount"], "10.50");
        assert_eq!(json["refunded"], false);
        assert_eq!(json["is_final"], true);
    }

    #[test]
    fn the_tables_decide_and_a_code_alone_is_never_refunded() {
        for (body, status) in [
            (
                r#"{"status":true,"response_code":1,"operatorid":"OP1","ackno":"7"}"#,
                PaymentStatus::Success,
            ),
            (
                r#"{"status":true,"response_code":2}"#,
                PaymentStatus::Pending,
            ),
            (
                r#"{"status":false,"response_code":0,"message":"re-query"}"#,
                PaymentStatus::Pending,
            ),
            (
                r#"{"status":true,"response_code":1,"data":{"status":"FAILED","txnid":"T"}}"#,
                PaymentStatus::Failed,
            ),
            (
                r#"{"status":true,"response_code":1,"data":{"status":"0","refunded":"1"}}"#,
                PaymentStatus::Refunded,
            ),
        ] {
            assert_eq!(read(Effect::Write, body).unwrap().status, status, "{body}");
        }
        for (body, kind) in [
            (
                r#"{"status":false,"response_code":3}"#,
                ErrorKind::OutcomeUnknown,
            ),
            (
                r#"{"status":false,"response_code":18}"#,
                ErrorKind::DuplicateReference,
            ),
            (
                r#"{"status":false,"response_code":16}"#,
                ErrorKind::InsufficientBalance,
            ),
            (r#"{"status":false,"response_code":14}"#, ErrorKind::Api),
            (r#"{"message":"hello"}"#, ErrorKind::OutcomeUnknown),
        ] {
            assert_eq!(
                read(Effect::Write, body).unwrap_err().kind(),
                kind,
                "{body}"
            );
        }
        let e = read(Effect::Read, r#"{"message":"hello"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        let e = read(
            Effect::Read,
            r#"{"status":false,"response_code":0,"message":"No Transaction found"}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TransactionNotFound);
        assert!(e.retry_safe());
    }

    #[test]
    fn the_documented_status_answer_is_read_exactly() {
        let body = r#"{"response_code":1,"status":true,"data":{"txnid":"T77","operatorname":"BSES","canumber":"102277100","amount":"820.50","ad1":null,"comm":"2.05","tds":"0.10","status":"1","refid":"20018575947","operatorid":"OPR9","dateadded":"2026-12-01 10:00:00","refunded":"0","refundtxnid":"","daterefunded":""},"message":"Transaction Successful"}"#;
        let p = read(Effect::Read, body).unwrap();
        assert_eq!(p.status, PaymentStatus::Success);
        assert_eq!(p.reference_id.as_deref(), Some("20018575947"));
        assert_eq!(p.amount, Some(Money::from_paise(82_050)));
        assert_eq!(
            (p.comm, p.tds),
            (Some(Money::from_paise(205)), Some(Money::from_paise(10)))
        );
        assert_eq!(p.refunded, Some(false));
        assert_eq!(
            (p.refund_txn_id.as_deref(), p.refunded_at.as_deref()),
            (None, None)
        );
        let json = p.to_json_value();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let names: Vec<&str> = PAYMENT.all_fields().map(|f| f.name).collect();
        assert_eq!(keys, names);
        assert_eq!(json["amount"], "820.50");
        assert_eq!(p.into_json_value(), json, "the same JSON, its raw moved");
    }
}
