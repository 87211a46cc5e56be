//! `user_groups` and `group_members`: groups by canonical name, and who is
//! in them (the SSPR scope "selected groups").

use sqlx::Row;

use super::Exec;
use crate::identity::Login;
use crate::{DomainError, Timestamp};

/// Creates the group unless it exists.
pub async fn ensure<'e>(
    exec: impl Exec<'e>,
    name: &Login,
    now: Timestamp,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO user_groups (name, display_name, created_at) VALUES ($1, $1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name.as_str())
    .bind(now.secs())
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn add_member<'e>(
    exec: impl Exec<'e>,
    name: &Login,
    user_id: i64,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO group_members (group_id, user_id) SELECT id, $2 FROM user_groups WHERE name = $1 ON CONFLICT DO NOTHING",
    )
    .bind(name.as_str())
    .bind(user_id)
    .execute(exec)
    .await?;
    Ok(())
}

/// The display names of the user's groups, sorted.
pub async fn of_user<'e>(exec: impl Exec<'e>, user_id: i64) -> Result<Vec<String>, DomainError> {
    let rows = sqlx::query(
        "SELECT g.display_name AS name FROM user_groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.display_name",
    )
    .bind(user_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| r.try_get("name").map_err(DomainError::from))
        .collect()
}

pub async fn exists<'e>(exec: impl Exec<'e>, name: &Login) -> Result<bool, DomainError> {
    Ok(
        sqlx::query("SELECT 1 AS one FROM user_groups WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(exec)
            .await?
            .is_some(),
    )
}

/// Ends every membership of the user (in the caller's transaction, before
/// the directory's current groups are added back).
pub async fn clear_memberships<'e>(exec: impl Exec<'e>, user_id: i64) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM group_members WHERE user_id = $1")
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(())
}
