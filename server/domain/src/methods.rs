//! Registered security info: the methods a user can verify with.

use crate::audit::{self, Event, Kind as AuditKind, Outcome};
use crate::users::User;
use crate::{Db, DomainError, Services, Timestamp, notices, store};

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

pub use crate::store::methods::{advance_totp_step, list, upsert};

/// A verified method to store, owned (it travels inside a flow's effects).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub kind: Kind,
    pub destination: String,
    pub phone_channel: Option<PhoneChannel>,
    pub secret: Option<String>,
    pub last_step: i64,
    pub answers: Option<String>,
}

/// Stores a method the user just proved, audits it and tells the user's
/// other addresses — all in the caller's transaction.
pub async fn add_verified(
    s: &Services,
    conn: &mut sqlx::AnyConnection,
    user: &User,
    m: &Verified,
    now: Timestamp,
) -> Result<(), DomainError> {
    let new = NewMethod {
        kind: m.kind,
        destination: &m.destination,
        phone_channel: m.phone_channel,
        secret: m.secret.as_deref(),
        last_step: m.last_step,
        answers: m.answers.as_deref(),
    };
    upsert(&mut *conn, user.id, &new, now).await?;
    let event = Event::by_self(AuditKind::SecurityInfoAdded, Outcome::Success, user.id)
        .detail(m.kind.as_str());
    audit::record(&mut *conn, &event, now).await?;
    notices::security_info_changed(s, conn, user, m.kind, &m.destination, false, now).await
}

/// Deletes a method (the oldest remaining one becomes the default when it
/// was the default), audits it and tells the user — in the caller's
/// transaction. Returns whether it existed.
pub async fn remove(
    s: &Services,
    conn: &mut sqlx::AnyConnection,
    user: &User,
    method: &Method,
    now: Timestamp,
) -> Result<bool, DomainError> {
    if !store::methods::delete(&mut *conn, user.id, method.id).await? {
        return Ok(false);
    }
    store::methods::ensure_default(&mut *conn, user.id).await?;
    let event = Event::by_self(AuditKind::SecurityInfoRemoved, Outcome::Success, user.id)
        .detail(method.kind.as_str());
    audit::record(&mut *conn, &event, now).await?;
    notices::security_info_changed(s, conn, user, method.kind, "", true, now).await?;
    Ok(true)
}

/// Makes method `id` the user's default; false when there is no such method.
pub async fn set_default(db: &Db, user_id: i64, id: i64) -> Result<bool, DomainError> {
    let mut tx = db.pool().begin().await?;
    let found = store::methods::mark_default(&mut *tx, user_id, id, true).await? == 1;
    if found {
        store::methods::mark_default(&mut *tx, user_id, id, false).await?;
        tx.commit().await?;
    }
    Ok(found)
}

/// How many distinct methods count toward the policy. Email addresses
/// count once in total (email is not a possession factor; docs/security.md #31).
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
