//! Exact money: integer paise, never a float (docs/protocol.md §3).

use std::fmt;

use crate::error::ValidationError;

/// An amount of rupees held exactly, as integer paise. Parsed from the
/// decimal text the API writes (`"820.50"`, `"100"`, `"0.5"`), shown the
/// same way (`"820.50"`).
///
/// ```
/// use aopay_core::Money;
/// let m = Money::parse("amount", "820.5")?;
/// assert_eq!(m.paise(), 82_050);
/// assert_eq!(m.to_string(), "820.50");
/// assert!(Money::parse("amount", "1.005").is_err());
/// # Ok::<(), aopay_core::ValidationError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    /// From whole paise.
    pub const fn from_paise(paise: i64) -> Self {
        Self(paise)
    }

    /// The amount in paise.
    pub const fn paise(self) -> i64 {
        self.0
    }

    /// Decimal text with at most two decimals, an optional sign, no
    /// exponent, no grouping: what an amount looks like on the wire.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, ValidationError> {
        let bad = || {
            ValidationError::new(
                field,
                format!("must be an amount like \"100\" or \"820.50\" (got {text:?})"),
            )
        };
        let t = text.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || frac.len() > 2 {
            return Err(bad());
        }
        if digits.ends_with('.') {
            return Err(bad());
        }
        let rupees: i64 = whole.parse().map_err(|_| bad())?;
        let mut paise: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| bad())?
        };
        if frac.len() == 1 {
            paise *= 10;
        }
        let total = rupees
            .checked_mul(100)
            .and_then(|p| p.checked_add(paise))
            .ok_or_else(bad)?;
        Ok(Self(if negative { -total } else { total }))
    }

    /// The lenient reading of an answer's field: decimal text or a JSON
    /// number written in decimal (`245.5`), never a guess.
    pub(crate) fn from_answer(v: &serde_json::Value) -> Option<Self> {
        match v {
            serde_json::Value::String(s) => Self::parse("amount", s).ok(),
            serde_json::Value::Number(n) => Self::parse("amount", &n.to_string()).ok(),
            _ => None,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let p = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", p / 100, p % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly_and_refuses_what_is_not_an_amount() {
        for (text, paise) in [
            ("0", 0),
            ("100", 10_000),
            ("820.0", 82_000),
            ("820.5", 82_050),
            ("820.50", 82_050),
            (" 0.05 ", 5),
            ("-12.30", -1_230),
            ("+7", 700),
        ] {
            assert_eq!(
                Money::parse("amount", text).unwrap().paise(),
                paise,
                "{text}"
            );
        }
        for bad in [
            "",
            ".5",
            "1.",
            "1.005",
            "1e3",
            "1,000",
            "abc",
            "--1",
            "92233720368547758.08",
        ] {
            assert!(Money::parse("amount", bad).is_err(), "{bad}");
        }
        assert_eq!(Money::from_paise(-5).to_string(), "-0.05");
        assert_eq!(Money::from_paise(82_050).to_string(), "820.50");
    }

    #[test]
    fn answers_are_read_from_text_or_decimal_numbers() {
        let v: serde_json::Value = serde_json::from_str(r#"[245.5, "320", 1e2, true]"#).unwrap();
        assert_eq!(Money::from_answer(&v[0]), Some(Money::from_paise(24_550)));
        assert_eq!(Money::from_answer(&v[1]), Some(Money::from_paise(32_000)));
        assert_eq!(Money::from_answer(&v[2]), Some(Money::from_paise(10_000)));
        assert_eq!(Money::from_answer(&v[3]), None);
    }
}
