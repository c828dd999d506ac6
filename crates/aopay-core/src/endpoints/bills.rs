//! FetchBilPaymentDetails (a bill: electricity, gas, broadband…) and
//! FetchConsumerDetails (a FASTag), docs/protocol.md §6. Reads; both answer
//! a [`Bill`], which the payment writes take back.

use serde_json::{Map, Value};

use super::{
    AnswerMeta, AnswerSpec, ArgKind, ArgSpec, ArgValue, Args, Binding, Endpoint, EndpointSpec,
    FieldKind, FieldSpec, FieldValue, Lang, reread,
};
use crate::error::{Error, ValidationError};
use crate::money::Money;
use crate::validate::{RegistrationId, mask_digits};
use crate::wire::json::{first_text, flag, lookup};
use crate::wire::{Answered, Effect};

const OPERATOR: ArgSpec = ArgSpec {
    name: "operator",
    wire: "operator",
    kind: ArgKind::Integer,
    required: true,
    doc: "The biller's operator code (11: an electricity board; 311: a FASTag issuer).",
    example: "11",
};

pub(super) static FETCH_BILL: EndpointSpec = EndpointSpec {
    name: "FetchBilPaymentDetails",
    method: "fetch_bill",
    path: "/api/AOP/FetchBilPaymentDetails",
    registration: "RegistrationID",
    body: &["operator", "canumber", "mode", "RegistrationID"],
    cli: &["bill", "fetch"],
    effect: Effect::Read,
    status: None,
    summary: "Fetch the bill due on an account (electricity, gas, water, broadband).",
    args: &[
        OPERATOR,
        ArgSpec {
            name: "account",
            wire: "canumber",
            kind: ArgKind::Account,
            required: true,
            doc: "The consumer account number, as the biller prints it.",
            example: "102277100",
        },
        ArgSpec {
            name: "mode",
            wire: "mode",
            kind: ArgKind::Choice(&["online", "offline"]),
            required: false,
            doc: "\"online\" (the default) or \"offline\".",
            example: "online",
        },
    ],
    answer: &BILL,
    binding: Binding::Generated,
    reread: reread::<Bill>,
};

pub(super) static FETCH_FASTAG: EndpointSpec = EndpointSpec {
    name: "FetchConsumerDetails",
    method: "fetch_fastag",
    path: "/api/AOP/FetchConsumerDetails",
    registration: "RegistrationID",
    body: &["operator", "canumber", "RegistrationID"],
    cli: &["fastag", "fetch"],
    effect: Effect::Read,
    status: None,
    summary: "Fetch a FASTag's details and the amounts it may be topped up with.",
    args: &[
        ArgSpec {
            example: "311",
            ..OPERATOR
        },
        ArgSpec {
            name: "vehicle",
            wire: "canumber",
            kind: ArgKind::Account,
            required: true,
            doc: "The vehicle's registration number (\"DL12CB4685\").",
            example: "DL12CB4685",
        },
    ],
    answer: &BILL,
    binding: Binding::Generated,
    reread: reread::<Bill>,
};

static BILL: AnswerSpec = AnswerSpec {
    name: "Bill",
    doc: "A fetched bill (or FASTag): what is due and what may be paid.",
    from_request: &["operator", "account", "mode"],
    fields: &[
        FieldSpec {
            name: "amount",
            kind: FieldKind::Money,
            doc: "The amount due, in rupees.",
            personal: false,
        },
        FieldSpec {
            name: "net_amount",
            kind: FieldKind::Money,
            doc: "The net amount (`billnetamount`), in rupees.",
            personal: false,
        },
        FieldSpec {
            name: "name",
            kind: FieldKind::Text,
            doc: "The consumer's name.",
            personal: true,
        },
        FieldSpec {
            name: "due_date",
            kind: FieldKind::Text,
            doc: "When it is due, as the biller writes it.",
            personal: false,
        },
        FieldSpec {
            name: "bill_date",
            kind: FieldKind::Text,
            doc: "When it was issued, as the biller writes it.",
            personal: false,
        },
        FieldSpec {
            name: "accept_payment",
            kind: FieldKind::Bool,
            doc: "Whether the biller takes a payment now (false: already paid, or closed).",
            personal: false,
        },
        FieldSpec {
            name: "accept_part_pay",
            kind: FieldKind::Bool,
            doc: "Whether an amount other than the bill's is accepted.",
            personal: false,
        },
        FieldSpec {
            name: "min_amount",
            kind: FieldKind::Money,
            doc: "The smallest amount accepted, where given (FASTag).",
            personal: false,
        },
        FieldSpec {
            name: "max_amount",
            kind: FieldKind::Money,
            doc: "The largest amount accepted, where given (FASTag).",
            personal: false,
        },
        FieldSpec {
            name: "operator",
            kind: FieldKind::Integer,
            doc: "The operator it was fetched from (the answer does not say: kept for paying it).",
            personal: false,
        },
        FieldSpec {
            name: "account",
            kind: FieldKind::Text,
            doc: "The account or vehicle it was fetched for (kept for paying it).",
            personal: true,
        },
        FieldSpec {
            name: "mode",
            kind: FieldKind::Text,
            doc: "The mode it was fetched in (\"online\"/\"offline\"; bills only).",
            personal: false,
        },
    ],
};

/// An account number: letters and digits, at most 32 (an integer is taken
/// as its digits).
pub(super) fn account(
    field: &'static str,
    v: Option<&ArgValue>,
) -> Result<String, ValidationError> {
    let text = match v {
        Some(ArgValue::Int(n)) if *n > 0 => n.to_string(),
        Some(ArgValue::Int(_)) => {
            return Err(ValidationError::new(field, "must be a positive number"));
        }
        Some(ArgValue::Text(t)) => t.trim().to_owned(),
        _ => String::new(),
    };
    if text.is_empty() || text.len() > 32 || !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ValidationError::new(
            field,
            "must be 1 to 32 letters and digits, as the biller prints it",
        ));
    }
    Ok(text)
}

pub(super) fn operator(a: &super::args::Checked<'_>) -> Result<u32, ValidationError> {
    a.int("operator")
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| ValidationError::new("operator", "must be a positive operator code"))
}

/// The account as the sample sends it: a JSON number when that loses
/// nothing (digits, no leading zero, exact in a double), else a string.
pub(super) fn account_json(account: &str) -> Value {
    let exact = account.len() <= 15 && !account.starts_with('0');
    match account.parse::<u64>() {
        Ok(n) if exact => Value::from(n),
        _ => Value::from(account),
    }
}

/// A checked FetchBilPaymentDetails request.
#[derive(Clone, PartialEq, Eq)]
pub struct FetchBillRequest {
    operator: u32,
    account: String,
    mode: &'static str,
}

impl FetchBillRequest {
    /// Check every field; `mode` `None` is `"online"`.
    ///
    /// ```
    /// let req = aopay_core::FetchBillRequest::new(11, "102277100", None)?;
    /// assert!(aopay_core::FetchBillRequest::new(11, "1022 77100", None).is_err());
    /// # Ok::<(), aopay_core::ValidationError>(())
    /// ```
    pub fn new(operator: i64, account: &str, mode: Option<&str>) -> Result<Self, ValidationError> {
        let mut args = Args::new(Lang::Rust)
            .with("operator", ArgValue::Int(operator))
            .with("account", ArgValue::Text(account.to_owned()));
        if let Some(m) = mode {
            args.set("mode", ArgValue::Text(m.to_owned()));
        }
        Self::from_args(&args)
    }
}

impl std::fmt::Debug for FetchBillRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchBillRequest")
            .field("operator", &self.operator)
            .field("account", &mask_digits(&self.account))
            .field("mode", &self.mode)
            .finish()
    }
}

impl Endpoint for FetchBillRequest {
    const SPEC: &'static EndpointSpec = &FETCH_BILL;
    type Answer = Bill;

    fn from_args(args: &Args) -> Result<Self, ValidationError> {
        let a = args.check(Self::SPEC)?;
        let mode = match a.text("mode").map(str::trim) {
            None | Some("online") => "online",
            Some("offline") => "offline",
            Some(_) => {
                return Err(ValidationError::new(
                    "mode",
                    "must be \"online\" or \"offline\"",
                ));
            }
        };
        Ok(Self {
            operator: operator(&a)?,
            account: account("account", a.raw("account"))?,
            mode,
        })
    }

    fn to_body(&self, registration_id: &RegistrationId) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "operator": self.operator,
            "canumber": account_json(&self.account),
            "mode": self.mode,
            "RegistrationID": registration_id.as_str(),
        }))
        .unwrap_or_default()
    }

    fn masked_number(&self) -> Option<String> {
        Some(mask_digits(&self.account))
    }

    fn settle(&self, bill: &mut Bill) {
        bill.operator = Some(self.operator);
        bill.account = Some(self.account.clone());
        bill.mode = Some(self.mode.to_owned());
    }
}

/// A checked FetchConsumerDetails (FASTag) request.
#[derive(Clone, PartialEq, Eq)]
pub struct FetchFastagRequest {
    operator: u32,
    vehicle: String,
}

impl FetchFastagRequest {
    /// Check every field.
    ///
    /// ```
    /// let req = aopay_core::FetchFastagRequest::new(311, "DL12CB4685")?;
    /// assert!(aopay_core::FetchFastagRequest::new(311, "DL 12 CB").is_err());
    /// # Ok::<(), aopay_core::ValidationError>(())
    /// ```
    pub fn new(operator: i64, vehicle: &str) -> Result<Self, ValidationError> {
        Self::from_args(
            &Args::new(Lang::Rust)
                .with("operator", ArgValue::Int(operator))
                .with("vehicle", ArgValue::Text(vehicle.to_owned())),
        )
    }
}

impl std::fmt::Debug for FetchFastagRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchFastagRequest")
            .field("operator", &self.operator)
            .field("vehicle", &mask_digits(&self.vehicle))
            .finish()
    }
}

impl Endpoint for FetchFastagRequest {
    const SPEC: &'static EndpointSpec = &FETCH_FASTAG;
    type Answer = Bill;

    fn from_args(args: &Args) -> Result<Self, ValidationError> {
        let a = args.check(Self::SPEC)?;
        Ok(Self {
            operator: operator(&a)?,
            vehicle: account("vehicle", a.raw("vehicle"))?.to_ascii_uppercase(),
        })
    }

    fn to_body(&self, registration_id: &RegistrationId) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "operator": self.operator,
            "canumber": self.vehicle,
            "RegistrationID": registration_id.as_str(),
        }))
        .unwrap_or_default()
    }

    fn masked_number(&self) -> Option<String> {
        Some(mask_digits(&self.vehicle))
    }

    fn settle(&self, bill: &mut Bill) {
        bill.operator = Some(self.operator);
        bill.account = Some(self.vehicle.clone());
    }
}

/// A fetched bill or FASTag (every field may be absent: the API documents
/// no schema; `raw` keeps the whole answer, and the payment writes send its
/// `bill_fetch` back as received).
#[derive(Clone, PartialEq)]
pub struct Bill {
    /// The amount due.
    pub amount: Option<Money>,
    /// The net amount (`billnetamount`).
    pub net_amount: Option<Money>,
    /// The consumer's name.
    pub name: Option<String>,
    /// When it is due.
    pub due_date: Option<String>,
    /// When it was issued.
    pub bill_date: Option<String>,
    /// Whether the biller takes a payment now.
    pub accept_payment: Option<bool>,
    /// Whether an amount other than the bill's is accepted.
    pub accept_part_pay: Option<bool>,
    /// The smallest amount accepted, where given.
    pub min_amount: Option<Money>,
    /// The largest amount accepted, where given.
    pub max_amount: Option<Money>,
    /// The operator it was fetched from (set by the fetch; `None` when read
    /// again from `raw` alone, which does not name it).
    pub operator: Option<u32>,
    /// The account or vehicle it was fetched for (as `operator`).
    pub account: Option<String>,
    /// The mode it was fetched in (bills).
    pub mode: Option<String>,
    /// The message, API code, HTTP status and `raw` of the answer.
    pub meta: AnswerMeta,
}

impl std::fmt::Debug for Bill {
    // From the table: personal fields and `raw` are left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        super::debug_answer(f, FETCH_BILL.answer, &super::Answer::to_json_value(self))
    }
}

impl Bill {
    pub(super) fn read(obj: &Map<String, Value>) -> Option<BillFields> {
        let fetched = lookup(obj, &["billfetch"]).find_map(Value::as_object);
        let money = |names: &[&str]| {
            fetched
                .and_then(|b| lookup(b, names).find_map(Money::from_answer))
                .or_else(|| lookup(obj, names).find_map(Money::from_answer))
        };
        let text = |names: &[&str]| {
            fetched
                .and_then(|b| first_text(b, names))
                .or_else(|| first_text(obj, names))
        };
        let flag_of = |names: &[&str]| {
            fetched
                .and_then(|b| lookup(b, names).find_map(flag))
                .or_else(|| lookup(obj, names).find_map(flag))
        };
        let amount = lookup(obj, &["amount"])
            .find_map(Money::from_answer)
            .or_else(|| money(&["billamount"]));
        if fetched.is_none() && amount.is_none() {
            return None;
        }
        Some(BillFields {
            amount,
            net_amount: money(&["billnetamount", "netamount"]),
            name: first_text(obj, &["name"]).or_else(|| text(&["username", "customername"])),
            due_date: first_text(obj, &["duedate"]).or_else(|| text(&["duedate"])),
            bill_date: text(&["billdate"]),
            accept_payment: flag_of(&["acceptpayment"]),
            accept_part_pay: flag_of(&["acceptpartpay"]),
            min_amount: money(&["minbillamount", "minamount"]),
            max_amount: money(&["maxbillamount", "maxamount"]),
        })
    }
}

pub(super) struct BillFields {
    pub(super) amount: Option<Money>,
    net_amount: Option<Money>,
    name: Option<String>,
    due_date: Option<String>,
    bill_date: Option<String>,
    pub(super) accept_payment: Option<bool>,
    pub(super) accept_part_pay: Option<bool>,
    pub(super) min_amount: Option<Money>,
    pub(super) max_amount: Option<Money>,
}

impl super::Answer for Bill {
    const SPEC: &'static AnswerSpec = &BILL;

    fn from_answered(a: Answered<'_>) -> Result<Self, Error> {
        let Some(f) = Bill::read(a.object()) else {
            if a.refused() {
                return Err(a.refusal());
            }
            return Err(a.unreadable("names no bill and no refusal"));
        };
        Ok(Self {
            amount: f.amount,
            net_amount: f.net_amount,
            name: f.name,
            due_date: f.due_date,
            bill_date: f.bill_date,
            accept_payment: f.accept_payment,
            accept_part_pay: f.accept_part_pay,
            min_amount: f.min_amount,
            max_amount: f.max_amount,
            operator: None,
            account: None,
            mode: None,
            meta: AnswerMeta::of(a),
        })
    }

    fn field_values(&self) -> Vec<FieldValue<'_>> {
        vec![
            FieldValue::Money(self.amount),
            FieldValue::Money(self.net_amount),
            FieldValue::Text(self.name.as_deref()),
            FieldValue::Text(self.due_date.as_deref()),
            FieldValue::Text(self.bill_date.as_deref()),
            FieldValue::Bool(self.accept_payment),
            FieldValue::Bool(self.accept_part_pay),
            FieldValue::Money(self.min_amount),
            FieldValue::Money(self.max_amount),
            FieldValue::Integer(self.operator.map(i64::from)),
            FieldValue::Text(self.account.as_deref()),
            FieldValue::Text(self.mode.as_deref()),
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

    fn read(body: &str) -> Result<Bill, Error> {
        read_answer::<Bill>(Effect::Read, 200, None, body.as_bytes())
    }

    #[test]
    fn reads_the_documented_shape() {
        let body = r#"{"status":true,"amount":"820.0","name":"Asha","duedate":"2026-12-20","bill_fetch":{"billAmount":"820.0","billnetamount":"820.0","billdate":"2026-11-20","dueDate":"2026-12-20","acceptPayment":true,"acceptPartPay":"false","cellNumber":"102277100","userName":"Asha"},"message":"Bill fetched"}"#;
        let b = read(body).unwrap();
        assert_eq!(b.amount, Some(Money::from_paise(82_000)));
        assert_eq!(b.net_amount, Some(Money::from_paise(82_000)));
        assert_eq!(
            (b.accept_payment, b.accept_part_pay),
            (Some(true), Some(false))
        );
        assert_eq!(b.bill_date.as_deref(), Some("2026-11-20"));
        assert_eq!(b.name.as_deref(), Some("Asha"));
        assert!(!format!("{b:?}").contains("Asha"));
        let keys: Vec<String> = b
            .to_json_value()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let names: Vec<&str> = FETCH_BILL.answer_fields().map(|f| f.name).collect();
        assert_eq!(keys, names);
        let fastag = r#"{"status":true,"bill_fetch":{"billAmount":"0","minBillAmount":100,"maxBillAmount":"10000","acceptPartPay":"Y","acceptPayment":1}}"#;
        let b = read(fastag).unwrap();
        assert_eq!(
            (b.min_amount, b.max_amount),
            (
                Some(Money::from_paise(10_000)),
                Some(Money::from_paise(1_000_000))
            )
        );
        assert_eq!(
            (b.accept_payment, b.accept_part_pay),
            (Some(true), Some(true))
        );
    }

    #[test]
    fn refusals_and_answers_without_a_bill() {
        let e = read(r#"{"status":false,"response_code":2,"message":"Unable to fetch bill"}"#)
            .unwrap_err();
        assert_eq!((e.kind(), e.api_code()), (ErrorKind::Api, Some(2)));
        assert_eq!(
            read(r#"{"status":true}"#).unwrap_err().kind(),
            ErrorKind::Protocol
        );
    }

    #[test]
    fn requests_are_checked_and_sent_as_the_samples_have_them() {
        let reg = RegistrationId::new("AOP-554").unwrap();
        let body = |r: &dyn Fn(&RegistrationId) -> Vec<u8>| String::from_utf8(r(&reg)).unwrap();
        let bill = FetchBillRequest::new(11, "102277100", None).unwrap();
        assert_eq!(
            body(&|g| bill.to_body(g)),
            r#"{"operator":11,"canumber":102277100,"mode":"online","RegistrationID":"AOP-554"}"#
        );
        // A leading zero or a letter would be lost as a number: a string.
        let bill = FetchBillRequest::new(11, "0102277100", Some("offline")).unwrap();
        assert_eq!(
            body(&|g| bill.to_body(g)),
            r#"{"operator":11,"canumber":"0102277100","mode":"offline","RegistrationID":"AOP-554"}"#
        );
        let tag = FetchFastagRequest::new(311, "dl12cb4685").unwrap();
        assert_eq!(
            body(&|g| tag.to_body(g)),
            r#"{"operator":311,"canumber":"DL12CB4685","RegistrationID":"AOP-554"}"#
        );
        for (op, acct, mode, field) in [
            (0, "1", None, "operator"),
            (-3, "1", None, "operator"),
            (11, "", None, "account"),
            (11, "12-34", None, "account"),
            (11, "1", Some("later"), "mode"),
        ] {
            assert_eq!(
                FetchBillRequest::new(op, acct, mode).unwrap_err().field(),
                field
            );
        }
        assert_eq!(
            FetchFastagRequest::new(311, &"A".repeat(33))
                .unwrap_err()
                .field(),
            "vehicle"
        );
    }
}
