//! One HTTP exchange, bounded by a deadline, and what its failures mean.

use std::time::{Duration, SystemTime};

use reqwest::Url;
use reqwest::header;
use tokio::time::Instant;

use super::Client;
use crate::endpoints::read_answer_of;
use crate::endpoints::{Answer, EndpointSpec};
use crate::error::{Error, ErrorDetails, error_chain};
use crate::wire::Effect;
use crate::wire::answers::table_for;

/// Run right before a call's first byte can leave (after its pace, its
/// credentials and its signature); an error there sends nothing.
pub(crate) type BeforeSend<'a> = &'a (
        dyn Fn() -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(), Error>> + Send + 'a>,
> + Send
            + Sync
    );

/// The requests a call sent, and what runs before the first.
pub(crate) struct Sends<'a> {
    pub count: u32,
    pub before_first: Option<BeforeSend<'a>>,
}

impl Client {
    /// One HTTP exchange, bounded by `deadline`, with the credentials
    /// provider's headers and the signer's; after a refused token (a 401,
    /// or a 412 with a token code: docs/protocol.md §10) one resend with
    /// fresh credentials and a fresh signature (a refusal: nothing was
    /// done, so resending cannot pay twice). `sent` counts the requests
    /// that left, and runs its hook before the first.
    pub(super) async fn attempt<A: Answer>(
        &self,
        spec: &EndpointSpec,
        url: &Url,
        body: Vec<u8>,
        deadline: Instant,
        sent: &mut Sends<'_>,
    ) -> Result<A, Error> {
        let cache = self.inner.credentials.as_ref();
        if cache.is_none() && self.inner.signer.is_none() {
            return self.exchange(spec, url, body, deadline, None, sent).await;
        }
        let used = match cache {
            Some(c) => Some(c.get(deadline).await?),
            None => None,
        };
        let headers = self
            .authenticate(spec, &body, deadline, used.as_deref())
            .await?;
        match self
            .exchange(spec, url, body.clone(), deadline, Some(&headers), sent)
            .await
        {
            Err(e)
                if e.kind() == crate::ErrorKind::Authentication
                    && matches!(e.http_status(), Some(401 | 412)) =>
            {
                let fresh = match (cache, &used) {
                    (Some(c), Some(used)) => {
                        c.refused(used);
                        Some(c.get(deadline).await?)
                    }
                    _ => None,
                };
                let headers = self
                    .authenticate(spec, &body, deadline, fresh.as_deref())
                    .await?;
                tracing::debug!(target: "aopay", endpoint = spec.name, http_status = e.http_status(), "token refused: resending once, freshly authenticated");
                self.exchange(spec, url, body, deadline, Some(&headers), sent)
                    .await
            }
            other => other,
        }
    }

    /// The credentials' headers, then the signer's for this body (a
    /// header the signer gives replaces one of the same name).
    async fn authenticate(
        &self,
        spec: &EndpointSpec,
        body: &[u8],
        deadline: Instant,
        credentials: Option<&super::credentials::Cached>,
    ) -> Result<reqwest::header::HeaderMap, Error> {
        let mut headers = credentials.map(|c| c.headers.clone()).unwrap_or_default();
        if let Some(signer) = &self.inner.signer {
            let signed = super::signer::sign(signer, spec.path, body, deadline).await?;
            for name in signed.keys() {
                headers.remove(name);
            }
            for (name, value) in &signed {
                headers.append(name.clone(), value.clone());
            }
        }
        Ok(headers)
    }

    async fn exchange<A: Answer>(
        &self,
        spec: &EndpointSpec,
        url: &Url,
        body: Vec<u8>,
        deadline: Instant,
        credentials: Option<&reqwest::header::HeaderMap>,
        sent: &mut Sends<'_>,
    ) -> Result<A, Error> {
        let call = spec.effect;
        let http = self
            .inner
            .http
            .get()
            .map_err(|e| Error::connect(ErrorDetails::new(e.to_owned())))?;
        see_closed_connections().await;
        if sent.count == 0 {
            if let Some(before_first) = sent.before_first {
                before_first().await?;
            }
        }
        sent.count += 1;
        let exchange = async {
            let mut request = http.post(url.clone()).body(body);
            if let Some(headers) = credentials {
                request = request.headers(headers.clone());
            }
            let resp = request
                .send()
                .await
                .map_err(|e| transport_error(call, e, "sending the request"))?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let (bytes, complete) = read_capped(call, resp, self.inner.max_response_bytes).await?;
            if !complete && (200..300).contains(&status) {
                return Err(call.unreadable(
                    ErrorDetails::new(format!(
                        "answer is larger than the {}-byte limit",
                        self.inner.max_response_bytes
                    ))
                    .http_status(status)
                    .body(&bytes),
                ));
            }
            read_answer_of(
                call,
                table_for(spec.method),
                spec.name,
                status,
                retry_after,
                &bytes,
            )
        };
        match tokio::time::timeout_at(deadline, exchange).await {
            Ok(result) => result,
            Err(_) => Err(timeout_error(call)),
        }
    }
}

/// Let a runtime that is driven only during calls (a current-thread one
/// entered by `block_on` per call, as the Python blocking client does) see
/// what happened on its sockets while it slept before the pool hands out a
/// connection: a server that closed an idle keep-alive connection (FIN or
/// RST) has its close read now, and the pool discards that connection
/// instead of writing a recharge into it. Two yields: one to poll the I/O
/// driver, one to run the connection tasks it woke. A multi-thread runtime
/// drives its sockets all the time and needs none.
pub(super) async fn see_closed_connections() {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::CurrentThread) {
        for _ in 0..2 {
            tokio::task::yield_now().await;
        }
    }
}

pub(super) fn timeout_error(effect: Effect) -> Error {
    let message = match effect {
        Effect::Write => "no answer before the deadline; the recharge may have been processed",
        Effect::Read => "no answer before the deadline",
    };
    effect.lost(ErrorDetails::new(message))
}

/// Classify a transport failure. Only a failed connect is known to have
/// sent nothing (hyper itself resends a request whose pooled connection
/// was found closed before any byte was written).
pub(super) fn transport_error(effect: Effect, e: reqwest::Error, during: &str) -> Error {
    let text = error_chain(&e);
    if e.is_connect() {
        return Error::connect(ErrorDetails::new(text).source(e));
    }
    let d = ErrorDetails::new(format!("connection failed while {during}: {text}")).source(e);
    effect.lost(d)
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date (a date
/// already past means "now").
pub(super) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Read at most `max` bytes of the body; `complete` is false if it was cut.
pub(super) async fn read_capped(
    call: Effect,
    mut resp: reqwest::Response,
    max: usize,
) -> Result<(Vec<u8>, bool), Error> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Ok((Vec::new(), false));
    }
    let mut buf = Vec::with_capacity(resp.content_length().map_or(1024, |n| n as usize));
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| transport_error(call, e, "reading the answer"))?
    {
        if buf.len() + chunk.len() > max {
            let room = max - buf.len();
            buf.extend_from_slice(&chunk[..room]);
            return Ok((buf, false));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((buf, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = UNIX_EPOCH + Duration::from_secs(1_784_000_000);
        let at = |secs: u64| httpdate::fmt_http_date(now + Duration::from_secs(secs));
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(&at(30), now),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        for bad in ["", "-1", "1.5", "soon", "Thu, 99 Nov 2026 07:00:00 GMT"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }
}
