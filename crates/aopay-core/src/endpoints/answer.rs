//! What an answer holds and how it is written: the table's field lists
//! ([`AnswerSpec`], [`FieldSpec`]), the fields every answer shares
//! ([`AnswerMeta`]), a field's typed value ([`FieldValue`]: what the JSON
//! form and the bindings are written from) and the [`Answer`] trait.

use serde_json::Value;

use crate::error::Error;
use crate::money::Money;
use crate::wire::Answered;

/// What a readable answer of an endpoint holds (or one item of a list in
/// it: [`FieldKind::Items`]).
#[derive(Debug, PartialEq, Eq)]
pub struct AnswerSpec {
    /// The type's name in every language: `DthInfo`.
    pub name: &'static str,
    /// One line.
    pub doc: &'static str,
    /// The fields its request adds, which an answer read again from its
    /// `raw` alone cannot have (what a bill was fetched for): given again
    /// to `from_raw`, and left out of equality (the same answer is the same
    /// bill).
    pub from_request: &'static [&'static str],
    /// Its fields, as [`Answer::to_json_value`] writes them.
    pub fields: &'static [FieldSpec],
}

impl AnswerSpec {
    /// Its own fields, then the [`COMMON_FIELDS`]: every field of a
    /// top-level answer, in the order its JSON form and its
    /// [`Answer::field_values`] then [`AnswerMeta::values`] have them.
    pub fn all_fields(&'static self) -> impl Iterator<Item = &'static FieldSpec> + use<> {
        self.fields.iter().chain(COMMON_FIELDS.iter())
    }
}

/// One field of an answer.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// snake_case (Python, Rust, the CLI's JSON); Node takes its camelCase.
    pub name: &'static str,
    /// What it holds.
    pub kind: FieldKind,
    /// One line.
    pub doc: &'static str,
    /// Personal data: left out of `Debug` and `repr` (shown in full only
    /// when asked for by name).
    pub personal: bool,
}

/// The type of an answer's field (every field but `http_status` and `raw`
/// may be absent: the API documents no schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// Text.
    Text,
    /// Text that is always present (a payment's status call).
    RequiredText,
    /// A transaction's fate, always present: one of [`crate::answers::Outcome::ALL`]
    /// as text (`SUCCESS`…).
    Outcome,
    /// Exact money: decimal text (`"820.50"`) in JSON and Node, `Decimal`
    /// in Python, [`crate::Money`] in Rust.
    Money,
    /// A whole number.
    Integer,
    /// Yes or no.
    Bool,
    /// The HTTP status (always present).
    HttpStatus,
    /// The whole JSON body (always present).
    Raw,
    /// A list (possibly empty, never absent) of objects of this shape.
    Items(&'static AnswerSpec),
}

/// The fields every endpoint's answer carries after its own.
pub static COMMON_FIELDS: [FieldSpec; 4] = [
    FieldSpec {
        name: "message",
        kind: FieldKind::Text,
        doc: "The most specific non-empty message in the body.",
        personal: false,
    },
    FieldSpec {
        name: "api_code",
        kind: FieldKind::Integer,
        doc: "`statusCode` / `response_code` from the body.",
        personal: false,
    },
    FieldSpec {
        name: "http_status",
        kind: FieldKind::HttpStatus,
        doc: "The HTTP status of the answer.",
        personal: false,
    },
    FieldSpec {
        name: "raw",
        kind: FieldKind::Raw,
        doc: "The whole JSON body, untouched.",
        personal: true,
    },
];

/// What every endpoint's answer carries besides its own fields (the
/// [`COMMON_FIELDS`]), in one place: read from the answer by
/// [`AnswerMeta::of`], written after the own fields by
/// [`AnswerMeta::finish_json`].
#[derive(Clone, PartialEq)]
pub struct AnswerMeta {
    /// The most specific non-empty message in the body.
    pub message: Option<String>,
    /// `statusCode` / `response_code` from the body.
    pub api_code: Option<i64>,
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// The whole JSON body, untouched.
    pub raw: Value,
}

impl AnswerMeta {
    /// Take the common fields of an answer (its body becomes `raw`).
    pub fn of(a: Answered<'_>) -> Self {
        Self {
            message: a.message(),
            api_code: a.api_code(),
            http_status: a.http_status(),
            raw: a.into_raw(),
        }
    }

    /// The common fields' values, in [`COMMON_FIELDS`] order.
    pub fn values(&self) -> [FieldValue<'_>; 4] {
        [
            FieldValue::Text(self.message.as_deref()),
            FieldValue::Integer(self.api_code),
            FieldValue::Integer(Some(self.http_status.into())),
            FieldValue::Raw(&self.raw),
        ]
    }

    /// `own` (a JSON object of the answer's own fields) with the common
    /// fields after them, in [`COMMON_FIELDS`] order.
    pub fn finish_json(&self, own: Value) -> Value {
        let mut map = match own {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        for (field, value) in COMMON_FIELDS.iter().zip(self.values()) {
            map.insert(field.name.into(), value.to_json());
        }
        Value::Object(map)
    }
}

/// One field's value, typed as its [`FieldKind`] says. An answer whose
/// fields are flat gives its values in its [`AnswerSpec`]'s order, and its
/// JSON form ([`Answer::to_json_value`]) and the bindings' objects are written from them:
/// no field is named twice, and a binding builds its object without JSON
/// between.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FieldValue<'a> {
    /// [`FieldKind::Text`], [`FieldKind::RequiredText`] and
    /// [`FieldKind::Outcome`].
    Text(Option<&'a str>),
    /// [`FieldKind::Money`].
    Money(Option<Money>),
    /// [`FieldKind::Integer`] and [`FieldKind::HttpStatus`].
    Integer(Option<i64>),
    /// [`FieldKind::Bool`].
    Bool(Option<bool>),
    /// [`FieldKind::Raw`]: the body, untouched.
    Raw(&'a Value),
}

impl FieldValue<'_> {
    /// As the JSON form writes it: money as decimal text, absent as `null`.
    pub fn to_json(self) -> Value {
        match self {
            Self::Text(t) => t.map_or(Value::Null, Value::from),
            Self::Money(m) => m.map_or(Value::Null, |m| Value::String(m.to_string())),
            Self::Integer(i) => i.map_or(Value::Null, Value::from),
            Self::Bool(b) => b.map_or(Value::Null, Value::Bool),
            Self::Raw(raw) => raw.clone(),
        }
    }

    /// Whether a field of `kind` may hold it.
    pub fn fits(&self, kind: FieldKind) -> bool {
        matches!(
            (self, kind),
            (
                Self::Text(_),
                FieldKind::Text | FieldKind::RequiredText | FieldKind::Outcome
            ) | (Self::Money(_), FieldKind::Money)
                | (Self::Integer(_), FieldKind::Integer | FieldKind::HttpStatus)
                | (Self::Bool(_), FieldKind::Bool)
                | (Self::Raw(_), FieldKind::Raw)
        )
    }
}

/// A flat answer's JSON form: its own `values` under `spec`'s names, then
/// the common fields.
pub(crate) fn json_of(spec: &AnswerSpec, values: &[FieldValue<'_>], meta: &AnswerMeta) -> Value {
    debug_assert_eq!(spec.fields.len(), values.len(), "{}", spec.name);
    let own = spec
        .fields
        .iter()
        .zip(values)
        .map(|(field, value)| {
            debug_assert!(value.fits(field.kind), "{}.{}", spec.name, field.name);
            (field.name.to_owned(), value.to_json())
        })
        .collect();
    meta.finish_json(Value::Object(own))
}

/// An answer's `Debug`, from its entry: every field of `spec` (then the
/// common ones) by name, as [`Answer::to_json_value`] gives it, but the
/// personal ones and `raw`. A field the table marks personal is never
/// shown, and no field is forgotten.
pub(crate) fn debug_answer(
    f: &mut std::fmt::Formatter<'_>,
    spec: &AnswerSpec,
    json: &Value,
) -> std::fmt::Result {
    struct Shown<'a>(&'a Value);
    impl std::fmt::Debug for Shown<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}", self.0)
        }
    }
    let mut d = f.debug_struct(spec.name);
    for field in spec.fields.iter().chain(&COMMON_FIELDS) {
        if !field.personal {
            d.field(field.name, &Shown(&json[field.name]));
        }
    }
    d.finish_non_exhaustive()
}

impl std::fmt::Debug for AnswerMeta {
    // `raw` is left out: it is large and may hold personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerMeta")
            .field("api_code", &self.api_code)
            .field("http_status", &self.http_status)
            .finish_non_exhaustive()
    }
}

/// A readable answer.
pub trait Answer: Sized + Send + 'static {
    /// Its field list.
    const SPEC: &'static AnswerSpec;
    /// Read a 2xx JSON object answer: the typed fields, or the error it
    /// means (a refusal, or nothing recognisable).
    fn from_answered(answered: Answered<'_>) -> Result<Self, Error>;
    /// Its message, API code, HTTP status and `raw`.
    fn meta(&self) -> &AnswerMeta;
    /// Its own fields' values, in [`Answer::SPEC`]'s order: what its JSON
    /// form is written from. An answer holding items
    /// ([`FieldKind::Items`]) writes its JSON itself and gives none.
    fn field_values(&self) -> Vec<FieldValue<'_>> {
        Vec::new()
    }
    /// Every field, by the names of its [`AnswerSpec`].
    fn to_json_value(&self) -> Value {
        json_of(Self::SPEC, &self.field_values(), self.meta())
    }
    /// The HTTP status it came with.
    fn http_status(&self) -> u16 {
        self.meta().http_status
    }
    /// What traces record as its outcome.
    fn outcome(&self) -> &str {
        "answered"
    }
    /// The reference it names, if any (traces).
    fn reference_id(&self) -> Option<&str> {
        None
    }
}
