//! A request whose arguments are all text, derived from its table entry:
//! checked by [`Args::check`] against the entry's arguments, kept by the
//! key each is sent as, and sent as the entry's `body` lists the keys. An
//! endpoint of that shape is its entry, a marker type and one line of
//! `for_each_endpoint!`: no request code of its own.

use std::marker::PhantomData;

use super::{Answer, ArgValue, Args, Endpoint, EndpointSpec, Lang};
use crate::error::ValidationError;
use crate::validate::RegistrationId;

/// An endpoint whose arguments are all [`super::ArgKind::Text`]: its entry
/// and its answer type.
pub trait TextEndpoint: Send + Sync + 'static {
    /// Its entry in [`super::ENDPOINTS`].
    const SPEC: &'static EndpointSpec;
    /// What a readable answer becomes.
    type Answer: Answer;
}

/// A checked request of a [`TextEndpoint`]: each argument trimmed, by the
/// key it is sent as.
pub struct TextRequest<E> {
    values: Vec<(&'static str, String)>,
    endpoint: PhantomData<fn() -> E>,
}

impl<E: TextEndpoint> TextRequest<E> {
    /// Check `values` (argument name, text), as every language's are
    /// checked.
    pub fn from_pairs(values: &[(&str, &str)]) -> Result<Self, ValidationError> {
        let mut args = Args::new(Lang::Rust);
        for (name, value) in values {
            args.set(*name, ArgValue::Text((*value).to_owned()));
        }
        Self::from_args(&args)
    }

    /// The value sent as `wire`, if any.
    pub fn value(&self, wire: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(w, _)| *w == wire)
            .map(|(_, v)| v.as_str())
    }
}

impl<E: TextEndpoint> Endpoint for TextRequest<E> {
    const SPEC: &'static EndpointSpec = E::SPEC;
    type Answer = E::Answer;

    fn from_args(args: &Args) -> Result<Self, ValidationError> {
        let checked = args.check(Self::SPEC)?;
        let mut values = Vec::new();
        for arg in Self::SPEC.args {
            match checked.text(arg.name) {
                Some(text) => values.push((arg.wire, text.trim().to_owned())),
                None if arg.required => return Err(ValidationError::new(arg.name, "is required")),
                None => {}
            }
        }
        Ok(Self {
            values,
            endpoint: PhantomData,
        })
    }

    fn to_body(&self, registration_id: &RegistrationId) -> Vec<u8> {
        // In the entry's order: keys written one by one (a map would sort
        // them).
        let mut body = String::from("{");
        for key in Self::SPEC.body {
            let value = match *key == Self::SPEC.registration {
                true => Some(registration_id.as_str()),
                false => self.value(key),
            };
            if let Some(v) = value {
                if body.len() > 1 {
                    body.push(',');
                }
                body.push_str(&serde_json::Value::from(*key).to_string());
                body.push(':');
                body.push_str(&serde_json::Value::from(v).to_string());
            }
        }
        body.push('}');
        body.into_bytes()
    }
}

impl<E> Clone for TextRequest<E> {
    fn clone(&self) -> Self {
        Self {
            values: self.values.clone(),
            endpoint: PhantomData,
        }
    }
}

impl<E> PartialEq for TextRequest<E> {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}

impl<E> Eq for TextRequest<E> {}

impl<E: TextEndpoint> std::fmt::Debug for TextRequest<E> {
    // Text arguments name places and operators, nothing personal.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct(E::SPEC.name);
        for (wire, value) in &self.values {
            d.field(wire, value);
        }
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AnswerSpec, ArgSpec, Binding, DthInfo, reread};
    use super::*;
    use crate::wire::Effect;

    static ANSWER: AnswerSpec = AnswerSpec {
        name: "DthInfo",
        doc: "",
        from_request: &[],
        fields: &[],
    };

    static SPEC: EndpointSpec = EndpointSpec {
        name: "Lookup",
        method: "lookup",
        path: "/api/AOP/Lookup",
        registration: "RegisterID",
        body: &["RegisterID", "op", "circle"],
        cli: &["lookup"],
        effect: Effect::Read,
        status: None,
        summary: "",
        args: &[
            ArgSpec {
                name: "circle",
                wire: "circle",
                kind: super::super::ArgKind::Text { max: 8 },
                required: false,
                doc: "",
                example: "",
            },
            ArgSpec {
                name: "operator",
                wire: "op",
                kind: super::super::ArgKind::Text { max: 8 },
                required: true,
                doc: "",
                example: "",
            },
        ],
        answer: &ANSWER,
        binding: Binding::Generated,
        reread: reread::<DthInfo>,
    };

    struct Lookup;
    impl TextEndpoint for Lookup {
        const SPEC: &'static EndpointSpec = &SPEC;
        type Answer = DthInfo;
    }

    #[test]
    fn the_body_is_the_entrys_keys_in_order_and_the_args_are_checked() {
        let reg = RegistrationId::new("AOP-554").unwrap();
        let r = TextRequest::<Lookup>::from_pairs(&[("operator", " Airtel "), ("circle", "Delhi")])
            .unwrap();
        assert_eq!(
            String::from_utf8(r.to_body(&reg)).unwrap(),
            r#"{"RegisterID":"AOP-554","op":"Airtel","circle":"Delhi"}"#
        );
        assert_eq!(
            format!("{r:?}"),
            r#"Lookup { circle: "Delhi", op: "Airtel" }"#
        );
        // An optional argument left out is left out of the body.
        let r = TextRequest::<Lookup>::from_pairs(&[("operator", "Jio")]).unwrap();
        assert_eq!(
            String::from_utf8(r.to_body(&reg)).unwrap(),
            r#"{"RegisterID":"AOP-554","op":"Jio"}"#
        );
        for (pairs, field) in [
            (&[("circle", "Delhi")][..], "operator"),
            (&[("operator", "")][..], "operator"),
            (&[("operator", "a\nb")][..], "operator"),
            (
                &[("operator", "Airtel"), ("circle", "Far too long")][..],
                "circle",
            ),
            (&[("operator", "Jio"), ("number", "1")][..], "arguments"),
        ] {
            let e = TextRequest::<Lookup>::from_pairs(pairs).unwrap_err();
            assert_eq!(e.field(), field, "{pairs:?}");
        }
    }
}
