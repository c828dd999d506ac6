//! JS values ⇄ core types. Type checks only (a string is not an amount);
//! the rules themselves are the core's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aopay_core::{
    Amount, CLIENT_OPTIONS, CallObserver, ClientOption, CustomerNumber, Geocode, Journal,
    MobileRecharge, OptionKind, OptionValue, ProductId, ValidationError, WaitOptions,
};
use napi::bindgen_prelude::{Function, JsObjectValue, Object, Promise, Unknown};
use napi::{Env, JsValue, Status, ValueType};

/// Rejections carry this prefix and a JSON payload; `node/errors.js` turns
/// them into `AopayError` subclasses.
pub(crate) const MARKER: &str = "\u{1}AOPAY\u{1}";

/// An error as the JSON object the JS side builds its error class from:
/// the core's one structured form, with camelCase keys.
pub(crate) fn error_json(e: &aopay_core::Error) -> String {
    camel_json(&e.to_json_value())
}

/// One outcome as the JSON text JS parses: the same object as
/// `camel_json(&outcome.to_json_value())`, written straight from its typed
/// values under the table's names (camelCased once), `raw` as it came:
/// no JSON tree built, copied and renamed on every write.
pub(crate) fn outcome_json(outcome: &aopay_core::Payment) -> String {
    use aopay_core::FieldValue;
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        aopay_core::Payment::spec()
            .all_fields()
            .map(|f| format!("\"{}\":", aopay_core::camel_case(f.name)))
            .collect()
    });
    let mut out: Vec<u8> = Vec::with_capacity(640);
    let values = outcome
        .field_values()
        .into_iter()
        .chain(outcome.meta.values());
    for (i, (name, value)) in names.iter().zip(values).enumerate() {
        out.push(if i == 0 { b'{' } else { b',' });
        out.extend_from_slice(name.as_bytes());
        // Writing to a Vec cannot fail, and every value here serialises.
        let _ = match value {
            FieldValue::Text(Some(text)) => serde_json::to_writer(&mut out, text),
            FieldValue::Raw(raw) => serde_json::to_writer(&mut out, raw),
            FieldValue::Money(Some(money)) => serde_json::to_writer(&mut out, &money.to_string()),
            FieldValue::Integer(Some(i)) => serde_json::to_writer(&mut out, &i),
            FieldValue::Bool(Some(b)) => serde_json::to_writer(&mut out, &b),
            _ => serde_json::to_writer(&mut out, &()),
        };
    }
    out.push(b'}');
    String::from_utf8(out).unwrap_or_default()
}

/// A core JSON object (an answer, an error) as JS sees it: its keys in
/// camelCase, nested ones too (a list of plans), but `raw` untouched: it is
/// the API's own body.
pub(crate) fn camel_json(v: &serde_json::Value) -> String {
    camel_keys(v).to_string()
}

fn camel_keys(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| {
                    let v = if k == "raw" { v.clone() } else { camel_keys(v) };
                    (aopay_core::camel_case(k), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(camel_keys).collect()),
        other => other.clone(),
    }
}

/// The input object of a generated method as neutral arguments: the core
/// checks names and types against the endpoint's table, with JS's names.
pub(crate) fn args_from_js(env: &Env, input: &Unknown<'_>) -> napi::Result<aopay_core::Args> {
    use aopay_core::ArgValue;
    if input.get_type()? != ValueType::Object || input.is_array()? {
        return Err(wrong_type("input", "an object", input));
    }
    let obj: Object<'_> = input.coerce_to_object()?;
    let mut args = aopay_core::Args::new(aopay_core::Lang::Node);
    let names: Vec<String> = env.from_js_value(obj.get_property_names()?)?;
    for name in names {
        let v: Unknown<'_> = obj.get_named_property(&name)?;
        let value = match v.get_type()? {
            ValueType::Undefined | ValueType::Null => ArgValue::Null,
            ValueType::Boolean => ArgValue::Bool(v.coerce_to_bool()?),
            ValueType::Number => {
                let n = number(&v)?;
                match aopay_core::integer_from_f64("input", n) {
                    Ok(i) => ArgValue::Int(i),
                    Err(_) => ArgValue::Float(n),
                }
            }
            ValueType::String => ArgValue::Text(string(&v)?),
            // A fetched bill (or its JSON); the core checks what it holds.
            ValueType::Object => {
                let name = type_name(&v)?;
                match env.from_js_value::<serde_json::Value, _>(v) {
                    Ok(json) => ArgValue::Json(json),
                    Err(_) => ArgValue::Other(name.to_owned()),
                }
            }
            _ => ArgValue::Other(type_name(&v)?.to_owned()),
        };
        args.set(name, value);
    }
    Ok(args)
}

pub(crate) fn js_error(e: aopay_core::Error) -> napi::Error {
    napi::Error::new(
        Status::GenericFailure,
        format!("{MARKER}{}", error_json(&e)),
    )
}

pub(crate) fn local_error_json(code: &str, message: &str) -> String {
    serde_json::json!({"code": code, "local": true, "message": message}).to_string()
}

/// A failure of the binding itself (not of a call): aborted, stopped sandbox.
pub(crate) fn local_error(code: &str, message: &str) -> napi::Error {
    napi::Error::new(
        Status::GenericFailure,
        format!("{MARKER}{}", local_error_json(code, message)),
    )
}

pub(crate) fn invalid(e: ValidationError) -> napi::Error {
    js_error(e.into())
}

/// `typeof`, as a JS user would name it (with `array` and `null`).
fn type_name(v: &Unknown<'_>) -> napi::Result<&'static str> {
    Ok(match v.get_type()? {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "boolean",
        ValueType::Number => "number",
        ValueType::String => "string",
        ValueType::Symbol => "symbol",
        ValueType::Object if v.is_array()? => "array",
        ValueType::Object | ValueType::External => "object",
        ValueType::Function => "function",
        ValueType::BigInt => "bigint",
        _ => "unknown",
    })
}

pub(crate) fn wrong_type(field: &'static str, expected: &str, v: &Unknown<'_>) -> napi::Error {
    match type_name(v) {
        Ok(got) => invalid(ValidationError::wrong_type(field, expected, got)),
        Err(e) => e,
    }
}

/// A property, `None` when absent, `undefined` or `null`.
fn property<'a>(obj: &Object<'a>, name: &str) -> napi::Result<Option<Unknown<'a>>> {
    let v: Unknown<'a> = obj.get_named_property(name)?;
    Ok(match v.get_type()? {
        ValueType::Undefined | ValueType::Null => None,
        _ => Some(v),
    })
}

fn required<'a>(obj: &Object<'a>, name: &str, field: &'static str) -> napi::Result<Unknown<'a>> {
    property(obj, name)?.ok_or_else(|| invalid(ValidationError::new(field, "is required")))
}

fn number(v: &Unknown<'_>) -> napi::Result<f64> {
    v.coerce_to_number()?.get_double()
}

pub(crate) fn string(v: &Unknown<'_>) -> napi::Result<String> {
    v.coerce_to_string()?.into_utf8()?.into_owned()
}

/// A safe integer; floats, NaN, strings and the rest are refused.
fn integer(field: &'static str, v: &Unknown<'_>) -> napi::Result<i64> {
    if v.get_type()? != ValueType::Number {
        return Err(wrong_type(field, "a number", v));
    }
    aopay_core::integer_from_f64(field, number(v)?).map_err(invalid)
}

fn customer_number(v: &Unknown<'_>) -> napi::Result<CustomerNumber> {
    match v.get_type()? {
        ValueType::String => CustomerNumber::parse(&string(v)?).map_err(invalid),
        ValueType::Number => {
            let n = aopay_core::integer_from_f64("customer_number", number(v)?).map_err(invalid)?;
            CustomerNumber::from_integer(n).map_err(invalid)
        }
        _ => Err(wrong_type("customer_number", "a string or a number", v)),
    }
}

pub(crate) fn customer_number_from_either(
    v: napi::Either<String, f64>,
) -> napi::Result<CustomerNumber> {
    match v {
        napi::Either::A(s) => CustomerNumber::parse(&s),
        napi::Either::B(n) => aopay_core::integer_from_f64("customer_number", n)
            .and_then(CustomerNumber::from_integer),
    }
    .map_err(invalid)
}

fn geocode(env: &Env, v: &Unknown<'_>) -> napi::Result<Geocode> {
    if v.get_type()? == ValueType::String {
        return Geocode::parse(&string(v)?).map_err(invalid);
    }
    if !v.is_array()? {
        return Err(wrong_type(
            "geocode",
            "a 'lat,long' string or a [lat, long] array",
            v,
        ));
    }
    let items: Vec<serde_json::Value> = env.from_js_value(*v)?;
    let [lat, long] = items.as_slice() else {
        return Err(invalid(ValidationError::new(
            "geocode",
            "must be a [lat, long] pair",
        )));
    };
    // NaN and ±Infinity arrive as null: JSON cannot hold them.
    let coordinate = |c: &serde_json::Value| match c {
        serde_json::Value::Number(n) => n.as_f64().ok_or(()),
        _ => Err(()),
    };
    match (coordinate(lat), coordinate(long)) {
        (Ok(a), Ok(b)) => Geocode::new(a, b).map_err(invalid),
        _ => Err(invalid(ValidationError::new(
            "geocode",
            "coordinates must be finite numbers",
        ))),
    }
}

pub(crate) fn mobile_recharge_from_js(
    env: &Env,
    input: &Object<'_>,
) -> napi::Result<MobileRecharge> {
    let product_id = integer("product_id", &required(input, "productId", "product_id")?)?;
    let amount = integer("amount", &required(input, "amount", "amount")?)?;
    let number = customer_number(&required(input, "customerNumber", "customer_number")?)?;
    let geo = geocode(env, &required(input, "geocode", "geocode")?)?;
    let req = MobileRecharge::from_parts(
        ProductId::new(product_id).map_err(invalid)?,
        Amount::new(amount).map_err(invalid)?,
        number,
        geo,
    );
    match text(input, "idempotencyKey", "idempotency_key")? {
        Some(key) => req.with_idempotency_key(key).map_err(invalid),
        None => Ok(req),
    }
}

/// `journal`: a SQLite path or `postgres://…` string, `{ sqlite: path }` or
/// `{ postgres: dsn }`.
fn journal_from_js(v: &Unknown<'_>) -> napi::Result<Journal> {
    let opened = match v.get_type()? {
        ValueType::String => Journal::open(&string(v)?),
        ValueType::Object if !v.is_array()? => {
            let spec: Object<'_> = v.coerce_to_object()?;
            match (
                text(&spec, "postgres", "journal")?,
                text(&spec, "sqlite", "journal")?,
            ) {
                (Some(dsn), None) => Journal::postgres(&dsn),
                (None, Some(path)) => Journal::sqlite(path),
                _ => {
                    return Err(invalid(ValidationError::new(
                        "journal",
                        "must be { postgres: dsn } or { sqlite: path }",
                    )));
                }
            }
        }
        _ => return Err(wrong_type("journal", "a path or { postgres: dsn }", v)),
    };
    opened.map_err(js_error)
}

/// Milliseconds as a positive duration.
fn millis(obj: &Object<'_>, name: &str, field: &'static str) -> napi::Result<Option<Duration>> {
    let Some(v) = property(obj, name)? else {
        return Ok(None);
    };
    if v.get_type()? != ValueType::Number {
        return Err(wrong_type(field, "a number of milliseconds", &v));
    }
    aopay_core::duration_from_secs(field, number(&v)? / 1000.0)
        .map(Some)
        .map_err(invalid)
}

fn text(obj: &Object<'_>, name: &str, field: &'static str) -> napi::Result<Option<String>> {
    let Some(v) = property(obj, name)? else {
        return Ok(None);
    };
    if v.get_type()? != ValueType::String {
        return Err(wrong_type(field, "a string", &v));
    }
    string(&v).map(Some)
}

/// An object of header names to strings (values are secrets: an error
/// never shows one).
pub(crate) fn headers_from_js(
    env: &Env,
    v: &Unknown<'_>,
    field: &'static str,
) -> napi::Result<Vec<(String, String)>> {
    if v.get_type()? != ValueType::Object || v.is_array()? {
        return Err(wrong_type(field, "an object of strings", v));
    }
    let headers: HashMap<String, serde_json::Value> = env.from_js_value(*v)?;
    headers
        .into_iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(s) => Ok((name, s)),
            _ => Err(invalid(ValidationError::new(
                field,
                "values must be strings",
            ))),
        })
        .collect()
}

/// An option's value (a client's or a batch's) of a plain kind (text,
/// milliseconds, a count, a flag, a rate) converted by that kind; `None`
/// for the kinds that need more (functions, PEM, a journal).
pub(crate) fn plain_value(
    field: &'static str,
    kind: OptionKind,
    v: &Unknown<'_>,
) -> napi::Result<Option<OptionValue>> {
    let ty = v.get_type()?;
    Ok(Some(match kind {
        OptionKind::Text if ty == ValueType::String => OptionValue::Text(string(v)?),
        OptionKind::Text => return Err(wrong_type(field, "a string", v)),
        // Node passes durations in milliseconds.
        OptionKind::Seconds if ty == ValueType::Number => OptionValue::Seconds(number(v)? / 1000.0),
        OptionKind::Seconds => return Err(wrong_type(field, "a number of milliseconds", v)),
        OptionKind::Count => OptionValue::Count(integer(field, v)?),
        OptionKind::Flag if ty == ValueType::Boolean => OptionValue::Flag(v.coerce_to_bool()?),
        OptionKind::Flag => return Err(wrong_type(field, "a boolean", v)),
        OptionKind::Rate if ty == ValueType::String => OptionValue::Text(string(v)?),
        OptionKind::Rate if ty == ValueType::Number => OptionValue::PerSecond(number(v)?),
        OptionKind::Rate => {
            return Err(wrong_type(
                field,
                "a string (\"200/s\") or a number per second",
                v,
            ));
        }
        _ => return Ok(None),
    }))
}

/// One option's value, converted by the kind the core's table gives it.
fn option_value(
    env: &Env,
    options: &Object<'_>,
    option: &ClientOption,
    v: &Unknown<'_>,
    observer: &Arc<dyn CallObserver>,
) -> napi::Result<OptionValue> {
    let field = option.name;
    if let Some(value) = plain_value(field, option.kind, v)? {
        return Ok(value);
    }
    let ty = v.get_type()?;
    Ok(match option.kind {
        OptionKind::Headers => OptionValue::Headers(headers_from_js(env, v, field)?),
        OptionKind::Pem if ty == ValueType::String => OptionValue::Pem(string(v)?.into_bytes()),
        // A Buffer or Uint8Array; any other typed array is refused.
        OptionKind::Pem => match v.is_typedarray()? {
            true => match options
                .get_named_property::<napi::bindgen_prelude::Uint8Array>(&option.js_name())
            {
                Ok(pem) => OptionValue::Pem(pem.to_vec()),
                Err(_) => return Err(wrong_type(field, "PEM text (a string or a Buffer)", v)),
            },
            false => return Err(wrong_type(field, "PEM text (a string or a Buffer)", v)),
        },
        OptionKind::Journal => OptionValue::Journal(journal_from_js(v)?),
        // index.cjs wraps the caller's function into one that always returns
        // a Promise of `{"headers": …, "ttlMs": …}` as JSON text.
        OptionKind::Credentials if ty == ValueType::Function => {
            let f: Function<'_, (), Promise<String>> =
                options.get_named_property(&option.js_name())?;
            OptionValue::Credentials(std::sync::Arc::new(crate::credentials::JsCredentials::new(
                &f,
            )?))
        }
        OptionKind::Credentials => return Err(wrong_type(field, "a function", v)),
        // The JS wrapper calls the function itself, from the client's
        // batches of results: each event comes just before its call settles.
        OptionKind::Observer if ty == ValueType::Function => {
            OptionValue::Observer(Arc::clone(observer))
        }
        OptionKind::Observer => return Err(wrong_type(field, "a function", v)),
        OptionKind::Signer => OptionValue::Signer(crate::signer::signer_from_js(
            env,
            options,
            &option.js_name(),
            v,
        )?),
        _ => {
            return Err(invalid(ValidationError::new(
                field,
                "is not supported here",
            )));
        }
    })
}

/// The client from its options object: every key must be an option of the
/// core's table (by its Node name); a typo is refused, never ignored.
/// `observer` serves an `onCall` function, if the options have one.
pub(crate) fn client_from_js(
    env: &Env,
    options: &Object<'_>,
    observer: &Arc<dyn CallObserver>,
) -> napi::Result<aopay_core::Client> {
    let mut b =
        aopay_core::Client::builder().user_agent(concat!("aopay-node/", env!("CARGO_PKG_VERSION")));
    let names: Vec<String> = env.from_js_value(options.get_property_names()?)?;
    for name in names {
        let Some(option) = CLIENT_OPTIONS.iter().find(|o| o.js_name() == name) else {
            let known: Vec<String> = CLIENT_OPTIONS.iter().map(ClientOption::js_name).collect();
            return Err(invalid(ValidationError::new(
                "options",
                format!(
                    "unknown option {name:?} (the options are {})",
                    known.join(", ")
                ),
            )));
        };
        let Some(v) = property(options, &name)? else {
            continue; // undefined or null: the default
        };
        let value = option_value(env, options, option, &v, observer)?;
        b = b.set(option.name, value).map_err(invalid)?;
    }
    b.build().map_err(js_error)
}

/// A reference id argument: a string the core accepts; anything else is a
/// `ValidationError` naming `reference_id` (never napi's `StringExpected`).
/// What `waitForFinal` waits for: an outcome's status call and reference
/// (a recharge's or payment's `statusCall` and `referenceId`), or a bare
/// reference (no status call: the core reads it as a V2 recharge's).
pub(crate) struct WaitTarget {
    pub status_call: Option<String>,
    pub reference: Option<String>,
}

pub(crate) fn wait_target_from_js(v: &Unknown<'_>) -> napi::Result<WaitTarget> {
    if v.get_type()? != ValueType::Object || v.is_array()? {
        return Ok(WaitTarget {
            status_call: None,
            reference: Some(reference_from_js(v)?),
        });
    }
    let obj: Object<'_> = v.coerce_to_object()?;
    let field = |name: &str| -> napi::Result<Option<String>> {
        let f: Unknown<'_> = obj.get_named_property(name)?;
        Ok(match f.get_type()? {
            ValueType::String => Some(string(&f)?),
            _ => None,
        })
    };
    match field("statusCall")? {
        Some(status_call) => Ok(WaitTarget {
            status_call: Some(status_call),
            reference: field("referenceId")?,
        }),
        None => Err(wrong_type("reference_id", "a string or an outcome", v)),
    }
}

pub(crate) fn reference_from_js(v: &Unknown<'_>) -> napi::Result<String> {
    if v.get_type()? != ValueType::String {
        return Err(wrong_type("reference_id", "a string", v));
    }
    let reference = string(v)?;
    aopay_core::ReferenceId::new(reference.as_str()).map_err(invalid)?;
    Ok(reference)
}

/// `{ timeoutMs?, initialIntervalMs?, maxIntervalMs? }`, or nothing.
pub(crate) fn wait_options_from_js(options: Option<&Unknown<'_>>) -> napi::Result<WaitOptions> {
    let mut opts = WaitOptions::default();
    let Some(v) = options else { return Ok(opts) };
    match v.get_type()? {
        ValueType::Undefined | ValueType::Null => return Ok(opts),
        ValueType::Object if !v.is_array()? => {}
        _ => return Err(wrong_type("options", "an object", v)),
    }
    let o: Object<'_> = v.coerce_to_object()?;
    let o = &o;
    if let Some(t) = millis(o, "timeoutMs", "timeout")? {
        opts = WaitOptions::with_timeout(t);
    }
    let initial =
        millis(o, "initialIntervalMs", "initial_interval")?.unwrap_or(opts.initial_interval);
    let max = millis(o, "maxIntervalMs", "max_interval")?.unwrap_or(opts.max_interval);
    Ok(opts.intervals(initial, max))
}
