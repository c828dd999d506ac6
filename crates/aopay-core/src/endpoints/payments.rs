//! The writes that carry the caller's reference (DoRecharge,
//! BillPaymentPaybill, FASTag Recharge) and their status reads
//! (docs/protocol.md §8): all six answer a [`Payment`].

use serde_json::{Map, Value};

use super::bills::{Bill, account_json, operator};
use super::{
    AnswerMeta, AnswerSpec, ArgKind, ArgSpec, ArgValue, Args, Binding, Endpoint, EndpointSpec,
    FieldKind, FieldSpec, Lang, PreparedCall,
};
use crate::client::Client;
use crate::error::{Error, ValidationError};
use crate::money::Money;
use crate::parse::{Answered, Effect, first_text, flag, lookup};
use crate::reference::ClientReference;
use crate::validate::{Geocode, IdempotencyKey, RegistrationId, mask_digits};

/// The fate of a referenced write (docs/protocol.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// Done: paid (final).
    Success,
    /// Still in process: its status call will tell.
    Pending,
    /// Done: not paid (final).
    Failed,
    /// Done: it failed and the wallet was credited back (final, not a
    /// success).
    Refunded,
    /// The API's word was not one we know: its status call will tell.
    Unknown,
}

impl PaymentStatus {
    /// A status word, case-insensitively.
    pub fn from_api(text: &str) -> Self {
        match text.trim().to_ascii_uppercase().as_str() {
            "SUCCESS" | "SUCCESSFUL" => Self::Success,
            "FAILED" | "FAILURE" => Self::Failed,
            "PENDING" | "PROCESSING" | "INITIATED" => Self::Pending,
            "REFUNDED" | "REFUND" | "REVERSED" => Self::Refunded,
            _ => Self::Unknown,
        }
    }

    /// `response_code` as the bill-payment pages define it: 0 refunded,
    /// 1 success, 2 pending.
    fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::Refunded),
            1 => Some(Self::Success),
            2 => Some(Self::Pending),
            _ => None,
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

impl std::fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a referenced write, or its status call, says about the
/// transaction. Every field but `status`, `reference_id` and
/// `status_call` may be absent: the API documents no schema.
#[derive(Clone, PartialEq)]
pub struct Payment {
    /// Its fate.
    pub status: PaymentStatus,
    /// The caller's reference it was sent with (`referenceid`).
    pub reference_id: String,
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
    /// (`bill_status`): `wait_for_final` and the journal use it.
    pub status_call: &'static str,
    /// The message, API code, HTTP status and `raw` of the answer.
    pub meta: AnswerMeta,
}

impl Payment {
    /// SUCCESS, FAILED or REFUNDED: nothing more will change.
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }

    /// A stored answer read again, with what was stored beside it.
    pub(crate) fn restore(
        raw: Value,
        http_status: u16,
        reference: &str,
        status_call: &'static str,
    ) -> Option<Self> {
        let Value::Object(obj) = raw else { return None };
        let mut p = <Self as super::Answer>::from_answered(Answered::restored(obj)).ok()?;
        p.meta.http_status = http_status;
        p.reference_id = reference.to_owned();
        p.status_call = status_call;
        Some(p)
    }
}

impl std::fmt::Debug for Payment {
    // `raw` is left out (see `AnswerMeta`); nothing here is personal.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payment")
            .field("status", &self.status)
            .field("reference_id", &self.reference_id)
            .field("txn_id", &self.txn_id)
            .field("operator_id", &self.operator_id)
            .field("amount", &self.amount)
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl super::Answer for Payment {
    fn from_answered(a: Answered<'_>) -> Result<Self, Error> {
        let obj = a.object();
        let data = lookup(obj, &["data"]).find_map(Value::as_object);
        let pick = |names: &[&str]| {
            data.and_then(|d| first_text(d, names))
                .or_else(|| first_text(obj, names))
        };
        let money = |names: &[&str]| {
            data.and_then(|d| lookup(d, names).find_map(Money::from_answer))
                .or_else(|| lookup(obj, names).find_map(Money::from_answer))
        };
        let refunded = data
            .and_then(|d| lookup(d, &["refunded"]).find_map(flag))
            .or_else(|| lookup(obj, &["refunded"]).find_map(flag));
        let worded = data
            .and_then(|d| lookup(d, &["status"]).find_map(Value::as_str))
            .or_else(|| {
                lookup(obj, &["status"])
                    .filter_map(Value::as_str)
                    .find(|s| flag(&Value::from(*s)).is_none())
            })
            .map(PaymentStatus::from_api);
        let accepted = lookup(obj, &["status"]).find_map(flag);
        let txn_id = pick(&["txnid", "transactionid"]);
        let operator_id = pick(&["operatorid"]);
        let ackno = pick(&["ackno"]);
        let named = txn_id.is_some() || operator_id.is_some() || ackno.is_some();
        // The refund flag, then a status word, then the documented codes;
        // a bare `status: false` is a refusal (nothing was done).
        let status = if refunded == Some(true) {
            PaymentStatus::Refunded
        } else if let Some(s) = worded {
            s
        } else if let Some(s) = a.api_code().and_then(PaymentStatus::from_code) {
            s
        } else {
            match accepted {
                Some(false) if named => PaymentStatus::Failed,
                Some(false) => return Err(a.refusal()),
                Some(true) => PaymentStatus::Unknown,
                None if named => PaymentStatus::Unknown,
                None => return Err(a.unreadable("names no transaction and no refusal")),
            }
        };
        Ok(Self {
            status,
            reference_id: pick(&["referenceid", "refid"]).unwrap_or_default(),
            txn_id,
            operator_id,
            ackno,
            amount: money(&["amount"]),
            opening: money(&["opening"]),
            closing: money(&["closing"]),
            comm: money(&["comm"]),
            tds: money(&["tds"]),
            refunded,
            refund_txn_id: pick(&["refundtxnid"]),
            refunded_at: pick(&["daterefunded", "refundedat"]),
            status_call: "",
            meta: AnswerMeta::of(a),
        })
    }

    fn to_json_value(&self) -> Value {
        let money = |m: Option<Money>| m.map(|m| m.to_string());
        self.meta.finish_json(serde_json::json!({
            "status": self.status.as_str(),
            "reference_id": self.reference_id,
            "txn_id": self.txn_id,
            "operator_id": self.operator_id,
            "ackno": self.ackno,
            "amount": money(self.amount),
            "opening": money(self.opening),
            "closing": money(self.closing),
            "comm": money(self.comm),
            "tds": money(self.tds),
            "refunded": self.refunded,
            "refund_txn_id": self.refund_txn_id,
            "refunded_at": self.refunded_at,
            "is_final": self.is_final(),
            "status_call": self.status_call,
        }))
    }

    fn http_status(&self) -> u16 {
        self.meta.http_status
    }

    fn outcome(&self) -> &str {
        self.status.as_str()
    }

    fn reference_id(&self) -> Option<&str> {
        Some(&self.reference_id)
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

pub(super) static PAYMENT: AnswerSpec = AnswerSpec {
    name: "Payment",
    doc: "What a referenced write, or its status call, says about the transaction.",
    from_request: &[],
    fields: &[
        field(
            "status",
            FieldKind::RequiredText,
            "SUCCESS, PENDING, FAILED, REFUNDED or UNKNOWN.",
        ),
        field(
            "reference_id",
            FieldKind::RequiredText,
            "Your reference it was sent with (`referenceid`).",
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
            "The status call that tells its fate (`bill_status`).",
        ),
    ],
};

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
    prepare: prepare_write::<DoRechargeRequest>,
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
    prepare: prepare_status::<DoRechargeStatusRequest>,
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
    prepare: prepare_write::<PayBillRequest>,
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
    prepare: prepare_status::<BillStatusRequest>,
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
    prepare: prepare_write::<FastagRechargeRequest>,
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
    prepare: prepare_status::<FastagStatusRequest>,
    reread: reread_payment::<FastagStatusRequest>,
};

/// The status call that tells the fate of what `spec` answers about.
fn status_call_of(spec: &'static EndpointSpec) -> &'static str {
    spec.status.unwrap_or(spec.method)
}

fn reread_payment<E: Endpoint<Answer = Payment>>(raw: Value) -> Result<Value, Error> {
    let Value::Object(obj) = raw else {
        return Err(ValidationError::new("raw", "must be the answer's JSON object").into());
    };
    let mut p = <Payment as super::Answer>::from_answered(Answered::restored(obj))?;
    p.status_call = status_call_of(E::SPEC);
    Ok(super::Answer::to_json_value(&p))
}

/// A write that carries the caller's reference: sent through
/// [`Client::pay`] (the journal, when keyed).
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

fn prepare_write<W: ReferencedWrite>(client: &Client, args: &Args) -> Result<PreparedCall, Error> {
    let req = W::from_args(args)?;
    let client = client.clone();
    Ok(Box::pin(async move {
        client
            .pay(&req)
            .await
            .map(|p| super::Answer::to_json_value(&p))
    }))
}

fn prepare_status<S: PaymentStatusRead>(
    client: &Client,
    args: &Args,
) -> Result<PreparedCall, Error> {
    super::prepare_call::<S>(client, args)
}

/// `reference_id` as given, or a fresh one.
fn reference_of(a: &super::args::Checked<'_>) -> Result<ClientReference, ValidationError> {
    match a.text("reference_id") {
        Some(r) => ClientReference::new(r),
        None => Ok(ClientReference::generate()),
    }
}

fn key_of(a: &super::args::Checked<'_>) -> Result<Option<IdempotencyKey>, ValidationError> {
    a.text("idempotency_key")
        .map(IdempotencyKey::new)
        .transpose()
}

/// The most one write may pay, in rupees.
const MAX_RUPEES: i64 = 1_000_000;

/// An amount argument: decimal text, a `Decimal`'s text, or whole rupees;
/// more than zero and at most [`MAX_RUPEES`].
fn amount_of(v: Option<&ArgValue>) -> Result<Option<Money>, ValidationError> {
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

fn check_amount(m: Money) -> Result<(), ValidationError> {
    if m.paise() <= 0 || m.paise() > MAX_RUPEES * 100 {
        return Err(ValidationError::new(
            "amount",
            format!("must be more than 0 and at most {MAX_RUPEES} rupees (got {m})"),
        ));
    }
    Ok(())
}

/// Money as the samples write it: `"100"` for whole rupees, else `"820.50"`.
fn amount_text(m: Money) -> String {
    if m.paise() % 100 == 0 {
        (m.paise() / 100).to_string()
    } else {
        m.to_string()
    }
}

/// A referenced write's body: its own fields, then the reference and the
/// account, as the sample has them.
fn body_of(fields: Value) -> Vec<u8> {
    serde_json::to_vec(&fields).unwrap_or_default()
}

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

fn settle_payment(spec: &'static EndpointSpec, reference: &ClientReference, p: &mut Payment) {
    reference.as_str().clone_into(&mut p.reference_id);
    p.status_call = status_call_of(spec);
}

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

            fn paid(&self) -> Vec<String> {
                vec![
                    $spec.method.to_owned(),
                    self.bill.operator.to_string(),
                    self.bill.account.clone(),
                    self.amount.paise().to_string(),
                    self.bill.bill_fetch.to_string(),
                ]
            }
        }
    };
}

bill_write!(PayBillRequest, PAY_BILL, "bill");
bill_write!(FastagRechargeRequest, FASTAG_RECHARGE, "FASTag");

impl Endpoint for PayBillRequest {
    const SPEC: &'static EndpointSpec = &PAY_BILL;
    type Answer = Payment;

    fn from_args(args: &Args) -> Result<Self, ValidationError> {
        Self::checked(args)
    }

    fn to_body(&self, registration_id: &RegistrationId) -> Vec<u8> {
        let (latitude, longitude) = lat_long(self.geocode);
        body_of(serde_json::json!({
            "operator": self.bill.operator.to_string(),
            "canumber": self.bill.account,
            "amount": amount_text(self.amount),
            "referenceid": self.reference.as_str(),
            "latitude": latitude,
            "longitude": longitude,
            "RegistrationID": registration_id.as_str(),
            "mode": self.bill.mode.as_deref().unwrap_or("online"),
            "bill_fetch": self.bill.bill_fetch,
        }))
    }

    fn masked_number(&self) -> Option<String> {
        Some(mask_digits(&self.bill.account))
    }

    fn paid_fields(&self) -> Vec<String> {
        self.paid()
    }

    fn settle(&self, answer: &mut Payment) {
        settle_payment(Self::SPEC, &self.reference, answer);
    }

    fn reference(&self) -> Option<&str> {
        Some(self.reference.as_str())
    }
}

impl Endpoint for FastagRechargeRequest {
    const SPEC: &'static EndpointSpec = &FASTAG_RECHARGE;
    type Answer = Payment;

    fn from_args(args: &Args) -> Result<Self, ValidationError> {
        Self::checked(args)
    }

    fn to_body(&self, registration_id: &RegistrationId) -> Vec<u8> {
        let (latitude, longitude) = lat_long(self.geocode);
        // The sample sends a number: whole rupees go as one, paise as text
        // (a JSON fraction would be a float).
        let amount = if self.amount.paise() % 100 == 0 {
            Value::from(self.amount.paise() / 100)
        } else {
            Value::from(self.amount.to_string())
        };
        body_of(serde_json::json!({
            "operator": self.bill.operator,
            "canumber": account_json_text(&self.bill.account),
            "amount": amount,
            "referenceid": self.reference.as_str(),
            "latitude": latitude,
            "longitude": longitude,
            "bill_fetch": self.bill.bill_fetch,
            "RegistrationID": registration_id.as_str(),
        }))
    }

    fn masked_number(&self) -> Option<String> {
        Some(mask_digits(&self.bill.account))
    }

    fn paid_fields(&self) -> Vec<String> {
        self.paid()
    }

    fn settle(&self, answer: &mut Payment) {
        settle_payment(Self::SPEC, &self.reference, answer);
    }

    fn reference(&self) -> Option<&str> {
        Some(self.reference.as_str())
    }
}

/// A vehicle number always goes as text (the sample's `"DL12CB4685"`).
fn account_json_text(account: &str) -> Value {
    match account_json(account) {
        Value::Number(_) => Value::from(account),
        other => other,
    }
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
    use crate::endpoints::Answer;
    use crate::error::ErrorKind;
    use crate::parse::read_answer;

    fn read(effect: Effect, body: &str) -> Result<Payment, Error> {
        read_answer::<Payment>(effect, 200, None, body.as_bytes())
    }

    #[test]
    fn statuses_follow_the_flag_the_word_then_the_code() {
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
                r#"{"status":false,"response_code":0,"message":"refunded"}"#,
                PaymentStatus::Refunded,
            ),
            (
                r#"{"status":true,"response_code":1,"data":{"status":"FAILED","txnid":"T"}}"#,
                PaymentStatus::Failed,
            ),
            (
                r#"{"status":true,"response_code":1,"data":{"status":"SUCCESS","refunded":"1"}}"#,
                PaymentStatus::Refunded,
            ),
            (
                r#"{"status":true,"response_code":9}"#,
                PaymentStatus::Unknown,
            ),
            (
                r#"{"status":false,"response_code":9,"ackno":"5"}"#,
                PaymentStatus::Failed,
            ),
        ] {
            assert_eq!(read(Effect::Write, body).unwrap().status, status, "{body}");
        }
        let e = read(
            Effect::Write,
            r#"{"status":false,"response_code":3,"message":"Duplicate"}"#,
        )
        .unwrap_err();
        assert_eq!((e.kind(), e.api_code()), (ErrorKind::Api, Some(3)));
        let e = read(Effect::Write, r#"{"message":"hello"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::OutcomeUnknown);
        let e = read(Effect::Read, r#"{"message":"hello"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
    }

    #[test]
    fn the_documented_status_answer_is_read_exactly() {
        let body = r#"{"response_code":1,"status":true,"data":{"txnid":"T77","operatorname":"BSES","canumber":"102277100","amount":"820.50","ad1":null,"comm":"2.05","tds":"0.10","status":"SUCCESS","refid":"20018575947","operatorid":"OPR9","dateadded":"2026-12-01 10:00:00","refunded":"0","refundtxnid":"","daterefunded":""},"message":"Transaction Successful"}"#;
        let p = read(Effect::Read, body).unwrap();
        assert_eq!(p.status, PaymentStatus::Success);
        assert_eq!(p.reference_id, "20018575947");
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
        let names: Vec<&str> = BILL_STATUS.answer_fields().map(|f| f.name).collect();
        assert_eq!(keys, names);
        assert_eq!(json["amount"], "820.50");
    }

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
