//! Any bytes, any status, either call: the parser returns a Recharge or an
//! error, never panics, and keeps error excerpts bounded.
#![no_main]

use aopay_core::{Call, interpret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (100 + (u16::from(*a) << 8 | u16::from(*b)) % 500, rest),
        _ => (200, data),
    };
    for call in [Call::MobileRecharge, Call::RechargeStatus] {
        match interpret(call, status, None, body) {
            Ok(r) => assert!((200..300).contains(&r.meta.http_status)),
            Err(e) => {
                assert_eq!(e.http_status(), Some(status));
                assert!(e.body_excerpt().is_none_or(|x| x.len() <= aopay_core::BODY_EXCERPT_LIMIT + 3));
            }
        }
    }
});
