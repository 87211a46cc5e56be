//! `user_groups` and `group_members`: groups by canonical name, and who is
//! in them (the SSPR scope "selected groups").

use sqlx::Row;

use super::Exec;
use crate::identity::Login;
use crate::{DomainError, Timestamp};

/// Creates the group unless it exists; true when it was created.
pub async fn ensure<'e>(
    exec: impl Exec<'e>,
    name: &Login,
    now: Timestamp,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "INSERT INTO user_groups (name, display_name, created_at) VALUES ($1, $1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name.as_str())
    .bind(now.secs())
    .execute(exec)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Takes the write lock (and the group's row on PostgreSQL) before a
/// membership change, so the transaction writes before it reads (see
/// `settings::lock`); false when there is no such group.
pub async fn lock<'e>(exec: impl Exec<'e>, name: &Login) -> Result<bool, DomainError> {
    let r = sqlx::query("UPDATE user_groups SET name = name WHERE name = $1")
        .bind(name.as_str())
        .execute(exec)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Adds the user to the group; true when they were not in it.
pub async fn add_member<'e>(
    exec: impl Exec<'e>,
    name: &Login,
    user_id: i64,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "INSERT INTO group_members (group_id, user_id) SELECT id, $2 FROM user_groups WHERE name = $1 ON CONFLICT DO NOTHING",
    )
    .bind(name.as_str())
    .bind(user_id)
    .execute(exec)
    .await?;
    Ok(r.rows_affected() > 0)
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

/// (account, group) for every member of the named groups.
pub async fn memberships_in<'e>(
    exec: impl Exec<'e>,
    names: &[String],
) -> Result<Vec<(i64, String)>, DomainError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let params: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT m.user_id, g.name FROM group_members m JOIN user_groups g ON g.id = m.group_id \
         WHERE g.name IN ({})",
        params.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for n in names {
        q = q.bind(n.as_str());
    }
    let rows = q.fetch_all(exec).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("user_id")?, r.try_get("name")?)))
        .collect()
}

/// Every group's name, alphabetically, up to `limit`.
pub async fn names<'e>(exec: impl Exec<'e>, limit: i64) -> Result<Vec<String>, DomainError> {
    let rows = sqlx::query("SELECT name FROM user_groups ORDER BY name LIMIT $1")
        .bind(limit)
        .fetch_all(exec)
        .await?;
    rows.iter().map(|r| Ok(r.try_get("name")?)).collect()
}

/// A group and how many accounts are in it.
pub struct GroupRow {
    pub name: String,
    pub members: i64,
    /// Members mirrored from the directory: a group with any is the
    /// directory's (its sync writes the memberships).
    pub directory_members: i64,
}

/// Every group with its member counts, by name, up to `limit`.
pub async fn with_counts<'e>(
    exec: impl Exec<'e>,
    limit: i64,
) -> Result<Vec<GroupRow>, DomainError> {
    let rows = sqlx::query(
        "SELECT g.name, COUNT(m.user_id) AS members, \
         COUNT(u.directory_id) AS directory_members FROM user_groups g \
         LEFT JOIN group_members m ON m.group_id = g.id \
         LEFT JOIN users u ON u.id = m.user_id \
         GROUP BY g.id, g.name ORDER BY g.name LIMIT $1",
    )
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(GroupRow {
                name: r.try_get("name")?,
                members: r.try_get("members")?,
                directory_members: r.try_get("directory_members")?,
            })
        })
        .collect()
}

/// A member as the group's page lists them.
pub struct MemberRow {
    pub user_id: i64,
    pub login: String,
    pub display_name: String,
    /// Mirrored from the directory: its groups come from there.
    pub from_directory: bool,
}

/// The group's members by user ID, up to `limit`.
pub async fn members<'e>(
    exec: impl Exec<'e>,
    name: &Login,
    limit: i64,
) -> Result<Vec<MemberRow>, DomainError> {
    let rows = sqlx::query(
        "SELECT u.id, u.login_display, u.display_name, u.directory_dn FROM users u \
         JOIN group_members m ON m.user_id = u.id JOIN user_groups g ON g.id = m.group_id \
         WHERE g.name = $1 ORDER BY u.login LIMIT $2",
    )
    .bind(name.as_str())
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MemberRow {
                user_id: r.try_get("id")?,
                login: r.try_get("login_display")?,
                display_name: r.try_get("display_name")?,
                from_directory: r.try_get::<Option<String>, _>("directory_dn")?.is_some(),
            })
        })
        .collect()
}

/// Removes the user from the group; false when they were not in it.
pub async fn remove_member<'e>(
    exec: impl Exec<'e>,
    name: &Login,
    user_id: i64,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "DELETE FROM group_members WHERE user_id = $2 \
         AND group_id = (SELECT id FROM user_groups WHERE name = $1)",
    )
    .bind(name.as_str())
    .bind(user_id)
    .execute(exec)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Renames the group; false when there is no group `from` (a taken `to`
/// is a unique violation).
pub async fn rename<'e>(
    exec: impl Exec<'e>,
    from: &Login,
    to: &Login,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE user_groups SET name = $2, display_name = $2 WHERE name = $1")
        .bind(from.as_str())
        .bind(to.as_str())
        .execute(exec)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Deletes the group and its memberships; false when there is none.
pub async fn delete(conn: &mut sqlx::AnyConnection, name: &Login) -> Result<bool, DomainError> {
    // Memberships first: the foreign key's cascade is not relied upon.
    sqlx::query(
        "DELETE FROM group_members WHERE group_id = (SELECT id FROM user_groups WHERE name = $1)",
    )
    .bind(name.as_str())
    .execute(&mut *conn)
    .await?;
    let r = sqlx::query("DELETE FROM user_groups WHERE name = $1")
        .bind(name.as_str())
        .execute(conn)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Whether any member of the group is mirrored from the directory (whose
/// sync writes the group's memberships).
pub async fn has_directory_members<'e>(
    exec: impl Exec<'e>,
    name: &Login,
) -> Result<bool, DomainError> {
    Ok(sqlx::query(
        "SELECT 1 AS one FROM group_members m JOIN user_groups g ON g.id = m.group_id \
         JOIN users u ON u.id = m.user_id WHERE g.name = $1 AND u.directory_id IS NOT NULL LIMIT 1",
    )
    .bind(name.as_str())
    .fetch_optional(exec)
    .await?
    .is_some())
}
