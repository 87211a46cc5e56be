//! Fixed-window counters in the database, shared by all instances
//! (security.md #34, #37, #39): "at most N sends to this destination per
//! hour". One atomic upsert per hit, so parallel requests cannot slip past
//! the limit.

use sqlx::Row;

use crate::{Db, DomainError, Timestamp};

/// No limit counts over a longer window than this (the reset's 24-hour
/// method block is the longest), so older counters can be deleted
/// (`housekeeping`).
pub const LONGEST_WINDOW_SECS: i64 = 24 * 3600;

/// Counts a hit on `key` and says whether it is within `limit` per
/// `window_secs`. A refused hit is still counted (fail closed).
pub async fn hit(
    db: &Db,
    key: &str,
    window_secs: i64,
    limit: i64,
    now: Timestamp,
) -> Result<bool, DomainError> {
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
    let hits: i64 = row.try_get("hits")?;
    Ok(hits <= limit)
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
