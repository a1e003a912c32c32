//! Slows down password guessing: after a few failures for one username or one address, each
//! further attempt must wait, doubling up to a cap. Kept in memory per instance.
//!
//! An attempt counts as a failure from the moment it is admitted, before its password is
//! checked, and is forgiven when it succeeds: attempts sent all at once are counted as they
//! arrive, so a burst cannot slip past the limit while the first passwords are still hashing.

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
        wait_in(&failures, keys, now)
    }

    /// Admits an attempt on `keys` at `now`, counting it as a failure until [`Self::succeeded`]
    /// says otherwise; or, if the keys must still wait, how long. One lock covers the check
    /// and the count, so concurrent attempts are counted one after another.
    pub fn admit(&self, keys: &[String], now: Instant) -> Result<(), Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(wait) = wait_in(&failures, keys, now) {
            return Err(wait);
        }
        failures.retain(|_, f| now.duration_since(f.last) < WINDOW);
        for key in keys {
            let entry = failures.entry(key.clone()).or_insert(Failures {
                count: 0,
                last: now,
            });
            entry.count += 1;
            entry.last = now;
        }
        Ok(())
    }

    /// An admitted attempt succeeded: `reset` loses its failures (the username's), the other
    /// keys lose the one this attempt was counted as.
    pub fn succeeded(&self, keys: &[String], reset: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            if key == reset {
                failures.remove(key);
            } else if let Some(f) = failures.get_mut(key) {
                f.count = f.count.saturating_sub(1);
            }
        }
    }
}

/// The longest wait any of `keys` still owes at `now`.
fn wait_in(
    failures: &HashMap<String, Failures>,
    keys: &[String],
    now: Instant,
) -> Option<Duration> {
    keys.iter()
        .filter_map(|k| failures.get(k))
        .filter_map(|f| {
            let ready = f.last + delay_after(f.count)?;
            (ready > now).then(|| ready - now)
        })
        .max()
}

/// The wait imposed after `count` failures: none for the first few, then 1 s, 2 s, 4 s … capped.
fn delay_after(count: u32) -> Option<Duration> {
    let over = count.checked_sub(FREE_FAILURES)?;
    let secs = 1u64.checked_shl(over).unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs).min(MAX_DELAY))
}

/// Requests per API token: a bucket per token holding up to a minute's allowance, refilled
/// continuously, kept in memory per instance. Tokens are rows an admin creates, so the map stays
/// as small as the token list.
#[derive(Debug)]
pub struct ApiRateLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl ApiRateLimiter {
    /// A limiter allowing `per_minute` requests per token.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute.max(1)),
            buckets: Mutex::default(),
        }
    }

    /// Takes one request from `token`'s allowance, or says how long until one is available.
    pub fn take(&self, token: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (level, at) = buckets
            .entry(token.to_owned())
            .or_insert((self.per_minute, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64() * self.per_minute / 60.0;
        *level = (*level + refill).min(self.per_minute);
        *at = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - *level) * 60.0 / self.per_minute,
            ))
        }
    }
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
            let _ = t.admit(&keys(), now);
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
    fn repeated_failures_impose_a_wait_that_passes_and_then_doubles() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        while t.admit(&keys(), now).is_ok() {}
        assert_eq!(t.wait_for(&keys(), now), Some(Duration::from_secs(1)));
        let later = now + Duration::from_secs(1);
        assert_eq!(t.wait_for(&keys(), later), None);
        assert!(t.admit(&keys(), later).is_ok());
        assert_eq!(t.admit(&keys(), later), Err(Duration::from_secs(2)));
    }

    #[test]
    fn an_address_is_throttled_across_usernames() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..FREE_FAILURES + 1 {
            let _ = t.admit(&[format!("user:u{i}"), "ip:10.0.0.9".into()], now);
        }
        let fresh_user = vec!["user:someone-else".to_owned(), "ip:10.0.0.9".to_owned()];
        assert!(t.wait_for(&fresh_user, now).is_some());
    }

    #[test]
    fn attempts_are_counted_when_admitted_not_when_answered() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let admitted = (0..15).filter(|_| t.admit(&keys(), now).is_ok()).count();
        assert_eq!(admitted, FREE_FAILURES as usize);
    }

    #[test]
    fn a_success_forgives_its_own_attempt_and_the_usernames_failures() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            t.admit(&keys(), now).unwrap();
        }
        t.admit(&keys(), now).unwrap();
        t.succeeded(&keys(), "user:alice");
        assert_eq!(t.wait_for(&keys(), now), None);
        // The address keeps the failures before the success: one more is still free.
        assert!(t.admit(&keys(), now).is_ok());
        assert!(t.admit(&keys(), now).is_err());
    }

    #[test]
    fn a_success_resets_the_username() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let bob = ["user:bob".to_owned()];
        for _ in 0..FREE_FAILURES {
            let _ = t.admit(&bob, now);
        }
        t.succeeded(&bob, "user:bob");
        assert_eq!(t.wait_for(&bob, now), None);
    }

    #[test]
    fn a_token_gets_its_minute_allowance_then_waits_for_the_refill() {
        let limiter = ApiRateLimiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.take("a", t0).unwrap();
        }
        let wait = limiter.take("a", t0).unwrap_err();
        assert_eq!(wait.as_secs(), 20, "one request every 20 s at 3 a minute");
        assert!(
            limiter.take("b", t0).is_ok(),
            "another token has its own allowance"
        );
        assert!(limiter.take("a", t0 + Duration::from_secs(20)).is_ok());
    }
}
