//! `sessions`: server-side sessions, named by the SHA-256 of the cookie's
//! token (the token itself is never stored).

use sqlx::Row;

use super::Exec;
use crate::{DomainError, Timestamp};

pub struct SessionRow {
    pub user_id: i64,
    pub authenticated_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    /// The account is an admin's (their sessions idle out sooner).
    pub is_admin: bool,
    /// The account's saved language, if any.
    pub locale: Option<String>,
}

pub async fn insert<'e>(
    exec: impl Exec<'e>,
    id_hash: &str,
    user_id: i64,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, authenticated_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $3, $4)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(now.secs())
    .bind(expires_at.secs())
    .execute(exec)
    .await?;
    Ok(())
}

/// The session, if its account is enabled.
pub async fn find<'e>(
    exec: impl Exec<'e>,
    id_hash: &str,
) -> Result<Option<SessionRow>, DomainError> {
    let row = sqlx::query(
        "SELECT s.user_id, s.authenticated_at, s.last_seen_at, s.expires_at, u.role, u.locale FROM sessions s \
         JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND u.enabled = 1",
    )
    .bind(id_hash)
    .fetch_optional(exec)
    .await?;
    row.map(|r| {
        Ok(SessionRow {
            user_id: r.try_get("user_id")?,
            authenticated_at: Timestamp(r.try_get("authenticated_at")?),
            last_seen_at: Timestamp(r.try_get("last_seen_at")?),
            expires_at: Timestamp(r.try_get("expires_at")?),
            is_admin: r.try_get::<String, _>("role")? == "admin",
            locale: r.try_get("locale")?,
        })
    })
    .transpose()
}

pub async fn touch<'e>(
    exec: impl Exec<'e>,
    id_hash: &str,
    now: Timestamp,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now.secs())
        .bind(id_hash)
        .execute(exec)
        .await?;
    Ok(())
}

/// Gives the session `old` the id `new` and marks it authenticated now;
/// false when there was no such session. The expiry stays: rotating never
/// extends a session's life.
pub async fn rotate<'e>(
    exec: impl Exec<'e>,
    old: &str,
    new: &str,
    now: Timestamp,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "UPDATE sessions SET id_hash = $1, authenticated_at = $2, last_seen_at = $2 \
         WHERE id_hash = $3",
    )
    .bind(new)
    .bind(now.secs())
    .bind(old)
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn delete<'e>(exec: impl Exec<'e>, id_hash: &str) -> Result<bool, DomainError> {
    let r = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(exec)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Deletes every session of the user but `keep` (an id hash), if given.
pub async fn delete_all_of_user<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    keep: Option<&str>,
) -> Result<u64, DomainError> {
    let r = match keep {
        Some(keep) => sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id)
            .bind(keep),
        None => sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id),
    }
    .execute(exec)
    .await?;
    Ok(r.rows_affected())
}

/// Deletes up to `batch` sessions past their absolute or idle expiry.
pub async fn purge<'e>(
    exec: impl Exec<'e>,
    now: Timestamp,
    idle_since: Timestamp,
    batch: i64,
) -> Result<u64, DomainError> {
    let r = sqlx::query(
        "DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2 LIMIT $3)",
    )
    .bind(now.secs())
    .bind(idle_since.secs())
    .bind(batch)
    .execute(exec)
    .await?;
    Ok(r.rows_affected())
}
