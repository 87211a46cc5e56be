//! `policy_versions`: every saved SSPR policy, newest last (the history
//! the admin portal shows and restores from).

use sqlx::Row;

use super::Exec;
use crate::{DomainError, Timestamp};

pub struct NewVersion<'a> {
    pub saved_by: Option<i64>,
    pub saved_by_name: &'a str,
    /// The version in force when the editor began (0: none). Unique: of two
    /// saves that began from the same version, the second fails.
    pub replaces: i64,
    pub restored_from: Option<i64>,
    /// The whole policy, JSON.
    pub policy: &'a str,
    /// The changes against the policy it replaced, JSON.
    pub changes: &'a str,
}

pub struct VersionRow {
    pub id: i64,
    pub saved_at: Timestamp,
    pub saved_by_name: String,
    pub restored_from: Option<i64>,
    pub policy: String,
    pub changes: String,
}

const COLUMNS: &str = "id, saved_at, saved_by_name, restored_from, policy, changes";

fn read(r: &sqlx::any::AnyRow) -> Result<VersionRow, DomainError> {
    Ok(VersionRow {
        id: r.try_get("id")?,
        saved_at: Timestamp(r.try_get("saved_at")?),
        saved_by_name: r.try_get("saved_by_name")?,
        restored_from: r.try_get("restored_from")?,
        policy: r.try_get("policy")?,
        changes: r.try_get("changes")?,
    })
}

pub async fn insert<'e>(
    exec: impl Exec<'e>,
    v: &NewVersion<'_>,
    now: Timestamp,
) -> Result<i64, DomainError> {
    let row = sqlx::query(
        "INSERT INTO policy_versions (saved_at, saved_by, saved_by_name, replaces, restored_from, policy, changes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(now.secs())
    .bind(v.saved_by)
    .bind(v.saved_by_name)
    .bind(v.replaces)
    .bind(v.restored_from)
    .bind(v.policy)
    .bind(v.changes)
    .fetch_one(exec)
    .await?;
    Ok(row.try_get("id")?)
}

pub async fn find<'e>(exec: impl Exec<'e>, id: i64) -> Result<Option<VersionRow>, DomainError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM policy_versions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(exec)
    .await?;
    row.as_ref().map(read).transpose()
}

/// Newest first, up to `limit`, older than `before` when given (keyset paging).
pub async fn newest<'e>(
    exec: impl Exec<'e>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<VersionRow>, DomainError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM policy_versions WHERE id < $1 ORDER BY id DESC LIMIT $2"
    ))
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter().map(read).collect()
}

/// The newest version's id (0: none yet).
pub async fn latest_id<'e>(exec: impl Exec<'e>) -> Result<i64, DomainError> {
    let row = sqlx::query("SELECT MAX(id) AS id FROM policy_versions")
        .fetch_one(exec)
        .await?;
    Ok(row.try_get::<Option<i64>, _>("id")?.unwrap_or(0))
}
