//! Reading a request's JSON body strictly (what is wrong is named in the
//! 400), and writing answers.

use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{Map, Value};

use super::Answer;

/// Refuse a key the endpoint does not take (a misspelt one among them).
pub(super) fn only_keys(obj: &Map<String, Value>, keys: &[&str]) -> Result<(), Rejection> {
    match obj.keys().find(|k| !keys.contains(&k.as_str())) {
        Some(extra) => Err(Rejection::Bad(format!("unknown field {extra}"))),
        None => Ok(()),
    }
}

/// A customer's account number with all but its first and last two
/// characters hidden.
pub(super) fn mask_text(s: &str) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < 2 || i + 2 >= n { c } else { 'X' })
        .collect()
}

pub(super) enum Rejection {
    Bad(String),
    Drop,
}

/// A known field twice is ambiguous: refused, as a strict server would (the
/// field-by-field fallback reads JSON "last one wins", so it must not see it).
pub(super) fn is_duplicate_field(e: &serde_json::Error) -> bool {
    e.is_data() && e.to_string().starts_with("duplicate field")
}

pub(super) fn as_object(body: &[u8]) -> Result<Map<String, Value>, Rejection> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(Rejection::Bad("body must be a JSON object".to_owned())),
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave these maps inconsistent.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A non-blank string of at most 64 characters (an id, a name, a mode).
pub(super) fn required_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a str, Rejection> {
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

pub(super) fn required_int(obj: &Map<String, Value>, key: &str) -> Result<u64, Rejection> {
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

pub(super) fn mask(n: u64) -> String {
    let s = n.to_string();
    let len = s.len();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < 2 || i + 2 >= len { c } else { 'X' })
        .collect()
}

pub(super) fn json_answer(status: StatusCode, body: Vec<u8>) -> Answer {
    raw_answer(status, "application/json", body)
}

pub(super) fn answer(status: StatusCode, body: &Value) -> Answer {
    json_answer(status, body.to_string().into_bytes())
}

pub(super) fn raw_answer(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Answer {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

pub(super) fn html_502() -> Answer {
    raw_answer(
        StatusCode::BAD_GATEWAY,
        "text/html",
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>".to_owned(),
    )
}
