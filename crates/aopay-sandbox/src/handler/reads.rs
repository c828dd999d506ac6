//! The reads (GetDthInfo, the plan lookups, FetchBilPaymentDetails,
//! FetchConsumerDetails): their routes and handlers.

use hyper::StatusCode;
use serde_json::{Map, Value, json};

use super::body::{Rejection, answer, mask_text, only_keys, required_str, whole_number};
use super::routes::{Route, Serve};
use super::{Answer, Received, State};
use crate::magic::{DthScenario, MAGIC_PLAN_OPERATORS, MAGIC_VEHICLES, dth_scenario_for};

/// Their routes: a new read is its route here and its handler below.
pub(super) const ROUTES: [Route; 5] = [
    Route {
        name: "dth_info",
        path: "/api/AOP/V2/GetDthInfo",
        serve: Serve::Read(State::dth_info),
    },
    Route {
        name: "browse_plans",
        path: "/api/AOP/V2/GetRechargeBrowsePlan",
        serve: Serve::Read(State::browse_plans),
    },
    Route {
        name: "browse_plans_v1",
        path: "/api/AOP/BrowsPlan",
        serve: Serve::Read(State::browse_plans_v1),
    },
    Route {
        name: "fetch_bill",
        path: "/api/AOP/FetchBilPaymentDetails",
        serve: Serve::Read(State::fetch_bill),
    },
    Route {
        name: "fetch_fastag",
        path: "/api/AOP/FetchConsumerDetails",
        serve: Serve::Read(State::fetch_fastag),
    },
];

impl State {
    /// GetDthInfo: every key a non-empty string, as the documentation's
    /// sample and table both have them.
    pub(super) fn dth_info(
        &self,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        for key in ["RegistrationID", "circle", "operator"] {
            required_str(obj, key)?;
        }
        let number = required_str(obj, "Opnumber")?;
        if number.len() > 32 || !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Rejection::Bad(
                "Opnumber must be 1 to 32 letters and digits".to_owned(),
            ));
        }
        only_keys(obj, &["RegistrationID", "circle", "operator", "Opnumber"])?;
        received.count();
        Ok(match dth_scenario_for(number) {
            DthScenario::UnknownAccount => answer(
                StatusCode::OK,
                &json!({"status": false, "response_code": 2,
                        "message": format!("No DTH account found for number {}", mask_text(number))}),
            ),
            DthScenario::LookupFailed => answer(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({"status": false, "response_code": 503,
                        "message": "Operator lookup failed, try again later"}),
            ),
            _ => answer(
                StatusCode::OK,
                &json!({"status": true, "response_code": 1, "message": "Customer details fetched",
                        "data": [{"customerName": "Sandbox Customer", "Balance": "245.50",
                                  "planname": "Sandbox HD Pack", "MonthlyRecharge": 320,
                                  "NextRechargeDate": "2026-12-15", "status": "Active",
                                  "operator": required_str(obj, "operator")?}]}),
            ),
        })
    }
}

impl State {
    /// GetRechargeBrowsePlan: `circle`, `operator` non-empty strings,
    /// `number` (optional) a string of digits, as the sample has them.
    pub(super) fn browse_plans(
        &self,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        only_keys(obj, &["RegistrationID", "circle", "operator", "number"])?;
        required_str(obj, "RegistrationID")?;
        required_str(obj, "circle")?;
        let operator = required_str(obj, "operator")?;
        if let Some(n) = obj.get("number") {
            let digits = n.as_str().filter(|s| {
                (1..=18).contains(&s.len())
                    && !s.starts_with('0')
                    && s.bytes().all(|b| b.is_ascii_digit())
            });
            if digits.is_none() {
                return Err(Rejection::Bad(
                    "number must be a string of digits".to_owned(),
                ));
            }
        }
        received.count();
        if MAGIC_PLAN_OPERATORS.iter().any(|(op, _)| *op == operator) {
            return Ok(answer(
                StatusCode::OK,
                &json!({"status": false, "response_code": 2,
                        "message": format!("No plans found for operator {operator}")}),
            ));
        }
        Ok(answer(
            StatusCode::OK,
            &json!({"status": true, "response_code": 1, "message": "Plans fetched",
            "data": {
                "Popular Plans": [
                    {"rs": 299, "validity": "28 days", "desc": "2 GB/day, unlimited calls, 100 SMS/day"},
                    {"rs": "666.50", "validity": "84 days", "desc": "1.5 GB/day, unlimited calls"}
                ],
                "True 5G Unlimited Plans": [
                    {"rs": 349, "validity": "28 days", "desc": "Unlimited 5G data, 2 GB/day 4G"}
                ]
            }}),
        ))
    }

    /// The V1 BrowsPlan: `RegistrationID`, `circle`, `op`, each a non-empty
    /// string. Its answer is written as Paysprint's plan lookup writes one
    /// (`responsecode`, plans by category under `info`, a category may be
    /// empty).
    pub(super) fn browse_plans_v1(
        &self,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        only_keys(obj, &["RegistrationID", "circle", "op"])?;
        required_str(obj, "RegistrationID")?;
        required_str(obj, "circle")?;
        let operator = required_str(obj, "op")?;
        received.count();
        if MAGIC_PLAN_OPERATORS.iter().any(|(op, _)| *op == operator) {
            return Ok(answer(
                StatusCode::OK,
                &json!({"status": false, "responsecode": 2,
                        "message": format!("No plans found for operator {operator}")}),
            ));
        }
        Ok(answer(
            StatusCode::OK,
            &json!({"status": true, "responsecode": 1, "message": "Plan Fetched Successfully",
            "info": {
                "TOPUP": [
                    {"rs": "10", "desc": "Talktime of Rs 7.47", "validity": "NA", "last_update": "05-12-2026"}
                ],
                "FULLTT": [
                    {"rs": 299, "desc": "Unlimited calls, 1.5 GB/day, 100 SMS/day", "validity": "28 days", "last_update": "05-12-2026"},
                    {"rs": "839", "desc": "Unlimited calls, 2 GB/day", "validity": "84 days", "last_update": "05-12-2026"}
                ],
                "2G": []
            }}),
        ))
    }
}

/// An operator code: a positive integer, or its digits as a string (the
/// sample sends a number, the table says "String").
pub(super) fn operator_code(obj: &Map<String, Value>) -> Result<u64, Rejection> {
    match obj.get("operator") {
        Some(Value::Number(n)) => whole_number(n).filter(|n| (1..=2_147_483_647).contains(n)),
        Some(Value::String(s)) if s.len() <= 9 && !s.starts_with('0') => s
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten(),
        Some(_) => None,
        None => return Err(Rejection::Bad("operator is required".to_owned())),
    }
    .ok_or_else(|| Rejection::Bad("operator must be a positive integer".to_owned()))
}

/// An account number (`canumber`): a positive integer or a string of letters
/// and digits, as text.
pub(super) fn account_number(
    obj: &Map<String, Value>,
    strings_only: bool,
) -> Result<String, Rejection> {
    let text = match obj.get("canumber") {
        // A number only as far as it is exact in a double (15 digits).
        Some(Value::Number(n)) if !strings_only => whole_number(n)
            .filter(|n| (1..=999_999_999_999_999).contains(n))
            .map(|n| n.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => None,
        None => return Err(Rejection::Bad("canumber is required".to_owned())),
    };
    text.filter(|t| !t.is_empty() && t.len() <= 32 && t.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or_else(|| {
            Rejection::Bad(if strings_only {
                "canumber must be a string of letters and digits".to_owned()
            } else {
                "canumber must be a positive integer or a string of letters and digits".to_owned()
            })
        })
}

impl State {
    /// FetchBilPaymentDetails: `operator`, `canumber`, `mode`
    /// ("online"/"offline"), `RegistrationID`.
    pub(super) fn fetch_bill(
        &self,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        only_keys(obj, &["RegistrationID", "operator", "canumber", "mode"])?;
        required_str(obj, "RegistrationID")?;
        operator_code(obj)?;
        let account = account_number(obj, false)?;
        let mode = required_str(obj, "mode")?;
        if mode != "online" && mode != "offline" {
            return Err(Rejection::Bad(
                "mode must be \"online\" or \"offline\"".to_owned(),
            ));
        }
        received.count();
        let (amount, accept_payment, part) = match account.as_str() {
            "9000000203" => {
                return Ok(answer(
                    StatusCode::OK,
                    &json!({"status": false, "response_code": 2, "message": "Unable to fetch the bill from the biller"}),
                ));
            }
            "9000000201" => ("0", false, false),
            "9000000202" => ("1500.00", true, true),
            _ => ("820.50", true, false),
        };
        Ok(answer(
            StatusCode::OK,
            &json!({"status": true, "response_code": 1, "amount": amount, "name": "Sandbox Consumer",
                    "duedate": "2026-12-20", "message": "Bill fetched",
                    "bill_fetch": {"billAmount": amount, "billnetamount": amount, "billdate": "2026-11-20",
                                   "dueDate": "2026-12-20", "acceptPayment": accept_payment,
                                   "acceptPartPay": part, "cellNumber": account,
                                   "userName": "Sandbox Consumer"}}),
        ))
    }

    /// FetchConsumerDetails (FASTag): `operator`, `canumber` (a string),
    /// `RegistrationID`.
    pub(super) fn fetch_fastag(
        &self,
        obj: &Map<String, Value>,
        received: Received<'_>,
    ) -> Result<Answer, Rejection> {
        only_keys(obj, &["RegistrationID", "operator", "canumber"])?;
        required_str(obj, "RegistrationID")?;
        operator_code(obj)?;
        let vehicle = account_number(obj, true)?;
        received.count();
        if MAGIC_VEHICLES.iter().any(|(v, _)| *v == vehicle) {
            return Ok(answer(
                StatusCode::OK,
                &json!({"status": false, "response_code": 2, "message": "No FASTag found for this vehicle"}),
            ));
        }
        Ok(answer(
            StatusCode::OK,
            &json!({"status": true, "response_code": 1, "amount": "0", "name": "Sandbox Vehicle Owner",
                    "message": "FASTag details fetched",
                    "bill_fetch": {"billAmount": "0", "billnetamount": "0", "acceptPayment": true,
                                   "acceptPartPay": true, "minBillAmount": "100.00",
                                   "maxBillAmount": "10000.00", "cellNumber": vehicle,
                                   "userName": "Sandbox Vehicle Owner"}}),
        ))
    }
}
