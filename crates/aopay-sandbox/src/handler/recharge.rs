//! The V2 MobileRecharge and RechargeStatus: their bodies, the transaction
//! ledger, and their answers.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;

use hyper::StatusCode;
use hyper::header::{HeaderValue, RETRY_AFTER};
use serde_json::{Map, Value, json};

use super::body::{
    Rejection, answer, coordinate_in, html_502, json_answer, lock, mask, required_int, required_str,
};
use super::routes::{Route, Serve};
use super::{Answer, Received, State};
use crate::magic::{Scenario, scenario_for};

/// Their routes.
pub(super) const ROUTES: [Route; 2] = [
    Route {
        name: "mobile_recharge",
        path: "/api/AOP/V2/MobileRecharge",
        serve: Serve::Recharge,
    },
    Route {
        name: "recharge_status",
        path: "/api/AOP/V2/RechargeStatus",
        serve: Serve::RechargeStatus,
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TxnState {
    Success,
    Failed,
    Pending { then_success: bool },
}

#[derive(Debug)]
pub(super) struct Txn {
    state: TxnState,
    scenario: Scenario,
    txn_id: String,
    amount: u64,
    customer_number: u64,
    status_checks: u32,
}

/// The recorded transactions, oldest first, at most `max_transactions`: a
/// long-lived sandbox forgets its oldest rather than grow without bound.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    pub(super) by_reference: HashMap<String, Txn>,
    oldest_first: VecDeque<String>,
}

impl Ledger {
    pub(super) fn record(&mut self, reference: String, txn: Txn, max: usize) {
        while self.oldest_first.len() >= max.max(1) {
            let Some(old) = self.oldest_first.pop_front() else {
                break;
            };
            self.by_reference.remove(&old);
        }
        self.oldest_first.push_back(reference.clone());
        self.by_reference.insert(reference, txn);
    }
}

impl State {
    /// A magic scenario's 429, with the configured `Retry-After`.
    fn too_many_requests(&self) -> Answer {
        let mut a = answer(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"status": false, "response_code": 429, "message": "Too many requests"}),
        );
        a.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(self.config.retry_after_secs));
        a
    }

    /// Check a MobileRecharge body field by field, for a precise 400.
    pub(super) fn check_recharge(obj: &Map<String, Value>) -> Result<RechargeBody<'_>, Rejection> {
        let body = RechargeBody {
            registration_id: Cow::Borrowed(required_str(obj, "RegistrationID")?),
            product_id: required_int(obj, "ProductID")?,
            amount: required_int(obj, "Amount")?,
            geocode: Cow::Borrowed(required_str(obj, "Geocode")?),
            customer_number: required_int(obj, "CustomerNumber")?,
        };
        body.check()?;
        Ok(body)
    }

    pub(super) async fn recharge(
        &self,
        body: RechargeBody<'_>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        let registration = body.registration_id.as_ref();
        let amount = body.amount;
        let customer_number = body.customer_number;
        received.count();
        *lock(&self.by_number).entry(customer_number).or_default() += 1;
        tracing::debug!(target: "aopay_sandbox", customer_number = %mask(customer_number), amount, "recharge received");

        let scenario = scenario_for(customer_number);
        let state = match scenario {
            Scenario::Unauthorized => {
                return Ok(answer(
                    StatusCode::UNAUTHORIZED,
                    &json!({"status": false, "response_code": 5, "message": "Invalid signature encoding"}),
                ));
            }
            Scenario::RateLimited => {
                return Ok(self.too_many_requests());
            }
            Scenario::BadGatewayHtml => return Ok(html_502()),
            Scenario::Refused => {
                return Ok(answer(
                    StatusCode::OK,
                    &json!({"status": false, "msg": "error", "error": "Insufficient balance in wallet",
                            "statusCode": 402, "ReferanceID": null, "data": null,
                            "Status": "FALSE", "message": "", "Value": ""}),
                ));
            }
            Scenario::Failed => TxnState::Failed,
            Scenario::PendingThenSuccess => TxnState::Pending { then_success: true },
            Scenario::PendingThenFailed => TxnState::Pending {
                then_success: false,
            },
            _ => TxnState::Success,
        };
        let n = self.next_ref.fetch_add(1, Ordering::SeqCst);
        let reference = format!("{}R{n}", reference_prefix(registration));
        let txn = Txn {
            state,
            scenario,
            txn_id: format!("SBX{n:010}"),
            amount,
            customer_number,
            status_checks: 0,
        };
        let body = txn_body(&reference, &txn);
        lock(&self.txns).record(reference, txn, self.config.max_transactions);

        match scenario {
            Scenario::ServerErrorAfterRecording => Ok(answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"status": false, "response_code": 500, "message": "Internal server error"}),
            )),
            Scenario::DropAfterRecording => Err(Rejection::Drop),
            Scenario::TruncatedBody => {
                let half = body.len() / 2;
                Ok(json_answer(StatusCode::OK, body[..half].to_vec()))
            }
            Scenario::Slow => {
                tokio::time::sleep(self.config.slow_delay).await;
                Ok(json_answer(StatusCode::OK, body))
            }
            _ => Ok(json_answer(StatusCode::OK, body)),
        }
    }

    pub(super) fn status(
        &self,
        reference: &str,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        received.count();
        let mut txns = lock(&self.txns);
        let Some(txn) = txns.by_reference.get_mut(reference) else {
            return Ok(answer(
                StatusCode::OK,
                &json!({"status": false, "msg": "error", "error": format!("No transaction found for reference {reference}"),
                        "statusCode": 404, "ReferanceID": null, "data": null,
                        "Status": "FALSE", "message": "", "Value": ""}),
            ));
        };
        txn.status_checks += 1;
        let checks = txn.status_checks;
        match txn.scenario {
            Scenario::StatusUnavailableTwice if checks <= 2 => {
                return Ok(answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &json!({"status": false, "response_code": 503, "message": "Service temporarily unavailable"}),
                ));
            }
            Scenario::StatusRateLimitedOnce if checks <= 1 => {
                return Ok(self.too_many_requests());
            }
            _ => {}
        }
        if let TxnState::Pending { then_success } = txn.state {
            if checks >= self.config.pending_checks {
                txn.state = if then_success {
                    TxnState::Success
                } else {
                    TxnState::Failed
                };
            }
        }
        Ok(json_answer(StatusCode::OK, txn_body(reference, txn)))
    }
}

#[derive(serde::Deserialize)]
pub(super) struct RechargeBody<'a> {
    #[serde(rename = "RegistrationID", borrow)]
    pub(super) registration_id: Cow<'a, str>,
    #[serde(rename = "ProductID")]
    pub(super) product_id: u64,
    #[serde(rename = "Amount")]
    pub(super) amount: u64,
    #[serde(rename = "Geocode", borrow)]
    pub(super) geocode: Cow<'a, str>,
    #[serde(rename = "CustomerNumber")]
    pub(super) customer_number: u64,
}

impl RechargeBody<'_> {
    /// The rules a typed parse does not check by itself.
    pub(super) fn check(&self) -> Result<(), Rejection> {
        let bad = |m: &str| Err(Rejection::Bad(m.to_owned()));
        if self.registration_id.trim().is_empty() || self.registration_id.chars().count() > 64 {
            return bad("RegistrationID must be 1 to 64 characters");
        }
        // The ranges docs/openapi.yaml gives these integers.
        for (key, v, max) in [
            ("ProductID", self.product_id, 2_147_483_647),
            ("Amount", self.amount, 1_000_000),
            (
                "CustomerNumber",
                self.customer_number,
                999_999_999_999_999_999,
            ),
        ] {
            if !(1..=max).contains(&v) {
                return Err(Rejection::Bad(format!(
                    "{key} must be an integer from 1 to {max}"
                )));
            }
        }
        if !valid_geocode(&self.geocode) {
            return bad("Geocode must be \"lat,long\"");
        }
        Ok(())
    }
}

#[derive(serde::Deserialize)]
pub(super) struct StatusBody<'a> {
    #[serde(rename = "RegistrationID", borrow)]
    pub(super) registration_id: Cow<'a, str>,
    #[serde(rename = "ReferanceId", borrow)]
    pub(super) reference_id: Cow<'a, str>,
}

impl StatusBody<'_> {
    pub(super) fn check(&self) -> Result<(), Rejection> {
        if self.registration_id.trim().is_empty()
            || self.reference_id.trim().is_empty()
            || self.registration_id.chars().count() > 64
            || self.reference_id.chars().count() > 128
        {
            return Err(Rejection::Bad(
                "RegistrationID and ReferanceId must not be empty".to_owned(),
            ));
        }
        Ok(())
    }
}

pub(super) fn valid_geocode(text: &str) -> bool {
    let Some((lat, long)) = text.split_once(',') else {
        return false;
    };
    coordinate_in(lat, 90.0) && coordinate_in(long, 180.0)
}

/// `AOP-554` → `AOP554`, as the API's references look (`AOP554R318820`).
pub(super) fn reference_prefix(registration: &str) -> String {
    let p: String = registration
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if p.is_empty() { "SBX".to_owned() } else { p }
}

/// The body the real API sends about a transaction (docs/protocol.md §1),
/// serialized straight from a struct (no intermediate `Value`).
pub(super) fn txn_body(reference: &str, txn: &Txn) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Data<'a> {
        message: String,
        #[serde(rename = "txnId")]
        txn_id: &'a str,
        status: &'static str,
        ackno: String,
    }
    #[derive(serde::Serialize)]
    struct Body<'a> {
        status: bool,
        msg: &'static str,
        error: &'static str,
        #[serde(rename = "statusCode")]
        status_code: u16,
        #[serde(rename = "ReferanceID")]
        reference_id: &'a str,
        data: Data<'a>,
        #[serde(rename = "Status")]
        status_text: &'static str,
        message: &'static str,
        #[serde(rename = "Value")]
        value: &'static str,
    }
    let number = mask(txn.customer_number);
    let (ok, status, status_code, message) = match txn.state {
        TxnState::Success => (
            true,
            "SUCCESS",
            200,
            format!("Recharge of Rs {} for {number} successful", txn.amount),
        ),
        TxnState::Failed => (
            false,
            "FAILED",
            401,
            format!("Your payment for {number} failed | Transaction failed"),
        ),
        TxnState::Pending { .. } => (
            true,
            "PENDING",
            200,
            format!(
                "Recharge of Rs {} for {number} is being processed",
                txn.amount
            ),
        ),
    };
    let ackno = if status == "SUCCESS" {
        (txn.txn_id.len() as u64 * 1000 + txn.amount).to_string()
    } else {
        "0".to_owned()
    };
    serde_json::to_vec(&Body {
        status: ok,
        msg: if ok { "success" } else { "error" },
        error: if ok { "" } else { "Transaction failed" },
        status_code,
        reference_id: reference,
        data: Data {
            message,
            txn_id: &txn.txn_id,
            status,
            ackno,
        },
        status_text: if ok { "TRUE" } else { "FALSE" },
        message: "",
        value: "",
    })
    .unwrap_or_default()
}
