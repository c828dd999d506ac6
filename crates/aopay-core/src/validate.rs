//! Validated input types: every rule of docs/protocol.md §3, checked before
//! anything is sent. Each constructor names the field and the rule it broke.

use std::fmt;
use std::time::Duration;

use crate::error::ValidationError;

/// Largest integer a JavaScript number holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Check a free-text identifier: non-empty, no control characters, bounded.
pub(crate) fn check_text(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    let n = value.chars().count();
    if n > max_chars {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max_chars} characters (got {n})"),
        ));
    }
    Ok(())
}

/// Turn a JavaScript number into an integer for `field`: it must be finite,
/// whole and a safe integer. Used by the Node binding.
pub fn integer_from_f64(field: &'static str, value: f64) -> Result<i64, ValidationError> {
    if !value.is_finite() {
        return Err(ValidationError::new(field, "must be a finite integer"));
    }
    if value.fract() != 0.0 {
        return Err(ValidationError::new(field, "must be a whole number"));
    }
    if value.abs() > MAX_SAFE_INTEGER {
        return Err(ValidationError::new(field, "must be a safe integer"));
    }
    // Exact: |value| <= 2^53 and whole.
    #[allow(clippy::cast_possible_truncation)]
    Ok(value as i64)
}

/// A timeout given in seconds (as the bindings and the CLI take them):
/// finite and greater than zero.
pub fn duration_from_secs(field: &'static str, secs: f64) -> Result<Duration, ValidationError> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| ValidationError::new(field, "must be a positive number of seconds"))
}

/// The account's registration id, e.g. `AOP-554`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RegistrationId(String);

impl RegistrationId {
    /// Non-empty, no control characters, at most 64 characters.
    pub fn new(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        check_text("registration_id", &value, 64)?;
        Ok(Self(value))
    }

    /// The value as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RegistrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistrationId({:?})", self.0)
    }
}

/// A reference the API returned for a transaction (`ReferanceID`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReferenceId(String);

impl ReferenceId {
    /// Non-empty, no control characters, at most 128 characters.
    pub fn new(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        check_text("reference_id", &value, 128)?;
        Ok(Self(value))
    }

    /// The value as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The caller's own id for one recharge (an order id): the same key never
/// pays twice (see `Journal`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Non-empty, at most 128 printable characters (no control characters).
    pub fn new(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        check_text("idempotency_key", &value, 128)?;
        Ok(Self(value))
    }

    /// The value as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Operator/product code, 1 ..= 2^31-1 (518 is Airtel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProductId(u32);

impl ProductId {
    /// The largest product code (2^31 - 1).
    pub const MAX: i64 = i32::MAX as i64;

    /// Validate a product code: 1 ..= 2^31-1.
    pub fn new(value: i64) -> Result<Self, ValidationError> {
        if !(1..=Self::MAX).contains(&value) {
            return Err(ValidationError::new(
                "product_id",
                format!("must be between 1 and {} (got {value})", Self::MAX),
            ));
        }
        Ok(Self(value as u32))
    }

    /// The validated value.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Whole rupees, 1 ..= 1,000,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount(u32);

impl Amount {
    /// The largest amount, in rupees.
    pub const MAX: i64 = 1_000_000;

    /// Validate an amount: whole rupees, 1 ..= 1,000,000.
    pub fn new(value: i64) -> Result<Self, ValidationError> {
        if !(1..=Self::MAX).contains(&value) {
            return Err(ValidationError::new(
                "amount",
                format!(
                    "must be whole rupees between 1 and {} (got {value})",
                    Self::MAX
                ),
            ));
        }
        Ok(Self(value as u32))
    }

    /// The validated value.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// A mobile number or DTH customer number, sent as a JSON integer.
///
/// `Debug` and `Display` show it masked (`98XXXXXX10`): it is personal data.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomerNumber(u64);

impl CustomerNumber {
    /// Longest accepted number, in digits.
    pub const MAX_DIGITS: usize = 18;

    /// Parse a number as people write it: spaces and dashes are removed;
    /// `+91` or `0` before a 10-digit mobile number is removed. What is left
    /// must be 1 to 18 ASCII digits that do not start with `0` (the wire type
    /// is an integer, so a leading zero would be lost).
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "customer_number";
        let compact: String = text.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if compact.is_empty() {
            return Err(ValidationError::new(FIELD, "must not be empty"));
        }
        if compact
            .chars()
            .any(|c| !c.is_ascii_digit() && c.is_numeric())
        {
            return Err(ValidationError::new(
                FIELD,
                "must use ASCII digits 0-9 only",
            ));
        }
        let digits = match compact.strip_prefix("+91") {
            Some(rest) if rest.len() == 10 => rest,
            Some(_) => {
                return Err(ValidationError::new(
                    FIELD,
                    "+91 must be followed by a 10-digit mobile number",
                ));
            }
            None if compact.len() == 11 && compact.starts_with('0') => &compact[1..],
            None => compact.as_str(),
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new(
                FIELD,
                "must contain only digits (spaces and dashes are allowed)",
            ));
        }
        if digits.starts_with('0') {
            return Err(ValidationError::new(
                FIELD,
                "must not start with 0 (it is sent as an integer, so the zero would be lost)",
            ));
        }
        if digits.len() > Self::MAX_DIGITS {
            return Err(ValidationError::new(
                FIELD,
                format!(
                    "must have at most {} digits (got {})",
                    Self::MAX_DIGITS,
                    digits.len()
                ),
            ));
        }
        // At most 18 digits always fits.
        digits
            .parse::<u64>()
            .map(Self)
            .map_err(|_| ValidationError::new(FIELD, "must be a number"))
    }

    /// From an integer: 1 ..= 10^18 - 1.
    pub fn from_integer(value: i64) -> Result<Self, ValidationError> {
        if !(1..=999_999_999_999_999_999).contains(&value) {
            return Err(ValidationError::new(
                "customer_number",
                format!(
                    "must be a positive number of at most {} digits",
                    Self::MAX_DIGITS
                ),
            ));
        }
        Ok(Self(value as u64))
    }

    /// The number, as sent on the wire.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The number with all but its first two and last two digits masked.
    pub fn masked(self) -> String {
        mask_digits(&self.0.to_string())
    }
}

/// Mask a digit string for logs: `9876543210` → `98XXXXXX10`.
pub fn mask_digits(digits: &str) -> String {
    let n = digits.chars().count();
    if n <= 4 {
        return "X".repeat(n);
    }
    digits
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 2 || i >= n - 2 { c } else { 'X' })
        .collect()
}

impl fmt::Debug for CustomerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomerNumber({})", self.masked())
    }
}

impl fmt::Display for CustomerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Where the request originated, sent as `"lat,long"` with at most six
/// decimals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geocode {
    lat: f64,
    long: f64,
}

impl Geocode {
    /// From a pair: finite, lat in -90..=90, long in -180..=180.
    pub fn new(lat: f64, long: f64) -> Result<Self, ValidationError> {
        if !lat.is_finite() || !long.is_finite() {
            return Err(ValidationError::new(
                "geocode",
                "latitude and longitude must be finite",
            ));
        }
        if !(-90.0..=90.0).contains(&lat) {
            return Err(ValidationError::new(
                "geocode",
                format!("latitude must be between -90 and 90 (got {lat})"),
            ));
        }
        if !(-180.0..=180.0).contains(&long) {
            return Err(ValidationError::new(
                "geocode",
                format!("longitude must be between -180 and 180 (got {long})"),
            ));
        }
        Ok(Self { lat, long })
    }

    /// From `"lat,long"` (spaces around either number are allowed).
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let rule = "must be \"lat,long\", e.g. \"23.6784,76.8764\"";
        let (lat, long) = text
            .split_once(',')
            .ok_or_else(|| ValidationError::new("geocode", rule))?;
        let num = |s: &str| -> Result<f64, ValidationError> {
            let s = s.trim();
            // Only plain decimal notation: no "inf", "NaN", hex or exponents.
            let plain = !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+');
            if !plain {
                return Err(ValidationError::new("geocode", rule));
            }
            s.parse::<f64>()
                .map_err(|_| ValidationError::new("geocode", rule))
        };
        Self::new(num(lat)?, num(long)?)
    }

    /// Latitude, -90..=90.
    pub fn lat(self) -> f64 {
        self.lat
    }

    /// Longitude, -180..=180.
    pub fn long(self) -> f64 {
        self.long
    }

    /// The wire form, `"lat,long"`, each rounded to six decimals with
    /// trailing zeros removed.
    pub fn to_wire(self) -> String {
        format!("{},{}", fmt_coord(self.lat), fmt_coord(self.long))
    }
}

fn fmt_coord(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

impl fmt::Display for Geocode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

/// `localhost` or a loopback address (IPv6 with or without brackets): this
/// machine, where plain HTTP and plain PostgreSQL are allowed by default.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_number_rules() {
        let ok = |s: &str| CustomerNumber::parse(s).map(|c| c.get());
        assert_eq!(ok("9876543210"), Ok(9_876_543_210));
        assert_eq!(ok("+919876543210"), Ok(9_876_543_210));
        assert_eq!(ok("+91 98765-43210"), Ok(9_876_543_210));
        assert_eq!(ok("09876543210"), Ok(9_876_543_210));
        assert_eq!(ok("1"), Ok(1));
        assert_eq!(ok("123456789012345678"), Ok(123_456_789_012_345_678));
        for bad in [
            "",
            " - ",
            "0123",
            "00",
            "1234567890123456789",
            "98765a3210",
            "+9198765",
            "+1 2025550123",
            "९८७६५४३२१०",
            "9876543210.0",
        ] {
            let e = CustomerNumber::parse(bad).expect_err(bad);
            assert_eq!(e.field(), "customer_number");
        }
        assert!(
            CustomerNumber::parse("९८७६५४३२१०")
                .unwrap_err()
                .rule()
                .contains("ASCII")
        );
        assert!(
            CustomerNumber::parse("0123")
                .unwrap_err()
                .rule()
                .contains("start with 0")
        );
    }

    #[test]
    fn customer_number_is_masked() {
        let c = CustomerNumber::parse("9876543210").unwrap();
        assert_eq!(format!("{c:?}"), "CustomerNumber(98XXXXXX10)");
        assert_eq!(c.to_string(), "98XXXXXX10");
        assert_eq!(mask_digits("123"), "XXX");
    }

    #[test]
    fn geocode_rules_and_wire_form() {
        assert_eq!(
            Geocode::parse("23.6784,76.8764").unwrap().to_wire(),
            "23.6784,76.8764"
        );
        assert_eq!(
            Geocode::parse(" 23.1234567 , -76 ").unwrap().to_wire(),
            "23.123457,-76"
        );
        assert_eq!(Geocode::new(-0.0, 0.0).unwrap().to_wire(), "0,0");
        assert_eq!(Geocode::new(90.0, -180.0).unwrap().to_wire(), "90,-180");
        for bad in [
            "", "23.6", "a,b", "91,0", "0,181", "NaN,0", "inf,0", "1e1,2", "1,2,3",
        ] {
            assert_eq!(Geocode::parse(bad).expect_err(bad).field(), "geocode");
        }
        assert!(Geocode::new(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn numeric_ranges() {
        assert!(Amount::new(1).is_ok() && Amount::new(1_000_000).is_ok());
        assert!(Amount::new(0).is_err() && Amount::new(1_000_001).is_err());
        assert!(Amount::new(-5).is_err());
        assert!(ProductId::new(1).is_ok() && ProductId::new(i64::from(i32::MAX)).is_ok());
        assert!(ProductId::new(0).is_err() && ProductId::new(1 << 31).is_err());
        assert_eq!(integer_from_f64("amount", 10.0), Ok(10));
        assert!(integer_from_f64("amount", 10.5).is_err());
        assert!(integer_from_f64("amount", f64::NAN).is_err());
        assert!(integer_from_f64("amount", 2f64.powi(60)).is_err());
        assert_eq!(
            duration_from_secs("timeout", 1.5),
            Ok(Duration::from_millis(1500))
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                duration_from_secs("timeout", bad).unwrap_err().field(),
                "timeout"
            );
        }
    }

    #[test]
    fn text_rules() {
        assert!(RegistrationId::new("AOP-554").is_ok());
        assert!(RegistrationId::new("").is_err());
        assert!(RegistrationId::new("   ").is_err());
        assert!(RegistrationId::new("AOP\n554").is_err());
        assert!(RegistrationId::new("x".repeat(65)).is_err());
        assert!(RegistrationId::new("x".repeat(64)).is_ok());
        assert!(ReferenceId::new("AOP554R1").is_ok());
        assert_eq!(ReferenceId::new("").unwrap_err().field(), "reference_id");
        assert!(IdempotencyKey::new("order-123").is_ok());
        assert!(IdempotencyKey::new("k".repeat(128)).is_ok());
        for bad in [
            String::new(),
            "k".repeat(129),
            "a\tb".to_owned(),
            " ".to_owned(),
        ] {
            assert_eq!(
                IdempotencyKey::new(bad).unwrap_err().field(),
                "idempotency_key"
            );
        }
    }
}
