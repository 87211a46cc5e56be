//! Server-side sessions. The cookie carries a 256-bit random token; the
//! table stores only its SHA-256, so a database dump holds no usable
//! session (docs/security.md #42). Sessions end after an idle period and after
//! an absolute lifetime (docs/security.md #43).

use serde::Deserialize;

use crate::secrets::{random_token, token_hash};
use crate::store::{self, Exec};
use crate::{Db, DomainError, Timestamp};

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// A session unused for this long ends, in seconds (ASVS L2: ≤ 30 min).
    pub idle_timeout_secs: i64,
    /// A session ends this long after sign-in whatever happens, in seconds (≤ 12 h).
    pub absolute_timeout_secs: i64,
    /// An admin's session unused for this long ends, in seconds (issue 13:
    /// 15 min). The shorter of this and `idle_timeout_secs` applies.
    pub admin_idle_timeout_secs: i64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout_secs: 30 * 60,
            absolute_timeout_secs: 12 * 3600,
            admin_idle_timeout_secs: 15 * 60,
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
    /// The account's saved language (My account, or the language picker
    /// while signed in), which beats the browser's.
    pub locale: Option<String>,
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
    let mut tx = db.pool().begin().await?;
    let token = create_in(&mut tx, cfg, user_id, replaces, now).await?;
    tx.commit().await?;
    Ok(token)
}

/// [`create`] inside the caller's transaction (the sign-in's second factor
/// ends its flow and starts the session together).
pub async fn create_in(
    tx: &mut store::Tx,
    cfg: &SessionConfig,
    user_id: i64,
    replaces: Option<&str>,
    now: Timestamp,
) -> Result<String, DomainError> {
    let token = random_token();
    if let Some(old) = replaces {
        store::sessions::delete(&mut **tx, &token_hash(old)).await?;
    }
    let expires_at = now.plus_secs(cfg.absolute_timeout_secs);
    store::sessions::insert(&mut **tx, &token_hash(&token), user_id, expires_at, now).await?;
    Ok(token)
}

pub async fn lookup(
    db: &Db,
    cfg: &SessionConfig,
    token: &str,
    now: Timestamp,
) -> Result<Option<Session>, DomainError> {
    let hash = token_hash(token);
    let Some(row) = store::sessions::find(db.pool(), &hash).await? else {
        return Ok(None);
    };
    let idle = now.secs() - row.last_seen_at.secs();
    let idle_limit = if row.is_admin {
        cfg.idle_timeout_secs.min(cfg.admin_idle_timeout_secs)
    } else {
        cfg.idle_timeout_secs
    };
    if now >= row.expires_at || idle >= idle_limit {
        store::sessions::delete(db.pool(), &hash).await?;
        return Ok(None);
    }
    if idle >= TOUCH_INTERVAL_SECS {
        store::sessions::touch(db.pool(), &hash, now).await?;
    }
    Ok(Some(Session {
        user_id: row.user_id,
        authenticated_at: row.authenticated_at,
        expires_at: row.expires_at,
        locale: row.locale,
    }))
}

/// Re-issues the session behind `token` under a fresh token, marked
/// authenticated now (a password was just proven: re-authentication, a
/// password change). Whoever learnt the old token before holds nothing
/// (docs/security.md #69). `None` when the session is gone.
pub async fn rotate<'e>(
    exec: impl Exec<'e>,
    token: &str,
    now: Timestamp,
) -> Result<Option<String>, DomainError> {
    let fresh = random_token();
    let rotated =
        store::sessions::rotate(exec, &token_hash(token), &token_hash(&fresh), now).await?;
    Ok(rotated.then_some(fresh))
}

pub async fn revoke(db: &Db, token: &str) -> Result<bool, DomainError> {
    store::sessions::delete(db.pool(), &token_hash(token)).await
}

/// Ends every session of the user.
pub async fn revoke_all<'e>(exec: impl Exec<'e>, user_id: i64) -> Result<u64, DomainError> {
    store::sessions::delete_all_of_user(exec, user_id, None).await
}

/// Ends every session of the user but the one `keep_token` names.
pub async fn revoke_others<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    keep_token: &str,
) -> Result<u64, DomainError> {
    store::sessions::delete_all_of_user(exec, user_id, Some(&token_hash(keep_token))).await
}

/// Deletes up to `batch` sessions past their absolute or idle timeout.
pub async fn purge_expired(
    db: &Db,
    cfg: &SessionConfig,
    now: Timestamp,
    batch: i64,
) -> Result<u64, DomainError> {
    let idle_since = now.minus_secs(cfg.idle_timeout_secs);
    store::sessions::purge(db.pool(), now, idle_since, batch).await
}
