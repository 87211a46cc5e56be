//! `users`: accounts — the canonical user ID, names, role, the password
//! hash and the registration standing.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Exec;
use crate::identity::Login;
use crate::users::{NewUser, Role, User};
use crate::{DomainError, Timestamp};

const COLUMNS: &str = "id, login, login_display, display_name, email, role, enabled, password_hash, locale, directory_dn";

fn from_row(row: &AnyRow) -> Result<User, DomainError> {
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
        directory_dn: row.try_get("directory_dn")?,
    })
}

pub async fn find_by_login<'e>(
    exec: impl Exec<'e>,
    login: &Login,
) -> Result<Option<User>, DomainError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE login = $1");
    let row = sqlx::query(&sql)
        .bind(login.as_str())
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn find_by_id<'e>(exec: impl Exec<'e>, id: i64) -> Result<Option<User>, DomainError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(exec).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn count<'e>(exec: impl Exec<'e>) -> Result<i64, DomainError> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(exec)
        .await?
        .try_get("n")?)
}

/// Inserts the account; a taken user ID is a unique violation.
pub async fn insert<'e>(
    exec: impl Exec<'e>,
    login: &Login,
    user: &NewUser,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
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
    .fetch_one(exec)
    .await?
    .try_get("id")
}

/// Replaces the password hash — only if it is still `expected` when one
/// is given, so two changes racing cannot both win and a parameter
/// upgrade never overwrites a concurrent change. Returns whether it did.
pub async fn set_password_hash<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    expected: Option<&str>,
    hash: &str,
    changed_at: Option<Timestamp>,
) -> Result<bool, DomainError> {
    let r = match (expected, changed_at) {
        (Some(old), Some(now)) => sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3 AND password_hash = $4",
        )
        .bind(hash)
        .bind(now.secs())
        .bind(user_id)
        .bind(old),
        (Some(old), None) => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
                .bind(hash)
                .bind(user_id)
                .bind(old)
        }
        (None, Some(now)) => sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(now.secs())
        .bind(user_id),
        (None, None) => sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id),
    }
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_enabled<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    enabled: bool,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE users SET enabled = $1 WHERE id = $2")
        .bind(i64::from(enabled))
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(())
}

/// When the user last confirmed their security info, and how often they
/// postponed registering.
pub async fn registration_standing<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
) -> Result<(Option<Timestamp>, i64), DomainError> {
    let row = sqlx::query("SELECT info_confirmed_at, registration_skips FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(exec)
        .await?;
    let confirmed: Option<i64> = row.try_get("info_confirmed_at")?;
    Ok((confirmed.map(Timestamp), row.try_get("registration_skips")?))
}

/// Confirms the security info now; `clear_skips` also forgets postponements.
pub async fn confirm_info<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    clear_skips: bool,
    now: Timestamp,
) -> Result<(), DomainError> {
    let sql = if clear_skips {
        "UPDATE users SET info_confirmed_at = $1, registration_skips = 0 WHERE id = $2"
    } else {
        "UPDATE users SET info_confirmed_at = $1 WHERE id = $2"
    };
    sqlx::query(sql)
        .bind(now.secs())
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Takes the account's row lock for the rest of the transaction (a write
/// that changes nothing: a row lock on PostgreSQL, the write lock on
/// SQLite), so checks of the account's methods and the change they allow
/// cannot interleave with another transaction's.
pub async fn lock<'e>(exec: impl Exec<'e>, user_id: i64) -> Result<bool, DomainError> {
    let r = sqlx::query("UPDATE users SET id = id WHERE id = $1")
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Counts one "Ask me later" while fewer than `max` were used; false when
/// none was left. Conditional, so parallel clicks cannot overspend.
pub async fn add_skip<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    max: i64,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "UPDATE users SET registration_skips = registration_skips + 1 WHERE id = $1 AND registration_skips < $2",
    )
    .bind(user_id)
    .bind(max)
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Enabled admins other than `except` who have an email address, with
/// their language.
pub async fn admin_addresses<'e>(
    exec: impl Exec<'e>,
    except: Option<i64>,
) -> Result<Vec<(String, Option<String>)>, DomainError> {
    let rows = sqlx::query(
        "SELECT email, locale FROM users WHERE role = 'admin' AND id <> $1 AND enabled = 1 AND email IS NOT NULL",
    )
    .bind(except.unwrap_or(0)) // row ids start at 1
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("email")?, r.try_get("locale")?)))
        .collect()
}

/// The account mirrored from the directory entry with this stable id.
pub async fn find_by_directory_id<'e>(
    exec: impl Exec<'e>,
    directory_id: &str,
) -> Result<Option<User>, DomainError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE directory_id = $1");
    let row = sqlx::query(&sql)
        .bind(directory_id)
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// What the directory says of an account, as stored in its row.
pub struct Mirrored<'a> {
    pub directory_id: &'a str,
    pub dn: &'a str,
    pub login: &'a Login,
    pub login_display: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub role: Role,
    pub enabled: bool,
    pub locale: Option<&'a str>,
}

/// Writes the directory's view into the row with this directory id, or
/// into an own account with the same login that no directory entry holds
/// yet (adopted: its security info stays). Returns the row's id, or `None`
/// when neither exists.
pub async fn update_mirrored<'e>(
    exec: impl Exec<'e>,
    m: &Mirrored<'_>,
    now: Timestamp,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE users SET directory_id = $1, directory_dn = $2, login = $3, login_display = $4, \
         display_name = $5, email = $6, role = $7, enabled = $8, locale = $9, password_hash = NULL, \
         directory_seen_at = $10, directory_gone_at = NULL \
         WHERE directory_id = $1 OR (directory_id IS NULL AND login = $3) RETURNING id",
    )
    .bind(m.directory_id)
    .bind(m.dn)
    .bind(m.login.as_str())
    .bind(m.login_display)
    .bind(m.display_name)
    .bind(m.email)
    .bind(m.role.as_str())
    .bind(i64::from(m.enabled))
    .bind(m.locale)
    .bind(now.secs())
    .fetch_optional(exec)
    .await?;
    row.map(|r| r.try_get("id")).transpose()
}

pub async fn insert_mirrored<'e>(
    exec: impl Exec<'e>,
    m: &Mirrored<'_>,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (login, login_display, display_name, email, role, enabled, locale, \
         created_at, directory_id, directory_dn, directory_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $8) RETURNING id",
    )
    .bind(m.login.as_str())
    .bind(m.login_display)
    .bind(m.display_name)
    .bind(m.email)
    .bind(m.role.as_str())
    .bind(i64::from(m.enabled))
    .bind(m.locale)
    .bind(now.secs())
    .bind(m.directory_id)
    .bind(m.dn)
    .fetch_one(exec)
    .await?
    .try_get("id")
}

/// Frees a login held by another directory entry's row (that entry was
/// renamed away; its own next lookup or sync gives it its new login).
/// The placeholder cannot be typed as a login (it holds a space).
pub async fn release_login<'e>(
    exec: impl Exec<'e>,
    login: &Login,
    except_directory_id: &str,
) -> Result<(), DomainError> {
    sqlx::query(
        "UPDATE users SET login = 'directory ' || directory_id \
         WHERE login = $1 AND directory_id IS NOT NULL AND directory_id <> $2",
    )
    .bind(login.as_str())
    .bind(except_directory_id)
    .execute(exec)
    .await?;
    Ok(())
}

/// Notes that a sync saw the entry (its row was otherwise unchanged).
pub async fn touch_seen<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    now: Timestamp,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE users SET directory_seen_at = $1 WHERE id = $2")
        .bind(now.secs())
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Disables every mirrored account a sync that began at `started` did not
/// see; returns how many. Their rows and security info stay (the entry may
/// come back), but nobody signs in or resets as them.
pub async fn mark_gone<'e>(exec: impl Exec<'e>, started: Timestamp) -> Result<u64, DomainError> {
    let r = sqlx::query(
        "UPDATE users SET enabled = 0, directory_gone_at = $1 \
         WHERE directory_id IS NOT NULL AND directory_gone_at IS NULL \
         AND (directory_seen_at IS NULL OR directory_seen_at < $1)",
    )
    .bind(started.secs())
    .execute(exec)
    .await?;
    Ok(r.rows_affected())
}

/// How many accounts are mirrored from the directory and not gone.
pub async fn count_mirrored<'e>(exec: impl Exec<'e>) -> Result<i64, DomainError> {
    Ok(sqlx::query(
        "SELECT COUNT(*) AS n FROM users WHERE directory_id IS NOT NULL AND directory_gone_at IS NULL",
    )
    .fetch_one(exec)
    .await?
    .try_get("n")?)
}
