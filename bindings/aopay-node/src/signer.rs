//! `signer`: the core's `JwtSigner` (JS `JwtSigner`, whose settings come
//! here as `{ jwt: {...} }`), or a JS function. index.cjs wraps the
//! caller's function into one taking `[path, body as latin1 text]` (the
//! tuple arrives as one array) and returning a Promise of the headers as
//! JSON text; it is called for every attempt (never cached).

use std::collections::HashMap;
use std::sync::Arc;

use aopay_core::{JwtSettings, JwtSigner, Signer, SignerFuture};
use napi::bindgen_prelude::{Function, JsObjectValue, Object, Promise, Uint8Array, Unknown};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::{Env, JsValue, Status, ValueType};

use crate::convert::{js_error, wrong_type};

type Tsfn =
    ThreadsafeFunction<(String, String), Promise<String>, (String, String), Status, false, true, 0>;

pub(crate) struct JsSigner {
    // Weak, as the credentials provider's: a configured client never
    // keeps Node alive by itself.
    tsfn: Arc<Tsfn>,
}

impl JsSigner {
    pub(crate) fn new(f: &Function<'_, (String, String), Promise<String>>) -> napi::Result<Self> {
        let tsfn = f
            .build_threadsafe_function::<(String, String)>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()?;
        Ok(Self {
            tsfn: Arc::new(tsfn),
        })
    }
}

impl Signer for JsSigner {
    fn sign(&self, path: &str, body: &[u8]) -> SignerFuture {
        let tsfn = Arc::clone(&self.tsfn);
        // Bytes as latin1 text: JS's Buffer.from(text, 'latin1') gives them
        // back exactly, whatever they are.
        let args = (
            path.to_owned(),
            body.iter().map(|b| char::from(*b)).collect(),
        );
        Box::pin(async move {
            let promise = tsfn
                .call_async(args)
                .await
                .map_err(|e| format!("it threw: {}", e.reason))?;
            let text = promise
                .await
                .map_err(|e| format!("it threw: {}", e.reason))?;
            const SHAPE: &str = "it must return an object of header names to strings";
            let headers: HashMap<String, serde_json::Value> =
                serde_json::from_str(&text).map_err(|_| SHAPE.to_owned())?;
            headers
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => Ok((k, s)),
                    _ => Err(SHAPE.to_owned()),
                })
                .collect()
        })
    }
}

/// A secret or a key: a string, a Buffer or a Uint8Array.
fn bytes(obj: &Object<'_>, name: &str, field: &'static str) -> napi::Result<Option<Vec<u8>>> {
    let v: Unknown<'_> = obj.get_named_property(name)?;
    match v.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::String => Ok(Some(crate::convert::string(&v)?.into_bytes())),
        _ if v.is_typedarray()? => match obj.get_named_property::<Uint8Array>(name) {
            Ok(b) => Ok(Some(b.to_vec())),
            Err(_) => Err(wrong_type(field, "a string or a Buffer", &v)),
        },
        _ => Err(wrong_type(field, "a string or a Buffer", &v)),
    }
}

/// A `JwtSigner` from the JS settings `{ partnerId, secret | privateKey,
/// header, claims, headers }`.
pub(crate) fn jwt_from_js(env: &Env, settings: &Object<'_>) -> napi::Result<JwtSigner> {
    let partner_id: Unknown<'_> = settings.get_named_property("partnerId")?;
    if partner_id.get_type()? != ValueType::String {
        return Err(wrong_type("partner_id", "a string", &partner_id));
    }
    let partner_id = crate::convert::string(&partner_id)?;
    let secret = bytes(settings, "secret", "secret")?;
    let private_key = bytes(settings, "privateKey", "private_key")?;
    let header: Option<String> = match settings.get_named_property::<Unknown<'_>>("header")? {
        h if matches!(h.get_type()?, ValueType::Undefined | ValueType::Null) => None,
        h if h.get_type()? == ValueType::String => Some(crate::convert::string(&h)?),
        h => return Err(wrong_type("header", "a string", &h)),
    };
    let given = |name: &str| -> napi::Result<Option<Unknown<'_>>> {
        let v: Unknown<'_> = settings.get_named_property(name)?;
        Ok((!matches!(v.get_type()?, ValueType::Undefined | ValueType::Null)).then_some(v))
    };
    let claims = match given("claims")? {
        None => serde_json::Map::new(),
        Some(v) if v.get_type()? == ValueType::Object && !v.is_array()? => env.from_js_value(v)?,
        Some(v) => return Err(wrong_type("claims", "an object", &v)),
    };
    let headers = match given("headers")? {
        None => Vec::new(),
        Some(v) => crate::convert::headers_from_js(env, &v, "headers")?,
    };
    let s = JwtSettings {
        partner_id: &partner_id,
        secret: secret.as_deref(),
        private_key: private_key.as_deref(),
        header: header.as_deref(),
        claims,
        headers,
    };
    JwtSigner::from_settings(s).map_err(|e| js_error(e.into()))
}

/// `signer`: `{ jwt: settings }` (a JwtSigner) or a function.
pub(crate) fn signer_from_js(
    env: &Env,
    options: &Object<'_>,
    name: &str,
    v: &Unknown<'_>,
) -> napi::Result<Arc<dyn Signer>> {
    match v.get_type()? {
        ValueType::Function => {
            let f: Function<'_, (String, String), Promise<String>> =
                options.get_named_property(name)?;
            Ok(Arc::new(JsSigner::new(&f)?))
        }
        ValueType::Object => {
            let spec: Object<'_> = options.get_named_property(name)?;
            let jwt: Unknown<'_> = spec.get_named_property("jwt")?;
            if jwt.get_type()? != ValueType::Object {
                return Err(wrong_type("signer", "a JwtSigner or a function", v));
            }
            let settings: Object<'_> = spec.get_named_property("jwt")?;
            Ok(Arc::new(jwt_from_js(env, &settings)?))
        }
        _ => Err(wrong_type("signer", "a JwtSigner or a function", v)),
    }
}
