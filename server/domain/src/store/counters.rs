//! `rate_counters`: fixed-window hit counters by key, and single-use marks
//! (a spent CAPTCHA solution is a counter that exists).

use std::collections::HashMap;

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

/// The window start and hits of each of `keys` that exists. One
/// statement for several limits.
pub async fn read<'e>(
    exec: impl Exec<'e>,
    keys: &[String],
) -> Result<HashMap<String, (i64, i64)>, DomainError> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT counter_key, window_start, hits FROM rate_counters WHERE counter_key IN ({})",
        placeholders(keys.len())
    );
    let mut query = sqlx::query(&sql);
    for key in keys {
        query = query.bind(key.as_str());
    }
    let rows = query.fetch_all(exec).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("counter_key")?,
                (r.try_get("window_start")?, r.try_get("hits")?),
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DomainError::from)
}

/// Deletes `keys` (a streak ended by a success). One statement.
pub async fn forget<'e>(exec: impl Exec<'e>, keys: &[String]) -> Result<(), DomainError> {
    if keys.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "DELETE FROM rate_counters WHERE counter_key IN ({})",
        placeholders(keys.len())
    );
    let mut query = sqlx::query(&sql);
    for key in keys {
        query = query.bind(key.as_str());
    }
    query.execute(exec).await?;
    Ok(())
}

/// `$1, $2, …, $n` (both backends accept numbered parameters).
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
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

/// Which counters have run out: those whose window started before
/// `before`, except that marks (`marks.0` prefix) run out sooner and
/// streaks (`streaks.0` prefix) later, each at its own time.
pub struct Expired<'a> {
    pub before: Timestamp,
    pub marks: (&'a str, Timestamp),
    pub streaks: (&'a str, Timestamp),
}

/// Deletes up to `batch` counters that ran out.
pub async fn purge<'e>(
    exec: impl Exec<'e>,
    expired: &Expired<'_>,
    batch: i64,
) -> Result<u64, DomainError> {
    let r = sqlx::query(
        "DELETE FROM rate_counters WHERE counter_key IN (SELECT counter_key FROM rate_counters \
         WHERE (window_start <= $1 AND counter_key NOT LIKE $4) \
            OR (counter_key LIKE $2 AND window_start <= $3) \
            OR (counter_key LIKE $4 AND window_start <= $5) LIMIT $6)",
    )
    .bind(expired.before.secs())
    .bind(format!("{}%", expired.marks.0))
    .bind(expired.marks.1.secs())
    .bind(format!("{}%", expired.streaks.0))
    .bind(expired.streaks.1.secs())
    .bind(batch)
    .execute(exec)
    .await?;
    Ok(r.rows_affected())
}
