//! Any text and numbers through every validator: a value or a
//! ValidationError naming its field, never a panic; accepted values keep
//! their meaning on the wire.
#![no_main]

use aopay_core::{
    Amount, CustomerNumber, Geocode, IdempotencyKey, MobileRecharge, ProductId, ReferenceId,
    RegistrationId, integer_from_f64, parse_base_url,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let n = data.iter().fold(0i64, |acc, b| acc.wrapping_mul(31).wrapping_add(i64::from(*b)));
    let f = f64::from_bits(n as u64);
    if let Ok(c) = CustomerNumber::parse(&text) {
        assert!(c.get() > 0 && c.get().to_string().len() <= CustomerNumber::MAX_DIGITS);
        assert!(!c.get().to_string().starts_with('0'));
    }
    if let Ok(g) = Geocode::parse(&text) {
        let again = Geocode::parse(&g.to_wire()).expect("the wire form parses again");
        assert!((again.lat() - g.lat()).abs() <= 1e-6 && (again.long() - g.long()).abs() <= 1e-6);
    }
    let _ = Geocode::new(f, -f);
    let _ = CustomerNumber::from_integer(n);
    let _ = RegistrationId::new(text.clone());
    let _ = ReferenceId::new(text.clone());
    let _ = IdempotencyKey::new(text.clone());
    let _ = parse_base_url(&text, n % 2 == 0);
    let _ = integer_from_f64("amount", f);
    if let (Ok(p), Ok(a)) = (ProductId::new(n), Amount::new(n % 2_000_000)) {
        if let Ok(c) = CustomerNumber::parse("9876543210") {
            let req = MobileRecharge::from_parts(p, a, c, Geocode::new(1.0, 2.0).expect("valid"));
            let body = req.to_json(&RegistrationId::new("AOP-554").expect("valid"));
            assert!(std::str::from_utf8(&body).is_ok());
        }
    }
});
