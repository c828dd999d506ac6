//! Request handling: strict body checks, the transaction store, magic
//! scenarios, and answers shaped like the real API's.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value, json};

use crate::magic::{
    DthScenario, MAGIC_PLAN_OPERATORS, MAGIC_VEHICLES, Scenario, dth_scenario_for, scenario_for,
};
use crate::{SandboxConfig, Stats};

mod payments;
mod routes;
use payments::Family;
use routes::{ROUTES, Received, Route, Serve};

/// Returned by the handler to make hyper close the connection unanswered.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (magic scenario)")
    }
}

impl std::error::Error for DropConnection {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxnState {
    Success,
    Failed,
    Pending { then_success: bool },
}

#[derive(Debug)]
struct Txn {
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
struct Ledger {
    by_reference: HashMap<String, Txn>,
    oldest_first: VecDeque<String>,
}

impl Ledger {
    fn record(&mut self, reference: String, txn: Txn, max: usize) {
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

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) config: SandboxConfig,
    txns: Mutex<Ledger>,
    by_number: Mutex<HashMap<u64, u64>>,
    next_ref: AtomicU64,
    /// Well-formed requests received, per route ([`ROUTES`] order).
    requests: [AtomicU64; ROUTES.len()],
    payments: Mutex<payments::PaymentLedger>,
    /// Referenced writes received, by `canumber`.
    payments_by_account: Mutex<HashMap<String, u64>>,
    unauthorized_requests: AtomicU64,
    rejected_requests: AtomicU64,
    rate_limited_requests: AtomicU64,
    /// When each call answered in the last second arrived (`rate_limit`).
    answered: Mutex<std::collections::VecDeque<std::time::Instant>>,
    /// Issued bearer tokens and when each expires.
    tokens: Mutex<HashMap<String, std::time::Instant>>,
    /// Payments the wallet still covers (`None`: no limit).
    wallet: Mutex<Option<u64>>,
    /// With `require_jwt`: the checker of every call's token.
    jwt: Option<crate::jwt::JwtCheck>,
}

type Answer = Response<Full<Bytes>>;

impl State {
    pub(crate) fn new(config: SandboxConfig) -> std::io::Result<Self> {
        let jwt = config
            .require_jwt
            .as_ref()
            .map(|key| crate::jwt::JwtCheck::new(key, &config.jwt_header))
            .transpose()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        Ok(Self {
            next_ref: AtomicU64::new(318_820),
            wallet: Mutex::new(config.wallet_payments),
            jwt,
            config,
            ..Self::default()
        })
    }

    pub(crate) fn stats(&self) -> Stats {
        let mut stats = Stats {
            payments: lock(&self.payments).len() as u64,
            unauthorized_requests: self.unauthorized_requests.load(Ordering::SeqCst),
            rejected_requests: self.rejected_requests.load(Ordering::SeqCst),
            rate_limited_requests: self.rate_limited_requests.load(Ordering::SeqCst),
            transactions: lock(&self.txns).by_reference.len() as u64,
            ..Stats::default()
        };
        for (route, n) in ROUTES.iter().zip(&self.requests) {
            *(route.stat)(&mut stats) = n.load(Ordering::SeqCst);
        }
        stats
    }

    pub(crate) fn payments_for(&self, account: &str) -> u64 {
        lock(&self.payments_by_account)
            .get(account)
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn recharges_for(&self, customer_number: u64) -> u64 {
        lock(&self.by_number)
            .get(&customer_number)
            .copied()
            .unwrap_or(0)
    }

    /// Take one payment from the wallet: `false` when it is empty.
    pub(crate) fn take_from_wallet(&self) -> bool {
        match &mut *lock(&self.wallet) {
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
            None => true,
        }
    }

    /// Let the wallet cover `payments` more (`None`: no limit).
    pub(crate) fn top_up(&self, payments: Option<u64>) {
        *lock(&self.wallet) = payments;
    }

    pub(crate) fn reset(&self) {
        self.top_up(self.config.wallet_payments);
        *lock(&self.txns) = Ledger::default();
        *lock(&self.payments) = payments::PaymentLedger::default();
        lock(&self.payments_by_account).clear();
        lock(&self.by_number).clear();
        for c in self.requests.iter().chain([
            &self.unauthorized_requests,
            &self.rejected_requests,
            &self.rate_limited_requests,
        ]) {
            c.store(0, Ordering::SeqCst);
        }
    }

    pub(crate) fn issue_token(&self, lifetime: std::time::Duration) -> String {
        let n = self.next_ref.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let token = format!("sbx.{n:x}.{nanos:08x}");
        let mut tokens = lock(&self.tokens);
        let now = std::time::Instant::now();
        tokens.retain(|_, expiry| *expiry > now);
        tokens.insert(token.clone(), now + lifetime);
        token
    }

    pub(crate) fn revoke_tokens(&self) {
        lock(&self.tokens).clear();
    }

    /// Under `rate_limit`: `None` if this call may be answered (and counts),
    /// else how long until one may (a sliding one-second window: at most
    /// `limit` calls answered in any second).
    fn over_rate(&self) -> Option<std::time::Duration> {
        let limit = usize::try_from(self.config.rate_limit?).unwrap_or(usize::MAX);
        let second = std::time::Duration::from_secs(1);
        let now = std::time::Instant::now();
        let mut answered = lock(&self.answered);
        while answered
            .front()
            .is_some_and(|t| now.duration_since(*t) >= second)
        {
            answered.pop_front();
        }
        if answered.len() < limit {
            answered.push_back(now);
            return None;
        }
        Some(second.saturating_sub(now.duration_since(answered[0])))
    }

    /// With `require_tokens`: does the call carry a token that is valid now?
    fn authorized(&self, req: &Request<Incoming>) -> bool {
        if !self.config.require_tokens {
            return true;
        }
        let Some(token) = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        lock(&self.tokens)
            .get(token.trim())
            .is_some_and(|expiry| *expiry > std::time::Instant::now())
    }

    pub(crate) async fn handle(&self, req: Request<Incoming>) -> Result<Answer, DropConnection> {
        let path = req.uri().path().to_owned();
        let Some((index, route)) = ROUTES.iter().enumerate().find(|(_, r)| r.path == path) else {
            return Ok(self.reject(
                StatusCode::NOT_FOUND,
                404,
                &format!("no such endpoint: {path}"),
            ));
        };
        if req.method() != Method::POST {
            // RFC 9110 §15.5.6: a 405 says which methods the resource takes.
            let mut a = self.reject(StatusCode::METHOD_NOT_ALLOWED, 405, "use POST");
            a.headers_mut()
                .insert(hyper::header::ALLOW, HeaderValue::from_static("POST"));
            return Ok(a);
        }
        if let Some(wait) = self.over_rate() {
            self.rate_limited_requests.fetch_add(1, Ordering::SeqCst);
            let _ = Limited::new(req.into_body(), self.config.max_body_bytes)
                .collect()
                .await;
            let mut a = answer(
                StatusCode::TOO_MANY_REQUESTS,
                &json!({"status": false, "response_code": 429, "message": "Too many requests"}),
            );
            // Whole seconds (RFC 9110 §10.2.3), rounded up.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            a.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
            return Ok(a);
        }
        if let Some(check) = &self.jwt {
            let value = req
                .headers()
                .get(check.header())
                .and_then(|v| v.to_str().ok());
            if let Err((status, code, message)) = check.check(value) {
                self.unauthorized_requests.fetch_add(1, Ordering::SeqCst);
                let _ = Limited::new(req.into_body(), self.config.max_body_bytes)
                    .collect()
                    .await;
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED);
                return Ok(answer(
                    status,
                    &json!({"status": false, "response_code": code, "message": message}),
                ));
            }
        }
        if !self.authorized(&req) {
            self.unauthorized_requests.fetch_add(1, Ordering::SeqCst);
            // The body is drained so that the connection stays reusable.
            let _ = Limited::new(req.into_body(), self.config.max_body_bytes)
                .collect()
                .await;
            return Ok(answer(
                StatusCode::UNAUTHORIZED,
                &json!({"status": false, "response_code": 5, "message": "Invalid signature encoding"}),
            ));
        }
        let json_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !json_type {
            return Ok(self.reject(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                415,
                "Content-Type must be application/json",
            ));
        }
        let body = match Limited::new(req.into_body(), self.config.max_body_bytes)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Ok(self.reject(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    413,
                    "request body too large",
                ));
            }
            Err(_) => return Err(DropConnection),
        };
        let result = self
            .serve(route, &body, Received(&self.requests[index]))
            .await;
        result.or_else(|rejection| match rejection {
            Rejection::Drop => Err(DropConnection),
            Rejection::Bad(msg) => Ok(self.reject(StatusCode::BAD_REQUEST, 1, &msg)),
        })
    }

    /// A route's answer to a body that passed the HTTP checks.
    async fn serve(
        &self,
        route: &Route,
        body: &[u8],
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        match route.serve {
            // Fast path: a typed parse. Anything it refuses is re-read as
            // a Value, field by field, to say exactly what is wrong.
            Serve::Recharge => match serde_json::from_slice::<RechargeBody<'_>>(body) {
                Ok(typed) if typed.check().is_ok() => self.recharge(typed, received).await,
                Err(e) if is_duplicate_field(&e) => Err(Rejection::Bad(e.to_string())),
                _ => {
                    let obj = as_object(body)?;
                    let typed = Self::check_recharge(&obj)?;
                    self.recharge(typed, received).await
                }
            },
            Serve::RechargeStatus => match serde_json::from_slice::<StatusBody<'_>>(body) {
                Ok(typed) if typed.check().is_ok() => self.status(&typed.reference_id, received),
                Err(e) if is_duplicate_field(&e) => Err(Rejection::Bad(e.to_string())),
                _ => {
                    let obj = as_object(body)?;
                    required_str(&obj, "RegistrationID")?;
                    self.status(required_str(&obj, "ReferanceId")?, received)
                }
            },
            Serve::Read(read) => read(self, &as_object(body)?, received),
            Serve::Pay(family) => {
                let obj = as_object(body)?;
                match family {
                    Family::DoRecharge => self.do_recharge(&obj, received).await,
                    Family::Bill => self.pay_bill(&obj, received).await,
                    Family::Fastag => self.fastag_recharge(&obj, received).await,
                }
            }
            Serve::PaymentStatus(family) => {
                self.payment_status(family, &as_object(body)?, received)
            }
        }
    }

    fn reject(&self, status: StatusCode, code: i64, message: &str) -> Answer {
        self.rejected_requests.fetch_add(1, Ordering::SeqCst);
        answer(
            status,
            &json!({"status": false, "response_code": code, "message": message}),
        )
    }

    /// Check a MobileRecharge body field by field, for a precise 400.
    fn check_recharge(obj: &Map<String, Value>) -> Result<RechargeBody<'_>, Rejection> {
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

    async fn recharge(
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
                let mut a = answer(
                    StatusCode::TOO_MANY_REQUESTS,
                    &json!({"status": false, "response_code": 429, "message": "Too many requests"}),
                );
                a.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(self.config.retry_after_secs));
                return Ok(a);
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

    fn status(&self, reference: &str, received: Received<'_>) -> Result<Answer, Rejection> {
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
                let mut a = answer(
                    StatusCode::TOO_MANY_REQUESTS,
                    &json!({"status": false, "response_code": 429, "message": "Too many requests"}),
                );
                a.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(self.config.retry_after_secs));
                return Ok(a);
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

impl State {
    /// GetDthInfo: every key a non-empty string, as the documentation's
    /// sample and table both have them.
    fn dth_info(
        &self,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        for key in ["RegistrationID", "circle", "operator"] {
            required_str(obj, key)?;
        }
        let number = required_str(obj, "Opnumber")?;
        if number.len() > 32 || !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Rejection::Bad(
                "Opnumber must be 1 to 32 letters and digits".to_owned(),
            ));
        }
        only_keys(obj, &["RegistrationID", "circle", "operator", "Opnumber"])?;
        received.count();
        Ok(match dth_scenario_for(number) {
            DthScenario::UnknownAccount => answer(
                StatusCode::OK,
                &json!({"status": false, "response_code": 2,
                        "message": format!("No DTH account found for number {}", mask_text(number))}),
            ),
            DthScenario::LookupFailed => answer(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({"status": false, "response_code": 503,
                        "message": "Operator lookup failed, try again later"}),
            ),
            _ => answer(
                StatusCode::OK,
                &json!({"status": true, "response_code": 1, "message": "Customer details fetched",
                        "data": [{"customerName": "Sandbox Customer", "Balance": "245.50",
                                  "planname": "Sandbox HD Pack", "MonthlyRecharge": 320,
                                  "NextRechargeDate": "2026-12-15", "status": "Active",
                                  "operator": required_str(obj, "operator")?}]}),
            ),
        })
    }
}

impl State {
    /// GetRechargeBrowsePlan: `circle`, `operator` non-empty strings,
    /// `number` (optional) a string of digits, as the sample has them.
    fn browse_plans(
        &self,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        only_keys(obj, &["RegistrationID", "circle", "operator", "number"])?;
        required_str(obj, "RegistrationID")?;
        required_str(obj, "circle")?;
        let operator = required_str(obj, "operator")?;
        if let Some(n) = obj.get("number") {
            let digits = n.as_str().filter(|s| {
                (1..=18).contains(&s.len())
                    && !s.starts_with('0')
                    && s.bytes().all(|b| b.is_ascii_digit())
            });
            if digits.is_none() {
                return Err(Rejection::Bad(
                    "number must be a string of digits".to_owned(),
                ));
            }
        }
        received.count();
        if MAGIC_PLAN_OPERATORS.iter().any(|(op, _)| *op == operator) {
            return Ok(answer(
                StatusCode::OK,
                &json!({"status": false, "response_code": 2,
                        "message": format!("No plans found for operator {operator}")}),
            ));
        }
        Ok(answer(
            StatusCode::OK,
            &json!({"status": true, "response_code": 1, "message": "Plans fetched",
            "data": {
                "Popular Plans": [
                    {"rs": 299, "validity": "28 days", "desc": "2 GB/day, unlimited calls, 100 SMS/day"},
                    {"rs": "666.50", "validity": "84 days", "desc": "1.5 GB/day, unlimited calls"}
                ],
                "True 5G Unlimited Plans": [
                    {"rs": 349, "validity": "28 days", "desc": "Unlimited 5G data, 2 GB/day 4G"}
                ]
            }}),
        ))
    }
}

/// An operator code: a positive integer, or its digits as a string (the
/// sample sends a number, the table says "String").
fn operator_code(obj: &Map<String, Value>) -> Result<u64, Rejection> {
    match obj.get("operator") {
        Some(Value::Number(n)) => whole_number(n).filter(|n| (1..=2_147_483_647).contains(n)),
        Some(Value::String(s)) if s.len() <= 9 && !s.starts_with('0') => s
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten(),
        Some(_) => None,
        None => return Err(Rejection::Bad("operator is required".to_owned())),
    }
    .ok_or_else(|| Rejection::Bad("operator must be a positive integer".to_owned()))
}

/// An account number (`canumber`): a positive integer or a string of letters
/// and digits, as text.
fn account_number(obj: &Map<String, Value>, strings_only: bool) -> Result<String, Rejection> {
    let text = match obj.get("canumber") {
        // A number only as far as it is exact in a double (15 digits).
        Some(Value::Number(n)) if !strings_only => whole_number(n)
            .filter(|n| (1..=999_999_999_999_999).contains(n))
            .map(|n| n.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => None,
        None => return Err(Rejection::Bad("canumber is required".to_owned())),
    };
    text.filter(|t| !t.is_empty() && t.len() <= 32 && t.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or_else(|| {
            Rejection::Bad(if strings_only {
                "canumber must be a string of letters and digits".to_owned()
            } else {
                "canumber must be a positive integer or a string of letters and digits".to_owned()
            })
        })
}

impl State {
    /// FetchBilPaymentDetails: `operator`, `canumber`, `mode`
    /// ("online"/"offline"), `RegistrationID`.
    fn fetch_bill(
        &self,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        only_keys(obj, &["RegistrationID", "operator", "canumber", "mode"])?;
        required_str(obj, "RegistrationID")?;
        operator_code(obj)?;
        let account = account_number(obj, false)?;
        let mode = required_str(obj, "mode")?;
        if mode != "online" && mode != "offline" {
            return Err(Rejection::Bad(
                "mode must be \"online\" or \"offline\"".to_owned(),
            ));
        }
        received.count();
        let (amount, accept_payment, part) = match account.as_str() {
            "9000000203" => {
                return Ok(answer(
                    StatusCode::OK,
                    &json!({"status": false, "response_code": 2, "message": "Unable to fetch the bill from the biller"}),
                ));
            }
            "9000000201" => ("0", false, false),
            "9000000202" => ("1500.00", true, true),
            _ => ("820.50", true, false),
        };
        Ok(answer(
            StatusCode::OK,
            &json!({"status": true, "response_code": 1, "amount": amount, "name": "Sandbox Consumer",
                    "duedate": "2026-12-20", "message": "Bill fetched",
                    "bill_fetch": {"billAmount": amount, "billnetamount": amount, "billdate": "2026-11-20",
                                   "dueDate": "2026-12-20", "acceptPayment": accept_payment,
                                   "acceptPartPay": part, "cellNumber": account,
                                   "userName": "Sandbox Consumer"}}),
        ))
    }

    /// FetchConsumerDetails (FASTag): `operator`, `canumber` (a string),
    /// `RegistrationID`.
    fn fetch_fastag(
        &self,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        only_keys(obj, &["RegistrationID", "operator", "canumber"])?;
        required_str(obj, "RegistrationID")?;
        operator_code(obj)?;
        let vehicle = account_number(obj, true)?;
        received.count();
        if MAGIC_VEHICLES.iter().any(|(v, _)| *v == vehicle) {
            return Ok(answer(
                StatusCode::OK,
                &json!({"status": false, "response_code": 2, "message": "No FASTag found for this vehicle"}),
            ));
        }
        Ok(answer(
            StatusCode::OK,
            &json!({"status": true, "response_code": 1, "amount": "0", "name": "Sandbox Vehicle Owner",
                    "message": "FASTag details fetched",
                    "bill_fetch": {"billAmount": "0", "billnetamount": "0", "acceptPayment": true,
                                   "acceptPartPay": true, "minBillAmount": "100.00",
                                   "maxBillAmount": "10000.00", "cellNumber": vehicle,
                                   "userName": "Sandbox Vehicle Owner"}}),
        ))
    }
}

/// Refuse a key the endpoint does not take (a misspelt one among them).
fn only_keys(obj: &Map<String, Value>, keys: &[&str]) -> Result<(), Rejection> {
    match obj.keys().find(|k| !keys.contains(&k.as_str())) {
        Some(extra) => Err(Rejection::Bad(format!("unknown field {extra}"))),
        None => Ok(()),
    }
}

/// A customer's account number with all but its first and last two
/// characters hidden.
fn mask_text(s: &str) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < 2 || i + 2 >= n { c } else { 'X' })
        .collect()
}

enum Rejection {
    Bad(String),
    Drop,
}

#[derive(serde::Deserialize)]
struct RechargeBody<'a> {
    #[serde(rename = "RegistrationID", borrow)]
    registration_id: Cow<'a, str>,
    #[serde(rename = "ProductID")]
    product_id: u64,
    #[serde(rename = "Amount")]
    amount: u64,
    #[serde(rename = "Geocode", borrow)]
    geocode: Cow<'a, str>,
    #[serde(rename = "CustomerNumber")]
    customer_number: u64,
}

impl RechargeBody<'_> {
    /// The rules a typed parse does not check by itself.
    fn check(&self) -> Result<(), Rejection> {
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
struct StatusBody<'a> {
    #[serde(rename = "RegistrationID", borrow)]
    registration_id: Cow<'a, str>,
    #[serde(rename = "ReferanceId", borrow)]
    reference_id: Cow<'a, str>,
}

impl StatusBody<'_> {
    fn check(&self) -> Result<(), Rejection> {
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

/// A known field twice is ambiguous: refused, as a strict server would (the
/// field-by-field fallback reads JSON "last one wins", so it must not see it).
fn is_duplicate_field(e: &serde_json::Error) -> bool {
    e.is_data() && e.to_string().starts_with("duplicate field")
}

fn as_object(body: &[u8]) -> Result<Map<String, Value>, Rejection> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(Rejection::Bad("body must be a JSON object".to_owned())),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave these maps inconsistent.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A non-blank string of at most 64 characters (an id, a name, a mode).
fn required_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, Rejection> {
    match obj.get(key) {
        Some(Value::String(s)) if s.chars().count() > 64 => Err(Rejection::Bad(format!(
            "{key} must be at most 64 characters"
        ))),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(Rejection::Bad(format!("{key} must not be empty"))),
        Some(_) => Err(Rejection::Bad(format!("{key} must be a string"))),
        None => Err(Rejection::Bad(format!("{key} is required"))),
    }
}

fn required_int(obj: &Map<String, Value>, key: &str) -> Result<u64, Rejection> {
    match obj.get(key) {
        Some(Value::Number(n)) => match whole_number(n) {
            Some(v) if v > 0 => Ok(v),
            _ => Err(Rejection::Bad(format!("{key} must be a positive integer"))),
        },
        Some(_) => Err(Rejection::Bad(format!("{key} must be an integer"))),
        None => Err(Rejection::Bad(format!("{key} is required"))),
    }
}

/// A JSON number that is whole, as JSON Schema's `integer` reads it: `89` and
/// `89.0` alike (docs/protocol.md §5). A fraction, a negative or a float past
/// 2^53 (no longer exact) is not.
pub(crate) fn whole_number(n: &serde_json::Number) -> Option<u64> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..=EXACT).contains(f))
            .map(|f| f as u64)
    })
}

fn valid_geocode(text: &str) -> bool {
    let Some((lat, long)) = text.split_once(',') else {
        return false;
    };
    coordinate_in(lat, 90.0) && coordinate_in(long, 180.0)
}

/// Plain decimal text (`-23.5`: no sign but `-`, no spaces, no exponent)
/// within ±`limit`.
pub(crate) fn coordinate_in(text: &str, limit: f64) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole)
        && frac.is_none_or(all_digits)
        && (whole == "0" || !whole.starts_with('0'))
        && text.parse::<f64>().is_ok_and(|v| v.abs() <= limit)
}

/// `AOP-554` → `AOP554`, as the API's references look (`AOP554R318820`).
fn reference_prefix(registration: &str) -> String {
    let p: String = registration
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if p.is_empty() { "SBX".to_owned() } else { p }
}

fn mask(n: u64) -> String {
    let s = n.to_string();
    let len = s.len();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < 2 || i + 2 >= len { c } else { 'X' })
        .collect()
}

/// The body the real API sends about a transaction (docs/protocol.md §1),
/// serialized straight from a struct (no intermediate `Value`).
fn txn_body(reference: &str, txn: &Txn) -> Vec<u8> {
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

fn json_answer(status: StatusCode, body: Vec<u8>) -> Answer {
    raw_answer(status, "application/json", body)
}

fn answer(status: StatusCode, body: &Value) -> Answer {
    json_answer(status, body.to_string().into_bytes())
}

fn raw_answer(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn html_502() -> Answer {
    raw_answer(
        StatusCode::BAD_GATEWAY,
        "text/html",
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>".to_owned(),
    )
}
