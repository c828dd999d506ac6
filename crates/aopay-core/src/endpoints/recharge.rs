//! MobileRecharge and RechargeStatus (docs/protocol.md §1). Their binding
//! methods are hand-written (geocode pairs, the journal, `wait_for_final`);
//! their entries here drive the generic path, the CLI and the checks.

use super::Recharge;
use super::payment::PAYMENT;
use super::{ArgKind, ArgSpec, Args, Binding, Endpoint, EndpointSpec};
use crate::error::ValidationError;
use crate::models::{MobileRecharge, recharge_status_json};
use crate::validate::{CustomerNumber, ReferenceId, RegistrationId};
use crate::wire::Effect;

pub(super) static MOBILE_RECHARGE: EndpointSpec = EndpointSpec {
    name: "MobileRecharge",
    method: "mobile_recharge",
    path: "/api/AOP/V2/MobileRecharge",
    registration: "RegistrationID",
    body: &[
        "RegistrationID",
        "ProductID",
        "Amount",
        "Geocode",
        "CustomerNumber",
    ],
    cli: &["recharge"],
    effect: Effect::Write,
    status: Some("recharge_status"),
    summary: "Recharge a prepaid mobile number or a DTH account.",
    args: &[
        ArgSpec {
            name: "product_id",
            wire: "ProductID",
            kind: ArgKind::Integer,
            required: true,
            doc: "Operator/product code (518 is Airtel).",
            example: "518",
        },
        ArgSpec {
            name: "amount",
            wire: "Amount",
            kind: ArgKind::Integer,
            required: true,
            doc: "Whole rupees.",
            example: "10",
        },
        ArgSpec {
            name: "customer_number",
            wire: "CustomerNumber",
            kind: ArgKind::CustomerNumber,
            required: true,
            doc: "The mobile or DTH customer number.",
            example: "9876543210",
        },
        ArgSpec {
            name: "geocode",
            wire: "Geocode",
            kind: ArgKind::Geocode,
            required: true,
            doc: "Where the request originates, \"lat,long\".",
            example: "23.6784,76.8764",
        },
        ArgSpec {
            name: "idempotency_key",
            wire: "",
            kind: ArgKind::Text { max: 128 },
            required: false,
            doc: "Your own id for this recharge: with a journal, the same key never pays twice (not sent).",
            example: "order-123",
        },
    ],
    answer: &PAYMENT,
    binding: Binding::HandWritten,
    reread: super::payments::reread_payment::<MobileRecharge>,
};

pub(super) static RECHARGE_STATUS: EndpointSpec = EndpointSpec {
    name: "RechargeStatus",
    method: "recharge_status",
    path: "/api/AOP/V2/RechargeStatus",
    registration: "RegistrationID",
    body: &["RegistrationID", "ReferanceId"],
    cli: &["status"],
    effect: Effect::Read,
    status: None,
    summary: "Look a transaction up by its reference.",
    args: &[ArgSpec {
        name: "reference_id",
        wire: "ReferanceId",
        kind: ArgKind::Text { max: 128 },
        required: true,
        doc: "The reference a recharge returned.",
        example: "AOP554R318820",
    }],
    answer: &PAYMENT,
    binding: Binding::HandWritten,
    reread: super::payments::reread_payment::<RechargeStatus>,
};

impl Endpoint for MobileRecharge {
    const SPEC: &'static EndpointSpec = &MOBILE_RECHARGE;
    type Answer = Recharge;

    fn from_args(args: &Args) -> Result<Self, ValidationError> {
        let a = args.check(Self::SPEC)?;
        let number = match a.raw("customer_number") {
            Some(super::ArgValue::Int(n)) => CustomerNumber::from_integer(*n)?,
            _ => CustomerNumber::parse(a.required_text("customer_number"))?,
        };
        let req = MobileRecharge::from_parts(
            crate::validate::ProductId::new(a.int("product_id").unwrap_or_default())?,
            crate::validate::Amount::new(a.int("amount").unwrap_or_default())?,
            number,
            crate::validate::Geocode::parse(a.required_text("geocode"))?,
        );
        match a.text("idempotency_key") {
            Some(key) => req.with_idempotency_key(key),
            None => Ok(req),
        }
    }

    fn to_body(&self, registration_id: &RegistrationId) -> Vec<u8> {
        self.to_json(registration_id)
    }

    fn masked_number(&self) -> Option<String> {
        Some(self.customer_number().masked())
    }

    fn settle(&self, answer: &mut Recharge) {
        answer.status_call = RECHARGE_STATUS.method;
    }

    fn paid_fields(&self) -> Vec<String> {
        // The order and spelling of journals already written: keep them.
        vec![
            self.product_id().get().to_string(),
            self.amount().get().to_string(),
            self.customer_number().get().to_string(),
        ]
    }
}

/// A RechargeStatus request: the reference to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RechargeStatus {
    reference_id: ReferenceId,
}

impl RechargeStatus {
    /// Check the reference.
    pub fn new(reference_id: &str) -> Result<Self, ValidationError> {
        Ok(Self {
            reference_id: ReferenceId::new(reference_id)?,
        })
    }

    /// From an already checked reference.
    pub fn of(reference_id: ReferenceId) -> Self {
        Self { reference_id }
    }
}

impl super::payments::StatusRead for RechargeStatus {
    // AOPay's reference, by its rules (not a caller's).
    fn for_reference(reference: &str) -> Result<Self, ValidationError> {
        Self::new(reference)
    }
}

impl Endpoint for RechargeStatus {
    const SPEC: &'static EndpointSpec = &RECHARGE_STATUS;
    type Answer = Recharge;

    fn from_args(args: &Args) -> Result<Self, ValidationError> {
        let a = args.check(Self::SPEC)?;
        Self::new(a.required_text("reference_id"))
    }

    fn to_body(&self, registration_id: &RegistrationId) -> Vec<u8> {
        recharge_status_json(registration_id, &self.reference_id)
    }

    fn settle(&self, answer: &mut Recharge) {
        answer.status_call = RECHARGE_STATUS.method;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::{Answer, ArgValue, Lang};

    #[test]
    fn a_stored_v2_answer_reads_again_as_it_read_live() {
        // A pending recharge whose answer states no HTTP-level failure: the
        // V2 table places it, and its fate is told by `recharge_status`.
        let raw = serde_json::json!({"status": true, "statusCode": 200, "ReferanceID": "AOP554R1",
            "data": {"status": "PENDING", "txnId": "T1"}});
        for spec in [&MOBILE_RECHARGE, &RECHARGE_STATUS] {
            let again = spec.reread(raw.clone()).unwrap();
            assert_eq!(again["status_call"], "recharge_status", "{}", spec.method);
            assert_eq!(again["status"], "PENDING", "{}", spec.method);
            assert_eq!(again["reference_id"], "AOP554R1", "{}", spec.method);
        }
    }

    #[test]
    fn neutral_arguments_build_the_same_request_as_the_typed_constructor() {
        let args = Args::new(Lang::Python)
            .with("product_id", ArgValue::Int(518))
            .with("amount", ArgValue::Int(10))
            .with("customer_number", ArgValue::Text("98765 43210".into()))
            .with("geocode", ArgValue::Text("23.6784,76.8764".into()))
            .with("idempotency_key", ArgValue::Null);
        let typed = MobileRecharge::new(518, 10, "9876543210", "23.6784,76.8764").unwrap();
        assert_eq!(MobileRecharge::from_args(&args).unwrap(), typed);
        let e = MobileRecharge::from_args(&args.clone().with("amount", ArgValue::Float(10.0)))
            .unwrap_err();
        assert_eq!(e.to_string(), "invalid amount: must be an int, not float");
        let e =
            MobileRecharge::from_args(&args.clone().with("amount", ArgValue::Int(0))).unwrap_err();
        assert_eq!(e.field(), "amount");
        let e = RechargeStatus::from_args(
            &Args::new(Lang::Node).with("referenceId", ArgValue::Int(123)),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid reference_id: must be a string, not number"
        );
    }

    #[test]
    fn the_recharge_json_has_exactly_the_spec_fields() {
        let r = crate::interpret(
            crate::Call::RechargeStatus,
            200,
            None,
            br#"{"ReferanceID":"R1","data":{"status":"SUCCESS"}}"#,
        )
        .unwrap();
        let mut keys: Vec<String> = r
            .to_json_value()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let mut names: Vec<String> = RECHARGE_STATUS
            .answer_fields()
            .map(|f| f.name.to_owned())
            .collect();
        keys.sort();
        names.sort();
        assert_eq!(keys, names);
        assert_eq!(Answer::outcome(&r), "SUCCESS");
    }
}
