//! The referenced writes (DoRecharge, BillPaymentPaybill, FASTag Recharge)
//! and their status reads: strict bodies, a ledger by (family,
//! `referenceid`), and the magic accounts of `MAGIC_PAYMENT_ACCOUNTS`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;

use hyper::StatusCode;
use serde_json::{Map, Value, json};

use super::body::{
    Rejection, answer, coordinate_in, lock, mask_text, only_keys, required_str, whole_number,
};
use super::routes::{Route, Serve};
use super::{Answer, Received, State, account_number, operator_code};
use crate::magic::{PaymentScenario, payment_scenario_for};

/// Their routes.
pub(super) const ROUTES: [Route; 6] = [
    Route {
        name: "do_recharge",
        path: "/api/AOP/DoRecharge",
        serve: Serve::Pay(Family::DoRecharge),
    },
    Route {
        name: "do_recharge_status",
        path: "/api/AOP/RechargesStatus",
        serve: Serve::PaymentStatus(Family::DoRecharge),
    },
    Route {
        name: "pay_bill",
        path: "/api/AOP/BillPaymentPaybill",
        serve: Serve::Pay(Family::Bill),
    },
    Route {
        name: "bill_status",
        path: "/api/AOP/BillPaymentStatus",
        serve: Serve::PaymentStatus(Family::Bill),
    },
    Route {
        name: "fastag_recharge",
        path: "/api/AOP/Recharge",
        serve: Serve::Pay(Family::Fastag),
    },
    Route {
        name: "fastag_status",
        path: "/api/AOP/RechargeStatus",
        serve: Serve::PaymentStatus(Family::Fastag),
    },
];

/// Which write a reference belongs to: each family has its own ledger
/// and its own status call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    DoRecharge,
    Bill,
    Fastag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Success,
    Pending { then: Final },
    Refunded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Final {
    Success,
    Refunded,
}

#[derive(Debug)]
struct Paid {
    fate: Fate,
    txn_id: String,
    account: String,
    amount: String,
    checks: u32,
    /// Status checks still to answer "no such transaction".
    hidden: u32,
}

/// Recorded payments, oldest first, bounded like the recharge ledger.
#[derive(Debug, Default)]
pub(crate) struct PaymentLedger {
    by_reference: HashMap<(Family, String), Paid>,
    oldest_first: VecDeque<(Family, String)>,
}

impl PaymentLedger {
    pub(crate) fn len(&self) -> usize {
        self.by_reference.len()
    }
}

/// A `referenceid`: a non-empty string of letters, digits, `-`, `_`.
fn reference(obj: &Map<String, Value>) -> Result<String, Rejection> {
    let r = required_str(obj, "referenceid")?;
    if r.len() > 64
        || !r
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Rejection::Bad(
            "referenceid must be letters and digits".to_owned(),
        ));
    }
    Ok(r.to_owned())
}

/// An amount: decimal text with at most two decimals ("100", "820.50"),
/// or a whole JSON number (the FASTag sample sends `10`).
fn amount_paise(obj: &Map<String, Value>) -> Result<u64, Rejection> {
    let text = match obj.get("amount") {
        Some(Value::String(s)) => s.clone(),
        // A number only as whole rupees (a JSON fraction is a float).
        Some(Value::Number(n)) => match whole_number(n) {
            Some(v) if (1..=1_000_000).contains(&v) => v.to_string(),
            _ => return Err(Rejection::Bad("amount must be a decimal string".to_owned())),
        },
        Some(_) => return Err(Rejection::Bad("amount must be a decimal string".to_owned())),
        None => return Err(Rejection::Bad("amount is required".to_owned())),
    };
    let bad = || {
        Rejection::Bad(format!(
            "amount must be an amount like \"100\" or \"820.50\" (got {text:?})"
        ))
    };
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty()
        || whole.len() > 7
        || (whole.len() > 1 && whole.starts_with('0'))
        || (text.contains('.') && frac.is_empty())
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let rupees: u64 = whole.parse().map_err(|_| bad())?;
    let paise: u64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    let total = rupees * 100 + paise;
    if total == 0 {
        return Err(Rejection::Bad("amount must be more than 0".to_owned()));
    }
    Ok(total)
}

/// A coordinate as the sample sends it: decimal text.
fn coordinate(obj: &Map<String, Value>, key: &str, limit: f64) -> Result<(), Rejection> {
    match obj.get(key) {
        Some(Value::String(s)) if coordinate_in(s, limit) => Ok(()),
        None => Err(Rejection::Bad(format!("{key} is required"))),
        Some(_) => Err(Rejection::Bad(format!(
            "{key} must be a coordinate, as text"
        ))),
    }
}

fn paise_of_text(v: Option<&Value>) -> Option<u64> {
    let text = match v? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = format!("{:0<2}", frac.trim_end_matches('0'));
    Some(whole.parse::<u64>().ok()? * 100 + frac.get(..2)?.parse::<u64>().ok()?)
}

fn money_text(paise: u64) -> String {
    format!("{}.{:02}", paise / 100, paise % 100)
}

fn truthy(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(matches!(s.as_str(), "true" | "True" | "1" | "Y" | "yes")),
        Value::Number(n) => Some(n.as_i64() == Some(1)),
        _ => None,
    }
}

/// A refusal as the upstream writes one: HTTP 402, `status` false, a
/// documented `response_code` (8 validation, 16 insufficient fund, 17
/// outside the operator's limits, 18 a reused reference).
fn refuse(code: i64, message: &str) -> Answer {
    answer(
        StatusCode::PAYMENT_REQUIRED,
        &json!({"status": false, "response_code": code, "message": message}),
    )
}

/// The upstream's words for an empty wallet.
const NO_FUNDS: &str =
    "Insufficient fund in your account. Please topup your wallet before initiating transaction.";

impl State {
    /// DoRecharge: `operator`, `canumber`, `amount` (text), `referenceid`,
    /// `RegisterID` (sic).
    pub(super) async fn do_recharge(
        &self,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        only_keys(
            obj,
            &[
                "operator",
                "canumber",
                "amount",
                "referenceid",
                "RegisterID",
            ],
        )?;
        required_str(obj, "RegisterID")?;
        operator_code(obj)?;
        let account = account_number(obj, true)?;
        let amount = amount_paise(obj)?;
        let reference = reference(obj)?;
        received.count();
        self.pay(Family::DoRecharge, reference, account, amount)
            .await
    }

    /// BillPaymentPaybill: `operator`, `canumber`, `amount`, `referenceid`,
    /// `latitude`, `longitude`, `RegistrationID`, `mode`, `bill_fetch`.
    pub(super) async fn pay_bill(
        &self,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        let w = BillWrite::read(obj, &["mode"], false)?;
        let mode = required_str(obj, "mode")?;
        if mode != "online" && mode != "offline" {
            return Err(Rejection::Bad(
                "mode must be \"online\" or \"offline\"".to_owned(),
            ));
        }
        received.count();
        if truthy(w.fetched.get("acceptPayment")) == Some(false) {
            return Ok(refuse(8, "This bill does not accept a payment"));
        }
        let due = paise_of_text(w.fetched.get("billAmount"));
        if truthy(w.fetched.get("acceptPartPay")) == Some(false)
            && due.is_some_and(|d| d != w.amount)
        {
            return Ok(refuse(8, "Amount must equal the bill amount"));
        }
        self.pay(Family::Bill, w.reference, w.account, w.amount)
            .await
    }

    /// FASTag Recharge: `operator`, `canumber` (text), `amount` (a number
    /// or text), `referenceid`, `latitude`, `longitude`, `bill_fetch`,
    /// `RegistrationID`.
    pub(super) async fn fastag_recharge(
        &self,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        let w = BillWrite::read(obj, &[], true)?;
        let (fetched, amount, reference, vehicle) = (w.fetched, w.amount, w.reference, w.account);
        received.count();
        let min = paise_of_text(fetched.get("minBillAmount"));
        let max = paise_of_text(fetched.get("maxBillAmount"));
        if min.is_some_and(|m| amount < m) || max.is_some_and(|m| amount > m) {
            return Ok(refuse(17, "Amount is outside this FASTag's limits"));
        }
        self.pay(Family::Fastag, reference, vehicle, amount).await
    }

    /// Record one payment (a reused reference is refused, never paid again)
    /// and answer it as its magic account says.
    async fn pay(
        &self,
        family: Family,
        reference: String,
        account: String,
        amount: u64,
    ) -> Result<Answer, Rejection> {
        tracing::debug!(target: "aopay_sandbox", account = %mask_text(&account), amount, ?family, "payment received");
        *lock(&self.payments_by_account)
            .entry(account.clone())
            .or_default() += 1;
        let scenario = payment_scenario_for(&account);
        if scenario == PaymentScenario::InsufficientBalance {
            return Ok(refuse(16, NO_FUNDS));
        }
        let n = self.next_ref.fetch_add(1, Ordering::SeqCst);
        let fate = match scenario {
            PaymentScenario::PendingThenSuccess => Fate::Pending {
                then: Final::Success,
            },
            PaymentScenario::PendingThenRefunded => Fate::Pending {
                then: Final::Refunded,
            },
            PaymentScenario::Refunded => Fate::Refunded,
            _ => Fate::Success,
        };
        let paid = Paid {
            fate,
            txn_id: format!("SBXP{n:010}"),
            account,
            amount: money_text(amount),
            checks: 0,
            hidden: u32::from(scenario == PaymentScenario::DropAndLagStatus),
        };
        let body = {
            let mut ledger = lock(&self.payments);
            let key = (family, reference.clone());
            if ledger.by_reference.contains_key(&key) {
                // Documented: a reused reference pays nothing and says so.
                return Ok(refuse(18, "Duplicate Transaction"));
            }
            if !self.take_from_wallet() {
                return Ok(refuse(16, NO_FUNDS));
            }
            let body = write_answer(&paid, n, &reference);
            while ledger.oldest_first.len() >= self.config.max_transactions.max(1) {
                let Some(old) = ledger.oldest_first.pop_front() else {
                    break;
                };
                ledger.by_reference.remove(&old);
            }
            ledger.oldest_first.push_back(key.clone());
            ledger.by_reference.insert(key, paid);
            body
        };
        match scenario {
            PaymentScenario::ServerErrorAfterRecording => Ok(answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"status": false, "response_code": 500, "message": "Internal server error"}),
            )),
            PaymentScenario::DropAfterRecording | PaymentScenario::DropAndLagStatus => {
                Err(Rejection::Drop)
            }
            _ => Ok(answer(StatusCode::OK, &body)),
        }
    }

    /// RechargesStatus, BillPaymentStatus, FASTag RechargeStatus.
    pub(super) fn payment_status(
        &self,
        family: Family,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        let registration_key = match family {
            Family::DoRecharge => "registrationID",
            Family::Bill | Family::Fastag => "RegistrationID",
        };
        only_keys(obj, &["referenceid", registration_key])?;
        required_str(obj, registration_key)?;
        let reference = reference(obj)?;
        received.count();
        let mut ledger = lock(&self.payments);
        let paid = match ledger.by_reference.get_mut(&(family, reference.clone())) {
            Some(p) if p.hidden > 0 => {
                p.hidden -= 1;
                None
            }
            other => other,
        };
        let Some(paid) = paid else {
            // Documented per family: 0 for bills (and, assumed, FASTags),
            // 2 for recharges.
            let code = if family == Family::DoRecharge { 2 } else { 0 };
            return Ok(answer(
                StatusCode::OK,
                &json!({"response_code": code, "status": false, "message": "No Transaction found"}),
            ));
        };
        paid.checks += 1;
        if let Fate::Pending { then } = paid.fate {
            if paid.checks >= self.config.pending_checks {
                paid.fate = match then {
                    Final::Success => Fate::Success,
                    Final::Refunded => Fate::Refunded,
                };
            }
        }
        // As the upstream writes it: `responsecode` (no underscore) on a
        // status call's success, digits in `data.status` and `refunded`.
        let (digit, message) = match paid.fate {
            Fate::Success => ("1", "Transaction Enquiry Successful"),
            Fate::Pending { .. } => ("2", "Transaction Enquiry Successful"),
            Fate::Refunded => ("0", "Transaction Enquiry Successful"),
        };
        let refunded = paid.fate == Fate::Refunded;
        let mut data = json!({
            "txnid": paid.txn_id, "operatorname": "Sandbox Biller", "canumber": paid.account,
            "amount": paid.amount, "comm": "2.05", "tds": "0.10", "status": digit,
            "refid": reference, "operatorid": format!("OP{}", paid.txn_id),
            "dateadded": "2026-12-01 10:00:00",
            "refunded": if refunded { "1" } else { "0" },
            "refundtxnid": if refunded { format!("RF{}", paid.txn_id) } else { String::new() },
            "daterefunded": if refunded { Value::from("2026-12-01 10:05:00") } else { Value::Null },
        });
        if family == Family::Bill {
            for ad in ["ad1", "ad2", "ad3"] {
                data[ad] = Value::Null;
            }
        }
        Ok(answer(
            StatusCode::OK,
            &json!({"responsecode": 1, "status": true, "data": data, "message": message}),
        ))
    }
}

impl State {
    /// Every payment recorded under `reference`, of any kind of write:
    /// (`canumber`, transaction id).
    pub(crate) fn recorded_payments(&self, reference: &str) -> Vec<(String, String)> {
        let ledger = lock(&self.payments);
        [Family::DoRecharge, Family::Bill, Family::Fastag]
            .into_iter()
            .filter_map(|f| ledger.by_reference.get(&(f, reference.to_owned())))
            .map(|p| (p.account.clone(), p.txn_id.clone()))
            .collect()
    }

    /// How many payments the ledger holds for `account` (a reused
    /// reference, refused, is not one).
    pub(crate) fn recorded_payments_for(&self, account: &str) -> u64 {
        lock(&self.payments)
            .by_reference
            .values()
            .filter(|p| p.account == account)
            .count() as u64
    }
}

/// What both bill writes carry, checked: the account, the amount in paise,
/// the reference and the `bill_fetch` sent back.
struct BillWrite<'a> {
    account: String,
    amount: u64,
    reference: String,
    fetched: &'a Map<String, Value>,
}

impl<'a> BillWrite<'a> {
    /// `extra`: the keys this write takes besides the shared ones;
    /// `text_account`: `canumber` must be a string (a vehicle).
    fn read(
        obj: &'a Map<String, Value>,
        extra: &[&str],
        text_account: bool,
    ) -> Result<Self, Rejection> {
        const SHARED: [&str; 8] = [
            "operator",
            "canumber",
            "amount",
            "referenceid",
            "latitude",
            "longitude",
            "RegistrationID",
            "bill_fetch",
        ];
        let keys: Vec<&str> = SHARED.iter().chain(extra).copied().collect();
        only_keys(obj, &keys)?;
        required_str(obj, "RegistrationID")?;
        operator_code(obj)?;
        let account = account_number(obj, text_account)?;
        let amount = amount_paise(obj)?;
        let reference = reference(obj)?;
        coordinate(obj, "latitude", 90.0)?;
        coordinate(obj, "longitude", 180.0)?;
        Ok(Self {
            account,
            amount,
            reference,
            fetched: bill_fetch(obj)?,
        })
    }
}

fn bill_fetch(obj: &Map<String, Value>) -> Result<&Map<String, Value>, Rejection> {
    obj.get("bill_fetch")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            Rejection::Bad("bill_fetch must be the object the fetch returned".to_owned())
        })
}

/// A write's answer: `status`, `response_code` (1 paid; 0 "re-query": every
/// payment not paid at once), `operatorid`, `ackno`, `refid`, `opening`,
/// `closing`, `message`.
fn write_answer(paid: &Paid, n: u64, reference: &str) -> Value {
    let opening = 1_000_000_u64;
    if paid.fate != Fate::Success {
        return json!({
            "status": true, "response_code": 0, "refid": reference,
            "message": "Please re-query the transaction after 30 min for latest update.",
        });
    }
    let spent = paise_of_text(Some(&Value::from(paid.amount.clone()))).unwrap_or(0);
    json!({
        "status": true, "response_code": 1,
        "operatorid": format!("OP{}", paid.txn_id), "ackno": n, "refid": reference,
        "opening": money_text(opening), "closing": money_text(opening.saturating_sub(spent)),
        "message": "Transaction Successful",
    })
}
