//! `credentials`: a JS function as the core's credentials provider. The
//! JS wrapper (index.cjs) normalizes what the caller's function returns
//! (headers, or `{ headers, ttlMs }`, or a Promise of either) to a Promise
//! of JSON text; the core caches, refreshes and retries.

use std::sync::Arc;
use std::time::Duration;

use aopay_core::{Credentials, CredentialsFuture, CredentialsProvider};
use napi::Status;
use napi::bindgen_prelude::{Function, Promise};
use napi::threadsafe_function::ThreadsafeFunction;

type Tsfn = ThreadsafeFunction<(), Promise<String>, (), Status, false, true, 0>;

pub(crate) struct JsCredentials {
    // Weak: a client that is only configured never keeps Node alive (the
    // JS client holds the loop open while calls are in flight).
    tsfn: Arc<Tsfn>,
}

impl JsCredentials {
    pub(crate) fn new(f: &Function<'_, (), Promise<String>>) -> napi::Result<Self> {
        let tsfn = f
            .build_threadsafe_function::<()>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()?;
        Ok(Self {
            tsfn: Arc::new(tsfn),
        })
    }
}

impl CredentialsProvider for JsCredentials {
    fn credentials(&self) -> CredentialsFuture {
        let tsfn = Arc::clone(&self.tsfn);
        Box::pin(async move {
            let promise = tsfn
                .call_async(())
                .await
                .map_err(|e| format!("it threw: {}", e.reason))?;
            let text = promise
                .await
                .map_err(|e| format!("it threw: {}", e.reason))?;
            parse(&text)
        })
    }
}

/// `{"headers": {name: value}, "ttlMs": number | null}`.
fn parse(text: &str) -> Result<Credentials, String> {
    const SHAPE: &str =
        "it must return an object of header names to strings, or { headers, ttlMs }";
    let v: serde_json::Value = serde_json::from_str(text).map_err(|_| SHAPE.to_owned())?;
    let headers = v["headers"].as_object().ok_or(SHAPE)?;
    let mut pairs = Vec::with_capacity(headers.len());
    for (k, v) in headers {
        let value = v.as_str().ok_or("its header values must be strings")?;
        pairs.push((k.clone(), value.to_owned()));
    }
    let creds = Credentials::new(pairs);
    match &v["ttlMs"] {
        serde_json::Value::Null => Ok(creds),
        t => match t.as_f64().filter(|ms| ms.is_finite() && *ms > 0.0) {
            Some(ms) => Ok(creds.lifetime(Duration::from_secs_f64(ms.min(1e12) / 1000.0))),
            None => Err("its ttlMs must be a positive number of milliseconds".to_owned()),
        },
    }
}
