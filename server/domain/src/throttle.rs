//! Sign-in lockout, kept in the database so every instance shares it and it
//! survives restarts (security.md #35–#37).
//!
//! An attempt *reserves* a failure before the password is checked, with a
//! compare-and-swap on the row's version, so N parallel guesses can never be
//! evaluated past the limit (Keycloak CVE-2024-4629). A correct password
//! then clears the row. The same wrong password typed again is recognised
//! by a keyed fingerprint and counted once (Entra smart lockout).

use serde::Deserialize;
use sqlx::Row;

use crate::{Db, DomainError, Timestamp};

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutConfig {
    /// Failed sign-ins that lock the account.
    pub threshold: i64,
    /// First lockout, in seconds; each further failure doubles it.
    pub base_lockout_secs: i64,
    /// Longest lockout, in seconds.
    pub max_lockout_secs: i64,
    /// Failures older than this are forgotten, in seconds.
    pub reset_after_secs: i64,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        LockoutConfig {
            threshold: 10,
            base_lockout_secs: 60,
            max_lockout_secs: 900,
            reset_after_secs: 12 * 3600,
        }
    }
}

impl LockoutConfig {
    /// Lock duration after `failures` consecutive failures (0 below the threshold).
    pub fn lockout_secs(&self, failures: i64) -> i64 {
        if failures < self.threshold {
            return 0;
        }
        let doublings = (failures - self.threshold).min(20) as u32;
        self.base_lockout_secs
            .saturating_mul(1i64 << doublings)
            .min(self.max_lockout_secs)
    }
}

/// How many wrong-password fingerprints are remembered.
const RECENT_FINGERPRINTS: usize = 3;
/// Compare-and-swap rounds before giving up (fail closed).
const MAX_ROUNDS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// The account is locked until the given time; do not check the password.
    Locked { until: Timestamp },
    /// The attempt is counted; `failures` is the count including it.
    Counted { failures: i64 },
    /// This exact wrong password was already counted.
    Repeat,
}

pub async fn reserve(
    db: &Db,
    cfg: &LockoutConfig,
    key: &str,
    fingerprint: &str,
    now: Timestamp,
) -> Result<Reservation, DomainError> {
    for _ in 0..MAX_ROUNDS {
        let row = sqlx::query("SELECT failures, last_failure_at, recent, version FROM throttle WHERE throttle_key = $1")
            .bind(key)
            .fetch_optional(db.pool())
            .await?;
        let Some(row) = row else {
            sqlx::query("INSERT INTO throttle (throttle_key) VALUES ($1) ON CONFLICT (throttle_key) DO NOTHING")
                .bind(key)
                .execute(db.pool())
                .await?;
            continue;
        };
        let mut failures: i64 = row.try_get("failures")?;
        let last: i64 = row.try_get("last_failure_at")?;
        let recent: String = row.try_get("recent")?;
        let version: i64 = row.try_get("version")?;
        if now.secs() - last > cfg.reset_after_secs {
            failures = 0;
        }
        let until = Timestamp(last).plus_secs(cfg.lockout_secs(failures));
        if failures >= cfg.threshold && until > now {
            return Ok(Reservation::Locked { until });
        }
        if failures > 0 && recent.split(',').any(|f| f == fingerprint) {
            return Ok(Reservation::Repeat);
        }
        let updated = sqlx::query(
            "UPDATE throttle SET failures = $1, last_failure_at = $2, version = version + 1 WHERE throttle_key = $3 AND version = $4",
        )
        .bind(failures + 1)
        .bind(now.secs())
        .bind(key)
        .bind(version)
        .execute(db.pool())
        .await?;
        if updated.rows_affected() == 1 {
            return Ok(Reservation::Counted {
                failures: failures + 1,
            });
        }
    }
    Err(DomainError::Contention("sign-in throttle"))
}

/// Remembers the fingerprint of a password that turned out to be wrong.
pub async fn remember_wrong(db: &Db, key: &str, fingerprint: &str) -> Result<(), DomainError> {
    let row = sqlx::query("SELECT recent FROM throttle WHERE throttle_key = $1")
        .bind(key)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else { return Ok(()) };
    let recent: String = row.try_get("recent")?;
    let mut list: Vec<&str> = recent
        .split(',')
        .filter(|s| !s.is_empty() && *s != fingerprint)
        .collect();
    list.push(fingerprint);
    let skip = list.len().saturating_sub(RECENT_FINGERPRINTS);
    let joined = list[skip..].join(",");
    // Losing a fingerprint to a concurrent writer only means a repeat is
    // counted once more; no version check needed.
    sqlx::query("UPDATE throttle SET recent = $1 WHERE throttle_key = $2")
        .bind(joined)
        .bind(key)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Gives back a reserved attempt that was never evaluated (server busy).
pub async fn refund(db: &Db, key: &str) -> Result<(), DomainError> {
    sqlx::query("UPDATE throttle SET failures = failures - 1, version = version + 1 WHERE throttle_key = $1 AND failures > 0")
        .bind(key)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// A successful sign-in (or a password change) clears the counter.
pub async fn clear(db: &Db, key: &str) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM throttle WHERE throttle_key = $1")
        .bind(key)
        .execute(db.pool())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_grows_from_one_to_fifteen_minutes() {
        let c = LockoutConfig::default();
        assert_eq!(c.lockout_secs(9), 0);
        assert_eq!(c.lockout_secs(10), 60);
        assert_eq!(c.lockout_secs(11), 120);
        assert_eq!(c.lockout_secs(13), 480);
        assert_eq!(c.lockout_secs(14), 900);
        assert_eq!(c.lockout_secs(1000), 900);
    }
}
