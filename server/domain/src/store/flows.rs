//! `flows`: the state of a wizard (reset or registration) between
//! requests, named by the SHA-256 of a cookie token. Every change is a
//! compare-and-swap on `version`.

use sqlx::Row;

use super::Exec;
use crate::{DomainError, Timestamp};

/// An open flow as stored; `data` is the wizard's own JSON.
pub struct FlowRow {
    pub id_hash: String,
    pub user_id: Option<i64>,
    pub data: String,
    pub version: i64,
    pub expires_at: Timestamp,
}

pub struct NewFlow<'a> {
    pub id_hash: &'a str,
    pub kind: &'a str,
    pub user_id: Option<i64>,
    pub data: &'a str,
    pub expires_at: Timestamp,
}

pub async fn insert<'e>(
    exec: impl Exec<'e>,
    f: &NewFlow<'_>,
    now: Timestamp,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO flows (id_hash, kind, user_id, state, data, attempts, version, created_at, expires_at) \
         VALUES ($1, $2, $3, 'open', $4, 0, 0, $5, $6)",
    )
    .bind(f.id_hash)
    .bind(f.kind)
    .bind(f.user_id)
    .bind(f.data)
    .bind(now.secs())
    .bind(f.expires_at.secs())
    .execute(exec)
    .await?;
    Ok(())
}

/// The flow unless it was consumed (expiry is the caller's to judge).
pub async fn find_open<'e>(
    exec: impl Exec<'e>,
    id_hash: &str,
    kind: &str,
) -> Result<Option<FlowRow>, DomainError> {
    let row = sqlx::query(
        "SELECT id_hash, user_id, data, version, expires_at FROM flows \
         WHERE id_hash = $1 AND kind = $2 AND consumed_at IS NULL",
    )
    .bind(id_hash)
    .bind(kind)
    .fetch_optional(exec)
    .await?;
    row.map(|r| {
        Ok(FlowRow {
            id_hash: r.try_get("id_hash")?,
            user_id: r.try_get("user_id")?,
            data: r.try_get("data")?,
            version: r.try_get("version")?,
            expires_at: Timestamp(r.try_get("expires_at")?),
        })
    })
    .transpose()
}

/// Replaces the data if nobody changed the flow since `version`.
pub async fn save<'e>(
    exec: impl Exec<'e>,
    id_hash: &str,
    version: i64,
    data: &str,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "UPDATE flows SET data = $1, version = version + 1 WHERE id_hash = $2 AND version = $3 AND consumed_at IS NULL",
    )
    .bind(data)
    .bind(id_hash)
    .bind(version)
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends the flow with `outcome` (its `state`), if nobody changed or ended
/// it since `version`: of many parallel final submissions one wins.
pub async fn consume<'e>(
    exec: impl Exec<'e>,
    id_hash: &str,
    version: i64,
    outcome: &str,
    now: Timestamp,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "UPDATE flows SET consumed_at = $1, state = $2 WHERE id_hash = $3 AND version = $4 AND consumed_at IS NULL",
    )
    .bind(now.secs())
    .bind(outcome)
    .bind(id_hash)
    .bind(version)
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends every open flow of the account (a password reset ends them all).
pub async fn consume_all_of_user<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    now: Timestamp,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE flows SET consumed_at = $1 WHERE user_id = $2 AND consumed_at IS NULL")
        .bind(now.secs())
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Deletes up to `batch` flows that expired before `before`.
pub async fn purge<'e>(
    exec: impl Exec<'e>,
    before: Timestamp,
    batch: i64,
) -> Result<u64, DomainError> {
    let r = sqlx::query(
        "DELETE FROM flows WHERE id_hash IN (SELECT id_hash FROM flows WHERE expires_at <= $1 LIMIT $2)",
    )
    .bind(before.secs())
    .bind(batch)
    .execute(exec)
    .await?;
    Ok(r.rows_affected())
}
