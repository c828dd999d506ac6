//! GetRechargeBrowsePlan and the V1 BrowsPlan (docs/protocol.md §6): an
//! operator's recharge plans in a circle, grouped in categories. Reads.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    AnswerMeta, AnswerSpec, ArgKind, ArgSpec, ArgValue, Args, Binding, Endpoint, EndpointSpec,
    FieldKind, FieldSpec, Lang, TextEndpoint, TextRequest, reread,
};
use crate::error::{Error, ValidationError};
use crate::money::Money;
use crate::validate::{CustomerNumber, RegistrationId};
use crate::wire::json::{first_text, lookup};
use crate::wire::{Answered, Effect};

/// The circle both plan lookups take.
const CIRCLE: ArgSpec = ArgSpec {
    name: "circle",
    wire: "circle",
    kind: ArgKind::Text { max: 64 },
    required: true,
    doc: "The telecom circle (\"Delhi NCR\").",
    example: "Delhi NCR",
};

pub(super) static BROWSE_PLANS: EndpointSpec = EndpointSpec {
    name: "GetRechargeBrowsePlan",
    method: "browse_plans",
    path: "/api/AOP/V2/GetRechargeBrowsePlan",
    registration: "RegistrationID",
    body: &["RegistrationID", "circle", "operator", "number"],
    cli: &["plans"],
    effect: Effect::Read,
    status: None,
    summary: "List an operator's recharge plans in a circle, by category.",
    args: &[
        ArgSpec {
            name: "operator",
            wire: "operator",
            kind: ArgKind::Text { max: 64 },
            required: true,
            doc: "The operator, as AOPay names it (\"Jio\", \"Airtel\").",
            example: "Jio",
        },
        CIRCLE,
        ArgSpec {
            name: "number",
            wire: "number",
            kind: ArgKind::CustomerNumber,
            required: false,
            doc: "The customer's number, for plans specific to it (sent as digits).",
            example: "9876543210",
        },
    ],
    answer: &PLANS,
    binding: Binding::Generated,
    reread: reread::<Plans>,
};

pub(super) static BROWSE_PLANS_V1: EndpointSpec = EndpointSpec {
    name: "BrowsPlan",
    method: "browse_plans_v1",
    path: "/api/AOP/BrowsPlan",
    registration: "RegistrationID",
    body: &["RegistrationID", "circle", "op"],
    cli: &["plans-v1"],
    effect: Effect::Read,
    status: None,
    summary: "List an operator's recharge plans in a circle, by category (the V1 BrowsPlan).",
    args: &[
        ArgSpec {
            name: "operator",
            wire: "op",
            kind: ArgKind::Text { max: 64 },
            required: true,
            doc: "The operator, as AOPay names it (\"Airtel\", \"Jio\").",
            example: "Airtel",
        },
        CIRCLE,
    ],
    answer: &PLANS,
    binding: Binding::Generated,
    reread: reread::<Plans>,
};

/// The V1 BrowsPlan: its arguments are all text, so its request is derived
/// from its entry ([`TextRequest`]).
#[derive(Debug)]
pub struct BrowsePlansV1;

impl TextEndpoint for BrowsePlansV1 {
    const SPEC: &'static EndpointSpec = &BROWSE_PLANS_V1;
    type Answer = Plans;
}

/// A checked V1 BrowsPlan request.
pub type BrowsePlansV1Request = TextRequest<BrowsePlansV1>;

impl TextRequest<BrowsePlansV1> {
    /// Check both fields (the same rules the bindings apply).
    ///
    /// ```
    /// let req = aopay_core::BrowsePlansV1Request::new("Airtel", "Delhi NCR")?;
    /// assert!(aopay_core::BrowsePlansV1Request::new("Airtel", " ").is_err());
    /// # Ok::<(), aopay_core::ValidationError>(())
    /// ```
    pub fn new(operator: &str, circle: &str) -> Result<Self, ValidationError> {
        Self::from_pairs(&[("operator", operator), ("circle", circle)])
    }
}

static PLAN: AnswerSpec = AnswerSpec {
    name: "Plan",
    doc: "One recharge plan.",
    from_request: &[],
    fields: &[
        FieldSpec {
            name: "amount",
            kind: FieldKind::Money,
            doc: "Its price, in rupees.",
            personal: false,
        },
        FieldSpec {
            name: "validity",
            kind: FieldKind::Text,
            doc: "How long it lasts, as the operator writes it (\"28 days\").",
            personal: false,
        },
        FieldSpec {
            name: "description",
            kind: FieldKind::Text,
            doc: "Its benefits.",
            personal: false,
        },
    ],
};

static PLAN_CATEGORY: AnswerSpec = AnswerSpec {
    name: "PlanCategory",
    doc: "The plans of one category (\"Popular Plans\").",
    from_request: &[],
    fields: &[
        FieldSpec {
            name: "name",
            kind: FieldKind::Text,
            doc: "The category's name.",
            personal: false,
        },
        FieldSpec {
            name: "plans",
            kind: FieldKind::Items(&PLAN),
            doc: "Its plans, in the answer's order.",
            personal: false,
        },
    ],
};

static PLANS: AnswerSpec = AnswerSpec {
    name: "Plans",
    doc: "An operator's recharge plans, by category.",
    from_request: &[],
    fields: &[FieldSpec {
        name: "categories",
        kind: FieldKind::Items(&PLAN_CATEGORY),
        doc: "The categories, in the answer's order.",
        personal: false,
    }],
};

/// A checked GetRechargeBrowsePlan request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowsePlansRequest {
    operator: String,
    circle: String,
    number: Option<CustomerNumber>,
}

impl BrowsePlansRequest {
    /// Check every field (the same rules the bindings apply).
    ///
    /// ```
    /// let req = aopay_core::BrowsePlansRequest::new("Jio", "Delhi NCR", Some("98765 43210"))?;
    /// assert!(aopay_core::BrowsePlansRequest::new("Jio", "", None).is_err());
    /// # Ok::<(), aopay_core::ValidationError>(())
    /// ```
    pub fn new(
        operator: &str,
        circle: &str,
        number: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let text = |s: &str| ArgValue::Text(s.to_owned());
        let mut args = Args::new(Lang::Rust)
            .with("operator", text(operator))
            .with("circle", text(circle));
        if let Some(n) = number {
            args.set("number", text(n));
        }
        Self::from_args(&args)
    }
}

impl Endpoint for BrowsePlansRequest {
    const SPEC: &'static EndpointSpec = &BROWSE_PLANS;
    type Answer = Plans;

    fn from_args(args: &Args) -> Result<Self, ValidationError> {
        let a = args.check(Self::SPEC)?;
        let number = match a.raw("number") {
            None => None,
            Some(ArgValue::Int(n)) => {
                Some(CustomerNumber::from_integer(*n).map_err(|e| e.on_field("number"))?)
            }
            Some(_) => Some(
                CustomerNumber::parse(a.required_text("number"))
                    .map_err(|e| e.on_field("number"))?,
            ),
        };
        Ok(Self {
            operator: a.required_text("operator").trim().to_owned(),
            circle: a.required_text("circle").trim().to_owned(),
            number,
        })
    }

    fn to_body(&self, registration_id: &RegistrationId) -> Vec<u8> {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(rename = "RegistrationID")]
            registration_id: &'a str,
            circle: &'a str,
            operator: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            number: Option<String>,
        }
        serde_json::to_vec(&Wire {
            registration_id: registration_id.as_str(),
            circle: &self.circle,
            operator: &self.operator,
            number: self.number.map(|n| n.get().to_string()),
        })
        .unwrap_or_default()
    }

    fn masked_number(&self) -> Option<String> {
        self.number.map(CustomerNumber::masked)
    }
}

/// One recharge plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Its price.
    pub amount: Option<Money>,
    /// How long it lasts, as the operator writes it.
    pub validity: Option<String>,
    /// Its benefits.
    pub description: Option<String>,
}

/// The plans of one category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanCategory {
    /// The category's name ("Popular Plans").
    pub name: Option<String>,
    /// Its plans, in the answer's order.
    pub plans: Vec<Plan>,
}

/// An operator's recharge plans, by category (the API documents no schema,
/// so `raw` keeps the whole answer).
#[derive(Clone, PartialEq)]
pub struct Plans {
    /// The categories, in the answer's order.
    pub categories: Vec<PlanCategory>,
    /// The message, API code, HTTP status and `raw` of the answer.
    pub meta: AnswerMeta,
}

impl std::fmt::Debug for Plans {
    // From the table: personal fields and `raw` are left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        super::debug_answer(f, &PLANS, &super::Answer::to_json_value(self))
    }
}

const AMOUNT_KEYS: [&str; 4] = ["rs", "amount", "price", "mrp"];

fn plan(obj: &Map<String, Value>) -> Option<Plan> {
    let amount = lookup(obj, &AMOUNT_KEYS).find_map(Money::from_answer);
    let description = first_text(
        obj,
        &["desc", "description", "benefits", "longdesc", "shortdesc"],
    );
    (amount.is_some() || description.is_some()).then(|| Plan {
        amount,
        validity: first_text(obj, &["validity"]),
        description,
    })
}

fn plans_of(items: &[Value]) -> Vec<Plan> {
    items
        .iter()
        .filter_map(Value::as_object)
        .filter_map(plan)
        .collect()
}

/// Categories in either shape the API family uses: an object of category
/// name to a list of plans, or one list of plans each naming its category.
fn categories_in(v: &Value) -> Option<Vec<PlanCategory>> {
    match v {
        Value::Object(o) => {
            let cats: Vec<PlanCategory> = o
                .iter()
                .filter_map(|(name, items)| {
                    let plans = plans_of(items.as_array()?);
                    (!plans.is_empty()).then(|| PlanCategory {
                        name: Some(name.clone()),
                        plans,
                    })
                })
                .collect();
            // Categories that are all empty lists say "no plans": the shape
            // is recognised, there is just nothing in it.
            let all_empty = !o.is_empty()
                && o.values()
                    .all(|items| items.as_array().is_some_and(Vec::is_empty));
            (!cats.is_empty() || all_empty).then_some(cats)
        }
        Value::Array(items) => {
            let mut cats: Vec<PlanCategory> = Vec::new();
            for obj in items.iter().filter_map(Value::as_object) {
                let Some(p) = plan(obj) else { continue };
                let name = first_text(obj, &["category", "type", "plantype", "rechargetype"]);
                match cats.iter_mut().find(|c| c.name == name) {
                    Some(c) => c.plans.push(p),
                    None => cats.push(PlanCategory {
                        name,
                        plans: vec![p],
                    }),
                }
            }
            (!cats.is_empty()).then_some(cats)
        }
        _ => None,
    }
}

impl super::Answer for Plans {
    const SPEC: &'static AnswerSpec = &PLANS;

    fn from_answered(a: Answered<'_>) -> Result<Self, Error> {
        let obj = a.object();
        let found = lookup(obj, &["data", "info", "records", "plans", "rdata"])
            .find_map(categories_in)
            .or_else(|| categories_in(&Value::Object(obj.clone())));
        // A refusal with no plan in it is a refusal, whatever else it holds.
        let found = found.filter(|c| !c.is_empty() || !a.refused());
        let Some(categories) = found else {
            if a.refused() {
                return Err(a.refusal());
            }
            return Err(a.unreadable("names no plans and no refusal"));
        };
        Ok(Self {
            categories,
            meta: AnswerMeta::of(a),
        })
    }

    fn to_json_value(&self) -> Value {
        let categories: Vec<Value> = self
            .categories
            .iter()
            .map(|c| {
                let plans: Vec<Value> = c
                    .plans
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "amount": p.amount.map(|m| m.to_string()),
                            "validity": p.validity,
                            "description": p.description,
                        })
                    })
                    .collect();
                serde_json::json!({"name": c.name, "plans": plans})
            })
            .collect();
        self.meta.finish_json(serde_json::json!({
            "categories": categories,
        }))
    }

    fn meta(&self) -> &AnswerMeta {
        &self.meta
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::Answer;
    use crate::endpoints::read_answer;
    use crate::error::ErrorKind;

    fn read(body: &str) -> Result<Plans, Error> {
        read_answer::<Plans>(Effect::Read, 200, None, body.as_bytes())
    }

    #[test]
    fn reads_both_shapes_of_categories() {
        let by_name = r#"{"status":true,"data":{"Popular Plans":[{"rs":299,"validity":"28 days","desc":"2 GB/day"},{"rs":"666.5","desc":"84 days"}],"True 5G Unlimited Plans":[{"rs":349,"desc":"5G"}],"note":"x"}}"#;
        let listed = r#"{"status":"SUCCESS","data":[{"amount":"299","validity":"28 days","shortDesc":"2 GB/day","rechargeType":"Popular Plans"},{"amount":"666.50","longDesc":"84 days","rechargeType":"Popular Plans"},{"amount":349,"description":"5G","rechargeType":"True 5G Unlimited Plans"}]}"#;
        for body in [by_name, listed] {
            let p = read(body).unwrap();
            assert_eq!(p.categories.len(), 2, "{body}");
            assert_eq!(p.categories[0].name.as_deref(), Some("Popular Plans"));
            assert_eq!(
                p.categories[0].plans[1].amount,
                Some(Money::from_paise(66_650))
            );
            assert_eq!(p.categories[1].plans[0].description.as_deref(), Some("5G"));
            let v = p.to_json_value();
            assert_eq!(v["categories"][0]["plans"][0]["amount"], "299.00");
            let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            let names: Vec<&str> = BROWSE_PLANS.answer_fields().map(|f| f.name).collect();
            assert_eq!(keys, names);
        }
    }

    #[test]
    fn refusals_and_answers_without_plans() {
        let e = read(r#"{"status":false,"response_code":2,"message":"No plans"}"#).unwrap_err();
        assert_eq!((e.kind(), e.api_code()), (ErrorKind::Api, Some(2)));
        let e = read(r#"{"status":true,"data":{"x":[1,2]}}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        // Every category empty: no plans, not an unreadable answer.
        let none = read(r#"{"status":true,"responsecode":1,"info":{"TOPUP":[],"2G":[]}}"#).unwrap();
        assert!(none.categories.is_empty());
        let e = read(r#"{"status":false,"responsecode":2,"info":{"TOPUP":[]}}"#).unwrap_err();
        assert_eq!((e.kind(), e.api_code()), (ErrorKind::Api, Some(2)));
        for body in [
            r#"{"status":true,"info":{}}"#,
            r#"{"status":true,"info":{"TOPUP":[],"2G":"none"}}"#,
        ] {
            assert_eq!(
                read(body).unwrap_err().kind(),
                ErrorKind::Protocol,
                "{body}"
            );
        }
    }

    #[test]
    fn requests_are_checked_and_sent_as_the_api_spells_them() {
        let reg = RegistrationId::new("AOP-554").unwrap();
        let req = BrowsePlansRequest::new("Jio", "Delhi NCR", Some("+91 98765 43210")).unwrap();
        assert_eq!(
            String::from_utf8(req.to_body(&reg)).unwrap(),
            r#"{"RegistrationID":"AOP-554","circle":"Delhi NCR","operator":"Jio","number":"9876543210"}"#
        );
        let req = BrowsePlansRequest::new("Jio", "Delhi NCR", None).unwrap();
        assert_eq!(
            String::from_utf8(req.to_body(&reg)).unwrap(),
            r#"{"RegistrationID":"AOP-554","circle":"Delhi NCR","operator":"Jio"}"#
        );
        assert_eq!(
            BrowsePlansRequest::new("Jio", "x", Some("98765abc"))
                .unwrap_err()
                .field(),
            "number"
        );
    }
}
