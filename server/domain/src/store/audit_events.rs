//! `audit_events`: append-only, one row per security-relevant event.

use sqlx::Row;

use super::Exec;
use crate::audit::{AuditRow, Entry, Event, Filter, Kind};
use crate::{DomainError, Timestamp};

pub async fn insert<'e>(
    exec: impl Exec<'e>,
    e: &Event,
    now: Timestamp,
) -> Result<i64, DomainError> {
    let row = sqlx::query(
        "INSERT INTO audit_events (at, event, outcome, actor_user_id, subject_user_id, subject_login, ip, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(now.secs())
    .bind(e.event.as_str())
    .bind(e.outcome.as_str())
    .bind(e.actor_user_id)
    .bind(e.subject_user_id)
    .bind(e.subject_login.as_deref())
    .bind(e.ip.map(|ip| ip.to_string()))
    .bind(e.detail.as_deref())
    .fetch_one(exec)
    .await?;
    Ok(row.try_get("id")?)
}

/// Row `id`'s time, actor and detail when it is an event of `kind`.
pub async fn find_of_kind<'e>(
    exec: impl Exec<'e>,
    id: i64,
    kind: &str,
) -> Result<Option<(i64, Option<i64>, Option<String>)>, DomainError> {
    let row = sqlx::query(
        "SELECT at, actor_user_id, detail FROM audit_events WHERE id = $1 AND event = $2",
    )
    .bind(id)
    .bind(kind)
    .fetch_optional(exec)
    .await?;
    row.map(|r| {
        Ok((
            r.try_get("at")?,
            r.try_get("actor_user_id")?,
            r.try_get("detail")?,
        ))
    })
    .transpose()
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

/// When one of `events` last succeeded for the account (the subject index).
pub async fn last_success<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    events: &[Kind],
) -> Result<Option<Timestamp>, DomainError> {
    // The names are constants of this program, not input.
    let names: Vec<String> = events.iter().map(|e| format!("'{}'", e.as_str())).collect();
    let sql = format!(
        "SELECT MAX(at) AS at FROM audit_events WHERE subject_user_id = $1 \
         AND outcome = 'success' AND event IN ({})",
        names.join(", ")
    );
    let at: Option<i64> = sqlx::query(&sql)
        .bind(user_id)
        .fetch_one(exec)
        .await?
        .try_get("at")?;
    Ok(at.map(Timestamp))
}

/// See [`crate::audit::search`]. The filters present become `AND` terms
/// with numbered parameters; the id orders and pages.
pub async fn search<'e>(
    exec: impl Exec<'e>,
    f: &Filter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, DomainError> {
    let mut sql = String::from(
        "SELECT e.id, e.at, e.event, e.outcome, a.login_display AS actor, \
         COALESCE(s.login_display, e.subject_login) AS subject, e.ip, e.detail \
         FROM audit_events e \
         LEFT JOIN users a ON a.id = e.actor_user_id \
         LEFT JOIN users s ON s.id = e.subject_user_id \
         WHERE e.id < $1",
    );
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    if let Some(u) = &f.user {
        // Each term can use an index of its own (actor, subject, subject_login).
        let (a, b) = (next(), next());
        match u.user_id {
            Some(_) => {
                let id = next();
                sql.push_str(&format!(
                    " AND (e.subject_login IN (${a}, ${b}) OR e.actor_user_id = ${id} \
                     OR e.subject_user_id = ${id})"
                ));
            }
            None => sql.push_str(&format!(" AND e.subject_login IN (${a}, ${b})")),
        }
    }
    if f.event.is_some() {
        sql.push_str(&format!(" AND e.event = ${}", next()));
    }
    if f.outcome.is_some() {
        sql.push_str(&format!(" AND e.outcome = ${}", next()));
    }
    if f.since.is_some() {
        sql.push_str(&format!(" AND e.at >= ${}", next()));
    }
    if f.until.is_some() {
        sql.push_str(&format!(" AND e.at < ${}", next()));
    }
    sql.push_str(&format!(" ORDER BY e.id DESC LIMIT ${}", next()));
    let mut q = sqlx::query(&sql).bind(before.unwrap_or(i64::MAX));
    if let Some(u) = &f.user {
        q = q
            .bind(u.recorded_as[0].clone())
            .bind(u.recorded_as[1].clone());
        if let Some(id) = u.user_id {
            q = q.bind(id);
        }
    }
    if let Some(event) = f.event {
        q = q.bind(event.as_str());
    }
    if let Some(outcome) = f.outcome {
        q = q.bind(outcome.as_str());
    }
    if let Some(since) = f.since {
        q = q.bind(since.secs());
    }
    if let Some(until) = f.until {
        q = q.bind(until.secs());
    }
    let rows = q.bind(limit).fetch_all(exec).await?;
    rows.iter()
        .map(|r| {
            Ok(Entry {
                id: r.try_get("id")?,
                at: Timestamp(r.try_get("at")?),
                event: r.try_get("event")?,
                outcome: r.try_get("outcome")?,
                actor: r.try_get("actor")?,
                subject: r.try_get("subject")?,
                ip: r.try_get("ip")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}
