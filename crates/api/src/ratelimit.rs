//! An in-process limiter of failed attempts, such as wrong claim number and email pairs
//! (F11).
//!
//! What this module promises:
//! - A key (a client address from [`ip_key`], or any other string) that failed
//!   `max_failures` times within the last `window` is blocked until the oldest of those
//!   failures leaves the window; the caller learns how long, in whole seconds, rounded up.
//! - A success does not wipe failures: otherwise opening one's own claim between two
//!   guesses would reset the count.
//! - Memory is bounded: a key keeps at most `max_failures` instants, keys whose last
//!   failure left the window are purged, and past `max_keys` keys the longest idle ones
//!   are forgotten.
//! - Time is passed in (`now`), so tests move it as they like.
//! - Counts live in this process: with several server instances, each counts on its own.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept at most, unless [`RateLimiter::with_max_keys`] says otherwise.
pub const DEFAULT_MAX_KEYS: usize = 100_000;
/// Records between two purges of idle keys.
const PURGE_EVERY: usize = 1024;

/// Counts failures per key over a sliding window.
#[derive(Debug)]
pub struct RateLimiter {
    max_failures: usize,
    window: Duration,
    max_keys: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    failures: HashMap<String, VecDeque<Instant>>,
    records_since_purge: usize,
}

impl RateLimiter {
    /// At most `max_failures` failures per key within `window` (e.g. 10 per 15 minutes).
    pub fn new(max_failures: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            max_failures: usize::try_from(max_failures).unwrap_or(usize::MAX).max(1),
            window,
            max_keys: DEFAULT_MAX_KEYS,
            state: Mutex::new(State::default()),
        }
    }

    /// Keeps at most `max_keys` keys.
    pub fn with_max_keys(mut self, max_keys: usize) -> RateLimiter {
        self.max_keys = max_keys.max(1);
        self
    }

    /// How long `key` must wait before its next attempt, if it is blocked now.
    pub fn blocked(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut state = self.lock();
        let failures = state.failures.get_mut(key)?;
        self.forget_expired(failures, now);
        self.wait(failures, now)
    }

    /// Records a failure of `key`; answers how long it must now wait, if it is blocked.
    pub fn record(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut state = self.lock();
        state.records_since_purge += 1;
        if state.records_since_purge >= PURGE_EVERY || state.failures.len() >= self.max_keys {
            self.purge(&mut state, now);
        }

        let failures = state.failures.entry(key.to_owned()).or_default();
        failures.push_back(now);
        while failures.len() > self.max_failures {
            failures.pop_front();
        }
        self.forget_expired(failures, now);
        self.wait(failures, now)
    }

    /// The number of keys with failures remembered.
    pub fn len(&self) -> usize {
        self.lock().failures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent whatever point a panicking holder reached.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn forget_expired(&self, failures: &mut VecDeque<Instant>, now: Instant) {
        while failures
            .front()
            .is_some_and(|&at| now.saturating_duration_since(at) >= self.window)
        {
            failures.pop_front();
        }
    }

    fn wait(&self, failures: &VecDeque<Instant>, now: Instant) -> Option<Duration> {
        if failures.len() < self.max_failures {
            return None;
        }
        let oldest = *failures.front()?;
        let left = self
            .window
            .saturating_sub(now.saturating_duration_since(oldest));
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        Some(Duration::from_secs(secs.max(1)))
    }

    /// Drops keys whose last failure left the window; if still too many, drops the longest
    /// idle ones down to nine tenths of the bound, so the next purges are not immediate.
    fn purge(&self, state: &mut State, now: Instant) {
        state.records_since_purge = 0;
        let window = self.window;
        state.failures.retain(|_, failures| {
            failures
                .back()
                .is_some_and(|&at| now.saturating_duration_since(at) < window)
        });
        if state.failures.len() < self.max_keys {
            return;
        }

        let keep = self.max_keys - self.max_keys / 10 - 1;
        let mut by_last_failure: Vec<(Instant, String)> = state
            .failures
            .iter()
            .filter_map(|(key, failures)| failures.back().map(|&at| (at, key.clone())))
            .collect();
        by_last_failure.sort_unstable();
        let excess = by_last_failure.len().saturating_sub(keep);
        for (_, key) in by_last_failure.into_iter().take(excess) {
            state.failures.remove(&key);
        }
        tracing::warn!(
            forgotten = excess,
            "failed-attempt limiter full: forgot the longest idle addresses"
        );
    }
}

/// The key of a client address: an IPv4 address as is (also when IPv4-mapped), an IPv6
/// address by its /64 network, the block usually handed to one subscriber.
pub fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn limiter() -> RateLimiter {
        RateLimiter::new(10, 15 * MINUTE)
    }

    #[test]
    fn ten_failures_block_until_the_first_leaves_the_window() {
        let limiter = limiter();
        let t0 = Instant::now();
        for i in 0..9 {
            assert_eq!(
                limiter.record("1.2.3.4", t0 + i * MINUTE),
                None,
                "failure {i}"
            );
        }
        assert_eq!(limiter.blocked("1.2.3.4", t0 + 9 * MINUTE), None);

        let tenth = t0 + 9 * MINUTE;
        assert_eq!(limiter.record("1.2.3.4", tenth), Some(6 * MINUTE));
        assert_eq!(limiter.blocked("1.2.3.4", tenth + MINUTE), Some(5 * MINUTE));
        let almost = t0 + 15 * MINUTE - Duration::from_millis(1500);
        assert_eq!(
            limiter.blocked("1.2.3.4", almost),
            Some(Duration::from_secs(2))
        );
        assert_eq!(limiter.blocked("1.2.3.4", t0 + 15 * MINUTE), None);

        // The window slides: one more failure now is the tenth within 15 minutes again.
        let later = t0 + 15 * MINUTE;
        assert_eq!(limiter.record("1.2.3.4", later), Some(MINUTE));
    }

    #[test]
    fn keys_are_counted_apart() {
        let limiter = limiter();
        let t0 = Instant::now();
        for _ in 0..10 {
            limiter.record("a", t0);
        }
        assert!(limiter.blocked("a", t0).is_some());
        assert_eq!(limiter.blocked("b", t0), None);
        assert_eq!(limiter.blocked("never seen", t0), None);
    }

    #[test]
    fn the_wait_is_in_whole_seconds_at_least_one() {
        let limiter = RateLimiter::new(1, Duration::from_millis(300));
        let t0 = Instant::now();
        assert_eq!(limiter.record("k", t0), Some(Duration::from_secs(1)));
        assert_eq!(
            limiter.blocked("k", t0 + Duration::from_millis(299)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(limiter.blocked("k", t0 + Duration::from_millis(300)), None);
    }

    #[test]
    fn a_key_keeps_no_more_instants_than_the_limit() {
        let limiter = RateLimiter::new(3, MINUTE);
        let t0 = Instant::now();
        for i in 0..1000 {
            limiter.record("k", t0 + Duration::from_millis(i));
        }
        let state = limiter.lock();
        assert_eq!(state.failures["k"].len(), 3);
    }

    #[test]
    fn idle_keys_are_purged() {
        let limiter = limiter().with_max_keys(10);
        let t0 = Instant::now();
        for i in 0..10 {
            limiter.record(&format!("old {i}"), t0);
        }
        assert_eq!(limiter.len(), 10);
        limiter.record("new", t0 + 15 * MINUTE);
        assert_eq!(limiter.len(), 1);
    }

    #[test]
    fn memory_stays_bounded_under_many_addresses() {
        let limiter = limiter().with_max_keys(100);
        let t0 = Instant::now();
        for i in 0..5000u64 {
            limiter.record(
                &format!("10.0.{}.{}", i / 256, i % 256),
                t0 + Duration::from_millis(i),
            );
            assert!(limiter.len() <= 100, "{} keys after {i}", limiter.len());
        }
        // The most recent offenders are the ones remembered.
        let last = "10.0.19.135";
        for _ in 0..9 {
            limiter.record(last, t0 + Duration::from_secs(10));
        }
        assert!(limiter
            .blocked(last, t0 + Duration::from_secs(10))
            .is_some());
        let state = limiter.lock();
        assert!(
            !state.failures.contains_key("10.0.0.0"),
            "the longest idle are forgotten"
        );
    }

    #[test]
    fn shared_between_threads() {
        let limiter = Arc::new(limiter());
        let t0 = Instant::now();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                std::thread::spawn(move || {
                    for _ in 0..5 {
                        limiter.record("shared", t0);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("thread");
        }
        assert_eq!(limiter.blocked("shared", t0), Some(15 * MINUTE));
    }

    #[test]
    fn addresses_are_keyed_by_subscriber() {
        assert_eq!(ip_key("192.0.2.7".parse().expect("ip")), "192.0.2.7");
        assert_eq!(ip_key("::ffff:192.0.2.7".parse().expect("ip")), "192.0.2.7");
        let a = ip_key("2001:db8:1:2::1".parse().expect("ip"));
        let b = ip_key("2001:db8:1:2:ffff:ffff:ffff:ffff".parse().expect("ip"));
        let c = ip_key("2001:db8:1:3::1".parse().expect("ip"));
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
