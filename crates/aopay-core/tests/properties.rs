//! Property tests: no input makes the parser or the validators panic, and
//! valid inputs keep their meaning on the wire.

use aopay_core::{
    Amount, Call, CustomerNumber, Geocode, MobileRecharge, ProductId, RegistrationId, Status,
    interpret, parse_base_url,
};
use proptest::prelude::*;

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[a-zA-Z ]{0,12}".prop_map(serde_json::Value::from),
        prop_oneof!["SUCCESS", "pending", "Failed", "FALSE", "false"]
            .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let keys = prop_oneof![
            "status",
            "Status",
            "data",
            "ReferanceID",
            "referenceId",
            "txnId",
            "ackno",
            "message",
            "msg",
            "error",
            "statusCode",
            "response_code",
            "[a-z]{1,6}"
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys, inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_bytes(body in prop::collection::vec(any::<u8>(), 0..512), status in 100u16..600) {
        for call in [Call::MobileRecharge, Call::RechargeStatus] {
            let _ = interpret(call, status, None, &body);
        }
    }

    #[test]
    fn parser_is_total_on_json_and_keeps_raw(v in json_value(), status in prop_oneof![Just(200u16), 100u16..600]) {
        let body = serde_json::to_vec(&v).unwrap();
        match interpret(Call::MobileRecharge, status, None, &body) {
            Ok(r) => {
                prop_assert!((200..300).contains(&status));
                prop_assert_eq!(r.meta.raw, v);
                prop_assert_eq!(r.meta.http_status, status);
            }
            Err(e) => {
                prop_assert_eq!(e.http_status(), Some(status));
                if let Some(x) = e.body_excerpt() { prop_assert!(x.len() <= aopay_core::BODY_EXCERPT_LIMIT + 3); }
            }
        }
    }

    #[test]
    fn validators_never_panic(s in any::<String>(), n in any::<i64>(), x in any::<f64>(), y in any::<f64>()) {
        let _ = CustomerNumber::parse(&s);
        let _ = CustomerNumber::from_integer(n);
        let _ = Geocode::parse(&s);
        let _ = Geocode::new(x, y);
        let _ = RegistrationId::new(s.clone());
        let _ = Amount::new(n);
        let _ = ProductId::new(n);
        let _ = parse_base_url(&s, false);
        let _ = aopay_core::integer_from_f64("amount", x);
    }

    #[test]
    fn valid_geocodes_round_trip(lat in -90.0f64..=90.0, long in -180.0f64..=180.0) {
        let g = Geocode::new(lat, long).unwrap();
        let back = Geocode::parse(&g.to_wire()).unwrap();
        prop_assert!((back.lat() - lat).abs() <= 5e-7 && (back.long() - long).abs() <= 5e-7);
        let (a, b) = g.to_wire().split_once(',').map(|(a, b)| (a.to_owned(), b.to_owned())).unwrap();
        for part in [a, b] {
            prop_assert!(part.split('.').nth(1).is_none_or(|d| d.len() <= 6), "{}", part);
        }
    }

    #[test]
    fn customer_numbers_keep_their_digits(n in 1u64..1_000_000_000_000_000_000) {
        let text = n.to_string();
        prop_assert_eq!(CustomerNumber::parse(&text).unwrap().get(), n);
        let req = MobileRecharge::new(518, 10, &text, "1,2").unwrap();
        let body = req.to_json(&RegistrationId::new("AOP-554").unwrap());
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        prop_assert_eq!(v["CustomerNumber"].as_u64(), Some(n));
    }

    #[test]
    fn amounts_in_range_are_exact(a in 1i64..=1_000_000) {
        prop_assert_eq!(i64::from(Amount::new(a).unwrap().get()), a);
    }

    #[test]
    fn status_words_map_totally(s in any::<String>()) {
        let st = Status::from_api(&s);
        prop_assert!(matches!(st, Status::Success | Status::Pending | Status::Failed | Status::Unknown));
    }
}
