//! The sandbox's check of a request's JWT (`SandboxConfig::require_jwt`),
//! answering as the upstream does: the PHP JWT library's words, at the
//! HTTP statuses and codes the public answers show. Nothing is recorded
//! for a refused request.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// How far a token's `timestamp` may be from the sandbox's clock, in
/// seconds (the upstream's documented five minutes).
pub const JWT_MAX_SKEW_SECS: u64 = 300;

/// The key a sandbox checks tokens with.
#[derive(Clone)]
pub enum JwtKey {
    /// HS256 with this shared secret.
    Hs256(Vec<u8>),
    /// RS256 with this RSA public key (PEM).
    Rs256PublicPem(Vec<u8>),
}

impl std::fmt::Debug for JwtKey {
    // The secret is a secret; a public key is not, but says nothing useful.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Hs256(_) => "Hs256(<secret>)",
            Self::Rs256PublicPem(_) => "Rs256PublicPem(<key>)",
        })
    }
}

/// Why a token was refused: HTTP status, `response_code`, message.
pub(crate) type Refusal = (u16, i64, &'static str);

const BAD_ENCODING: Refusal = (401, 5, "Invalid signature encoding");
const MISSING: Refusal = (401, 5, "Token not found");
const SEGMENTS: Refusal = (412, 10, "Wrong number of segments");
const SIGNATURE: Refusal = (412, 10, "Signature verification failed");
const MALFORMED: Refusal = (412, 10, "Malformed token");
const CLAIMS: Refusal = (412, 10, "Token lacks timestamp, partnerId or reqid");
const EXPIRED: Refusal = (
    412,
    10,
    "Expired token: the timestamp is more than 5 minutes off",
);
const REPLAYED: Refusal = (412, 10, "Token already used (reqid)");

/// A checker: the key, and the `reqid`s seen within the skew window.
pub(crate) struct JwtCheck {
    algorithm: Algorithm,
    key: DecodingKey,
    header: String,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    by_reqid: HashMap<String, u64>,
    oldest_first: VecDeque<(u64, String)>,
}

impl std::fmt::Debug for JwtCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtCheck")
            .field("algorithm", &self.algorithm)
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl JwtCheck {
    pub(crate) fn new(key: &JwtKey, header: &str) -> Result<Self, String> {
        let (algorithm, key) = match key {
            JwtKey::Hs256(secret) if !secret.is_empty() => {
                (Algorithm::HS256, DecodingKey::from_secret(secret))
            }
            JwtKey::Hs256(_) => return Err("the JWT secret is empty".to_owned()),
            JwtKey::Rs256PublicPem(pem) => (
                Algorithm::RS256,
                DecodingKey::from_rsa_pem(pem)
                    .map_err(|e| format!("not an RSA public key PEM ({e})"))?,
            ),
        };
        Ok(Self {
            algorithm,
            key,
            header: header.to_owned(),
            seen: Mutex::default(),
        })
    }

    /// The header that carries the token.
    pub(crate) fn header(&self) -> &str {
        &self.header
    }

    /// Check one request's token (the header's value, if any).
    pub(crate) fn check(&self, value: Option<&str>) -> Result<(), Refusal> {
        let token = value.ok_or(MISSING)?.trim();
        let token = token.strip_prefix("Bearer ").unwrap_or(token);
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return Err(SEGMENTS);
        }
        let base64url = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if parts[2].is_empty() || !base64url(parts[2]) {
            return Err(BAD_ENCODING);
        }
        let mut validation = Validation::new(self.algorithm);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        // The upstream checks its own claims; a caller's extra ones (`aud`)
        // are not refused.
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => SIGNATURE,
                _ => MALFORMED,
            })?
            .claims;
        let timestamp = claims.get("timestamp").and_then(timestamp).ok_or(CLAIMS)?;
        let has_text = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        };
        if !has_text("partnerId") {
            return Err(CLAIMS);
        }
        let reqid = claims
            .get("reqid")
            .and_then(|v| match v {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .ok_or(CLAIMS)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if timestamp.abs_diff(now) > JWT_MAX_SKEW_SECS {
            return Err(EXPIRED);
        }
        self.first_use(reqid, now)
    }

    /// Record `reqid`; refuse it if seen within the window. Older ones are
    /// forgotten: their tokens are refused as expired anyway.
    fn first_use(&self, reqid: String, now: u64) -> Result<(), Refusal> {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some((at, _)) = seen.oldest_first.front() {
            if now.saturating_sub(*at) <= 2 * JWT_MAX_SKEW_SECS {
                break;
            }
            if let Some((_, old)) = seen.oldest_first.pop_front() {
                seen.by_reqid.remove(&old);
            }
        }
        if seen.by_reqid.contains_key(&reqid) {
            return Err(REPLAYED);
        }
        seen.by_reqid.insert(reqid.clone(), now);
        seen.oldest_first.push_back((now, reqid));
        Ok(())
    }
}

/// Unix seconds, as a number or digits.
fn timestamp(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
