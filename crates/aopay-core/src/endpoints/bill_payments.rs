//! Paying what was fetched (docs/protocol.md §8): BillPaymentPaybill and
//! FASTag Recharge take a fetched [`Bill`] (or its JSON), send its
//! `bill_fetch` back as received, and refuse before sending what the biller
//! would refuse.

use serde_json::Value;

use super::bills::{Bill, account_json};
use super::payment::Payment;
use super::payments::{
    FASTAG_RECHARGE, PAY_BILL, ReferencedWrite, amount_of, amount_text, body_of, check_amount,
    key_of, reference_of, settle_payment,
};
use super::{ArgValue, Args, Endpoint, EndpointSpec, Lang};
use crate::error::ValidationError;
use crate::money::Money;
use crate::reference::ClientReference;
use crate::validate::{Geocode, IdempotencyKey, RegistrationId, mask_digits};
use crate::wire::json::lookup;

/// What a bill to pay was fetched for, and what it says: read from a
/// [`Bill`]'s JSON (its `to_dict()`, the CLI's `--json`), never guessed.
#[derive(Clone, PartialEq)]
struct Payable {
    operator: u32,
    account: String,
    mode: Option<String>,
    /// `bill_fetch`, exactly as the fetch's answer had it.
    bill_fetch: Value,
    due: Option<Money>,
    accept_payment: Option<bool>,
    accept_part_pay: Option<bool>,
    min: Option<Money>,
    max: Option<Money>,
}

impl Payable {
    fn read(v: &Value, what: &str) -> Result<Self, ValidationError> {
        let bad = |why: &str| ValidationError::new("bill", why.to_owned());
        let obj = v
            .as_object()
            .ok_or_else(|| bad(&format!("must be the {what} a fetch returned")))?;
        let raw = obj.get("raw").and_then(Value::as_object).ok_or_else(|| {
            bad(&format!(
                "must be the {what} a fetch returned, or its JSON: a raw answer alone does not \
                 say which account it is for (give that to `from_raw`)"
            ))
        })?;
        let operator = obj
            .get("operator")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0);
        let account = obj.get("account").and_then(Value::as_str);
        let (Some(operator), Some(account)) = (operator, account) else {
            return Err(bad(&format!(
                "does not say which operator and account it was fetched for: pass the {what} a \
                 fetch returned, or its whole JSON, or give them to `from_raw`"
            )));
        };
        let bill_fetch = lookup(raw, &["billfetch"])
            .find(|v| v.is_object())
            .cloned()
            .ok_or_else(|| bad("its answer has no `bill_fetch` object: there is nothing to pay"))?;
        let fields = Bill::read(raw).ok_or_else(|| bad("its answer names no bill"))?;
        Ok(Self {
            operator,
            account: super::bills::account("bill", Some(&ArgValue::Text(account.to_owned())))?,
            mode: obj.get("mode").and_then(Value::as_str).map(str::to_owned),
            bill_fetch,
            due: fields.amount,
            accept_payment: fields.accept_payment,
            accept_part_pay: fields.accept_part_pay,
            min: fields.min_amount,
            max: fields.max_amount,
        })
    }

    /// The amount to pay: `asked`, or the amount due; refused when the
    /// biller would refuse it.
    fn amount(&self, asked: Option<Money>) -> Result<Money, ValidationError> {
        if self.accept_payment == Some(false) {
            return Err(ValidationError::new(
                "bill",
                "the biller takes no payment for it now (acceptPayment is false: paid already, or closed)",
            ));
        }
        let due = self.due.filter(|m| m.paise() > 0);
        let amount = match (asked, due) {
            (Some(a), _) => a,
            (None, Some(d)) => d,
            (None, None) => {
                return Err(ValidationError::new(
                    "amount",
                    "is required: the bill names no amount due",
                ));
            }
        };
        check_amount(amount)?;
        if let (Some(false), Some(d)) = (self.accept_part_pay, due) {
            if amount != d {
                return Err(ValidationError::new(
                    "amount",
                    format!("must be the bill's amount, {d}: this biller takes no part payment"),
                ));
            }
        }
        if let Some(min) = self.min.filter(|m| amount < *m) {
            return Err(ValidationError::new(
                "amount",
                format!("must be at least {min} for this account (got {amount})"),
            ));
        }
        if let Some(max) = self.max.filter(|m| amount > *m) {
            return Err(ValidationError::new(
                "amount",
                format!("must be at most {max} for this account (got {amount})"),
            ));
        }
        Ok(amount)
    }
}

fn lat_long(g: Geocode) -> (String, String) {
    let wire = g.to_wire();
    let (lat, long) = wire.split_once(',').unwrap_or((&wire, ""));
    (lat.to_owned(), long.to_owned())
}

/// A checked BillPaymentPaybill request.
#[derive(Clone, PartialEq)]
pub struct PayBillRequest {
    bill: Payable,
    amount: Money,
    geocode: Geocode,
    reference: ClientReference,
    key: Option<IdempotencyKey>,
}

/// A checked FASTag Recharge request.
#[derive(Clone, PartialEq)]
pub struct FastagRechargeRequest {
    bill: Payable,
    amount: Money,
    geocode: Geocode,
    reference: ClientReference,
    key: Option<IdempotencyKey>,
}

macro_rules! bill_write {
    ($ty:ident, $spec:ident, $what:literal) => {
        impl $ty {
            /// Check the bill (a [`Bill`] from a fetch, as JSON), the amount
            /// (the amount due when `None`) and the geocode; a reference is
            /// generated.
            pub fn new(
                bill: &Bill,
                amount: Option<Money>,
                geocode: &str,
            ) -> Result<Self, ValidationError> {
                let mut args = Args::new(Lang::Rust)
                    .with("bill", ArgValue::Json(super::Answer::to_json_value(bill)))
                    .with("geocode", ArgValue::Text(geocode.to_owned()));
                if let Some(m) = amount {
                    args.set("amount", ArgValue::Text(m.to_string()));
                }
                Self::from_args(&args)
            }

            super::payments::reference_builders!();

            /// The amount it pays.
            pub fn amount(&self) -> Money {
                self.amount
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("operator", &self.bill.operator)
                    .field("account", &mask_digits(&self.bill.account))
                    .field("amount", &self.amount)
                    .field("reference", &self.reference.as_str())
                    .finish_non_exhaustive()
            }
        }

        impl ReferencedWrite for $ty {
            fn client_reference(&self) -> &ClientReference {
                &self.reference
            }
            fn idempotency_key(&self) -> Option<&IdempotencyKey> {
                self.key.as_ref()
            }
        }

        impl $ty {
            fn checked(args: &Args) -> Result<Self, ValidationError> {
                let a = args.check(&$spec)?;
                let bill = Payable::read(a.json("bill").unwrap_or(&Value::Null), $what)?;
                let amount = bill.amount(amount_of(a.raw("amount"))?)?;
                Ok(Self {
                    bill,
                    amount,
                    geocode: Geocode::parse(a.required_text("geocode"))?,
                    reference: reference_of(&a)?,
                    key: key_of(&a)?,
                })
            }
        }

        impl Endpoint for $ty {
            const SPEC: &'static EndpointSpec = &$spec;
            type Answer = Payment;

            fn from_args(args: &Args) -> Result<Self, ValidationError> {
                Self::checked(args)
            }

            fn to_body(&self, registration_id: &RegistrationId) -> Vec<u8> {
                body_of(self.wire(registration_id))
            }

            fn masked_number(&self) -> Option<String> {
                Some(mask_digits(&self.bill.account))
            }

            fn paid_fields(&self) -> Vec<String> {
                vec![
                    $spec.method.to_owned(),
                    self.bill.operator.to_string(),
                    self.bill.account.clone(),
                    self.amount.paise().to_string(),
                    self.bill.bill_fetch.to_string(),
                ]
            }

            fn settle(&self, answer: &mut Payment) {
                settle_payment(Self::SPEC, &self.reference, answer);
            }

            fn reference(&self) -> Option<&str> {
                Some(self.reference.as_str())
            }
        }
    };
}

bill_write!(PayBillRequest, PAY_BILL, "bill");
bill_write!(FastagRechargeRequest, FASTAG_RECHARGE, "FASTag");

impl PayBillRequest {
    /// The body, as the sample has it.
    fn wire(&self, registration_id: &RegistrationId) -> Value {
        let (latitude, longitude) = lat_long(self.geocode);
        serde_json::json!({
            "operator": self.bill.operator.to_string(),
            "canumber": self.bill.account,
            "amount": amount_text(self.amount),
            "referenceid": self.reference.as_str(),
            "latitude": latitude,
            "longitude": longitude,
            "RegistrationID": registration_id.as_str(),
            "mode": self.bill.mode.as_deref().unwrap_or("online"),
            "bill_fetch": self.bill.bill_fetch,
        })
    }
}

impl FastagRechargeRequest {
    /// The body, as the sample has it.
    fn wire(&self, registration_id: &RegistrationId) -> Value {
        let (latitude, longitude) = lat_long(self.geocode);
        // The sample sends a number: whole rupees go as one, paise as text
        // (a JSON fraction would be a float).
        let amount = if self.amount.paise() % 100 == 0 {
            Value::from(self.amount.paise() / 100)
        } else {
            Value::from(self.amount.to_string())
        };
        serde_json::json!({
            "operator": self.bill.operator,
            "canumber": account_json_text(&self.bill.account),
            "amount": amount,
            "referenceid": self.reference.as_str(),
            "latitude": latitude,
            "longitude": longitude,
            "bill_fetch": self.bill.bill_fetch,
            "RegistrationID": registration_id.as_str(),
        })
    }
}

/// A vehicle number always goes as text (the sample's `"DL12CB4685"`).
fn account_json_text(account: &str) -> Value {
    match account_json(account) {
        Value::Number(_) => Value::from(account),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bill_json(fetch: &str, operator: u32, account: &str) -> Value {
        let raw: Value = serde_json::from_str(fetch).unwrap();
        serde_json::json!({"operator": operator, "account": account, "mode": "online", "raw": raw})
    }

    const BILL: &str = r#"{"status":true,"amount":"820.0","bill_fetch":{"billAmount":"820.0","billnetamount":"820.0","dueDate":"2026-12-20","acceptPayment":true,"acceptPartPay":false,"cellNumber":"102277100","userName":"A"}}"#;

    fn pay(bill: Value, amount: Option<ArgValue>) -> Result<PayBillRequest, ValidationError> {
        let mut args = Args::new(Lang::Python)
            .with("bill", ArgValue::Json(bill))
            .with("geocode", ArgValue::Text("27.2232,78.26535".into()))
            .with("reference_id", ArgValue::Text("20018575947".into()));
        if let Some(a) = amount {
            args.set("amount", a);
        }
        PayBillRequest::from_args(&args)
    }

    #[test]
    fn a_bill_is_paid_as_fetched_and_its_rules_are_kept() {
        let reg = RegistrationId::new("AOP-554").unwrap();
        let req = pay(bill_json(BILL, 11, "102277100"), None).unwrap();
        assert_eq!(
            String::from_utf8(req.to_body(&reg)).unwrap(),
            r#"{"operator":"11","canumber":"102277100","amount":"820","referenceid":"20018575947","latitude":"27.2232","longitude":"78.26535","RegistrationID":"AOP-554","mode":"online","bill_fetch":{"billAmount":"820.0","billnetamount":"820.0","dueDate":"2026-12-20","acceptPayment":true,"acceptPartPay":false,"cellNumber":"102277100","userName":"A"}}"#
        );
        // The exact amount in any of its spellings is the bill's.
        for same in [
            ArgValue::Int(820),
            ArgValue::Decimal("820.00".into()),
            ArgValue::Text("820".into()),
        ] {
            assert_eq!(
                pay(bill_json(BILL, 11, "102277100"), Some(same))
                    .unwrap()
                    .amount(),
                Money::from_paise(82_000)
            );
        }
        for (amount, field) in [
            (ArgValue::Text("100".into()), "amount"),
            (ArgValue::Float(820.0), "amount"),
            (ArgValue::Text("820.001".into()), "amount"),
            (ArgValue::Int(0), "amount"),
            (ArgValue::Bool(true), "amount"),
        ] {
            assert_eq!(
                pay(bill_json(BILL, 11, "102277100"), Some(amount))
                    .unwrap_err()
                    .field(),
                field
            );
        }
        let e = pay(bill_json(BILL, 11, "102277100"), Some(ArgValue::Float(1.5))).unwrap_err();
        assert!(e.to_string().contains("not exact"), "{e}");
        let paid = BILL.replace(r#""acceptPayment":true"#, r#""acceptPayment":false"#);
        assert_eq!(
            pay(bill_json(&paid, 11, "1"), None).unwrap_err().field(),
            "bill"
        );
        // Only a raw answer: which account is it for? Refused, not guessed.
        let raw: Value = serde_json::from_str(BILL).unwrap();
        let e = pay(serde_json::json!({"raw": raw}), None).unwrap_err();
        assert_eq!(e.field(), "bill");
        assert_eq!(pay(raw, None).unwrap_err().field(), "bill");
        let no_fetch = r#"{"status":true,"amount":"820.0"}"#;
        assert_eq!(
            pay(bill_json(no_fetch, 11, "1"), None).unwrap_err().field(),
            "bill"
        );
    }

    #[test]
    fn a_fastag_is_topped_up_within_its_bounds() {
        let reg = RegistrationId::new("AOP-554").unwrap();
        let tag = r#"{"status":true,"bill_fetch":{"billAmount":"0","minBillAmount":"100","maxBillAmount":"10000","acceptPayment":true,"acceptPartPay":true}}"#;
        let top_up = |amount: Option<ArgValue>| {
            let mut args = Args::new(Lang::Node)
                .with("bill", ArgValue::Json(bill_json(tag, 311, "DL12CB4685")))
                .with("geocode", ArgValue::Text("27.2232,78.26535".into()))
                .with("referenceId", ArgValue::Text("R1".into()));
            if let Some(a) = amount {
                args.set("amount", a);
            }
            FastagRechargeRequest::from_args(&args)
        };
        let req = top_up(Some(ArgValue::Int(500))).unwrap();
        let body = String::from_utf8(req.to_body(&reg)).unwrap();
        assert!(body.starts_with(r#"{"operator":311,"canumber":"DL12CB4685","amount":500,"referenceid":"R1","latitude":"27.2232","longitude":"78.26535","bill_fetch":{"billAmount":"0""#), "{body}");
        assert!(body.ends_with(r#""RegistrationID":"AOP-554"}"#));
        let req = top_up(Some(ArgValue::Text("150.50".into()))).unwrap();
        assert!(
            String::from_utf8(req.to_body(&reg))
                .unwrap()
                .contains(r#""amount":"150.50""#)
        );
        for bad in [
            None,
            Some(ArgValue::Int(99)),
            Some(ArgValue::Int(10_001)),
            Some(ArgValue::Float(150.5)),
        ] {
            assert_eq!(top_up(bad).unwrap_err().field(), "amount");
        }
        let e = top_up(Some(ArgValue::Float(150.5))).unwrap_err();
        assert!(e.to_string().contains("fractional"), "{e}");
    }
}
