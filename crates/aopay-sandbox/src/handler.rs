//! Request handling: the sandbox's state, and the HTTP checks every call
//! goes through (route, method, rate, JWT, token, content type, size)
//! before its route's handler: `recharge` (the V2 pair and its ledger),
//! `reads`, `payments` (the referenced writes), over `body` (strict body
//! reading, answers) and `routes` (the one route table).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use crate::{SandboxConfig, Stats};

mod body;
mod payments;
mod reads;
mod recharge;
mod routes;
use body::{Rejection, answer, as_object, is_duplicate_field, lock, required_str};
use payments::Family;
use reads::{account_number, operator_code};
use recharge::{Ledger, RechargeBody, StatusBody};
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
        Stats {
            requests: ROUTES
                .iter()
                .zip(&self.requests)
                .map(|(route, n)| (route.name.to_owned(), n.load(Ordering::SeqCst)))
                .collect(),
            payments: lock(&self.payments).len() as u64,
            unauthorized_requests: self.unauthorized_requests.load(Ordering::SeqCst),
            rejected_requests: self.rejected_requests.load(Ordering::SeqCst),
            rate_limited_requests: self.rate_limited_requests.load(Ordering::SeqCst),
            transactions: lock(&self.txns).by_reference.len() as u64,
        }
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
}
