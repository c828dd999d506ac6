//! Every endpoint the sandbox answers, once: its name (the client's method
//! name, under which `Stats::requests` counts its well-formed requests), its
//! path, and what answers it. Routing, counting, resetting and `stats()`
//! all read this table. Each family lists its routes beside its handlers
//! (`recharge`, `reads`, `payments`): a new endpoint is its route there and
//! its handler.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use super::payments::Family;
use super::{Answer, Rejection, State};

/// One endpoint.
#[derive(Clone, Copy)]
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

/// Every route, in the order the docs list the endpoints: each family's
/// list, beside its handlers.
pub(super) static ROUTES: [Route; COUNT] = concat([
    &super::recharge::ROUTES,
    &super::reads::ROUTES,
    &super::payments::ROUTES,
]);

const COUNT: usize =
    super::recharge::ROUTES.len() + super::reads::ROUTES.len() + super::payments::ROUTES.len();

const fn concat(parts: [&[Route]; 3]) -> [Route; COUNT] {
    let mut all = [Route {
        name: "",
        path: "",
        serve: Serve::Recharge,
    }; COUNT];
    let (mut part, mut n) = (0, 0);
    while part < parts.len() {
        let mut i = 0;
        while i < parts[part].len() {
            all[n] = parts[part][i];
            (i, n) = (i + 1, n + 1);
        }
        part += 1;
    }
    all
}

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
