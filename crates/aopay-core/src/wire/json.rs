//! JSON as AOPay writes it (docs/protocol.md §2): parsed strictly (a key
//! twice is an error), then read leniently (keys matched whatever their case
//! and underscores; numbers written as text).

use serde_json::{Map, Value};

/// A JSON value parsed strictly: a key twice in one object is an error, not
/// "last one wins" (an answer saying both SUCCESS and FAILED is unreadable,
/// not one or the other). serde_json's depth limit (128) still applies.
pub(crate) struct StrictValue(pub(crate) Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never yields a non-finite number; `Null` is unreachable.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut obj = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if obj.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate key {key:?}"
                )));
            }
            let StrictValue(v) = map.next_value()?;
            obj.insert(key, v);
        }
        Ok(Value::Object(obj))
    }
}

/// Lenient key match: case-insensitive, `_` ignored (`ReferanceID`,
/// `referance_id`, `REFERANCEID` are one key). `name` is lowercase ASCII,
/// so a byte-wise comparison is exact (and this runs on every call).
fn key_is(key: &str, name: &str) -> bool {
    normalised(key).eq(name.bytes())
}

/// A key's bytes as the lenient match compares them: `_` dropped, ASCII
/// lowercased (the one rule [`key_is`] and [`Lenient`] share).
fn normalised(key: &str) -> impl Iterator<Item = u8> + '_ {
    key.bytes()
        .filter(|b| *b != b'_')
        .map(|b| b.to_ascii_lowercase())
}

/// Every value whose key matches one of `names`, in `names` order.
pub(crate) fn lookup<'a>(
    obj: &'a Map<String, Value>,
    names: &'a [&'a str],
) -> impl Iterator<Item = &'a Value> + 'a {
    names.iter().flat_map(move |n| {
        obj.iter()
            .filter(move |(k, _)| key_is(k, n))
            .map(|(_, v)| v)
    })
}

/// An object's keys matched as [`lookup`] matches them, each normalised
/// once (lowercase, `_` dropped): for a reader that looks up many fields of
/// one object (a payment's fifteen), each lookup is then a comparison of
/// bytes, not a walk of every key per name.
pub(crate) struct Lenient<'a> {
    keys: Vec<(NormalKey, &'a Value)>,
}

/// A key as [`key_is`] compares it; one longer than any name never matches.
#[derive(Clone, Copy)]
struct NormalKey {
    bytes: [u8; NormalKey::MAX],
    len: usize,
}

impl NormalKey {
    const MAX: usize = 24;

    fn of(key: &str) -> Self {
        let mut k = Self {
            bytes: [0; Self::MAX],
            len: 0,
        };
        for b in normalised(key) {
            if k.len == Self::MAX {
                k.len = usize::MAX;
                break;
            }
            k.bytes[k.len] = b;
            k.len += 1;
        }
        k
    }

    fn is(&self, name: &str) -> bool {
        self.bytes.get(..self.len) == Some(name.as_bytes())
    }
}

impl<'a> Lenient<'a> {
    pub(crate) fn of(obj: &'a Map<String, Value>) -> Self {
        Self {
            keys: obj.iter().map(|(k, v)| (NormalKey::of(k), v)).collect(),
        }
    }

    /// As [`lookup`]: every value whose key matches one of `names`, in
    /// `names` order.
    pub(crate) fn lookup<'s>(
        &'s self,
        names: &'s [&'s str],
    ) -> impl Iterator<Item = &'a Value> + 's {
        names.iter().flat_map(move |n| {
            debug_assert!(n.len() <= NormalKey::MAX, "{n}");
            self.keys.iter().filter(|(k, _)| k.is(n)).map(|(_, v)| *v)
        })
    }

    /// As [`first_text`].
    pub(crate) fn first_text(&self, names: &[&str]) -> Option<String> {
        self.lookup(names).find_map(text)
    }
}

/// A non-empty string, or a number written as text.
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn first_text(obj: &Map<String, Value>, names: &[&str]) -> Option<String> {
    lookup(obj, names).find_map(text)
}

pub(crate) fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `true`/`false`, `"true"`/`"Y"`/`"yes"`/`"1"` and their opposites, `1`/`0`.
pub(crate) fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().filter(|n| *n == 0 || *n == 1).map(|n| n == 1),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "y" | "yes" | "1" => Some(true),
            "false" | "n" | "no" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The most specific non-empty message: `data.message`, then the top
/// level's `error`, `message`, `msg`.
pub(crate) fn message(obj: &Map<String, Value>) -> Option<String> {
    lookup(obj, &["data"])
        .find_map(Value::as_object)
        .and_then(|d| first_text(d, &["message"]))
        .or_else(|| first_text(obj, &["error", "message", "msg"]))
}

pub(crate) fn api_code(obj: &Map<String, Value>) -> Option<i64> {
    lookup(obj, &["responsecode", "statuscode"]).find_map(integer)
}

pub(crate) fn refused(obj: &Map<String, Value>) -> bool {
    lookup(obj, &["status"]).any(|v| match v {
        Value::Bool(b) => !b,
        Value::String(s) => s.trim().eq_ignore_ascii_case("false"),
        _ => false,
    })
}

/// The reason phrase of an HTTP status (`Not Found`), or nothing.
pub(crate) fn http_reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lenient_view_matches_every_key_as_lookup_does() {
        let obj: Map<String, Value> = serde_json::from_str(
            r#"{"Referance_ID":"a","REFERANCEID":"b","txn_id":" ","TxnId":"T","___":"u",
                "Über":"x","a_very_long_key_name_beyond_any_name":"l",
                "exactly_twenty_four_char_s":"e","":"empty"}"#,
        )
        .unwrap();
        let view = Lenient::of(&obj);
        for names in [
            &["referanceid"][..],
            &["txnid", "transactionid"],
            &[""],
            &["über"],
            &["averylongkeynamebeyondan"],
            &["exactlytwentyfourchars"],
            &["nothing", "referanceid"],
        ] {
            let expected: Vec<&Value> = lookup(&obj, names).collect();
            assert_eq!(
                view.lookup(names).collect::<Vec<_>>(),
                expected,
                "{names:?}"
            );
            assert_eq!(view.first_text(names), first_text(&obj, names), "{names:?}");
        }
        assert_eq!(view.first_text(&["txnid"]).as_deref(), Some("T"));
        assert_eq!(view.lookup(&[""]).count(), 2);
    }
}
