//! Every endpoint the sandbox answers, once: its name (the client's method
//! name, under which `Stats::requests` counts its well-formed requests), its
//! path, and what answers it. Routing, counting, resetting and `stats()`
//! all read this table: a new endpoint is a line here and its handler.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use super::payments::Family;
use super::{Answer, Rejection, State};

/// One endpoint.
pub(super) struct Route {
    /// The client's method name for it (`mobile_recharge`).
    pub(super) name: &'static str,
    pub(super) path: &'static str,
    pub(super) serve: Serve,
}

/// A read's handler: its body's object, counted once well-formed.
pub(super) type Read = fn(&State, &Map<String, Value>, Received<'_>) -> Result<Answer, Rejection>;

/// What answers a route.
#[derive(Clone, Copy)]
pub(super) enum Serve {
    /// The V2 MobileRecharge (a typed fast path).
    Recharge,
    /// The V2 RechargeStatus (a typed fast path).
    RechargeStatus,
    /// A read of a JSON object body.
    Read(Read),
    /// A referenced write of this family.
    Pay(Family),
    /// The status read of this family's writes.
    PaymentStatus(Family),
}

/// Every route, in the order the docs list the endpoints.
pub(super) static ROUTES: [Route; 13] = [
    Route {
        name: "mobile_recharge",
        path: "/api/AOP/V2/MobileRecharge",
        serve: Serve::Recharge,
    },
    Route {
        name: "recharge_status",
        path: "/api/AOP/V2/RechargeStatus",
        serve: Serve::RechargeStatus,
    },
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
    Route {
        name: "do_recharge",
        path: "/api/AOP/DoRecharge",
        serve: Serve::Pay(Family::DoRecharge),
    },
    Route {
        name: "do_recharge_status",
        path: "/api/AOP/RechargesStatus",
        serve: Serve::PaymentStatus(Family::DoRecharge),
    },
    Route {
        name: "pay_bill",
        path: "/api/AOP/BillPaymentPaybill",
        serve: Serve::Pay(Family::Bill),
    },
    Route {
        name: "bill_status",
        path: "/api/AOP/BillPaymentStatus",
        serve: Serve::PaymentStatus(Family::Bill),
    },
    Route {
        name: "fastag_recharge",
        path: "/api/AOP/Recharge",
        serve: Serve::Pay(Family::Fastag),
    },
    Route {
        name: "fastag_status",
        path: "/api/AOP/RechargeStatus",
        serve: Serve::PaymentStatus(Family::Fastag),
    },
];

/// A route's counter, given to its handler: it counts the request once the
/// request is well-formed (before any wait, so a caller that timed out
/// still sees it received).
pub(super) struct Received<'a>(pub(super) &'a AtomicU64);

impl Received<'_> {
    pub(super) fn count(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_has_a_name_and_a_path_of_its_own() {
        for (i, r) in ROUTES.iter().enumerate() {
            assert!(
                ROUTES[..i]
                    .iter()
                    .all(|o| o.path != r.path && o.name != r.name),
                "{} ({}) is routed twice",
                r.path,
                r.name
            );
        }
    }
}
