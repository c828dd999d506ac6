//! One pace for the whole batch: a token bucket of one (sends spaced
//! `1/rate` apart) and a pause that a 429 sets for every sender, not just
//! the one that met it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub(super) struct Pacer {
    interval: Option<Duration>,
    next: Mutex<Instant>,
}

impl Pacer {
    pub(super) fn new(rate: Option<f64>) -> Self {
        Self {
            interval: rate.map(|r| Duration::from_secs_f64(1.0 / r)),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Wait for this sender's slot.
    pub(super) async fn ready(&self) {
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            // A slot left unused does not bank a burst.
            let at = (*next).max(now);
            if let Some(i) = self.interval {
                *next = at + i;
            }
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// No sender goes before `pause` from now.
    pub(super) fn pause(&self, pause: Duration) {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        *next = (*next).max(Instant::now() + pause);
    }
}

/// `200/s`, `200`, `12000/min`, `5/ms` is refused (a rate above 10,000/s
/// is not pacing).
pub fn parse_rate(text: &str) -> Result<f64, crate::ValidationError> {
    let bad = |why: &str| {
        crate::ValidationError::new(
            "rate",
            format!(
                "{why} (got {text:?}): give orders per second or minute, e.g. 200/s or 600/min"
            ),
        )
    };
    let t = text.trim();
    let (n, per) = t.split_once('/').unwrap_or((t, "s"));
    let n: f64 = n.trim().parse().map_err(|_| bad("must be a number"))?;
    let per = match per.trim() {
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        _ => return Err(bad("must be per s, min or h")),
    };
    let rate = n / per;
    if !rate.is_finite() || rate <= 0.0 || rate > 10_000.0 {
        return Err(bad("must be above 0 and at most 10000/s"));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("200/s").unwrap(), 200.0);
        assert_eq!(parse_rate("200").unwrap(), 200.0);
        assert_eq!(parse_rate("600/min").unwrap(), 10.0);
        for bad in [
            "",
            "0",
            "-1/s",
            "x/s",
            "10/fortnight",
            "20000/s",
            "NaN",
            "inf",
        ] {
            let e = parse_rate(bad).unwrap_err();
            assert_eq!(e.field(), "rate", "{bad}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn senders_are_spaced_and_a_pause_holds_them_all() {
        let p = Pacer::new(Some(100.0));
        let start = Instant::now();
        for _ in 0..10 {
            p.ready().await;
        }
        // The first goes at once, the next nine 10 ms apart.
        assert_eq!(start.elapsed(), Duration::from_millis(90));
        p.pause(Duration::from_secs(2));
        let before = Instant::now();
        p.ready().await;
        assert!(before.elapsed() >= Duration::from_secs(2));
    }
}
