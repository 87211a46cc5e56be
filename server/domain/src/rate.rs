//! Fixed-window counters in the database, shared by all instances
//! (security.md #34, #37, #39): "at most N sends to this destination per
//! hour". One atomic upsert per hit, so parallel requests cannot slip past
//! the limit.

use std::net::IpAddr;

use sqlx::Row;

use crate::{Db, DomainError, Timestamp};

/// No limit counts over a longer window than this (the reset's 24-hour
/// method block is the longest), so older counters can be deleted
/// (`housekeeping`).
pub const LONGEST_WINDOW_SECS: i64 = 24 * 3600;

/// The unit per-address limits count: an IPv4 address, or the /64 an IPv6
/// address lies in (a subscriber is usually given a whole /64 and could
/// otherwise take a fresh address for every request). Anything else, and
/// no address at all, share one bucket.
pub fn address_key(ip: Option<&str>) -> String {
    match ip
        .and_then(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
    {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "unknown".into(),
    }
}

/// Counts a hit on `key` and says whether it is within `limit` per
/// `window_secs`. A refused hit is still counted (fail closed).
pub async fn hit(
    db: &Db,
    key: &str,
    window_secs: i64,
    limit: i64,
    now: Timestamp,
) -> Result<bool, DomainError> {
    Ok(count(db, key, window_secs, now).await? <= limit)
}

/// Counts a hit on `key` and returns the hits in the current window, this
/// one included. The update is atomic, so on a key nobody refunds each hit
/// sees its own number: exactly one caller sees any given count.
pub async fn count(
    db: &Db,
    key: &str,
    window_secs: i64,
    now: Timestamp,
) -> Result<i64, DomainError> {
    let row = sqlx::query(
        "INSERT INTO rate_counters (counter_key, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (counter_key) DO UPDATE SET \
           hits = CASE WHEN rate_counters.window_start <= $3 THEN 1 ELSE rate_counters.hits + 1 END, \
           window_start = CASE WHEN rate_counters.window_start <= $3 THEN $2 ELSE rate_counters.window_start END \
         RETURNING hits",
    )
    .bind(key)
    .bind(now.secs())
    .bind(now.minus_secs(window_secs).secs())
    .fetch_one(db.pool())
    .await?;
    Ok(row.try_get("hits")?)
}

/// Hits counted in the current window (0 when none).
pub async fn current(
    db: &Db,
    key: &str,
    window_secs: i64,
    now: Timestamp,
) -> Result<i64, DomainError> {
    let row = sqlx::query("SELECT hits, window_start FROM rate_counters WHERE counter_key = $1")
        .bind(key)
        .fetch_optional(db.pool())
        .await?;
    Ok(match row {
        Some(r) if r.try_get::<i64, _>("window_start")? > now.minus_secs(window_secs).secs() => {
            r.try_get("hits")?
        }
        _ => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::address_key;

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(address_key(Some("198.51.100.7")), "198.51.100.7");
        assert_eq!(address_key(Some("::ffff:198.51.100.7")), "198.51.100.7");
        assert_eq!(
            address_key(Some("2001:db8:1:2:aaaa::1")),
            address_key(Some("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        );
        assert_ne!(
            address_key(Some("2001:db8:1:2::1")),
            address_key(Some("2001:db8:1:3::1"))
        );
        assert_eq!(address_key(None), "unknown");
        assert_eq!(address_key(Some("not an address")), "unknown");
    }
}
