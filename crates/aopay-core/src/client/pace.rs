//! One pace for the whole batch: sends spaced `1/rate` apart, and a pause
//! that a 429 sets for every sender, not just the one that met it.
//!
//! The pace is shared through the journal by every process batching on it
//! for the same account (docs/protocol.md §9): each takes a span of slots
//! (a twentieth of a second's worth) from one row, on the journal's clock,
//! so several workers together keep to the rate.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::journal::{Journal, Pace};

#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Option<Duration>,
    slots: Mutex<Slots>,
    shared: Option<Shared>,
    /// One span is taken from the journal at a time.
    taking: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct Slots {
    /// When the next slot is (or, paused, the earliest any sender may go).
    next: Instant,
    /// Slots of the span taken and not used yet (without a shared pace:
    /// as many as wanted).
    left: u32,
}

#[derive(Debug)]
struct Shared {
    journal: Journal,
    name: String,
    /// Slots taken at once.
    span: u32,
}

impl Pacer {
    /// `shared`: the journal and the name of the pace (one per account).
    pub(crate) fn new(rate: Option<f64>, shared: Option<(Journal, String)>) -> Self {
        let interval = rate.map(|r| Duration::from_secs_f64(1.0 / r));
        let shared = match (rate, shared) {
            (Some(r), Some((journal, name))) => Some(Shared {
                journal,
                name,
                span: ((r / 20.0).round() as u32).clamp(1, 500),
            }),
            _ => None,
        };
        Self {
            interval,
            slots: Mutex::new(Slots {
                next: Instant::now(),
                left: if shared.is_some() { 0 } else { u32::MAX },
            }),
            shared,
            taking: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait for this sender's slot.
    pub(crate) async fn ready(&self) {
        loop {
            if let Some(at) = self.take_slot() {
                // A slot already due goes at once: a timer, even an expired
                // one, waits for the timer driver's next turn (up to a
                // millisecond, on every send of an unpaced batch).
                if at > Instant::now() {
                    tokio::time::sleep_until(at).await;
                }
                return;
            }
            let _taking = self.taking.lock().await;
            if self.lock().left == 0 {
                self.take_span().await;
            }
        }
    }

    /// The next slot, if one is left; a slot a whole interval past is
    /// dropped (another process may be using the time after it).
    fn take_slot(&self) -> Option<Instant> {
        let mut s = self.lock();
        let now = Instant::now();
        let Some(interval) = self.interval else {
            return Some(s.next.max(now));
        };
        while s.left > 0 {
            let at = s.next;
            s.next += interval;
            if self.shared.is_some() {
                s.left -= 1;
                if at + interval < now {
                    continue;
                }
                return Some(at);
            }
            // Alone, a slot left unused does not bank a burst.
            let at = at.max(now);
            s.next = at + interval;
            return Some(at);
        }
        None
    }

    async fn take_span(&self) {
        let Some(sh) = &self.shared else { return };
        let interval = self.interval.unwrap_or_default();
        let step = Pace {
            span_us: (interval * sh.span).as_micros() as i64,
            pause_us: 0,
        };
        let taken = sh.journal.pace(&sh.name, step).await;
        let mut s = self.lock();
        let now = Instant::now();
        match taken {
            Ok(p) => {
                tracing::trace!(target: "aopay::batch", start_us = p.start_us, delay_us = p.delay_us, slots = sh.span, "took a span of the shared pace");
                let from = now + Duration::from_micros(u64::try_from(p.delay_us).unwrap_or(0));
                // A local pause still holds.
                s.next = from.max(s.next);
            }
            Err(e) => {
                // The journal is the batch's ground truth; when it cannot
                // pace, this process keeps the rate alone for a span.
                tracing::warn!(target: "aopay::batch", error = %e, "cannot share the pace through the journal; pacing this process alone");
                s.next = s.next.max(now);
            }
        }
        s.left = sh.span;
    }

    /// No sender goes before `pause` from now: here at once, and through
    /// the journal in every process sharing the pace.
    pub(crate) async fn pause(&self, pause: Duration) {
        {
            let mut s = self.lock();
            s.next = s.next.max(Instant::now() + pause);
            if self.shared.is_some() {
                // The span taken lies inside the pause: take a new one after.
                s.left = 0;
            }
        }
        if let Some(sh) = &self.shared {
            let step = Pace {
                span_us: 0,
                pause_us: pause.as_micros() as i64,
            };
            if let Err(e) = sh.journal.pace(&sh.name, step).await {
                tracing::warn!(target: "aopay::batch", error = %e, "cannot share a pause through the journal");
            }
        }
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
        let p = Pacer::new(Some(100.0), None);
        let start = Instant::now();
        for _ in 0..10 {
            p.ready().await;
        }
        // The first goes at once, the next nine 10 ms apart.
        assert_eq!(start.elapsed(), Duration::from_millis(90));
        p.pause(Duration::from_secs(2)).await;
        let before = Instant::now();
        p.ready().await;
        assert!(before.elapsed() >= Duration::from_secs(2));
    }
}
