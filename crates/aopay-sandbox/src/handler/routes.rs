//! Every endpoint the sandbox answers, once: its path, the `Stats` field
//! that counts its well-formed requests, and what answers it. Routing,
//! counting, resetting and `stats()` all read this table.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use super::payments::Family;
use super::{Answer, Rejection, State};
use crate::Stats;

/// One endpoint.
pub(super) struct Route {
    pub(super) path: &'static str,
    /// Its counter in [`Stats`].
    pub(super) stat: fn(&mut Stats) -> &mut u64,
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
        path: "/api/AOP/V2/MobileRecharge",
        stat: |s| &mut s.recharge_requests,
        serve: Serve::Recharge,
    },
    Route {
        path: "/api/AOP/V2/RechargeStatus",
        stat: |s| &mut s.status_requests,
        serve: Serve::RechargeStatus,
    },
    Route {
        path: "/api/AOP/V2/GetDthInfo",
        stat: |s| &mut s.dth_info_requests,
        serve: Serve::Read(State::dth_info),
    },
    Route {
        path: "/api/AOP/V2/GetRechargeBrowsePlan",
        stat: |s| &mut s.browse_plans_requests,
        serve: Serve::Read(State::browse_plans),
    },
    Route {
        path: "/api/AOP/BrowsPlan",
        stat: |s| &mut s.browse_plans_v1_requests,
        serve: Serve::Read(State::browse_plans_v1),
    },
    Route {
        path: "/api/AOP/FetchBilPaymentDetails",
        stat: |s| &mut s.fetch_bill_requests,
        serve: Serve::Read(State::fetch_bill),
    },
    Route {
        path: "/api/AOP/FetchConsumerDetails",
        stat: |s| &mut s.fetch_fastag_requests,
        serve: Serve::Read(State::fetch_fastag),
    },
    Route {
        path: "/api/AOP/DoRecharge",
        stat: |s| &mut s.do_recharge_requests,
        serve: Serve::Pay(Family::DoRecharge),
    },
    Route {
        path: "/api/AOP/RechargesStatus",
        stat: |s| &mut s.do_recharge_status_requests,
        serve: Serve::PaymentStatus(Family::DoRecharge),
    },
    Route {
        path: "/api/AOP/BillPaymentPaybill",
        stat: |s| &mut s.pay_bill_requests,
        serve: Serve::Pay(Family::Bill),
    },
    Route {
        path: "/api/AOP/BillPaymentStatus",
        stat: |s| &mut s.bill_status_requests,
        serve: Serve::PaymentStatus(Family::Bill),
    },
    Route {
        path: "/api/AOP/Recharge",
        stat: |s| &mut s.fastag_recharge_requests,
        serve: Serve::Pay(Family::Fastag),
    },
    Route {
        path: "/api/AOP/RechargeStatus",
        stat: |s| &mut s.fastag_status_requests,
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
    fn each_route_has_a_path_and_a_counter_of_its_own() {
        let mut stats = Stats::default();
        for (i, r) in ROUTES.iter().enumerate() {
            *(r.stat)(&mut stats) = i as u64 + 1;
        }
        for (i, r) in ROUTES.iter().enumerate() {
            assert_eq!(
                *(r.stat)(&mut stats),
                i as u64 + 1,
                "{} shares a counter",
                r.path
            );
            assert!(
                ROUTES[..i].iter().all(|o| o.path != r.path),
                "{} is routed twice",
                r.path
            );
        }
    }
}
