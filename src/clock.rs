//! The service's one source of the current instant.
//!
//! Every rule that depends on "now" (session liveness, expiry, daily usage) reads
//! it from a [`Clock`] and passes it into SQL as a parameter, so tests move time
//! instead of sleeping.

use std::sync::Mutex;

use chrono::{DateTime, Duration, DurationRound, Utc};

/// Source of the current UTC instant, truncated to whole microseconds so that
/// values round-trip unchanged through PostgreSQL and SQLite.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        truncate_to_micros(Utc::now())
    }
}

/// A clock that stands still until moved; used by tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self { now: Mutex::new(truncate_to_micros(start)) }
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now = truncate_to_micros(*now + by);
    }

    pub fn set(&self, to: DateTime<Utc>) {
        let mut now = self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now = truncate_to_micros(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn truncate_to_micros(instant: DateTime<Utc>) -> DateTime<Utc> {
    instant.duration_trunc(Duration::microseconds(1)).unwrap_or(instant)
}
