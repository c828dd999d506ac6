//! The caller's reference of a write (`referenceid`, docs/protocol.md §8):
//! given, or generated here so that no two writes anywhere share one.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::ValidationError;

/// The reference a referenced write (`do_recharge`, `pay_bill`,
/// `fastag_recharge`) is sent with, and through which its status call
/// finds it again, even when the write's answer was lost.
///
/// ```
/// use aopay_core::ClientReference;
/// let mine = ClientReference::new("order-1001")?;
/// let generated = ClientReference::generate();
/// assert_eq!(generated.as_str().len(), 25);
/// assert!(generated.as_str().bytes().all(|b| b.is_ascii_digit()));
/// assert!(ClientReference::new("a b").is_err());
/// # Ok::<(), aopay_core::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientReference(String);

/// Longest reference accepted from a caller.
pub const MAX_REFERENCE_LEN: usize = 40;

impl ClientReference {
    /// A caller's reference: 1 to 40 ASCII letters, digits, `-` or `_`.
    pub fn new(value: &str) -> Result<Self, ValidationError> {
        let v = value.trim();
        let ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if v.is_empty() || v.len() > MAX_REFERENCE_LEN || !v.bytes().all(ok) {
            return Err(ValidationError::new(
                "reference_id",
                format!("must be 1 to {MAX_REFERENCE_LEN} letters, digits, '-' or '_'"),
            ));
        }
        Ok(Self(v.to_owned()))
    }

    /// A fresh reference: 25 digits, the time in milliseconds (13) then a
    /// 12-digit number drawn from the OS's random source once per process
    /// and counted up by one for each reference. Within a process no two
    /// are equal; two processes (or machines) collide only by drawing
    /// within one count of each other, out of 10^12, in the same
    /// millisecond. A forked child draws its own.
    pub fn generate() -> Self {
        static STATE: Mutex<Option<(u32, u64)>> = Mutex::new(None);
        const SPAN: u64 = 1_000_000_000_000;
        let pid = std::process::id();
        let n = {
            let mut state = STATE
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let next = match *state {
                Some((p, n)) if p == pid => (n + 1) % SPAN,
                _ => random_u64() % SPAN,
            };
            *state = Some((pid, next));
            next
        };
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        Self(format!("{:013}{n:012}", ms % 10_u128.pow(13)))
    }

    /// The reference as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    if getrandom::fill(&mut buf).is_err() {
        // No OS randomness (never seen on supported systems): the clock's
        // nanoseconds and the pid still separate processes.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        return u64::from(nanos) ^ (u64::from(std::process::id()) << 32);
    }
    u64::from_le_bytes(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_references_are_digits_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let r = ClientReference::generate();
            assert_eq!(r.as_str().len(), 25);
            assert!(r.as_str().bytes().all(|b| b.is_ascii_digit()));
            assert!(seen.insert(r), "a reference repeated");
        }
    }

    #[test]
    fn callers_references_are_checked() {
        assert_eq!(
            ClientReference::new(" 12345678 ").unwrap().as_str(),
            "12345678"
        );
        for bad in ["", " ", "a b", "ref#1", "१२३", &"1".repeat(41)] {
            assert_eq!(
                ClientReference::new(bad).unwrap_err().field(),
                "reference_id",
                "{bad}"
            );
        }
    }
}
