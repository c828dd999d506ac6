//! Neutral arguments: what a binding or the CLI passes, value by value, so
//! that the type checks (and their messages) are made once, here, for
//! every language.

use super::{ArgKind, ArgSpec, EndpointSpec};
use crate::error::ValidationError;
use crate::naming::camel_case;

impl ArgSpec {
    /// Values every surface must refuse for this argument with a
    /// `ValidationError` naming it, before anything is sent: what its kind
    /// rules out (the contract's tests run them on every surface, with the
    /// rows an endpoint adds of its own).
    pub fn bad_values(&self) -> Vec<serde_json::Value> {
        use serde_json::json;
        // A list is never an argument; a missing required one is refused.
        let mut bad = vec![json!([1])];
        if self.required {
            bad.push(serde_json::Value::Null);
        }
        bad.extend(match self.kind {
            ArgKind::Text { max } => {
                let mut v = vec![json!(11), json!("a\nb"), json!("x".repeat(max + 1))];
                if self.required {
                    v.extend([json!(""), json!("   ")]);
                }
                v
            }
            ArgKind::Integer => vec![json!("11"), json!(11.5), json!(true)],
            ArgKind::CustomerNumber => vec![json!("98765abc10"), json!(98_765.5), json!(true)],
            ArgKind::Geocode => vec![json!("91,0"), json!(""), json!(1)],
            ArgKind::Account => vec![json!(""), json!("1022-77100"), json!(false)],
            ArgKind::Choice(_) => vec![json!("none of them"), json!(1)],
            ArgKind::Money => vec![json!(10.5), json!("10.005"), json!(true)],
            ArgKind::Reference => vec![json!(""), json!("a b"), json!(1)],
            ArgKind::Bill => vec![json!("102277100")],
        });
        bad
    }
}

/// One argument's value, as the caller's language gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    /// `None` / `null` / `undefined`: the same as absent.
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number (saturated to `i64`, so range rules still apply).
    Int(i64),
    /// A number that is not whole (or not finite).
    Float(f64),
    /// A string.
    Text(String),
    /// An exact decimal of the caller's language (Python's `Decimal`), as
    /// plain decimal text.
    Decimal(String),
    /// An object (a dict, a JS object): a fetched bill, say.
    Json(serde_json::Value),
    /// Anything else, by its type's name in the caller's language.
    Other(String),
}

impl ArgValue {
    /// A value given as text (a CLI flag, a CSV cell) for an argument of
    /// `kind`: a whole number is parsed, a bill is read as JSON, anything
    /// else stays text for the endpoint's own rules.
    pub fn from_text(
        name: &'static str,
        kind: ArgKind,
        text: &str,
    ) -> Result<Self, ValidationError> {
        match kind {
            ArgKind::Integer => text.trim().parse::<i64>().map(Self::Int).map_err(|_| {
                ValidationError::new(name, format!("must be a whole number (got {text:?})"))
            }),
            ArgKind::Bill => serde_json::from_str(text).map(Self::Json).map_err(|e| {
                ValidationError::new(name, format!("must be a fetched bill's JSON ({e})"))
            }),
            _ => Ok(Self::Text(text.to_owned())),
        }
    }
}

/// The caller's language: it decides how argument names are spelled and
/// how types are named in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// snake_case names; `str`, `int`, `float`, `bool`.
    Python,
    /// camelCase names; `string`, `number`, `boolean`.
    Node,
    /// snake_case names; the CLI and Rust callers (every value is text).
    Rust,
}

impl Lang {
    /// A snake_case name as this language spells it (`product_id`,
    /// `productId`).
    pub fn spell(self, name: &str) -> String {
        match self {
            Self::Node => camel_case(name),
            Self::Python | Self::Rust => name.to_owned(),
        }
    }
}

/// Arguments by name, in the caller's spelling.
#[derive(Debug, Clone)]
pub struct Args {
    lang: Lang,
    items: Vec<(String, ArgValue)>,
}

impl Args {
    /// No arguments yet.
    pub fn new(lang: Lang) -> Self {
        Self {
            lang,
            items: Vec::new(),
        }
    }

    /// Add one (a name given twice keeps the last).
    pub fn set(&mut self, name: impl Into<String>, value: ArgValue) -> &mut Self {
        let name = name.into();
        self.items.retain(|(n, _)| *n != name);
        self.items.push((name, value));
        self
    }

    /// The value given for `name`, if any.
    pub fn get(&self, name: &str) -> Option<&ArgValue> {
        self.items.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Builder form of [`Args::set`].
    pub fn with(mut self, name: impl Into<String>, value: ArgValue) -> Self {
        self.set(name, value);
        self
    }

    /// A snake_case name as these arguments spell it.
    #[cfg_attr(not(feature = "batch"), allow(dead_code))]
    pub(crate) fn spell(&self, name: &str) -> String {
        self.lang.spell(name)
    }

    fn spelled(&self, arg: &ArgSpec) -> String {
        self.lang.spell(arg.name)
    }

    /// Check the names and the types against `spec`: an unknown name, a
    /// missing required argument and a value of the wrong type are each a
    /// `ValidationError` naming the field.
    pub(crate) fn check<'a>(
        &'a self,
        spec: &'a EndpointSpec,
    ) -> Result<Checked<'a>, ValidationError> {
        for (name, _) in &self.items {
            if !spec.args.iter().any(|a| self.spelled(a) == *name) {
                let known: Vec<String> = spec.args.iter().map(|a| self.spelled(a)).collect();
                return Err(ValidationError::new(
                    "arguments",
                    format!(
                        "{} takes no argument {name:?} (it takes {})",
                        match self.lang {
                            Lang::Node => camel_case(spec.method),
                            Lang::Python | Lang::Rust => spec.method.to_owned(),
                        },
                        known.join(", ")
                    ),
                ));
            }
        }
        let mut values = Vec::with_capacity(spec.args.len());
        for arg in spec.args {
            let spelled = self.spelled(arg);
            let value = self
                .items
                .iter()
                .find(|(n, _)| *n == spelled)
                .map(|(_, v)| v)
                .filter(|v| **v != ArgValue::Null);
            match value {
                None if arg.required => {
                    return Err(ValidationError::new(arg.name, "is required"));
                }
                None => values.push(None),
                Some(v) => {
                    self.type_check(arg, v)?;
                    values.push(Some(v));
                }
            }
        }
        Ok(Checked { spec, values })
    }

    fn type_check(&self, arg: &ArgSpec, v: &ArgValue) -> Result<(), ValidationError> {
        let ok = match arg.kind {
            ArgKind::Text { .. } | ArgKind::Geocode | ArgKind::Choice(_) | ArgKind::Reference => {
                matches!(v, ArgValue::Text(_))
            }
            ArgKind::Integer => matches!(v, ArgValue::Int(_)),
            ArgKind::CustomerNumber | ArgKind::Account => {
                matches!(v, ArgValue::Text(_) | ArgValue::Int(_))
            }
            ArgKind::Money => matches!(
                v,
                ArgValue::Text(_) | ArgValue::Int(_) | ArgValue::Decimal(_)
            ),
            ArgKind::Bill => matches!(v, ArgValue::Json(_)),
        };
        if ok {
            if let (ArgKind::Text { max }, ArgValue::Text(text)) = (arg.kind, v) {
                crate::validate::check_text(arg.name, text, max)?;
            }
            return Ok(());
        }
        let py = self.lang == Lang::Python;
        if arg.kind == ArgKind::Money && matches!(v, ArgValue::Float(_)) {
            // A float cannot hold 820.10 exactly: never guess what was meant.
            return Err(ValidationError::new(
                arg.name,
                if py {
                    "must be a Decimal, a str (\"820.50\") or an int of rupees, not float: a float is not exact"
                } else {
                    "must be a string (\"820.50\") or a whole number of rupees: a fractional number is not exact"
                },
            ));
        }
        let expected = match (arg.kind, py) {
            (ArgKind::Money, true) => "a Decimal, a str or an int",
            (ArgKind::Money, false) => "a string or a number",
            (ArgKind::Bill, true) => "a Bill (or its to_dict())",
            (ArgKind::Bill, false) => "a Bill (or its JSON)",
            (ArgKind::Integer, true) => "an int",
            (ArgKind::Integer, false) => "a whole number",
            (ArgKind::CustomerNumber | ArgKind::Account, true) => "a str or an int",
            (ArgKind::CustomerNumber | ArgKind::Account, false) => "a string or a number",
            (
                ArgKind::Text { .. } | ArgKind::Geocode | ArgKind::Choice(_) | ArgKind::Reference,
                true,
            ) => "a str",
            (
                ArgKind::Text { .. } | ArgKind::Geocode | ArgKind::Choice(_) | ArgKind::Reference,
                false,
            ) => "a string",
        };
        let got = match (v, py) {
            (ArgValue::Null, true) => "None".to_owned(),
            (ArgValue::Null, false) => "null".to_owned(),
            (ArgValue::Bool(_), true) => "bool".to_owned(),
            (ArgValue::Bool(_), false) => "boolean".to_owned(),
            (ArgValue::Int(_), true) => "int".to_owned(),
            (ArgValue::Float(_), true) => "float".to_owned(),
            (ArgValue::Int(_) | ArgValue::Float(_), false) => "number".to_owned(),
            (ArgValue::Text(_), true) => "str".to_owned(),
            (ArgValue::Text(_), false) => "string".to_owned(),
            (ArgValue::Decimal(_), _) => "Decimal".to_owned(),
            (ArgValue::Json(v), true) if v.is_array() => "list".to_owned(),
            (ArgValue::Json(_), true) => "dict".to_owned(),
            (ArgValue::Json(v), false) if v.is_array() => "array".to_owned(),
            (ArgValue::Json(_), false) => "object".to_owned(),
            (ArgValue::Other(name), _) => name.clone(),
        };
        let whole = matches!(
            arg.kind,
            ArgKind::Integer | ArgKind::CustomerNumber | ArgKind::Account
        );
        if whole && matches!(v, ArgValue::Float(_)) && !py {
            return Err(ValidationError::new(arg.name, "must be a whole number"));
        }
        Err(ValidationError::wrong_type(arg.name, expected, &got))
    }
}

/// Arguments whose names and types are right, by position in the spec.
pub(crate) struct Checked<'a> {
    spec: &'a EndpointSpec,
    values: Vec<Option<&'a ArgValue>>,
}

impl<'a> Checked<'a> {
    fn value(&self, name: &str) -> Option<&'a ArgValue> {
        let i = self.spec.args.iter().position(|a| a.name == name)?;
        self.values.get(i).copied().flatten()
    }

    /// A text argument (`None` when absent).
    pub(crate) fn text(&self, name: &str) -> Option<&'a str> {
        match self.value(name) {
            Some(ArgValue::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// A required text argument; "" when absent, for the rule to refuse.
    pub(crate) fn required_text(&self, name: &str) -> &'a str {
        self.text(name).unwrap_or_default()
    }

    /// An integer argument.
    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        match self.value(name) {
            Some(ArgValue::Int(n)) => Some(*n),
            _ => None,
        }
    }

    /// An object argument.
    pub(crate) fn json(&self, name: &str) -> Option<&'a serde_json::Value> {
        match self.value(name) {
            Some(ArgValue::Json(v)) => Some(v),
            _ => None,
        }
    }

    /// Any argument's value.
    pub(crate) fn raw(&self, name: &str) -> Option<&'a ArgValue> {
        self.value(name)
    }
}
