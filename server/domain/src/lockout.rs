//! Sign-in lockout, kept in the database so every instance shares it and it
//! survives restarts (docs/security.md #35–#37).
//!
//! Two counts per typed user ID: from one network (an IPv4 address or an
//! IPv6 /64), locked at `threshold`, and from all networks together,
//! locked at the higher `account_threshold`. Someone who knows only the
//! user ID locks out their own network first; the user's own network keeps
//! working until the account-wide count is reached (docs/security.md #74).
//!
//! An attempt *reserves* a failure before the password is checked, with a
//! compare-and-swap on the row's version, so N parallel guesses can never be
//! evaluated past the limit (Keycloak CVE-2024-4629). A correct password
//! then clears the row. The same wrong password typed again is recognised
//! by a keyed fingerprint and counted once (Entra smart lockout).

use serde::Deserialize;

use crate::rate::Network;
use crate::store::{self, Exec};
use crate::{Db, DomainError, Timestamp};

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutConfig {
    /// Failed sign-ins from one network that lock the account for that
    /// network.
    pub threshold: i64,
    /// Failed sign-ins from all networks together that lock the account
    /// everywhere.
    pub account_threshold: i64,
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
            account_threshold: 100,
            base_lockout_secs: 60,
            max_lockout_secs: 900,
            reset_after_secs: 12 * 3600,
        }
    }
}

impl LockoutConfig {
    /// The same schedule, at the account-wide threshold.
    pub fn account_wide(&self) -> LockoutConfig {
        LockoutConfig {
            threshold: self.account_threshold,
            ..self.clone()
        }
    }

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
        let Some(row) = store::lockouts::find(db.pool(), key).await? else {
            store::lockouts::ensure(db.pool(), key).await?;
            continue;
        };
        let mut failures = row.failures;
        if now.secs() - row.last_failure_at.secs() > cfg.reset_after_secs {
            failures = 0;
        }
        let until = row.last_failure_at.plus_secs(cfg.lockout_secs(failures));
        if failures >= cfg.threshold && until > now {
            return Ok(Reservation::Locked { until });
        }
        if failures > 0 && row.recent.split(',').any(|f| f == fingerprint) {
            return Ok(Reservation::Repeat);
        }
        if store::lockouts::set_failures(db.pool(), key, row.version, failures + 1, now).await? {
            return Ok(Reservation::Counted {
                failures: failures + 1,
            });
        }
    }
    Err(DomainError::Contention("sign-in throttle"))
}

pub async fn remember_wrong(db: &Db, key: &str, fingerprint: &str) -> Result<(), DomainError> {
    let Some(row) = store::lockouts::find(db.pool(), key).await? else {
        return Ok(());
    };
    let mut list: Vec<&str> = row
        .recent
        .split(',')
        .filter(|s| !s.is_empty() && *s != fingerprint)
        .collect();
    list.push(fingerprint);
    let skip = list.len().saturating_sub(RECENT_FINGERPRINTS);
    store::lockouts::set_recent(db.pool(), key, &list[skip..].join(",")).await
}

pub async fn refund(db: &Db, key: &str) -> Result<(), DomainError> {
    store::lockouts::refund(db.pool(), key).await
}

/// Ends the lockout (a right password, or a reset or unlock through the
/// gates, which may run inside the caller's transaction).
pub async fn clear<'e>(exec: impl Exec<'e>, key: &str) -> Result<(), DomainError> {
    store::lockouts::delete(exec, key).await
}

/// Ends the account-wide lockout of `key` and its lockout from every
/// network (a reset or unlock through the gates).
pub async fn clear_everywhere(
    conn: &mut sqlx::AnyConnection,
    key: &str,
) -> Result<(), DomainError> {
    store::lockouts::delete_with_networks(conn, key).await
}

/// When the sign-in lockout on `key` ends, from everywhere or from some
/// network: the latest end of a lock in force, or `None` when nothing is
/// locked (the admin portal's user detail).
pub async fn locked_until<'e>(
    exec: impl Exec<'e>,
    cfg: &LockoutConfig,
    key: &str,
    now: Timestamp,
) -> Result<Option<Timestamp>, DomainError> {
    let rows = store::lockouts::with_networks(exec, key).await?;
    Ok(rows
        .iter()
        .filter_map(|(k, row)| lock_end(cfg, k == key, row, now))
        .max())
}

/// The end of the lock `row` holds now, if any (`account_wide`: the row
/// counts failures from every network).
fn lock_end(
    cfg: &LockoutConfig,
    account_wide: bool,
    row: &store::lockouts::LockoutRow,
    now: Timestamp,
) -> Option<Timestamp> {
    let cfg = if account_wide {
        cfg.account_wide()
    } else {
        cfg.clone()
    };
    if now.secs() - row.last_failure_at.secs() > cfg.reset_after_secs {
        return None;
    }
    let until = row
        .last_failure_at
        .plus_secs(cfg.lockout_secs(row.failures));
    (row.failures >= cfg.threshold && until > now).then_some(until)
}

/// The keys under `prefix` (`signin:`) locked now, from everywhere or
/// from a network, without the prefix and the network: at most `limit`.
pub async fn locked_keys<'e>(
    exec: impl Exec<'e>,
    cfg: &LockoutConfig,
    prefix: &str,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<String>, DomainError> {
    let since = Timestamp(now.secs() - cfg.max_lockout_secs.max(cfg.base_lockout_secs));
    let least = cfg.threshold.min(cfg.account_threshold);
    let rows = store::lockouts::failing_since(exec, prefix, least, since, limit).await?;
    let mut keys = Vec::new();
    for (key, row) in rows {
        let Some(rest) = key.strip_prefix(prefix) else {
            continue;
        };
        if lock_end(cfg, true, &row, now).is_some() {
            keys.push(rest.to_owned());
        }
        // `login@network`: a user ID may hold '@' too, so only a suffix
        // that is a network's name makes this a network's row.
        if let Some((login, network)) = rest.rsplit_once('@')
            && Network::is_name(network)
            && lock_end(cfg, false, &row, now).is_some()
        {
            keys.push(login.to_owned());
        }
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

/// The key of `key`'s count from one network.
pub fn from_network(key: &str, network: Network) -> String {
    format!("{key}@{network}")
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
