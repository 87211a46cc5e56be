//! Accounts and groups.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::identity::Login;
use crate::{Db, DomainError, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "user" | "" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub login: Login,
    pub login_display: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub enabled: bool,
    pub password_hash: Option<String>,
    pub locale: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub login_display: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub password_hash: Option<String>,
    pub locale: Option<String>,
}

const USER_COLUMNS: &str =
    "id, login, login_display, display_name, email, role, enabled, password_hash, locale";

fn user_from_row(row: &AnyRow) -> Result<User, DomainError> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        login: Login::from_stored(row.try_get("login")?),
        login_display: row.try_get("login_display")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| DomainError::Corrupt(format!("role {role:?}")))?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        password_hash: row.try_get("password_hash")?,
        locale: row.try_get("locale")?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("a user with this ID already exists")]
    Duplicate,
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<sqlx::Error> for CreateUserError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => CreateUserError::Duplicate,
            _ => CreateUserError::Domain(e.into()),
        }
    }
}

pub async fn find_by_login(db: &Db, login: &Login) -> Result<Option<User>, DomainError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE login = $1");
    let row = sqlx::query(&sql)
        .bind(login.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn find_by_id(db: &Db, id: i64) -> Result<Option<User>, DomainError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(db.pool()).await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn count(db: &Db) -> Result<i64, DomainError> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(db.pool())
        .await?
        .try_get("n")?)
}

/// Inserts a user and, in the same transaction, its groups (created when
/// missing) and memberships. Either everything is written or nothing is.
pub async fn create(
    db: &Db,
    login: &Login,
    user: &NewUser,
    groups: &[Login],
    now: Timestamp,
) -> Result<i64, CreateUserError> {
    let mut tx = db.pool().begin().await.map_err(DomainError::from)?;
    for group in groups {
        sqlx::query(
            "INSERT INTO user_groups (name, display_name, created_at) VALUES ($1, $1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(group.as_str())
        .bind(now.secs())
        .execute(&mut *tx)
        .await
        .map_err(DomainError::from)?;
    }
    let id: i64 = sqlx::query(
        "INSERT INTO users (login, login_display, display_name, email, role, enabled, password_hash, locale, created_at, password_changed_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9) RETURNING id",
    )
    .bind(login.as_str())
    .bind(&user.login_display)
    .bind(&user.display_name)
    .bind(user.email.as_deref())
    .bind(user.role.as_str())
    .bind(user.password_hash.as_deref())
    .bind(user.locale.as_deref())
    .bind(now.secs())
    .bind(user.password_hash.as_ref().map(|_| now.secs()))
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")
    .map_err(DomainError::from)?;
    for group in groups {
        sqlx::query(
            "INSERT INTO group_members (group_id, user_id) SELECT id, $2 FROM user_groups WHERE name = $1 ON CONFLICT DO NOTHING",
        )
        .bind(group.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(DomainError::from)?;
    }
    tx.commit().await.map_err(DomainError::from)?;
    Ok(id)
}

pub async fn set_password_hash(
    db: &Db,
    user_id: i64,
    hash: &str,
    now: Timestamp,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now.secs())
        .bind(user_id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Replaces a hash only if it is still the one that was verified, so a
/// parameter upgrade never overwrites a concurrent password change.
pub async fn upgrade_password_hash(
    db: &Db,
    user_id: i64,
    old: &str,
    new: &str,
) -> Result<bool, DomainError> {
    let r = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
        .bind(new)
        .bind(user_id)
        .bind(old)
        .execute(db.pool())
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn groups_of(db: &Db, user_id: i64) -> Result<Vec<String>, DomainError> {
    let rows = sqlx::query(
        "SELECT g.display_name AS name FROM user_groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.display_name",
    )
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| r.try_get("name").map_err(DomainError::from))
        .collect()
}

pub async fn group_exists(db: &Db, name: &Login) -> Result<bool, DomainError> {
    Ok(
        sqlx::query("SELECT 1 AS one FROM user_groups WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(db.pool())
            .await?
            .is_some(),
    )
}

pub async fn set_enabled(db: &Db, user_id: i64, enabled: bool) -> Result<(), DomainError> {
    sqlx::query("UPDATE users SET enabled = $1 WHERE id = $2")
        .bind(i64::from(enabled))
        .bind(user_id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Every address to tell about a change to the account: the directory
/// email and the registered email methods, without repeats.
pub async fn contact_addresses(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &User,
) -> Result<Vec<String>, DomainError> {
    let mut addresses: Vec<String> = user.email.iter().cloned().collect();
    let rows = sqlx::query(
        "SELECT destination FROM security_methods WHERE user_id = $1 AND kind = 'email'",
    )
    .bind(user.id)
    .fetch_all(&mut **tx)
    .await?;
    for r in rows {
        addresses.push(r.try_get("destination")?);
    }
    addresses.sort();
    addresses.dedup();
    Ok(addresses)
}
