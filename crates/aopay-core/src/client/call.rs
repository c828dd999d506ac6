//! The one call path every endpoint goes through: a read is retried under
//! one deadline, a write is sent once (docs/protocol.md §2, §6).

use std::borrow::Cow;

use reqwest::Url;
use tokio::time::Instant;

use super::Client;
use super::builder::endpoint_url;
use super::transport::{BeforeSend, Sends};
use crate::endpoints::{Args, Endpoint, EndpointSpec, PreparedCall, endpoint, for_each_endpoint};
use crate::error::{Error, ValidationError};
use crate::wire::Effect;

impl Client {
    /// Send `req` to its endpoint and read the answer. A read
    /// ([`Effect::Read`]) is retried on connect errors, timeouts, 429 and
    /// 5xx within the client's deadline; a write is sent at most once, and
    /// once any byte of it may have left a failure is
    /// [`Error::OutcomeUnknown`].
    ///
    /// ```no_run
    /// # async fn run(client: aopay_core::Client) -> Result<(), aopay_core::Error> {
    /// let req = aopay_core::DthInfoRequest::new("Jio", "62638787325776", "Delhi NCR")?;
    /// let info = client.call(&req).await?;
    /// println!("{:?} {:?}", info.customer_name, info.balance);
    /// # Ok(()) }
    /// ```
    pub async fn call<E: Endpoint>(&self, req: &E) -> Result<E::Answer, Error> {
        self.call_with(req, None).await
    }

    /// [`Client::call`], running `before_send` right before the first byte
    /// can leave (the keyed path marks its claim as sending there).
    pub(crate) async fn call_with<E: Endpoint>(
        &self,
        req: &E,
        before_send: Option<BeforeSend<'_>>,
    ) -> Result<E::Answer, Error> {
        let _in_flight = self.enter()?;
        let spec = E::SPEC;
        let started = Instant::now();
        let deadline = started + self.inner.timeout;
        let body = req.to_body(&self.inner.registration_id);
        let url = self.url_of(spec);
        let mut sends = Sends {
            count: 0,
            before_first: None,
        };
        let result = match spec.effect {
            Effect::Read => {
                self.read_until(spec, &url, body, deadline, &mut sends)
                    .await
            }
            Effect::Write => {
                sends.before_first = before_send;
                self.attempt(spec, &url, body, deadline, &mut sends).await
            }
        };
        let attempts = sends.count;
        let result = match result {
            Ok(mut answer) => {
                req.settle(&mut answer);
                Ok(answer)
            }
            Err(e) => Err(match req.reference() {
                Some(r) => e.with_reference(r),
                None => e,
            }),
        };
        self.report(spec, started, attempts, &result, req.masked_number());
        result
    }

    /// The generic entry point of the bindings and the CLI: check `args`
    /// against the endpoint named `method` (`"dth_info"`) and return the
    /// call, which sends nothing until it is polled. Its answer is the
    /// endpoint's [`crate::Answer::to_json_value`].
    pub fn prepare(&self, method: &str, args: &Args) -> Result<PreparedCall, Error> {
        let spec = endpoint(method).ok_or_else(|| {
            ValidationError::new("endpoint", format!("no endpoint is called {method:?}"))
        })?;
        self.prepare_spec(spec, args)
    }

    pub(super) fn url_of(&self, spec: &EndpointSpec) -> Cow<'_, Url> {
        match self.inner.urls.iter().find(|(p, _)| *p == spec.path) {
            Some((_, url)) => Cow::Borrowed(url),
            // Every endpoint of the table has its URL built; one from
            // elsewhere gets its URL now.
            None => Cow::Owned(endpoint_url(&self.inner.base, spec.path)),
        }
    }
}

/// How the client runs each endpoint of the table (`for_each_endpoint!`):
/// its request is checked from `args` now, and sent when the call is
/// polled, through the path its entry names.
macro_rules! prepare_spec {
    ($($how:ident: $request:ty,)*) => {
        impl Client {
            fn prepare_spec(&self, spec: &EndpointSpec, args: &Args) -> Result<PreparedCall, Error> {
                $(
                    if spec.method == <$request as Endpoint>::SPEC.method {
                        let req = <$request as Endpoint>::from_args(args)?;
                        let client = self.clone();
                        return Ok(Box::pin(async move {
                            prepare_spec!(@$how client, req)
                        }));
                    }
                )*
                Err(ValidationError::new("endpoint", format!("{} has no request type", spec.method)).into())
            }
        }
    };
    (@call $client:ident, $req:ident) => {
        $client.call(&$req).await.map(|a| crate::Answer::to_json_value(&a))
    };
    (@status $client:ident, $req:ident) => {
        prepare_spec!(@call $client, $req)
    };
    (@pay $client:ident, $req:ident) => {
        $client.pay(&$req).await.map(crate::Payment::into_json_value)
    };
    (@recharge $client:ident, $req:ident) => {
        $client.mobile_recharge(&$req).await.map(crate::Payment::into_json_value)
    };
}

for_each_endpoint!(prepare_spec);
