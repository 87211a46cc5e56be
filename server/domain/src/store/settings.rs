//! `settings`: small documents by key (today only the SSPR policy, JSON).

use sqlx::Row;

use super::Exec;
use crate::{DomainError, Timestamp};

pub async fn get<'e>(exec: impl Exec<'e>, key: &str) -> Result<Option<String>, DomainError> {
    let row = sqlx::query("SELECT value FROM settings WHERE setting_key = $1")
        .bind(key)
        .fetch_optional(exec)
        .await?;
    Ok(row.map(|r| r.try_get("value")).transpose()?)
}

pub async fn put<'e>(
    exec: impl Exec<'e>,
    key: &str,
    value: &str,
    now: Timestamp,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO settings (setting_key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (setting_key) DO UPDATE SET value = $2, updated_at = $3",
    )
    .bind(key)
    .bind(value)
    .bind(now.secs())
    .execute(exec)
    .await?;
    Ok(())
}

/// Takes the write lock before a read-modify-write of `key`: on SQLite a
/// transaction that reads first and writes later fails outright when
/// another writer committed in between (WAL snapshots cannot be upgraded),
/// while one that writes first waits its turn (`busy_timeout`). On
/// PostgreSQL it locks the row, when there is one.
pub async fn lock<'e>(exec: impl Exec<'e>, key: &str) -> Result<(), DomainError> {
    sqlx::query("UPDATE settings SET updated_at = updated_at WHERE setting_key = $1")
        .bind(key)
        .execute(exec)
        .await?;
    Ok(())
}
