//! Server-side sessions. The cookie carries a 256-bit random token; the
//! table stores only its SHA-256, so a database dump holds no usable
//! session (security.md #42). Sessions end after an idle period and after
//! an absolute lifetime (#43).

use serde::Deserialize;
use sqlx::Row;

use crate::secrets::{random_token, token_hash};
use crate::{Db, DomainError, Timestamp};

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// A session unused for this long ends, in seconds (ASVS L2: ≤ 30 min).
    pub idle_timeout_secs: i64,
    /// A session ends this long after sign-in whatever happens, in seconds (≤ 12 h).
    pub absolute_timeout_secs: i64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout_secs: 30 * 60,
            absolute_timeout_secs: 12 * 3600,
        }
    }
}

/// Writes to `last_seen_at` at most this often per session.
const TOUCH_INTERVAL_SECS: i64 = 60;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub authenticated_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Creates a session and returns the token for the cookie. `replaces` (the
/// token the browser sent, if any) is deleted in the same transaction, so
/// an id planted before sign-in is dead afterwards (fixation).
pub async fn create(
    db: &Db,
    cfg: &SessionConfig,
    user_id: i64,
    replaces: Option<&str>,
    now: Timestamp,
) -> Result<String, DomainError> {
    let token = random_token();
    let mut tx = db.pool().begin().await?;
    if let Some(old) = replaces {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(token_hash(old))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, authenticated_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $3, $4)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(now.secs())
    .bind(now.plus_secs(cfg.absolute_timeout_secs).secs())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The live session for `token`, refreshing its idle timer.
pub async fn lookup(
    db: &Db,
    cfg: &SessionConfig,
    token: &str,
    now: Timestamp,
) -> Result<Option<Session>, DomainError> {
    let hash = token_hash(token);
    let row = sqlx::query(
        "SELECT s.user_id, s.authenticated_at, s.last_seen_at, s.expires_at FROM sessions s \
         JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND u.enabled = 1",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let last_seen: i64 = row.try_get("last_seen_at")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    if now.secs() >= expires_at || now.secs() - last_seen >= cfg.idle_timeout_secs {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(&hash)
            .execute(db.pool())
            .await?;
        return Ok(None);
    }
    if now.secs() - last_seen >= TOUCH_INTERVAL_SECS {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now.secs())
            .bind(&hash)
            .execute(db.pool())
            .await?;
    }
    Ok(Some(Session {
        user_id: row.try_get("user_id")?,
        authenticated_at: Timestamp(row.try_get("authenticated_at")?),
        expires_at: Timestamp(expires_at),
    }))
}

/// Records that the user just proved their password again.
pub async fn mark_authenticated(db: &Db, token: &str, now: Timestamp) -> Result<(), DomainError> {
    sqlx::query("UPDATE sessions SET authenticated_at = $1, last_seen_at = $1 WHERE id_hash = $2")
        .bind(now.secs())
        .bind(token_hash(token))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Ends one session. Returns whether it existed.
pub async fn revoke(db: &Db, token: &str) -> Result<bool, DomainError> {
    let r = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(token_hash(token))
        .execute(db.pool())
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Ends every session of a user (password reset, admin action).
pub async fn revoke_all<'e, E>(exec: E, user_id: i64) -> Result<u64, DomainError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(exec)
        .await?
        .rows_affected())
}

/// Deletes expired sessions in bounded batches (security.md #64).
pub async fn purge_expired(
    db: &Db,
    cfg: &SessionConfig,
    now: Timestamp,
) -> Result<u64, DomainError> {
    let r = sqlx::query(
        "DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2 LIMIT 1000)",
    )
    .bind(now.secs())
    .bind(now.minus_secs(cfg.idle_timeout_secs).secs())
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected())
}
