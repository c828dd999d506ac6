//! GetDthInfo (docs/protocol.md §6): a DTH account's holder, balance and
//! plan, to check before recharging it. A read.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    AnswerMeta, AnswerSpec, ArgKind, ArgSpec, ArgValue, Args, Binding, Endpoint, EndpointSpec,
    FieldKind, FieldSpec, FieldValue, Lang, reread,
};
use crate::error::{Error, ValidationError};
use crate::money::Money;
use crate::validate::{RegistrationId, mask_digits};
use crate::wire::json::{first_text, lookup};
use crate::wire::{Answered, Effect};

pub(super) static DTH_INFO: EndpointSpec = EndpointSpec {
    name: "GetDthInfo",
    method: "dth_info",
    path: "/api/AOP/V2/GetDthInfo",
    registration: "RegistrationID",
    body: &["RegistrationID", "circle", "operator", "Opnumber"],
    cli: &["dth-info"],
    effect: Effect::Read,
    status: None,
    summary: "Look up a DTH account: its holder, balance, plan and next due date.",
    args: &[
        ArgSpec {
            name: "operator",
            wire: "operator",
            kind: ArgKind::Text { max: 64 },
            required: true,
            doc: "The DTH operator, as AOPay names it (\"Jio\", \"Tata Play\").",
            example: "Jio",
        },
        ArgSpec {
            name: "number",
            wire: "Opnumber",
            kind: ArgKind::Text { max: 32 },
            required: true,
            doc: "The DTH account (subscriber) number: letters and digits.",
            example: "62638787325776",
        },
        ArgSpec {
            name: "circle",
            wire: "circle",
            kind: ArgKind::Text { max: 64 },
            required: true,
            doc: "The telecom circle the account is registered in.",
            example: "Delhi NCR",
        },
    ],
    answer: &DTH_INFO_ANSWER,
    binding: Binding::Generated,
    reread: reread::<DthInfo>,
};

static DTH_INFO_ANSWER: AnswerSpec = AnswerSpec {
    name: "DthInfo",
    doc: "A DTH account as the operator knows it.",
    from_request: &[],
    fields: &[
        FieldSpec {
            name: "customer_name",
            kind: FieldKind::Text,
            doc: "The account holder's name.",
            personal: true,
        },
        FieldSpec {
            name: "balance",
            kind: FieldKind::Money,
            doc: "The account's balance, in rupees.",
            personal: false,
        },
        FieldSpec {
            name: "plan",
            kind: FieldKind::Text,
            doc: "The current plan.",
            personal: false,
        },
        FieldSpec {
            name: "monthly_amount",
            kind: FieldKind::Money,
            doc: "The monthly recharge amount, in rupees.",
            personal: false,
        },
        FieldSpec {
            name: "next_due_date",
            kind: FieldKind::Text,
            doc: "When the next recharge is due, as the operator writes it.",
            personal: false,
        },
    ],
};

/// A checked GetDthInfo request.
#[derive(Clone, PartialEq, Eq)]
pub struct DthInfoRequest {
    operator: String,
    number: String,
    circle: String,
}

impl DthInfoRequest {
    /// Check every field (the same rules the bindings apply).
    ///
    /// ```
    /// let req = aopay_core::DthInfoRequest::new("Jio", "62638787325776", "Delhi NCR")?;
    /// assert!(aopay_core::DthInfoRequest::new("Jio", "6263 8787", "Delhi NCR").is_err());
    /// # Ok::<(), aopay_core::ValidationError>(())
    /// ```
    pub fn new(operator: &str, number: &str, circle: &str) -> Result<Self, ValidationError> {
        let text = |s: &str| ArgValue::Text(s.to_owned());
        Self::from_args(
            &Args::new(Lang::Rust)
                .with("operator", text(operator))
                .with("number", text(number))
                .with("circle", text(circle)),
        )
    }
}

impl std::fmt::Debug for DthInfoRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DthInfoRequest")
            .field("operator", &self.operator)
            .field("number", &mask_digits(&self.number))
            .field("circle", &self.circle)
            .finish()
    }
}

impl Endpoint for DthInfoRequest {
    const SPEC: &'static EndpointSpec = &DTH_INFO;
    type Answer = DthInfo;

    fn from_args(args: &Args) -> Result<Self, ValidationError> {
        let a = args.check(Self::SPEC)?;
        let number = a.required_text("number").trim();
        if !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ValidationError::new(
                "number",
                "must be letters and digits only, as the operator writes it",
            ));
        }
        Ok(Self {
            operator: a.required_text("operator").trim().to_owned(),
            number: number.to_owned(),
            circle: a.required_text("circle").trim().to_owned(),
        })
    }

    fn to_body(&self, registration_id: &RegistrationId) -> Vec<u8> {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(rename = "RegistrationID")]
            registration_id: &'a str,
            circle: &'a str,
            operator: &'a str,
            #[serde(rename = "Opnumber")]
            number: &'a str,
        }
        serde_json::to_vec(&Wire {
            registration_id: registration_id.as_str(),
            circle: &self.circle,
            operator: &self.operator,
            number: &self.number,
        })
        .unwrap_or_default()
    }

    fn masked_number(&self) -> Option<String> {
        Some(mask_digits(&self.number))
    }
}

/// A DTH account as the operator knows it (every field may be absent: the
/// API documents no schema, so `raw` keeps the whole answer).
#[derive(Clone, PartialEq)]
pub struct DthInfo {
    /// The account holder's name.
    pub customer_name: Option<String>,
    /// The account's balance.
    pub balance: Option<Money>,
    /// The current plan.
    pub plan: Option<String>,
    /// The monthly recharge amount.
    pub monthly_amount: Option<Money>,
    /// When the next recharge is due, as the operator writes it.
    pub next_due_date: Option<String>,
    /// The message, API code, HTTP status and `raw` of the answer.
    pub meta: AnswerMeta,
}

impl std::fmt::Debug for DthInfo {
    // From the table: personal fields and `raw` are left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        super::debug_answer(f, DTH_INFO.answer, &super::Answer::to_json_value(self))
    }
}

/// Where the account's fields may be: the top level, or an object (or the
/// first object of a list) under `data`, `records` or `info`.
fn containers(obj: &Map<String, Value>) -> Vec<&Map<String, Value>> {
    let mut out = vec![obj];
    for v in lookup(obj, &["data", "records", "info"]) {
        match v {
            Value::Object(o) => out.push(o),
            Value::Array(items) => out.extend(items.iter().find_map(Value::as_object)),
            _ => {}
        }
    }
    out
}

impl super::Answer for DthInfo {
    const SPEC: &'static AnswerSpec = &DTH_INFO_ANSWER;

    fn from_answered(a: Answered<'_>) -> Result<Self, Error> {
        let places = containers(a.object());
        let text = |names: &[&str]| places.iter().find_map(|o| first_text(o, names));
        let money = |names: &[&str]| {
            places
                .iter()
                .find_map(|o| lookup(o, names).find_map(Money::from_answer))
        };
        let customer_name = text(&["customername", "name"]);
        let balance = money(&["balance", "currentbalance"]);
        let plan = text(&["planname", "currentplan", "plan"]);
        let monthly_amount = money(&["monthlyrecharge", "monthlyamount"]);
        let next_due_date = text(&["nextrechargedate", "nextduedate", "duedate"]);
        let found = customer_name.is_some() || balance.is_some() || plan.is_some();
        if !found {
            if a.refused() {
                return Err(a.refusal());
            }
            return Err(a.unreadable("names no DTH account and no refusal"));
        }
        Ok(Self {
            customer_name,
            balance,
            plan,
            monthly_amount,
            next_due_date,
            meta: AnswerMeta::of(a),
        })
    }

    fn field_values(&self) -> Vec<FieldValue<'_>> {
        vec![
            FieldValue::Text(self.customer_name.as_deref()),
            FieldValue::Money(self.balance),
            FieldValue::Text(self.plan.as_deref()),
            FieldValue::Money(self.monthly_amount),
            FieldValue::Text(self.next_due_date.as_deref()),
        ]
    }

    fn meta(&self) -> &AnswerMeta {
        &self.meta
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::Answer;
    use crate::endpoints::read_answer;
    use crate::error::ErrorKind;

    fn read(body: &str) -> Result<DthInfo, Error> {
        read_answer::<DthInfo>(Effect::Read, 200, None, body.as_bytes())
    }

    #[test]
    fn debug_shows_what_the_table_does_not_call_personal() {
        let info = read(
            r#"{"status":true,"data":{"customerName":"Asha Rao","balance":"245.5","planName":"Gold"}}"#,
        )
        .unwrap();
        let shown = format!("{info:?}");
        assert!(!shown.contains("Asha") && !shown.contains("raw"), "{shown}");
        assert!(
            shown.starts_with("DthInfo { balance: \"245.50\", plan: \"Gold\","),
            "{shown}"
        );
        assert!(shown.contains("http_status: 200"), "{shown}");
    }

    #[test]
    fn reads_the_account_wherever_the_answer_puts_it() {
        let flat = r#"{"status":true,"customerName":"Asha","Balance":"245.5","planname":"HD Pack","MonthlyRecharge":320,"NextRechargeDate":"2026-12-15"}"#;
        let nested = r#"{"status":1,"message":"ok","data":{"customer_name":"Asha","balance":"245.50","plan":"HD Pack","monthly_amount":"320","next_due_date":"2026-12-15"}}"#;
        let listed = r#"{"success":1,"records":[{"customerName":"Asha","Balance":245.5,"planname":"HD Pack","MonthlyRecharge":"320.00","NextRechargeDate":"2026-12-15"}]}"#;
        for body in [flat, nested, listed] {
            let d = read(body).unwrap();
            assert_eq!(d.customer_name.as_deref(), Some("Asha"), "{body}");
            assert_eq!(d.balance, Some(Money::from_paise(24_550)), "{body}");
            assert_eq!(d.plan.as_deref(), Some("HD Pack"));
            assert_eq!(d.monthly_amount, Some(Money::from_paise(32_000)));
            assert_eq!(d.next_due_date.as_deref(), Some("2026-12-15"));
            assert_eq!(d.meta.raw, serde_json::from_str::<Value>(body).unwrap());
            let v = d.to_json_value();
            let names: Vec<&str> = DTH_INFO.answer_fields().map(|f| f.name).collect();
            let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys, names,
                "to_json_value writes the spec's fields, in order"
            );
            assert_eq!(v["balance"], "245.50");
        }
    }

    #[test]
    fn a_refusal_is_an_api_error_and_nothing_is_unreadable() {
        let e = read(r#"{"status":false,"response_code":2,"message":"No customer found"}"#)
            .unwrap_err();
        assert_eq!((e.kind(), e.api_code()), (ErrorKind::Api, Some(2)));
        assert_eq!(e.message(), "No customer found");
        assert!(e.retry_safe());
        let e = read(r#"{"status":true}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        let e = read_answer::<DthInfo>(Effect::Read, 503, None, b"").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Server);
    }

    #[test]
    fn requests_are_checked_and_sent_as_the_api_spells_them() {
        let req = DthInfoRequest::new(" Jio ", "62638787325776", "Delhi NCR").unwrap();
        let body = req.to_body(&RegistrationId::new("AOP-554").unwrap());
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"RegistrationID":"AOP-554","circle":"Delhi NCR","operator":"Jio","Opnumber":"62638787325776"}"#
        );
        assert!(!format!("{req:?}").contains("62638787325776"));
        for (op, number, circle, field) in [
            ("", "1", "x", "operator"),
            ("Jio", "", "x", "number"),
            ("Jio", "12 34", "x", "number"),
            ("Jio", &"1".repeat(33), "x", "number"),
            ("Jio", "1", "\u{7}", "circle"),
        ] {
            let e = DthInfoRequest::new(op, number, circle).unwrap_err();
            assert_eq!(e.field(), field, "{op:?} {number:?} {circle:?}");
        }
    }

    #[test]
    fn neutral_arguments_are_type_checked_per_language() {
        let py = Args::new(Lang::Python)
            .with("operator", ArgValue::Int(1))
            .with("number", ArgValue::Text("1".into()))
            .with("circle", ArgValue::Text("x".into()));
        let e = DthInfoRequest::from_args(&py).unwrap_err();
        assert_eq!(e.to_string(), "invalid operator: must be a str, not int");
        let js = Args::new(Lang::Node)
            .with("operator", ArgValue::Text("Jio".into()))
            .with("number", ArgValue::Other("array".into()))
            .with("circle", ArgValue::Text("x".into()));
        let e = DthInfoRequest::from_args(&js).unwrap_err();
        assert_eq!(e.to_string(), "invalid number: must be a string, not array");
        let missing = Args::new(Lang::Node).with("operator", ArgValue::Text("Jio".into()));
        assert_eq!(
            DthInfoRequest::from_args(&missing).unwrap_err().field(),
            "number"
        );
        let unknown = Args::new(Lang::Node).with("opertor", ArgValue::Text("Jio".into()));
        let e = DthInfoRequest::from_args(&unknown).unwrap_err();
        assert_eq!(e.field(), "arguments");
        assert!(e.rule().contains("\"opertor\""), "{e}");
    }
}
