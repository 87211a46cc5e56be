//! `security_methods`: the verified methods a user can prove themselves
//! with (email, phone, authenticator app, security questions).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Exec;
use crate::methods::{Kind, Method, NewMethod, PhoneChannel};
use crate::{DomainError, Timestamp};

const COLUMNS: &str =
    "id, kind, destination, phone_channel, is_default, verified_at, secret, last_step, answers";

fn from_row(r: &AnyRow) -> Result<Method, DomainError> {
    let kind: String = r.try_get("kind")?;
    let channel: Option<String> = r.try_get("phone_channel")?;
    Ok(Method {
        id: r.try_get("id")?,
        kind: Kind::parse(&kind)
            .ok_or_else(|| DomainError::Corrupt(format!("method kind {kind:?}")))?,
        destination: r.try_get("destination")?,
        phone_channel: channel.as_deref().and_then(PhoneChannel::parse),
        is_default: r.try_get::<i64, _>("is_default")? != 0,
        verified_at: Timestamp(r.try_get("verified_at")?),
        secret: r.try_get("secret")?,
        last_step: r.try_get("last_step")?,
        answers: r.try_get("answers")?,
    })
}

pub async fn list<'e>(exec: impl Exec<'e>, user_id: i64) -> Result<Vec<Method>, DomainError> {
    let sql = format!("SELECT {COLUMNS} FROM security_methods WHERE user_id = $1 ORDER BY id");
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(exec).await?;
    rows.iter().map(from_row).collect()
}

/// Every account's registered kinds, one row per (account, kind), ordered
/// by account: what the impact preview of a policy change reads.
pub async fn kinds_by_user<'e>(exec: impl Exec<'e>) -> Result<Vec<(i64, Kind)>, DomainError> {
    let rows =
        sqlx::query("SELECT DISTINCT user_id, kind FROM security_methods ORDER BY user_id, kind")
            .fetch_all(exec)
            .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok((
                r.try_get("user_id")?,
                Kind::parse(&kind)
                    .ok_or_else(|| DomainError::Corrupt(format!("method kind {kind:?}")))?,
            ))
        })
        .collect()
}

/// Deletes every method of the account; returns how many.
pub async fn delete_all<'e>(exec: impl Exec<'e>, user_id: i64) -> Result<u64, DomainError> {
    let r = sqlx::query("DELETE FROM security_methods WHERE user_id = $1")
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(r.rows_affected())
}

/// Inserts (or, for the same kind and destination, replaces) a verified
/// method. The first method a user has becomes the default.
pub async fn upsert<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    m: &NewMethod<'_>,
    now: Timestamp,
) -> Result<i64, DomainError> {
    let row = sqlx::query(
        "INSERT INTO security_methods (user_id, kind, destination, phone_channel, secret, last_step, answers, is_default, verified_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, \
                 CASE WHEN EXISTS (SELECT 1 FROM security_methods WHERE user_id = $1) THEN 0 ELSE 1 END, $8, $8) \
         ON CONFLICT (user_id, kind, destination) DO UPDATE SET \
           phone_channel = excluded.phone_channel, secret = excluded.secret, last_step = excluded.last_step, \
           answers = excluded.answers, verified_at = excluded.verified_at \
         RETURNING id",
    )
    .bind(user_id)
    .bind(m.kind.as_str())
    .bind(m.destination)
    .bind(m.phone_channel.map(PhoneChannel::as_str))
    .bind(m.secret)
    .bind(m.last_step)
    .bind(m.answers)
    .bind(now.secs())
    .fetch_one(exec)
    .await?;
    Ok(row.try_get("id")?)
}

/// Deletes a method; returns whether it existed.
pub async fn delete<'e>(exec: impl Exec<'e>, user_id: i64, id: i64) -> Result<bool, DomainError> {
    let r = sqlx::query("DELETE FROM security_methods WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Makes the oldest method the default when the user has none.
pub async fn ensure_default<'e>(exec: impl Exec<'e>, user_id: i64) -> Result<(), DomainError> {
    sqlx::query(
        "UPDATE security_methods SET is_default = 1 WHERE id = (SELECT MIN(id) FROM security_methods WHERE user_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM security_methods WHERE user_id = $1 AND is_default = 1)",
    )
    .bind(user_id)
    .execute(exec)
    .await?;
    Ok(())
}

/// Sets `is_default` on method `id` (`on`) or on every other one (`!on`).
pub async fn mark_default<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    id: i64,
    on: bool,
) -> Result<u64, DomainError> {
    let sql = if on {
        "UPDATE security_methods SET is_default = 1 WHERE user_id = $1 AND id = $2"
    } else {
        "UPDATE security_methods SET is_default = 0 WHERE user_id = $1 AND id <> $2"
    };
    let r = sqlx::query(sql)
        .bind(user_id)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(r.rows_affected())
}

/// Records a TOTP step as used, only if it is newer than the last one:
/// two parallel submissions of one code cannot both succeed (docs/security.md #28).
pub async fn advance_totp_step<'e>(
    exec: impl Exec<'e>,
    id: i64,
    step: i64,
) -> Result<bool, DomainError> {
    let r =
        sqlx::query("UPDATE security_methods SET last_step = $1 WHERE id = $2 AND last_step < $1")
            .bind(step)
            .bind(id)
            .execute(exec)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// The account's registered email addresses.
pub async fn email_addresses<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
) -> Result<Vec<String>, DomainError> {
    let rows = sqlx::query(
        "SELECT destination FROM security_methods WHERE user_id = $1 AND kind = 'email'",
    )
    .bind(user_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| r.try_get("destination").map_err(DomainError::from))
        .collect()
}

/// The most recently registered email addresses of everyone (for the
/// stand-in hints' common domain).
pub async fn recent_email_addresses<'e>(
    exec: impl Exec<'e>,
    limit: i64,
) -> Result<Vec<String>, DomainError> {
    let rows = sqlx::query(
        "SELECT destination FROM security_methods WHERE kind = 'email' ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| r.try_get("destination").map_err(DomainError::from))
        .collect()
}
