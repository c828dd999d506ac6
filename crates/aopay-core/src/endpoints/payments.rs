//! The writes that carry the caller's reference (DoRecharge,
//! BillPaymentPaybill, FASTag Recharge) and their status reads
//! (docs/protocol.md §8): all six answer a [`Payment`].

use serde_json::{Map, Value};

use super::bill_payments::{FastagRechargeRequest, PayBillRequest};
use super::bills::operator;
use super::payment::{PAYMENT, Payment};
use super::{ArgKind, ArgSpec, ArgValue, Args, Binding, Endpoint, EndpointSpec, Lang};
use crate::error::{Error, ValidationError};
use crate::money::Money;
use crate::reference::ClientReference;
use crate::validate::{IdempotencyKey, RegistrationId, mask_digits};
use crate::wire::answers::table_for;
use crate::wire::{Answered, Effect};

const REFERENCE: ArgSpec = ArgSpec {
    name: "reference_id",
    wire: "referenceid",
    kind: ArgKind::Reference,
    required: false,
    doc: "Your reference for it (letters, digits, - or _; at most 40); one is generated when absent.",
    example: "20018575947",
};

const STATUS_REFERENCE: ArgSpec = ArgSpec {
    required: true,
    doc: "The reference the write was sent with.",
    ..REFERENCE
};

const IDEMPOTENCY_KEY: ArgSpec = ArgSpec {
    name: "idempotency_key",
    wire: "",
    kind: ArgKind::Text { max: 128 },
    required: false,
    doc: "Your own id for this payment: with a journal, the same key never pays twice (not sent).",
    example: "order-123",
};

const GEOCODE: ArgSpec = ArgSpec {
    name: "geocode",
    wire: "latitude",
    kind: ArgKind::Geocode,
    required: true,
    doc: "Where the request originates, \"lat,long\" (sent as `latitude` and `longitude`).",
    example: "27.2232,78.26535",
};

const BILL_ARG: ArgSpec = ArgSpec {
    name: "bill",
    wire: "bill_fetch",
    kind: ArgKind::Bill,
    required: true,
    doc: "The bill a fetch returned (or its JSON); its `bill_fetch` is sent back as received.",
    example: "",
};

pub(super) static DO_RECHARGE: EndpointSpec = EndpointSpec {
    name: "DoRecharge",
    method: "do_recharge",
    path: "/api/AOP/DoRecharge",
    registration: "RegisterID",
    body: &[
        "operator",
        "canumber",
        "amount",
        "referenceid",
        "RegisterID",
    ],
    cli: &["recharge-v1"],
    effect: Effect::Write,
    status: Some("do_recharge_status"),
    summary: "Recharge a mobile number or DTH account, with your reference (the V1 recharge).",
    args: &[
        ArgSpec {
            name: "operator",
            wire: "operator",
            kind: ArgKind::Integer,
            required: true,
            doc: "The operator code (11 in the samples).",
            example: "11",
        },
        ArgSpec {
            name: "number",
            wire: "canumber",
            kind: ArgKind::Account,
            required: true,
            doc: "The mobile number or DTH account to recharge.",
            example: "9876543210",
        },
        ArgSpec {
            name: "amount",
            wire: "amount",
            kind: ArgKind::Money,
            required: true,
            doc: "In rupees, exact (\"10\", \"199.50\").",
            example: "10",
        },
        REFERENCE,
        IDEMPOTENCY_KEY,
    ],
    answer: &PAYMENT,
    binding: Binding::Generated,
    reread: reread_payment::<DoRechargeRequest>,
};

pub(super) static DO_RECHARGE_STATUS: EndpointSpec = EndpointSpec {
    name: "RechargesStatus",
    method: "do_recharge_status",
    path: "/api/AOP/RechargesStatus",
    registration: "registrationID",
    body: &["referenceid", "registrationID"],
    cli: &["recharge-v1-status"],
    effect: Effect::Read,
    status: None,
    summary: "The fate of a V1 recharge, by your reference.",
    args: &[STATUS_REFERENCE],
    answer: &PAYMENT,
    binding: Binding::Generated,
    reread: reread_payment::<DoRechargeStatusRequest>,
};

pub(super) static PAY_BILL: EndpointSpec = EndpointSpec {
    name: "BillPaymentPaybill",
    method: "pay_bill",
    path: "/api/AOP/BillPaymentPaybill",
    registration: "RegistrationID",
    body: &[
        "operator",
        "canumber",
        "amount",
        "referenceid",
        "latitude",
        "longitude",
        "RegistrationID",
        "mode",
        "bill_fetch",
    ],
    cli: &["bill", "pay"],
    effect: Effect::Write,
    status: Some("bill_status"),
    summary: "Pay a fetched bill.",
    args: &[
        BILL_ARG,
        ArgSpec {
            name: "amount",
            wire: "amount",
            kind: ArgKind::Money,
            required: false,
            doc: "In rupees, exact; the bill's amount when absent.",
            example: "820.50",
        },
        GEOCODE,
        REFERENCE,
        IDEMPOTENCY_KEY,
    ],
    answer: &PAYMENT,
    binding: Binding::Generated,
    reread: reread_payment::<PayBillRequest>,
};

pub(super) static BILL_STATUS: EndpointSpec = EndpointSpec {
    name: "BillPaymentStatus",
    method: "bill_status",
    path: "/api/AOP/BillPaymentStatus",
    registration: "RegistrationID",
    body: &["referenceid", "RegistrationID"],
    cli: &["bill", "status"],
    effect: Effect::Read,
    status: None,
    summary: "The fate of a bill payment, by your reference.",
    args: &[STATUS_REFERENCE],
    answer: &PAYMENT,
    binding: Binding::Generated,
    reread: reread_payment::<BillStatusRequest>,
};

pub(super) static FASTAG_RECHARGE: EndpointSpec = EndpointSpec {
    name: "Recharge",
    method: "fastag_recharge",
    path: "/api/AOP/Recharge",
    registration: "RegistrationID",
    body: &[
        "operator",
        "canumber",
        "amount",
        "referenceid",
        "latitude",
        "longitude",
        "bill_fetch",
        "RegistrationID",
    ],
    cli: &["fastag", "recharge"],
    effect: Effect::Write,
    status: Some("fastag_status"),
    summary: "Top up a fetched FASTag.",
    args: &[
        BILL_ARG,
        ArgSpec {
            name: "amount",
            wire: "amount",
            kind: ArgKind::Money,
            required: false,
            doc: "In rupees, exact, within the FASTag's minimum and maximum; the amount due when absent.",
            example: "500",
        },
        GEOCODE,
        REFERENCE,
        IDEMPOTENCY_KEY,
    ],
    answer: &PAYMENT,
    binding: Binding::Generated,
    reread: reread_payment::<FastagRechargeRequest>,
};

pub(super) static FASTAG_STATUS: EndpointSpec = EndpointSpec {
    name: "RechargeStatus (FASTag)",
    method: "fastag_status",
    path: "/api/AOP/RechargeStatus",
    registration: "RegistrationID",
    body: &["referenceid", "RegistrationID"],
    cli: &["fastag", "status"],
    effect: Effect::Read,
    status: None,
    summary: "The fate of a FASTag top-up, by your reference.",
    args: &[STATUS_REFERENCE],
    answer: &PAYMENT,
    binding: Binding::Generated,
    reread: reread_payment::<FastagStatusRequest>,
};

pub(super) fn reread_payment<E: Endpoint<Answer = Payment>>(raw: Value) -> Result<Value, Error> {
    let Value::Object(obj) = raw else {
        return Err(ValidationError::new("raw", "must be the answer's JSON object").into());
    };
    let mut p = <Payment as super::Answer>::from_answered(Answered::restored_as(
        obj,
        table_for(E::SPEC.method),
        E::SPEC.name,
    ))?;
    p.status_call = E::SPEC.status_call();
    Ok(super::Answer::to_json_value(&p))
}

/// A write that carries the caller's reference: sent through
/// [`crate::Client::pay`] (the journal, when keyed).
pub trait ReferencedWrite: Endpoint<Answer = Payment> {
    /// The reference it is sent with.
    fn client_reference(&self) -> &ClientReference;
    /// The caller's idempotency key, if any (never sent).
    fn idempotency_key(&self) -> Option<&IdempotencyKey>;
}

/// A status read of a referenced write.
pub trait PaymentStatusRead: Endpoint<Answer = Payment> {
    /// The read for `reference`.
    fn of(reference: ClientReference) -> Self;
}

/// Any write's status read, built from a reference checked by its own
/// rules: what `payment_status` and the waits dispatch to by name.
pub(crate) trait StatusRead: Endpoint<Answer = Payment> {
    fn for_reference(reference: &str) -> Result<Self, ValidationError>;
}

impl<R: PaymentStatusRead> StatusRead for R {
    fn for_reference(reference: &str) -> Result<Self, ValidationError> {
        ClientReference::new(reference).map(R::of)
    }
}

/// `reference_id` as given, or a fresh one.
pub(super) fn reference_of(
    a: &super::args::Checked<'_>,
) -> Result<ClientReference, ValidationError> {
    match a.text("reference_id") {
        Some(r) => ClientReference::new(r),
        None => Ok(ClientReference::generate()),
    }
}

pub(super) fn key_of(
    a: &super::args::Checked<'_>,
) -> Result<Option<IdempotencyKey>, ValidationError> {
    a.text("idempotency_key")
        .map(IdempotencyKey::new)
        .transpose()
}

/// The most one write may pay, in rupees.
pub(super) const MAX_RUPEES: i64 = 1_000_000;

/// An amount argument: decimal text, a `Decimal`'s text, or whole rupees;
/// more than zero and at most [`MAX_RUPEES`].
pub(super) fn amount_of(v: Option<&ArgValue>) -> Result<Option<Money>, ValidationError> {
    let m = match v {
        None => return Ok(None),
        Some(ArgValue::Int(n)) => n
            .checked_mul(100)
            .map(Money::from_paise)
            .ok_or_else(|| ValidationError::new("amount", "is too large"))?,
        Some(ArgValue::Text(t) | ArgValue::Decimal(t)) => Money::parse("amount", t)?,
        Some(_) => return Err(ValidationError::new("amount", "must be an amount")),
    };
    check_amount(m)?;
    Ok(Some(m))
}

pub(super) fn check_amount(m: Money) -> Result<(), ValidationError> {
    if m.paise() <= 0 || m.paise() > MAX_RUPEES * 100 {
        return Err(ValidationError::new(
            "amount",
            format!("must be more than 0 and at most {MAX_RUPEES} rupees (got {m})"),
        ));
    }
    Ok(())
}

/// Money as the samples write it: `"100"` for whole rupees, else `"820.50"`.
pub(super) fn amount_text(m: Money) -> String {
    if m.paise() % 100 == 0 {
        (m.paise() / 100).to_string()
    } else {
        m.to_string()
    }
}

/// A referenced write's body: its own fields, then the reference and the
/// account, as the sample has them.
pub(super) fn body_of(fields: Value) -> Vec<u8> {
    serde_json::to_vec(&fields).unwrap_or_default()
}

/// A referenced write's reference and key, set on the request (every
/// referenced write's type has `reference` and `key` fields).
macro_rules! reference_builders {
    () => {
        /// Send it with your own reference.
        pub fn with_reference(mut self, reference: &str) -> Result<Self, ValidationError> {
            self.reference = ClientReference::new(reference)?;
            Ok(self)
        }

        /// Pay at most once for `key` (needs a journal on the client).
        pub fn with_idempotency_key(mut self, key: &str) -> Result<Self, ValidationError> {
            self.key = Some(IdempotencyKey::new(key)?);
            Ok(self)
        }

        /// The reference it is sent with.
        pub fn reference(&self) -> &ClientReference {
            &self.reference
        }
    };
}
pub(super) use reference_builders;

/// A checked DoRecharge request (the V1 recharge, with your reference).
#[derive(Clone, PartialEq, Eq)]
pub struct DoRechargeRequest {
    operator: u32,
    number: String,
    amount: Money,
    reference: ClientReference,
    key: Option<IdempotencyKey>,
}

impl DoRechargeRequest {
    /// Check every field; a reference is generated (see
    /// [`DoRechargeRequest::with_reference`]).
    ///
    /// ```
    /// use aopay_core::{DoRechargeRequest, Money};
    /// let req = DoRechargeRequest::new(11, "9876543210", Money::parse("amount", "10")?)?
    ///     .with_reference("order-1001")?;
    /// assert_eq!(req.reference().as_str(), "order-1001");
    /// # Ok::<(), aopay_core::ValidationError>(())
    /// ```
    pub fn new(operator: i64, number: &str, amount: Money) -> Result<Self, ValidationError> {
        Self::from_args(
            &Args::new(Lang::Rust)
                .with("operator", ArgValue::Int(operator))
                .with("number", ArgValue::Text(number.to_owned()))
                .with("amount", ArgValue::Text(amount.to_string())),
        )
    }

    reference_builders!();
}

impl std::fmt::Debug for DoRechargeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoRechargeRequest")
            .field("operator", &self.operator)
            .field("number", &mask_digits(&self.number))
            .field("amount", &self.amount)
            .field("reference", &self.reference.as_str())
            .finish_non_exhaustive()
    }
}

impl Endpoint for DoRechargeRequest {
    const SPEC: &'static EndpointSpec = &DO_RECHARGE;
    type Answer = Payment;

    fn from_args(args: &Args) -> Result<Self, ValidationError> {
        let a = args.check(Self::SPEC)?;
        let number = super::bills::account("number", a.raw("number"))?;
        Ok(Self {
            operator: operator(&a)?,
            number,
            amount: amount_of(a.raw("amount"))?
                .ok_or_else(|| ValidationError::new("amount", "is required"))?,
            reference: reference_of(&a)?,
            key: key_of(&a)?,
        })
    }

    fn to_body(&self, registration_id: &RegistrationId) -> Vec<u8> {
        body_of(serde_json::json!({
            "operator": self.operator,
            "canumber": self.number,
            "amount": amount_text(self.amount),
            "referenceid": self.reference.as_str(),
            "RegisterID": registration_id.as_str(),
        }))
    }

    fn masked_number(&self) -> Option<String> {
        Some(mask_digits(&self.number))
    }

    fn paid_fields(&self) -> Vec<String> {
        vec![
            Self::SPEC.method.to_owned(),
            self.operator.to_string(),
            self.number.clone(),
            self.amount.paise().to_string(),
        ]
    }

    fn settle(&self, answer: &mut Payment) {
        settle_payment(Self::SPEC, &self.reference, answer);
    }

    fn reference(&self) -> Option<&str> {
        Some(self.reference.as_str())
    }
}

impl ReferencedWrite for DoRechargeRequest {
    fn client_reference(&self) -> &ClientReference {
        &self.reference
    }
    fn idempotency_key(&self) -> Option<&IdempotencyKey> {
        self.key.as_ref()
    }
}

pub(super) fn settle_payment(
    spec: &'static EndpointSpec,
    reference: &ClientReference,
    p: &mut Payment,
) {
    p.reference_id = Some(reference.as_str().to_owned());
    p.status_call = spec.status_call();
}

macro_rules! status_read {
    ($ty:ident, $spec:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty {
            reference: ClientReference,
        }

        impl $ty {
            /// Check the reference.
            pub fn new(reference_id: &str) -> Result<Self, ValidationError> {
                Ok(Self {
                    reference: ClientReference::new(reference_id)?,
                })
            }
        }

        impl PaymentStatusRead for $ty {
            fn of(reference: ClientReference) -> Self {
                Self { reference }
            }
        }

        impl Endpoint for $ty {
            const SPEC: &'static EndpointSpec = &$spec;
            type Answer = Payment;

            fn from_args(args: &Args) -> Result<Self, ValidationError> {
                let a = args.check(Self::SPEC)?;
                Self::new(a.required_text("reference_id"))
            }

            fn to_body(&self, registration_id: &RegistrationId) -> Vec<u8> {
                let mut body = Map::new();
                body.insert("referenceid".into(), self.reference.as_str().into());
                body.insert(
                    Self::SPEC.registration.into(),
                    registration_id.as_str().into(),
                );
                body_of(Value::Object(body))
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

status_read!(
    DoRechargeStatusRequest,
    DO_RECHARGE_STATUS,
    "A RechargesStatus request: the fate of a V1 recharge."
);
status_read!(
    BillStatusRequest,
    BILL_STATUS,
    "A BillPaymentStatus request: the fate of a bill payment."
);
status_read!(
    FastagStatusRequest,
    FASTAG_STATUS,
    "A FASTag RechargeStatus request: the fate of a FASTag top-up."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_recharges_and_status_reads_are_sent_as_the_samples_have_them() {
        let reg = RegistrationId::new("AOP-554").unwrap();
        let req = DoRechargeRequest::new(11, "9876543210", Money::from_paise(1_000))
            .unwrap()
            .with_reference("12345678")
            .unwrap();
        assert_eq!(
            String::from_utf8(req.to_body(&reg)).unwrap(),
            r#"{"operator":11,"canumber":"9876543210","amount":"10","referenceid":"12345678","RegisterID":"AOP-554"}"#
        );
        let generated = DoRechargeRequest::new(11, "9876543210", Money::from_paise(1_000)).unwrap();
        assert_eq!(generated.reference().as_str().len(), 25);
        assert_eq!(
            String::from_utf8(
                DoRechargeStatusRequest::new("12345678")
                    .unwrap()
                    .to_body(&reg)
            )
            .unwrap(),
            r#"{"referenceid":"12345678","registrationID":"AOP-554"}"#
        );
        assert_eq!(
            String::from_utf8(BillStatusRequest::new("1").unwrap().to_body(&reg)).unwrap(),
            r#"{"referenceid":"1","RegistrationID":"AOP-554"}"#
        );
        assert!(DoRechargeRequest::new(11, "98765 43210", Money::from_paise(100)).is_err());
        assert_eq!(
            DoRechargeRequest::new(11, "9876543210", Money::from_paise(1))
                .unwrap()
                .amount,
            Money::from_paise(1)
        );
        assert!(DoRechargeRequest::new(11, "9876543210", Money::from_paise(0)).is_err());
        assert!(BillStatusRequest::new("a b").is_err());
        // What is paid is fingerprinted; the generated reference is not.
        let again = DoRechargeRequest::new(11, "9876543210", Money::from_paise(1_000)).unwrap();
        assert_ne!(again.reference(), generated.reference());
        assert_eq!(again.paid_fields(), generated.paid_fields());
    }
}
