//! The sandbox's magic customer numbers: like a payment provider's test
//! cards, each one produces one documented outcome or fault. Any other
//! valid number succeeds at once.

/// What a magic customer number makes the sandbox do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scenario {
    /// 200, `SUCCESS`.
    Success,
    /// 200, `FAILED` (the documented failure body of docs/protocol.md §1, with a reference).
    Failed,
    /// 200, `PENDING`; `SUCCESS` after `pending_checks` status checks.
    PendingThenSuccess,
    /// 200, `PENDING`; `FAILED` after `pending_checks` status checks.
    PendingThenFailed,
    /// 401 with `response_code` 5; nothing recorded.
    Unauthorized,
    /// 429 with `Retry-After`; nothing recorded.
    RateLimited,
    /// Recorded as `SUCCESS`, then answered with HTTP 500.
    ServerErrorAfterRecording,
    /// Recorded as `SUCCESS`, answered only after `slow_delay`.
    Slow,
    /// Recorded as `SUCCESS`, then the connection is dropped unanswered.
    DropAfterRecording,
    /// An HTML 502 page from a "gateway"; nothing recorded.
    BadGatewayHtml,
    /// 200 `SUCCESS`; its first two status checks get HTTP 503.
    StatusUnavailableTwice,
    /// 200, `status: false` without a transaction (insufficient balance);
    /// nothing recorded.
    Refused,
    /// Recorded as `SUCCESS`, answered 200 with a body cut short.
    TruncatedBody,
    /// 200 `SUCCESS`; its first status check gets 429 with `Retry-After`.
    StatusRateLimitedOnce,
}

/// Every magic number, its scenario and a one-line description (the
/// sandbox README's table is this list).
pub const MAGIC_NUMBERS: &[(u64, Scenario, &str)] = &[
    (
        9_000_000_001,
        Scenario::Failed,
        "FAILED (200, the documented failure body)",
    ),
    (
        9_000_000_002,
        Scenario::PendingThenSuccess,
        "PENDING, then SUCCESS after 2 status checks",
    ),
    (
        9_000_000_003,
        Scenario::PendingThenFailed,
        "PENDING, then FAILED after 2 status checks",
    ),
    (
        9_000_000_004,
        Scenario::Unauthorized,
        "HTTP 401, response_code 5; not recorded",
    ),
    (
        9_000_000_005,
        Scenario::RateLimited,
        "HTTP 429 with Retry-After: 1; not recorded",
    ),
    (
        9_000_000_006,
        Scenario::ServerErrorAfterRecording,
        "recorded as SUCCESS, then HTTP 500",
    ),
    (
        9_000_000_007,
        Scenario::Slow,
        "recorded as SUCCESS, answered after 3 s (slow_delay)",
    ),
    (
        9_000_000_008,
        Scenario::DropAfterRecording,
        "recorded as SUCCESS, connection dropped",
    ),
    (
        9_000_000_009,
        Scenario::BadGatewayHtml,
        "HTML 502 page from a gateway; not recorded",
    ),
    (
        9_000_000_010,
        Scenario::StatusUnavailableTwice,
        "SUCCESS; first 2 status checks get 503",
    ),
    (
        9_000_000_011,
        Scenario::Refused,
        "200 status:false, no transaction; not recorded",
    ),
    (
        9_000_000_012,
        Scenario::TruncatedBody,
        "recorded as SUCCESS, 200 with a cut-off body",
    ),
    (
        9_000_000_013,
        Scenario::StatusRateLimitedOnce,
        "SUCCESS; first status check gets 429",
    ),
];

/// The scenario a customer number triggers.
pub fn scenario_for(customer_number: u64) -> Scenario {
    MAGIC_NUMBERS
        .iter()
        .find(|(n, _, _)| *n == customer_number)
        .map_or(Scenario::Success, |(_, s, _)| *s)
}

/// What a magic DTH account number makes GetDthInfo answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DthScenario {
    /// 200 with the account's holder, balance, plan and due date.
    Found,
    /// 200, `status: false`, `response_code` 2: no such account.
    UnknownAccount,
    /// 503 on every attempt: the operator's lookup failed.
    LookupFailed,
}

/// Every magic DTH account number of GetDthInfo, its scenario and a
/// one-line description. Any other valid number is found.
pub const MAGIC_DTH_ACCOUNTS: &[(&str, DthScenario, &str)] = &[
    (
        "9000000101",
        DthScenario::UnknownAccount,
        "GetDthInfo: 200 status:false, response_code 2 (no such account)",
    ),
    (
        "9000000102",
        DthScenario::LookupFailed,
        "GetDthInfo: HTTP 503 on every attempt (the operator's lookup failed)",
    ),
];

/// The scenario a DTH account number triggers.
pub fn dth_scenario_for(number: &str) -> DthScenario {
    MAGIC_DTH_ACCOUNTS
        .iter()
        .find(|(n, _, _)| *n == number)
        .map_or(DthScenario::Found, |(_, s, _)| *s)
}

/// Operators that make GetRechargeBrowsePlan refuse (any other has plans).
pub const MAGIC_PLAN_OPERATORS: &[(&str, &str)] = &[(
    "NoPlansOperator",
    "GetRechargeBrowsePlan and BrowsPlan: 200 status:false, code 2 (no plans)",
)];

/// Account numbers (`canumber`) that change what FetchBilPaymentDetails
/// answers; any other account has a bill of 820.50 due, payable in full only.
pub const MAGIC_BILL_ACCOUNTS: &[(&str, &str)] = &[
    (
        "9000000201",
        "FetchBilPaymentDetails: already paid (amount 0, acceptPayment false)",
    ),
    (
        "9000000202",
        "FetchBilPaymentDetails: 1500.00 due, part payment accepted",
    ),
    (
        "9000000203",
        "FetchBilPaymentDetails: 200 status:false, response_code 2 (the fetch failed)",
    ),
];

/// Vehicles that change what FetchConsumerDetails answers; any other FASTag
/// may be topped up with 100.00 to 10000.00.
pub const MAGIC_VEHICLES: &[(&str, &str)] = &[(
    "FAIL0000",
    "FetchConsumerDetails: 200 status:false, response_code 2 (no such FASTag)",
)];

/// What a magic account makes a referenced write (DoRecharge, a bill
/// payment, a FASTag top-up) do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PaymentScenario {
    /// 200, `response_code` 1: paid at once.
    Success,
    /// 200, `response_code` 0 ("re-query": pending); SUCCESS after
    /// `pending_checks` status checks.
    PendingThenSuccess,
    /// 200, `response_code` 0 (pending); then it fails and is refunded
    /// (`data.status` "0", `refunded` "1") after `pending_checks` checks.
    PendingThenRefunded,
    /// 200, `response_code` 0 (pending); its first status check says
    /// failed and refunded.
    Refunded,
    /// 402 `response_code` 16 (insufficient fund); nothing recorded.
    InsufficientBalance,
    /// Recorded as paid, then answered with HTTP 500.
    ServerErrorAfterRecording,
    /// Recorded as paid, then the connection is dropped unanswered.
    DropAfterRecording,
    /// Recorded as paid, the connection dropped, and its status call
    /// knows no such payment the first time it is asked (a write that
    /// arrived but is not visible yet).
    DropAndLagStatus,
}

/// Accounts, mobile numbers or vehicles (`canumber`) that change what a
/// referenced write does; any other is paid at once. A `referenceid`
/// already used for the same kind of write is refused (402, `status:
/// false`, `response_code` 18 "Duplicate Transaction") and pays nothing.
pub const MAGIC_PAYMENT_ACCOUNTS: &[(&str, PaymentScenario, &str)] = &[
    (
        "9000000301",
        PaymentScenario::PendingThenSuccess,
        "PENDING, then SUCCESS after 2 status checks",
    ),
    (
        "9000000302",
        PaymentScenario::PendingThenRefunded,
        "PENDING, then failed and REFUNDED after 2 status checks",
    ),
    (
        "9000000303",
        PaymentScenario::Refunded,
        "pending (response_code 0), then failed and REFUNDED at the first status check",
    ),
    (
        "9000000304",
        PaymentScenario::InsufficientBalance,
        "402 response_code 16 (insufficient fund); nothing recorded",
    ),
    (
        "9000000305",
        PaymentScenario::ServerErrorAfterRecording,
        "recorded as paid, then HTTP 500",
    ),
    (
        "9000000306",
        PaymentScenario::DropAfterRecording,
        "recorded as paid, then the connection is dropped",
    ),
    (
        "9000000307",
        PaymentScenario::DropAndLagStatus,
        "recorded as paid, the connection dropped, and unknown to the first status check",
    ),
];

/// The scenario of a referenced write's `canumber`.
pub fn payment_scenario_for(account: &str) -> PaymentScenario {
    MAGIC_PAYMENT_ACCOUNTS
        .iter()
        .find(|(a, _, _)| a.eq_ignore_ascii_case(account))
        .map_or(PaymentScenario::Success, |(_, s, _)| *s)
}
