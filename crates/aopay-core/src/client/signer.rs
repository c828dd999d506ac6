//! Request signers (docs/protocol.md §11): headers made for every attempt
//! of a call, the one resend after a refused token included, from the
//! endpoint's path and the exact body bytes about to be sent. Never
//! cached: a token that must be unique per request (a JWT's `reqid`) or a
//! signature over the body cannot be reused.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use reqwest::header::HeaderMap;
use tokio::time::Instant;

use super::credentials::sensitive_headers;
use crate::error::{Error, ErrorDetails};

/// The future a signer returns: header names and values (secrets), or a
/// message saying why it could not sign (never a secret).
pub type SignerFuture = Pin<Box<dyn Future<Output = Result<Vec<(String, String)>, String>> + Send>>;

/// Signs a request: given the path (`/api/AOP/DoRecharge`) and the body
/// bytes about to be sent, returns the headers to send with them.
///
/// Any `Fn(&str, &[u8]) -> impl Future<Output = Result<Vec<(String,
/// String)>, String>>` is one (it copies what it needs: the future outlives
/// the call's borrow). The built-in [`crate::JwtSigner`] (feature `jwt`)
/// makes the upstream's JWT.
///
/// ```
/// use aopay_core::Client;
/// let client = Client::builder()
///     .registration_id("AOP-554")
///     .signer(|path: &str, body: &[u8]| {
///         let digest = format!("{}:{}", path, body.len()); // your HMAC here
///         async move { Ok(vec![("X-Signature".to_owned(), digest)]) }
///     })
///     .build()?;
/// # Ok::<(), aopay_core::Error>(())
/// ```
pub trait Signer: Send + Sync + 'static {
    /// The headers for one attempt of the request to `path` with `body`.
    fn sign(&self, path: &str, body: &[u8]) -> SignerFuture;
}

impl<F, Fut> Signer for F
where
    F: Fn(&str, &[u8]) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<(String, String)>, String>> + Send + 'static,
{
    fn sign(&self, path: &str, body: &[u8]) -> SignerFuture {
        Box::pin(self(path, body))
    }
}

/// Sign one attempt within `deadline`: a signer that fails, hangs past the
/// deadline or gives malformed headers is an error with nothing sent.
pub(crate) async fn sign(
    signer: &Arc<dyn Signer>,
    path: &str,
    body: &[u8],
    deadline: Instant,
) -> Result<HeaderMap, Error> {
    let signed = tokio::time::timeout_at(deadline, signer.sign(path, body))
        .await
        .map_err(|_| refused("the request signer gave nothing before the deadline"))?
        .map_err(|m| refused(&format!("the request signer failed: {m}")))?;
    Ok(sensitive_headers("signer", &signed)?)
}

fn refused(message: &str) -> Error {
    Error::Authentication(Box::new(ErrorDetails::new(message.to_owned())))
}
