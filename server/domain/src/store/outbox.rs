//! `outbox`: messages waiting to be delivered, written in the transaction
//! of the action that causes them and claimed by workers with leases.

use sqlx::Row;

use super::Exec;
use crate::outbox::{Channel, Message, NewMessage, Template};
use crate::{DomainError, Timestamp};

const COLUMNS: &str = "id, idempotency_key, created_at, channel, recipient, locale, template, params, state, attempts";

/// The template's parameters as stored (its name is a column of its own).
fn params_of(t: &Template) -> Result<String, DomainError> {
    let value = serde_json::to_value(t).map_err(|e| DomainError::Corrupt(e.to_string()))?;
    Ok(value
        .get("params")
        .map(|p| p.to_string())
        .unwrap_or_else(|| "{}".to_owned()))
}

/// The template a row stores as its name and its parameters.
fn template_of(name: String, params: String) -> Result<Template, DomainError> {
    let json = format!(
        "{{\"template\":{},\"params\":{}}}",
        serde_json::Value::String(name),
        params
    );
    serde_json::from_str(&json).map_err(|e| DomainError::Corrupt(format!("outbox template: {e}")))
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Message, DomainError> {
    let template = template_of(r.try_get("template")?, r.try_get("params")?)?;
    let channel: String = r.try_get("channel")?;
    Ok(Message {
        id: r.try_get("id")?,
        idempotency_key: r.try_get("idempotency_key")?,
        created_at: Timestamp(r.try_get("created_at")?),
        channel: Channel::parse(&channel)
            .ok_or_else(|| DomainError::Corrupt(format!("channel {channel:?}")))?,
        recipient: r.try_get("recipient")?,
        locale: r.try_get("locale")?,
        template,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
    })
}

/// Queues a message; a second one with the same idempotency key is ignored.
pub async fn insert<'e>(
    exec: impl Exec<'e>,
    m: &NewMessage,
    now: Timestamp,
) -> Result<(), DomainError> {
    sqlx::query(
        "INSERT INTO outbox (idempotency_key, created_at, channel, recipient, locale, template, params, state, attempts, next_attempt_at, not_after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $2, $8) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(&m.idempotency_key)
    .bind(now.secs())
    .bind(m.channel.as_str())
    .bind(&m.recipient)
    .bind(&m.locale)
    .bind(m.template.name())
    .bind(params_of(&m.template)?)
    .bind(m.not_after.map(Timestamp::secs))
    .execute(exec)
    .await?;
    Ok(())
}

/// Ids of messages due now: pending and due, or claimed by a worker whose
/// lease ran out.
pub async fn due_ids<'e>(
    exec: impl Exec<'e>,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<i64>, DomainError> {
    let rows = sqlx::query(
        "SELECT id FROM outbox WHERE (state = 'pending' AND next_attempt_at <= $1) OR (state = 'sending' AND lease_until < $1) ORDER BY id LIMIT $2",
    )
    .bind(now.secs())
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| r.try_get("id").map_err(DomainError::from))
        .collect()
}

/// Takes message `id` for `lease_until` if it is still due (one worker wins).
pub async fn claim<'e>(
    exec: impl Exec<'e>,
    id: i64,
    lease_until: Timestamp,
    now: Timestamp,
) -> Result<Option<Message>, DomainError> {
    let sql = format!(
        "UPDATE outbox SET state = 'sending', lease_until = $1, attempts = attempts + 1 \
         WHERE id = $2 AND ((state = 'pending' AND next_attempt_at <= $3) OR (state = 'sending' AND lease_until < $3)) \
         RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(lease_until.secs())
        .bind(id)
        .bind(now.secs())
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Marks the message sent if this worker's lease still holds it; false
/// when the lease ran out and another worker took the row.
pub async fn mark_sent<'e>(
    exec: impl Exec<'e>,
    id: i64,
    lease_until: Timestamp,
    now: Timestamp,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "UPDATE outbox SET state = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL \
         WHERE id = $2 AND state = 'sending' AND lease_until = $3",
    )
    .bind(now.secs())
    .bind(id)
    .bind(lease_until.secs())
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Replaces the stored parameters (to blank a delivered code).
pub async fn replace_template<'e>(
    exec: impl Exec<'e>,
    id: i64,
    t: &Template,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE outbox SET params = $1 WHERE id = $2")
        .bind(params_of(t)?)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Records a failed attempt: `state` (pending or failed), when to retry.
pub async fn mark_failed<'e>(
    exec: impl Exec<'e>,
    id: i64,
    state: &str,
    next_attempt_at: Timestamp,
    error: &str,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE outbox SET state = $1, next_attempt_at = $2, lease_until = NULL, last_error = $3 WHERE id = $4")
        .bind(state)
        .bind(next_attempt_at.secs())
        .bind(error)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Up to `limit` rows whose `not_after` has passed and that still carry
/// their parameters (a code): id and template.
pub async fn past_not_after<'e>(
    exec: impl Exec<'e>,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<(i64, Template)>, DomainError> {
    let rows = sqlx::query(
        "SELECT id, template, params FROM outbox WHERE not_after IS NOT NULL AND not_after < $1 \
         ORDER BY not_after LIMIT $2",
    )
    .bind(now.secs())
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            Ok((
                id,
                template_of(r.try_get("template")?, r.try_get("params")?)?,
            ))
        })
        .collect()
}

/// Ends a row whose `not_after` has passed: unsent ones become expired,
/// the parameters are replaced by `t` (the code blanked), and it is never
/// selected again.
pub async fn retire<'e>(exec: impl Exec<'e>, id: i64, t: &Template) -> Result<(), DomainError> {
    sqlx::query(
        "UPDATE outbox SET params = $1, not_after = NULL, lease_until = NULL, \
         state = CASE WHEN state IN ('pending', 'sending') THEN 'expired' ELSE state END \
         WHERE id = $2",
    )
    .bind(params_of(t)?)
    .bind(id)
    .execute(exec)
    .await?;
    Ok(())
}

/// The state and attempt count of the message with this idempotency key.
pub async fn delivery_state<'e>(
    exec: impl Exec<'e>,
    idempotency_key: &str,
) -> Result<Option<(String, i64)>, DomainError> {
    let row = sqlx::query("SELECT state, attempts FROM outbox WHERE idempotency_key = $1")
        .bind(idempotency_key)
        .fetch_optional(exec)
        .await?;
    row.map(|r| Ok((r.try_get("state")?, r.try_get("attempts")?)))
        .transpose()
}

/// Newest first.
pub async fn recent<'e>(exec: impl Exec<'e>, limit: i64) -> Result<Vec<Message>, DomainError> {
    let sql = format!("SELECT {COLUMNS} FROM outbox ORDER BY id DESC LIMIT $1");
    let rows = sqlx::query(&sql).bind(limit).fetch_all(exec).await?;
    rows.iter().map(from_row).collect()
}

/// Deletes up to `batch` finished rows (sent, failed, expired) created
/// before `before`. Pending and in-flight rows are never touched.
pub async fn purge<'e>(
    exec: impl Exec<'e>,
    before: Timestamp,
    batch: i64,
) -> Result<u64, DomainError> {
    let r = sqlx::query(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
         WHERE state IN ('sent', 'failed', 'expired') AND created_at < $1 LIMIT $2)",
    )
    .bind(before.secs())
    .bind(batch)
    .execute(exec)
    .await?;
    Ok(r.rows_affected())
}
