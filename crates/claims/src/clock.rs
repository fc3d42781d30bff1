//! The time, injected so that tests can move it.
//!
//! Everything that reads "now" (the API, the process manager's deadlines, leases and retries)
//! reads it from a [`Clock`], so a test that moves a [`ManualClock`] moves all of them, and
//! nothing needs to sleep.

use std::sync::Mutex;

use chrono::{DateTime, Duration, DurationRound, Utc};

/// Times are in UTC, to the microsecond: the precision events are stored with, so a time
/// the API answers with equals the one it later reads back.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::microseconds(1)).unwrap_or(at)
}

/// The system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        to_micros(Utc::now())
    }
}

/// A clock that stands still until moved.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock lock") += by;
    }

    /// Moves the clock to `at`, forwards or backwards.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        to_micros(*self.0.lock().expect("clock lock"))
    }
}
