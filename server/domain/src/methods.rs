//! Registered security info: the methods a user can verify with.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, DomainError, Timestamp};

pub use sspr_proto::{MethodKind as Kind, PhoneChannel};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    pub id: i64,
    pub kind: Kind,
    pub destination: String,
    pub phone_channel: Option<PhoneChannel>,
    pub is_default: bool,
    pub verified_at: Timestamp,
    /// Authenticator: the encrypted secret and the last accepted time step.
    pub secret: Option<String>,
    pub last_step: i64,
    /// Questions: JSON list of {question, answer_hash}.
    pub answers: Option<String>,
}

impl Method {
    /// What the owner sees: `al***@contoso.example`, `*********67`.
    pub fn masked_destination(&self) -> String {
        match self.kind {
            Kind::Email => mask_email(&self.destination),
            Kind::Phone => crate::phone::mask(&self.destination),
            Kind::Authenticator | Kind::Questions => String::new(),
        }
    }
}

pub fn mask_email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            // A fixed number of stars: the mask does not reveal the length.
            let shown: String = local.chars().take(2).collect();
            format!("{shown}***@{domain}")
        }
        None => "***".into(),
    }
}

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

const COLUMNS: &str =
    "id, kind, destination, phone_channel, is_default, verified_at, secret, last_step, answers";

pub async fn list(db: &Db, user_id: i64) -> Result<Vec<Method>, DomainError> {
    let sql = format!("SELECT {COLUMNS} FROM security_methods WHERE user_id = $1 ORDER BY id");
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(db.pool()).await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(db: &Db, user_id: i64, id: i64) -> Result<Option<Method>, DomainError> {
    let sql = format!("SELECT {COLUMNS} FROM security_methods WHERE user_id = $1 AND id = $2");
    let row = sqlx::query(&sql)
        .bind(user_id)
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub struct NewMethod<'a> {
    pub kind: Kind,
    pub destination: &'a str,
    pub phone_channel: Option<PhoneChannel>,
    pub secret: Option<&'a str>,
    pub last_step: i64,
    pub answers: Option<&'a str>,
}

impl<'a> NewMethod<'a> {
    /// A verified email address.
    pub fn email(address: &'a str) -> NewMethod<'a> {
        NewMethod {
            kind: Kind::Email,
            destination: address,
            phone_channel: None,
            secret: None,
            last_step: 0,
            answers: None,
        }
    }

    /// Security questions, as `questions::seal` stored them.
    pub fn questions(sealed: &'a str) -> NewMethod<'a> {
        NewMethod {
            kind: Kind::Questions,
            destination: "",
            answers: Some(sealed),
            ..NewMethod::email("")
        }
    }
}

/// Inserts (or, for the same kind and destination, replaces) a verified
/// method. The first method a user has becomes the default.
pub async fn upsert<'e, E>(
    exec: E,
    user_id: i64,
    m: &NewMethod<'_>,
    now: Timestamp,
) -> Result<i64, DomainError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
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

/// Deletes a method; when it was the default, the oldest remaining one
/// becomes the default. Returns whether it existed.
pub async fn delete(db: &Db, user_id: i64, id: i64) -> Result<bool, DomainError> {
    let mut tx = db.pool().begin().await?;
    let gone = sqlx::query("DELETE FROM security_methods WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    sqlx::query(
        "UPDATE security_methods SET is_default = 1 WHERE id = (SELECT MIN(id) FROM security_methods WHERE user_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM security_methods WHERE user_id = $1 AND is_default = 1)",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(gone)
}

pub async fn set_default(db: &Db, user_id: i64, id: i64) -> Result<bool, DomainError> {
    let mut tx = db.pool().begin().await?;
    let found =
        sqlx::query("UPDATE security_methods SET is_default = 1 WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
    if found {
        sqlx::query("UPDATE security_methods SET is_default = 0 WHERE user_id = $1 AND id <> $2")
            .bind(user_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(found)
}

/// Records a TOTP step as used, only if it is newer than the last one:
/// two parallel submissions of one code cannot both succeed (#28).
pub async fn advance_totp_step(db: &Db, id: i64, step: i64) -> Result<bool, DomainError> {
    let r =
        sqlx::query("UPDATE security_methods SET last_step = $1 WHERE id = $2 AND last_step < $1")
            .bind(step)
            .bind(id)
            .execute(db.pool())
            .await?;
    Ok(r.rows_affected() == 1)
}

/// How many distinct methods count toward the policy. Email addresses
/// count once in total (email is not a possession factor; security.md #31).
/// Security questions never stand alone: they count only next to another
/// kind of method.
pub fn counted(methods: &[Method]) -> usize {
    let mut kinds: Vec<Kind> = methods.iter().map(|m| m.kind).collect();
    kinds.sort_by_key(|k| k.as_str());
    kinds.dedup();
    if kinds == [Kind::Questions] {
        0
    } else {
        kinds.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_masks_keep_two_characters() {
        assert_eq!(mask_email("alice@contoso.example"), "al***@contoso.example");
        assert_eq!(mask_email("ab@x.test"), "ab***@x.test");
    }
}
