//! The directory's own lockout, kept out of sspr's reach. Every failed bind
//! sspr makes counts in the directory (ppolicy `pwdFailureTime`, AD
//! `badPwdCount`), and at the directory's threshold the account is locked
//! for every application. So sspr reads the count first and does not make
//! the bind that would reach it (`DirectoryConfig::lockout_threshold`):
//! guessing through sspr cannot lock the directory account, whatever
//! sspr's own (per-network, account-wide) lockout allows.
//!
//! Both directories forget failures older than their observation window
//! only at the next bind, so the stored values are read against the window
//! (`lockout_window_secs`) here.

/// Whether one more failed bind keeps the count below `threshold` (0: the
/// directory never locks).
pub fn bind_allowed(recent_failures: u32, threshold: u32) -> bool {
    threshold == 0 || recent_failures.saturating_add(1) < threshold
}

/// ppolicy's `pwdFailureTime` values (GeneralizedTime, one per failure)
/// within `window_secs` of `now` (0: all of them). A value that does not
/// parse counts: unknown is treated as recent.
pub fn ppolicy_failures(values: &[String], now: i64, window_secs: u64) -> u32 {
    let n = values
        .iter()
        .filter(|v| {
            window_secs == 0 || generalized_time(v).is_none_or(|t| recent(t, now, window_secs))
        })
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// AD's `badPwdCount`, when the last failure (`badPasswordTime`, a
/// FILETIME) is within `window_secs` of `now` (0: always).
pub fn ad_failures(
    bad_pwd_count: Option<&str>,
    bad_password_time: Option<&str>,
    now: i64,
    window_secs: u64,
) -> u32 {
    let count = bad_pwd_count
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(0);
    if count == 0 || window_secs == 0 {
        return count;
    }
    match bad_password_time.and_then(|v| v.trim().parse::<i64>().ok()) {
        Some(ft) if ft > 0 => {
            if recent(filetime_to_unix(ft), now, window_secs) {
                count
            } else {
                0
            }
        }
        // Counted without a time: treat as recent.
        _ => count,
    }
}

fn recent(t: i64, now: i64, window_secs: u64) -> bool {
    let window = i64::try_from(window_secs).unwrap_or(i64::MAX);
    now.saturating_sub(t) < window
}

/// `YYYYMMDDHHMMSS[.fraction]Z` (RFC 4517 GeneralizedTime, as ppolicy
/// writes it) as Unix seconds.
fn generalized_time(v: &str) -> Option<i64> {
    let digits = v.trim().strip_suffix('Z')?;
    let whole = digits.split(['.', ',']).next()?;
    let t = chrono::NaiveDateTime::parse_from_str(whole, "%Y%m%d%H%M%S").ok()?;
    Some(t.and_utc().timestamp())
}

/// A FILETIME (100 ns ticks since 1601-01-01) as Unix seconds.
fn filetime_to_unix(ft: i64) -> i64 {
    ft / 10_000_000 - 11_644_473_600
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bind_that_would_reach_the_threshold_is_not_made() {
        assert!(bind_allowed(3, 5), "the 4th failure leaves one");
        assert!(!bind_allowed(4, 5), "the 5th would lock");
        assert!(!bind_allowed(9, 5));
        assert!(bind_allowed(1_000, 0), "a directory without lockout");
        assert!(!bind_allowed(u32::MAX, 5));
    }

    #[test]
    fn ppolicy_failures_count_within_the_window() {
        // 2026-12-01T07:45:00Z
        let now = 1_796_111_100;
        let values: Vec<String> = [
            "20261201074400.123456Z", // a minute ago
            "20261201074000Z",        // five minutes ago
            "20261201060000Z",        // long ago
            "garbage",                // unknown: counts
        ]
        .map(str::to_owned)
        .into();
        assert_eq!(ppolicy_failures(&values, now, 600), 3);
        assert_eq!(ppolicy_failures(&values, now, 0), 4, "no window: all");
        assert_eq!(ppolicy_failures(&[], now, 600), 0);
    }

    #[test]
    fn ad_failures_count_while_the_last_is_recent() {
        // 2026-12-01T07:45:00Z as a FILETIME, and ten minutes earlier.
        let now = 1_796_111_100;
        let ft = |unix: i64| ((unix + 11_644_473_600) * 10_000_000).to_string();
        assert_eq!(ad_failures(Some("4"), Some(&ft(now - 60)), now, 1800), 4);
        assert_eq!(ad_failures(Some("4"), Some(&ft(now - 3600)), now, 1800), 0);
        assert_eq!(ad_failures(Some("4"), Some(&ft(now - 3600)), now, 0), 4);
        assert_eq!(ad_failures(Some("2"), None, now, 1800), 2);
        assert_eq!(ad_failures(None, None, now, 1800), 0);
        assert_eq!(ad_failures(Some("x"), None, now, 1800), 0);
    }
}
