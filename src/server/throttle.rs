//! Slows down password guessing: after a few failures for one username or one address, each
//! further attempt must wait, doubling up to a cap. Kept in memory per instance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before attempts are delayed.
const FREE_FAILURES: u32 = 5;
/// The longest wait imposed.
const MAX_DELAY: Duration = Duration::from_secs(300);
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failure counts per key (`user:<name>` and `ip:<address>`).
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// How long the caller must still wait before an attempt on any of `keys` is accepted.
    pub fn wait_for(&self, keys: &[String], now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|k| failures.get(k))
            .filter_map(|f| {
                let delay = delay_after(f.count)?;
                let ready = f.last + delay;
                (ready > now).then(|| ready - now)
            })
            .max()
    }

    /// Records a failed attempt against every key.
    pub fn record_failure(&self, keys: &[String], now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.retain(|_, f| now.duration_since(f.last) < WINDOW);
        for key in keys {
            let entry = failures.entry(key.clone()).or_insert(Failures {
                count: 0,
                last: now,
            });
            entry.count += 1;
            entry.last = now;
        }
    }

    /// Forgets the failures of `key` (after a successful sign-in).
    pub fn reset(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// The wait imposed after `count` failures: none for the first few, then 1 s, 2 s, 4 s … capped.
fn delay_after(count: u32) -> Option<Duration> {
    let over = count.checked_sub(FREE_FAILURES)?;
    let secs = 1u64.checked_shl(over).unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs).min(MAX_DELAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<String> {
        vec!["user:alice".into(), "ip:10.0.0.1".into()]
    }

    #[test]
    fn first_failures_are_not_delayed() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            t.record_failure(&keys(), now);
        }
        assert_eq!(t.wait_for(&keys(), now), None);
    }

    #[test]
    fn delay_doubles_and_is_capped() {
        assert_eq!(delay_after(4), None);
        assert_eq!(delay_after(5), Some(Duration::from_secs(1)));
        assert_eq!(delay_after(7), Some(Duration::from_secs(4)));
        assert_eq!(delay_after(60), Some(MAX_DELAY));
    }

    #[test]
    fn repeated_failures_impose_a_wait_that_passes() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..FREE_FAILURES + 2 {
            t.record_failure(&keys(), now);
        }
        assert_eq!(t.wait_for(&keys(), now), Some(Duration::from_secs(4)));
        assert_eq!(t.wait_for(&keys(), now + Duration::from_secs(5)), None);
    }

    #[test]
    fn an_address_is_throttled_across_usernames() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..FREE_FAILURES + 1 {
            t.record_failure(&[format!("user:u{i}"), "ip:10.0.0.9".into()], now);
        }
        let fresh_user = vec!["user:someone-else".to_owned(), "ip:10.0.0.9".to_owned()];
        assert!(t.wait_for(&fresh_user, now).is_some());
    }

    #[test]
    fn reset_forgets_a_key() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..FREE_FAILURES + 1 {
            t.record_failure(&["user:bob".to_owned()], now);
        }
        t.reset("user:bob");
        assert_eq!(t.wait_for(&["user:bob".to_owned()], now), None);
    }
}
