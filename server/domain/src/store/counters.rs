//! `rate_counters`: fixed-window hit counters by key, and single-use marks
//! (a spent CAPTCHA solution is a counter that exists).

use sqlx::Row;

use super::Exec;
use crate::{DomainError, Timestamp};

/// Counts a hit on `key` and returns the hits in the current window, this
/// one included. One atomic upsert: exactly one caller sees any count.
pub async fn hit<'e>(
    exec: impl Exec<'e>,
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
    .fetch_one(exec)
    .await?;
    Ok(row.try_get("hits")?)
}

/// Hits counted in the current window (0 when none).
pub async fn current<'e>(
    exec: impl Exec<'e>,
    key: &str,
    window_secs: i64,
    now: Timestamp,
) -> Result<i64, DomainError> {
    let row =
        sqlx::query("SELECT hits FROM rate_counters WHERE counter_key = $1 AND window_start > $2")
            .bind(key)
            .bind(now.minus_secs(window_secs).secs())
            .fetch_optional(exec)
            .await?;
    Ok(row.map(|r| r.try_get("hits")).transpose()?.unwrap_or(0))
}

/// Gives one hit back (a reserved failure slot that turned out a success).
pub async fn refund<'e>(exec: impl Exec<'e>, key: &str) -> Result<(), DomainError> {
    sqlx::query("UPDATE rate_counters SET hits = hits - 1 WHERE counter_key = $1 AND hits > 0")
        .bind(key)
        .execute(exec)
        .await?;
    Ok(())
}

/// Creates `key` unless it exists; false when it did.
pub async fn mark_once<'e>(
    exec: impl Exec<'e>,
    key: &str,
    now: Timestamp,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "INSERT INTO rate_counters (counter_key, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (counter_key) DO NOTHING",
    )
    .bind(key)
    .bind(now.secs())
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes up to `batch` counters whose window started before `before`,
/// and marks with `mark_prefix` older than `marks_before`.
pub async fn purge<'e>(
    exec: impl Exec<'e>,
    before: Timestamp,
    mark_prefix: &str,
    marks_before: Timestamp,
    batch: i64,
) -> Result<u64, DomainError> {
    let r = sqlx::query(
        "DELETE FROM rate_counters WHERE counter_key IN (SELECT counter_key FROM rate_counters \
         WHERE window_start <= $1 OR (counter_key LIKE $2 AND window_start <= $3) LIMIT $4)",
    )
    .bind(before.secs())
    .bind(format!("{mark_prefix}%"))
    .bind(marks_before.secs())
    .bind(batch)
    .execute(exec)
    .await?;
    Ok(r.rows_affected())
}
