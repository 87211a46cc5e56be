//! `outbox`: messages waiting to be delivered, written in the transaction
//! of the action that causes them and claimed by workers with leases.
//!
//! A row's parameters (a code among them) are sealed with a key derived
//! from the server key, bound to the row's channel, recipient, template
//! and idempotency key (docs/security.md #83): a database dump shows no
//! code, and a sealed code moved to another recipient's row does not open.

use sqlx::Row;

use super::Exec;
use crate::outbox::{Channel, Message, NewMessage, Template};
use crate::secrets::ServerKey;
use crate::{DomainError, Timestamp};

const COLUMNS: &str = "id, idempotency_key, created_at, channel, recipient, locale, template, params, state, attempts";

/// What the parameters' encryption key is derived for.
const PURPOSE: &str = "outbox-params";

/// What a row's sealed parameters are bound to: everything that says
/// where and how the message goes, each part length-prefixed.
fn binding(channel: Channel, recipient: &str, template: &str, idempotency_key: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for part in [channel.as_str(), recipient, template, idempotency_key] {
        out.extend((part.len() as u64).to_be_bytes());
        out.extend(part.as_bytes());
    }
    out
}

/// Where a row goes: the fields its parameters are bound to.
struct Address<'a> {
    channel: Channel,
    recipient: &'a str,
    idempotency_key: &'a str,
}

impl Address<'_> {
    /// The template's parameters as stored (its name is a column of its
    /// own), sealed.
    fn seal(&self, key: &ServerKey, t: &Template) -> Result<String, DomainError> {
        let value = serde_json::to_value(t).map_err(|e| DomainError::Corrupt(e.to_string()))?;
        let params = value
            .get("params")
            .map(|p| p.to_string())
            .unwrap_or_else(|| "{}".to_owned());
        let bound = binding(self.channel, self.recipient, t.name(), self.idempotency_key);
        key.seal(PURPOSE, &bound, params.as_bytes())
    }

    /// The template a row stores as its name and its sealed parameters.
    /// Parameters in clear (a JSON object) are rows queued before they were
    /// sealed; they are read as they are, so an upgrade loses no message.
    fn open(&self, key: &ServerKey, name: String, stored: String) -> Result<Template, DomainError> {
        let params = if stored.starts_with('{') {
            stored
        } else {
            let bound = binding(self.channel, self.recipient, &name, self.idempotency_key);
            String::from_utf8(key.unseal(PURPOSE, &bound, &stored)?)
                .map_err(|_| DomainError::Corrupt("outbox parameters are not UTF-8".into()))?
        };
        let json = format!(
            "{{\"template\":{},\"params\":{}}}",
            serde_json::Value::String(name),
            params
        );
        serde_json::from_str(&json)
            .map_err(|e| DomainError::Corrupt(format!("outbox template: {e}")))
    }
}

fn address(m: &Message) -> Address<'_> {
    Address {
        channel: m.channel,
        recipient: &m.recipient,
        idempotency_key: &m.idempotency_key,
    }
}

fn from_row(key: &ServerKey, r: &sqlx::any::AnyRow) -> Result<Message, DomainError> {
    let channel: String = r.try_get("channel")?;
    let channel = Channel::parse(&channel)
        .ok_or_else(|| DomainError::Corrupt(format!("channel {channel:?}")))?;
    let recipient: String = r.try_get("recipient")?;
    let idempotency_key: String = r.try_get("idempotency_key")?;
    let template = Address {
        channel,
        recipient: &recipient,
        idempotency_key: &idempotency_key,
    }
    .open(key, r.try_get("template")?, r.try_get("params")?)?;
    Ok(Message {
        id: r.try_get("id")?,
        idempotency_key,
        created_at: Timestamp(r.try_get("created_at")?),
        channel,
        recipient,
        locale: r.try_get("locale")?,
        template,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
    })
}

/// Whether a row is to be delivered, or stands in for a message that is
/// not sent (see [`insert`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Queued,
    /// Never delivered, never listed (`recipient` is empty), purged with
    /// the finished rows: written where no message goes out so that the
    /// request costs the same as one that queues a message
    /// (docs/security.md #11).
    StandIn,
}

/// Queues a message; a second one with the same idempotency key is ignored.
/// A stand-in is the same statement with the same sealing work.
pub async fn insert<'e>(
    exec: impl Exec<'e>,
    key: &ServerKey,
    m: &NewMessage,
    standing: Standing,
    now: Timestamp,
) -> Result<(), DomainError> {
    let (state, not_after) = match standing {
        Standing::Queued => ("pending", m.not_after.map(Timestamp::secs)),
        Standing::StandIn => ("expired", None),
    };
    sqlx::query(
        "INSERT INTO outbox (idempotency_key, created_at, channel, recipient, locale, template, params, state, attempts, next_attempt_at, not_after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $2, $9) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(&m.idempotency_key)
    .bind(now.secs())
    .bind(m.channel.as_str())
    .bind(&m.recipient)
    .bind(&m.locale)
    .bind(m.template.name())
    .bind(
        Address {
            channel: m.channel,
            recipient: &m.recipient,
            idempotency_key: &m.idempotency_key,
        }
        .seal(key, &m.template)?,
    )
    .bind(state)
    .bind(not_after)
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
    key: &ServerKey,
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
    row.as_ref().map(|r| from_row(key, r)).transpose()
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

/// Moves this worker's lease on `id` from `held` to `until`; false when
/// the lease ran out and another worker took the row.
pub async fn renew<'e>(
    exec: impl Exec<'e>,
    id: i64,
    held: Timestamp,
    until: Timestamp,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "UPDATE outbox SET lease_until = $1 WHERE id = $2 AND state = 'sending' AND lease_until = $3",
    )
    .bind(until.secs())
    .bind(id)
    .bind(held.secs())
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Hands a claimed message this worker never tried back to the queue, due
/// at once (its claim is not counted as an attempt); false when the lease
/// ran out and another worker took the row.
pub async fn release<'e>(
    exec: impl Exec<'e>,
    id: i64,
    held: Timestamp,
    now: Timestamp,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "UPDATE outbox SET state = 'pending', lease_until = NULL, next_attempt_at = $1, attempts = attempts - 1 \
         WHERE id = $2 AND state = 'sending' AND lease_until = $3",
    )
    .bind(now.secs())
    .bind(id)
    .bind(held.secs())
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Replaces the stored parameters of `m` by those of `t` (to blank a
/// delivered code).
pub async fn replace_template<'e>(
    exec: impl Exec<'e>,
    key: &ServerKey,
    m: &Message,
    t: &Template,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE outbox SET params = $1 WHERE id = $2")
        .bind(address(m).seal(key, t)?)
        .bind(m.id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Records a failed attempt if this worker's lease still holds the row:
/// `state` (pending or failed), when to retry. False when the lease ran
/// out and another worker took the row.
pub async fn mark_failed<'e>(
    exec: impl Exec<'e>,
    id: i64,
    lease_until: Timestamp,
    state: &str,
    next_attempt_at: Timestamp,
    error: &str,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "UPDATE outbox SET state = $1, next_attempt_at = $2, lease_until = NULL, last_error = $3 \
         WHERE id = $4 AND state = 'sending' AND lease_until = $5",
    )
    .bind(state)
    .bind(next_attempt_at.secs())
    .bind(error)
    .bind(id)
    .bind(lease_until.secs())
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Up to `limit` rows whose `not_after` has passed and that still carry
/// their parameters (a code): each message, or its id alone when it does
/// not open.
pub async fn past_not_after<'e>(
    exec: impl Exec<'e>,
    key: &ServerKey,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<Result<Message, i64>>, DomainError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox WHERE not_after IS NOT NULL AND not_after < $1 \
         ORDER BY not_after LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(now.secs())
        .bind(limit)
        .fetch_all(exec)
        .await?;
    rows.iter()
        .map(|r| match from_row(key, r) {
            Ok(m) => Ok(Ok(m)),
            Err(DomainError::Corrupt(_)) => Ok(Err(r.try_get("id")?)),
            Err(e) => Err(e),
        })
        .collect()
}

/// Messages still to be sent (pending or being sent), per channel, and
/// the oldest due time among them (`None` when there are none). Both
/// read through the `outbox_due` index.
pub async fn backlog<'e>(
    exec: impl Exec<'e>,
) -> Result<(Vec<(Channel, i64)>, Option<Timestamp>), DomainError> {
    let rows = sqlx::query(
        "SELECT channel, COUNT(*) AS n, MIN(next_attempt_at) AS due FROM outbox \
         WHERE state IN ('pending', 'sending') GROUP BY channel",
    )
    .fetch_all(exec)
    .await?;
    let mut per_channel = Vec::new();
    let mut oldest: Option<i64> = None;
    for r in &rows {
        let name: String = r.try_get("channel")?;
        let Some(channel) = Channel::parse(&name) else {
            continue;
        };
        per_channel.push((channel, r.try_get::<i64, _>("n")?));
        let due: i64 = r.try_get("due")?;
        oldest = Some(oldest.map_or(due, |o| o.min(due)));
    }
    Ok((per_channel, oldest.map(Timestamp)))
}

/// Ends a row past its `not_after` that does not open: never selected
/// again, and failed if it was still to be sent.
pub async fn retire_unreadable<'e>(exec: impl Exec<'e>, id: i64) -> Result<(), DomainError> {
    sqlx::query(
        "UPDATE outbox SET not_after = NULL, lease_until = NULL, \
         state = CASE WHEN state IN ('pending', 'sending') THEN 'failed' ELSE state END, \
         last_error = 'does not open with this server key' WHERE id = $1",
    )
    .bind(id)
    .execute(exec)
    .await?;
    Ok(())
}

/// Ends a row whose `not_after` has passed: unsent ones become expired,
/// the parameters are replaced by `t` (the code blanked), and it is never
/// selected again.
pub async fn retire<'e>(
    exec: impl Exec<'e>,
    key: &ServerKey,
    m: &Message,
    t: &Template,
) -> Result<(), DomainError> {
    sqlx::query(
        "UPDATE outbox SET params = $1, not_after = NULL, lease_until = NULL, \
         state = CASE WHEN state IN ('pending', 'sending') THEN 'expired' ELSE state END \
         WHERE id = $2",
    )
    .bind(address(m).seal(key, t)?)
    .bind(m.id)
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

/// Newest first, leaving out rows that do not open with `key` (the dev
/// outbox lists what it can read).
pub async fn recent<'e>(
    exec: impl Exec<'e>,
    key: &ServerKey,
    limit: i64,
) -> Result<Vec<Message>, DomainError> {
    // Stand-ins (no recipient) are nobody's messages.
    let sql =
        format!("SELECT {COLUMNS} FROM outbox WHERE recipient <> '' ORDER BY id DESC LIMIT $1");
    let rows = sqlx::query(&sql).bind(limit).fetch_all(exec).await?;
    let mut readable = Vec::with_capacity(rows.len());
    for r in &rows {
        match from_row(key, r) {
            Ok(m) => readable.push(m),
            Err(DomainError::Corrupt(e)) => {
                tracing::warn!(error = %e, "an outbox row does not open")
            }
            Err(e) => return Err(e),
        }
    }
    Ok(readable)
}

/// The stored parameters of the message with this idempotency key, as
/// they rest in the database (tests: nothing readable).
pub async fn stored_params<'e>(
    exec: impl Exec<'e>,
    idempotency_key: &str,
) -> Result<Option<String>, DomainError> {
    let row = sqlx::query("SELECT params FROM outbox WHERE idempotency_key = $1")
        .bind(idempotency_key)
        .fetch_optional(exec)
        .await?;
    row.map(|r| r.try_get("params").map_err(DomainError::from))
        .transpose()
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
