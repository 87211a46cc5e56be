//! `throttle`: the sign-in lockout's failure count per account key, with
//! the fingerprints of the last wrong passwords (a repeat is not counted
//! twice). Changes are compare-and-swaps on `version`.

use sqlx::Row;

use super::Exec;
use crate::rate::Network;
use crate::{DomainError, Timestamp};

pub struct LockoutRow {
    pub failures: i64,
    pub last_failure_at: Timestamp,
    /// Comma-separated fingerprints, oldest first.
    pub recent: String,
    pub version: i64,
}

pub async fn find<'e>(exec: impl Exec<'e>, key: &str) -> Result<Option<LockoutRow>, DomainError> {
    let row = sqlx::query(
        "SELECT failures, last_failure_at, recent, version FROM throttle WHERE throttle_key = $1",
    )
    .bind(key)
    .fetch_optional(exec)
    .await?;
    row.map(|r| {
        Ok(LockoutRow {
            failures: r.try_get("failures")?,
            last_failure_at: Timestamp(r.try_get("last_failure_at")?),
            recent: r.try_get("recent")?,
            version: r.try_get("version")?,
        })
    })
    .transpose()
}

/// Creates an empty row for `key` unless one exists.
pub async fn ensure<'e>(exec: impl Exec<'e>, key: &str) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO throttle (throttle_key) VALUES ($1) ON CONFLICT (throttle_key) DO NOTHING",
    )
    .bind(key)
    .execute(exec)
    .await?;
    Ok(())
}

/// Sets the failure count if nobody changed the row since `version`.
pub async fn set_failures<'e>(
    exec: impl Exec<'e>,
    key: &str,
    version: i64,
    failures: i64,
    now: Timestamp,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "UPDATE throttle SET failures = $1, last_failure_at = $2, version = version + 1 WHERE throttle_key = $3 AND version = $4",
    )
    .bind(failures)
    .bind(now.secs())
    .bind(key)
    .bind(version)
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_recent<'e>(
    exec: impl Exec<'e>,
    key: &str,
    recent: &str,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE throttle SET recent = $1 WHERE throttle_key = $2")
        .bind(recent)
        .bind(key)
        .execute(exec)
        .await?;
    Ok(())
}

/// Takes one failure back (nothing was checked after all).
pub async fn refund<'e>(exec: impl Exec<'e>, key: &str) -> Result<(), DomainError> {
    sqlx::query("UPDATE throttle SET failures = failures - 1, version = version + 1 WHERE throttle_key = $1 AND failures > 0")
        .bind(key)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn delete<'e>(exec: impl Exec<'e>, key: &str) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM throttle WHERE throttle_key = $1")
        .bind(key)
        .execute(exec)
        .await?;
    Ok(())
}

/// Deletes `key` and every `key@network` row — only rows whose suffix is a
/// network's name: a user ID may hold '@' itself ("alice@corp.example"
/// is another account than "alice"'s rows from a network).
pub async fn delete_with_networks(
    conn: &mut sqlx::AnyConnection,
    key: &str,
) -> Result<(), DomainError> {
    let keys: Vec<String> = with_networks(&mut *conn, key)
        .await?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    for k in keys {
        delete(&mut *conn, &k).await?;
    }
    Ok(())
}

fn escape_like(key: &str) -> String {
    key.chars()
        .flat_map(|c| match c {
            '\\' | '%' | '_' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

/// `key`'s row and every `key@network` row (a network's name after the
/// '@'), with their keys.
pub async fn with_networks<'e>(
    exec: impl Exec<'e>,
    key: &str,
) -> Result<Vec<(String, LockoutRow)>, DomainError> {
    let rows = sqlx::query(
        "SELECT throttle_key, failures, last_failure_at, recent, version FROM throttle \
         WHERE throttle_key = $1 OR throttle_key LIKE $2 ESCAPE '\\'",
    )
    .bind(key)
    .bind(format!("{}@%", escape_like(key)))
    .fetch_all(exec)
    .await?;
    // LIKE also finds another account whose user ID continues with '@…'.
    let mine = |k: &str| {
        k == key
            || k.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix('@'))
                .is_some_and(Network::is_name)
    };
    rows.iter()
        .map(keyed_row)
        .filter(|r| r.as_ref().map_or(true, |(k, _)| mine(k)))
        .collect()
}

/// Rows under `prefix` with at least `failures` failures, the last after
/// `since` (the last-failure index finds them): the candidates for a lock
/// in force.
pub async fn failing_since<'e>(
    exec: impl Exec<'e>,
    prefix: &str,
    failures: i64,
    since: Timestamp,
    limit: i64,
) -> Result<Vec<(String, LockoutRow)>, DomainError> {
    let rows = sqlx::query(
        "SELECT throttle_key, failures, last_failure_at, recent, version FROM throttle \
         WHERE last_failure_at > $1 AND failures >= $2 AND throttle_key LIKE $3 ESCAPE '\\' \
         ORDER BY last_failure_at DESC LIMIT $4",
    )
    .bind(since.secs())
    .bind(failures)
    .bind(format!("{}%", escape_like(prefix)))
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter().map(keyed_row).collect()
}

fn keyed_row(r: &sqlx::any::AnyRow) -> Result<(String, LockoutRow), DomainError> {
    Ok((
        r.try_get("throttle_key")?,
        LockoutRow {
            failures: r.try_get("failures")?,
            last_failure_at: Timestamp(r.try_get("last_failure_at")?),
            recent: r.try_get("recent")?,
            version: r.try_get("version")?,
        },
    ))
}

/// Deletes up to `batch` rows whose last failure was before `before`:
/// their failures are forgotten anyway (`reset_after_secs`).
pub async fn purge<'e>(
    exec: impl Exec<'e>,
    before: Timestamp,
    batch: i64,
) -> Result<u64, DomainError> {
    let r = sqlx::query(
        "DELETE FROM throttle WHERE throttle_key IN \
         (SELECT throttle_key FROM throttle WHERE last_failure_at < $1 LIMIT $2)",
    )
    .bind(before.secs())
    .bind(batch)
    .execute(exec)
    .await?;
    Ok(r.rows_affected())
}
