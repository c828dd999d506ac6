//! [`JwtSigner`]: the upstream's documented scheme (docs/protocol.md §11),
//! a JWT made afresh for every request, on the `jsonwebtoken` crate (ring
//! underneath, as for TLS): HS256 with a shared secret or RS256 with a
//! private key; claims `timestamp` (Unix seconds), `partnerId` and `reqid`
//! (unique per request across processes and machines), plus your own; in a
//! header (`Token` by default), beside static headers such as
//! `Authorisedkey`. AOPay has not published its own scheme: every part is
//! a setting.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

use crate::client::{Signer, SignerFuture};
use crate::error::ValidationError;
use crate::reference::ClientReference;

/// The claims every token carries; extra claims may not replace them.
pub const RESERVED_CLAIMS: [&str; 3] = ["timestamp", "partnerId", "reqid"];

/// A [`JwtSigner`]'s settings as the CLI and the bindings take them: one
/// place that says which combinations are valid.
#[derive(Default)]
pub struct JwtSettings<'a> {
    /// The `partnerId` claim.
    pub partner_id: &'a str,
    /// HS256's shared secret (exactly one of this and `private_key`).
    pub secret: Option<&'a [u8]>,
    /// RS256's private key, PEM.
    pub private_key: Option<&'a [u8]>,
    /// The token's header, when not `Token`.
    pub header: Option<&'a str>,
    /// Extra claims.
    pub claims: Map<String, Value>,
    /// Static headers sent beside the token (values are secrets).
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for JwtSettings<'_> {
    // The secret and the key are secrets; the static headers' values too.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSettings")
            .field("partner_id", &self.partner_id)
            .field("secret", &self.secret.map(|_| "<secret>"))
            .field("private_key", &self.private_key.map(|_| "<key>"))
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// Makes a JWT for every request. Its key never leaves it: `Debug` shows
/// the algorithm, the header, the partner id and the names of the extra
/// claims and headers only.
///
/// ```
/// use aopay_core::{Client, JwtSigner};
/// let signer = JwtSigner::hs256("PS001", b"the partner key")?
///     .static_header("Authorisedkey", "the UAT key")?;
/// let client = Client::builder().registration_id("AOP-554").signer(signer).build()?;
/// # Ok::<(), aopay_core::Error>(())
/// ```
#[derive(Clone)]
pub struct JwtSigner {
    algorithm: Algorithm,
    key: EncodingKey,
    partner_id: String,
    header: String,
    claims: Map<String, Value>,
    headers: Vec<(String, String)>,
}

impl std::fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSigner")
            .field("algorithm", &self.algorithm)
            .field("header", &self.header)
            .field("partner_id", &self.partner_id)
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl JwtSigner {
    /// A signer from its settings: HS256 when a secret is given, RS256 when
    /// a private key is; exactly one of them.
    pub fn from_settings(s: JwtSettings<'_>) -> Result<Self, ValidationError> {
        let mut signer = match (s.secret, s.private_key) {
            (Some(secret), None) => Self::hs256(s.partner_id, secret)?,
            (None, Some(pem)) => Self::rs256(s.partner_id, pem)?,
            _ => {
                return Err(ValidationError::new(
                    "secret",
                    "give exactly one of a secret (HS256) and a private key (RS256)",
                ));
            }
        };
        if let Some(h) = s.header {
            signer = signer.header(h)?;
        }
        for (name, value) in s.claims {
            signer = signer.claim(&name, value)?;
        }
        for (name, value) in &s.headers {
            signer = signer.static_header(name, value)?;
        }
        Ok(signer)
    }

    /// HS256 with the shared `secret` (the partner key).
    pub fn hs256(partner_id: &str, secret: &[u8]) -> Result<Self, ValidationError> {
        if secret.is_empty() {
            return Err(ValidationError::new("secret", "must not be empty"));
        }
        Self::new(
            partner_id,
            Algorithm::HS256,
            EncodingKey::from_secret(secret),
        )
    }

    /// RS256 with an RSA private key (PEM, PKCS#1 or PKCS#8).
    pub fn rs256(partner_id: &str, private_key_pem: &[u8]) -> Result<Self, ValidationError> {
        // The library's message names the PEM problem, never the key.
        let key = EncodingKey::from_rsa_pem(private_key_pem).map_err(|e| {
            ValidationError::new(
                "private_key",
                format!("is not an RSA private key PEM ({e})"),
            )
        })?;
        Self::new(partner_id, Algorithm::RS256, key)
    }

    fn new(
        partner_id: &str,
        algorithm: Algorithm,
        key: EncodingKey,
    ) -> Result<Self, ValidationError> {
        let partner_id = partner_id.trim();
        if partner_id.is_empty() || partner_id.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "partner_id",
                "must be non-empty text without control characters",
            ));
        }
        Ok(Self {
            algorithm,
            key,
            partner_id: partner_id.to_owned(),
            header: "Token".to_owned(),
            claims: Map::new(),
            headers: Vec::new(),
        })
    }

    /// Send the token in this header instead of `Token` (`Authorization`
    /// gets `Bearer ` before it).
    pub fn header(mut self, name: &str) -> Result<Self, ValidationError> {
        check_header_name("header", name)?;
        name.clone_into(&mut self.header);
        Ok(self)
    }

    /// Add a claim to every token (not `timestamp`, `partnerId` or `reqid`,
    /// which the signer sets).
    pub fn claim(mut self, name: &str, value: Value) -> Result<Self, ValidationError> {
        if name.is_empty() || RESERVED_CLAIMS.contains(&name) {
            return Err(ValidationError::new(
                "claims",
                format!("{name:?} is set by the signer (or empty)"),
            ));
        }
        self.claims.insert(name.to_owned(), value);
        Ok(self)
    }

    /// Send this header, unchanged, beside every token (`Authorisedkey`).
    /// Its value is a secret: never shown.
    pub fn static_header(mut self, name: &str, value: &str) -> Result<Self, ValidationError> {
        check_header_name("headers", name)?;
        crate::client::sensitive_headers("headers", &[(name.to_owned(), value.to_owned())])?;
        self.headers.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// A fresh token: now's `timestamp`, a new `reqid`.
    pub fn token(&self) -> Result<String, String> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "the system clock is before 1970".to_owned())?
            .as_secs();
        let mut claims = self.claims.clone();
        claims.insert("timestamp".into(), timestamp.into());
        claims.insert("partnerId".into(), self.partner_id.clone().into());
        claims.insert("reqid".into(), ClientReference::generate().as_str().into());
        // The library's errors describe the key's kind, never its bytes.
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key)
            .map_err(|e| format!("cannot make the token ({e})"))
    }

    /// The headers of one request: the token, then the static ones.
    pub fn headers(&self) -> Result<Vec<(String, String)>, String> {
        let token = self.token()?;
        let value = if self.header.eq_ignore_ascii_case("authorization") {
            format!("Bearer {token}")
        } else {
            token
        };
        let mut out = Vec::with_capacity(1 + self.headers.len());
        out.push((self.header.clone(), value));
        out.extend(self.headers.iter().cloned());
        Ok(out)
    }
}

impl Signer for JwtSigner {
    fn sign(&self, _path: &str, _body: &[u8]) -> SignerFuture {
        // An RSA signature takes most of a millisecond of CPU (measured:
        // docs/performance.md): off the runtime's threads, so that calls in
        // flight are not held up. An HMAC takes microseconds: inline.
        if self.algorithm == Algorithm::RS256 {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let signer = self.clone();
                let signed = rt.spawn_blocking(move || signer.headers());
                return Box::pin(async move {
                    signed
                        .await
                        .unwrap_or_else(|_| Err("the signer panicked".to_owned()))
                });
            }
        }
        Box::pin(std::future::ready(self.headers()))
    }
}

fn check_header_name(field: &'static str, name: &str) -> Result<(), ValidationError> {
    reqwest::header::HeaderName::from_bytes(name.as_bytes())
        .map(drop)
        .map_err(|_| ValidationError::new(field, format!("{name:?} is not a valid header name")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    fn claims_of(token: &str, secret: &[u8]) -> Map<String, Value> {
        let mut v = Validation::new(Algorithm::HS256);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        v.validate_aud = false;
        jsonwebtoken::decode::<Map<String, Value>>(token, &DecodingKey::from_secret(secret), &v)
            .unwrap()
            .claims
    }

    #[test]
    fn every_token_is_fresh_and_carries_the_documented_claims() {
        let s = JwtSigner::hs256("PS001", b"k3y")
            .unwrap()
            .claim("aud", "aopay".into())
            .unwrap()
            .static_header("Authorisedkey", "UAT-KEY")
            .unwrap();
        let (a, b) = (s.token().unwrap(), s.token().unwrap());
        let (ca, cb) = (claims_of(&a, b"k3y"), claims_of(&b, b"k3y"));
        assert_eq!(ca["partnerId"], "PS001");
        assert_eq!(ca["aud"], "aopay");
        assert_ne!(ca["reqid"], cb["reqid"], "a reqid per request");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(ca["timestamp"].as_u64().unwrap().abs_diff(now) <= 2);
        let h = s.headers().unwrap();
        assert_eq!(h[0].0, "Token");
        assert_eq!(h[1], ("Authorisedkey".to_owned(), "UAT-KEY".to_owned()));
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("k3y") && !shown.contains("UAT-KEY"),
            "{shown}"
        );
    }

    #[test]
    fn bad_settings_are_refused_before_anything_is_signed() {
        assert_eq!(JwtSigner::hs256("P", b"").unwrap_err().field(), "secret");
        assert_eq!(
            JwtSigner::hs256(" ", b"k").unwrap_err().field(),
            "partner_id"
        );
        assert_eq!(
            JwtSigner::rs256("P", b"-----BEGIN NOTHING-----")
                .unwrap_err()
                .field(),
            "private_key"
        );
        let s = JwtSigner::hs256("P", b"k").unwrap();
        assert_eq!(
            s.clone().claim("reqid", 1.into()).unwrap_err().field(),
            "claims"
        );
        assert_eq!(
            s.clone().header("bad header").unwrap_err().field(),
            "header"
        );
        assert_eq!(
            s.static_header("X", "line\nbreak").unwrap_err().field(),
            "headers"
        );
    }
}
