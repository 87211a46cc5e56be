//! `audit_events`: append-only, one row per security-relevant event.

use sqlx::Row;

use super::Exec;
use crate::audit::{AuditRow, Event};
use crate::{DomainError, Timestamp};

pub async fn insert<'e>(exec: impl Exec<'e>, e: &Event, now: Timestamp) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO audit_events (at, event, outcome, actor_user_id, subject_user_id, subject_login, ip, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now.secs())
    .bind(e.event.as_str())
    .bind(e.outcome.as_str())
    .bind(e.actor_user_id)
    .bind(e.subject_user_id)
    .bind(e.subject_login.as_deref())
    .bind(e.ip.map(|ip| ip.to_string()))
    .bind(e.detail.as_deref())
    .execute(exec)
    .await?;
    Ok(())
}

/// Most recent first.
pub async fn recent<'e>(exec: impl Exec<'e>, limit: i64) -> Result<Vec<AuditRow>, DomainError> {
    let rows = sqlx::query(
        "SELECT at, event, outcome, subject_user_id, subject_login FROM audit_events ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(exec)
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

/// Deletes up to `batch` rows older than `before`.
pub async fn purge<'e>(
    exec: impl Exec<'e>,
    before: Timestamp,
    batch: i64,
) -> Result<u64, DomainError> {
    let r = sqlx::query(
        "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 LIMIT $2)",
    )
    .bind(before.secs())
    .bind(batch)
    .execute(exec)
    .await?;
    Ok(r.rows_affected())
}
