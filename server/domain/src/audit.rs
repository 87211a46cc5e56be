//! The audit trail: one row per security-relevant event, in UTC, with the
//! account (when known) and the client address. Never a password, code or
//! token (security.md #55).

use sqlx::Row;

use crate::{Db, DomainError, Timestamp};

#[derive(Clone, Debug, Default)]
pub struct Event<'a> {
    pub event: &'a str,
    pub outcome: &'a str,
    pub actor_user_id: Option<i64>,
    pub subject_user_id: Option<i64>,
    /// The canonical user ID typed, for events about accounts that may not exist.
    pub subject_login: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub detail: Option<&'a str>,
}

pub async fn record<'e, E>(exec: E, e: &Event<'_>, now: Timestamp) -> Result<(), DomainError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_events (at, event, outcome, actor_user_id, subject_user_id, subject_login, ip, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now.secs())
    .bind(e.event)
    .bind(e.outcome)
    .bind(e.actor_user_id)
    .bind(e.subject_user_id)
    .bind(e.subject_login)
    .bind(e.ip)
    .bind(e.detail)
    .execute(exec)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub at: i64,
    pub event: String,
    pub outcome: String,
    pub subject_user_id: Option<i64>,
    pub subject_login: Option<String>,
}

/// Most recent first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<AuditRow>, DomainError> {
    let rows = sqlx::query(
        "SELECT at, event, outcome, subject_user_id, subject_login FROM audit_events ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditRow {
                at: r.try_get("at")?,
                event: r.try_get("event")?,
                outcome: r.try_get("outcome")?,
                subject_user_id: r.try_get("subject_user_id")?,
                subject_login: r.try_get("subject_login")?,
            })
        })
        .collect()
}
