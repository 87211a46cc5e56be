//! Changing a known password (signed in): the current password is checked
//! like a sign-in (a wrong one counts toward the lockout, security.md #9),
//! the new one against the policy, and the change commits in one
//! transaction with the sessions it ends, its audit row and the notice to
//! the owner.

use crate::audit::{self, Event};
use crate::auth::{self, SignInError};
use crate::outbox::{self, Channel, NewMessage, Template};
use crate::password::{HashError, Normalized};
use crate::password_policy::{self, Reason, Rules};
use crate::secrets::token_hash;
use crate::users::User;
use crate::{DomainError, Services, Timestamp, methods, policy};

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("not signed in")]
    NotSignedIn,
    #[error("the current password is wrong")]
    InvalidCredentials,
    #[error("the new password is refused: {0:?}")]
    Rejected(Vec<Reason>),
    #[error("the password is longer than the limit")]
    PasswordTooLong,
    #[error("server busy")]
    Busy { retry_after_secs: u64 },
    #[error("the password changed meanwhile")]
    Conflict,
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl From<HashError> for ChangeError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::TooLong => ChangeError::PasswordTooLong,
            HashError::Busy { retry_after_secs } => ChangeError::Busy { retry_after_secs },
            HashError::Internal(m) => ChangeError::Internal(DomainError::Hashing(m)),
        }
    }
}

impl From<SignInError> for ChangeError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::InvalidCredentials => ChangeError::InvalidCredentials,
            SignInError::PasswordTooLong => ChangeError::PasswordTooLong,
            SignInError::Busy { retry_after_secs } => ChangeError::Busy { retry_after_secs },
            SignInError::Internal(e) => ChangeError::Internal(e),
        }
    }
}

impl From<sqlx::Error> for ChangeError {
    fn from(e: sqlx::Error) -> Self {
        ChangeError::Internal(e.into())
    }
}

pub struct ChangeRequest<'a> {
    pub session_token: &'a str,
    pub current: &'a str,
    pub new: &'a str,
    pub confirm: &'a str,
    /// End the user's other sessions (the default in the UI).
    pub sign_out_others: bool,
    pub ip: Option<&'a str>,
}

/// The rules that apply to `user` now, for the live checklist.
pub async fn rules(s: &Services, user: &User) -> Result<Rules, DomainError> {
    let policy = policy::load(&s.db).await?;
    let has_other = methods::counted(&methods::list(&s.db, user.id).await?) > 0;
    Ok(password_policy::rules_for(&policy, user, has_other))
}

/// The server half of the live checklist: every reason the server would
/// refuse `candidate` for `user`, without hashing anything.
pub async fn preview(
    s: &Services,
    user: &User,
    candidate: &str,
) -> Result<Vec<Reason>, ChangeError> {
    let new = Normalized::new(candidate)?;
    let policy = policy::load(&s.db).await?;
    let rules = rules(s, user).await?;
    Ok(password_policy::evaluate(
        &policy,
        &rules,
        new.as_str(),
        None,
        None,
    ))
}

pub async fn change(
    s: &Services,
    req: ChangeRequest<'_>,
    now: Timestamp,
) -> Result<(), ChangeError> {
    let Some(user) = auth::current_user(s, req.session_token, now).await? else {
        return Err(ChangeError::NotSignedIn);
    };
    // The policy first: a refused password costs no argon2 work.
    let current = Normalized::new(req.current)?;
    let new = Normalized::new(req.new)?;
    let confirm = Normalized::new(req.confirm)?;
    let policy = policy::load(&s.db).await?;
    let rules = rules(s, &user).await?;
    let reasons = password_policy::evaluate(
        &policy,
        &rules,
        new.as_str(),
        Some(confirm.as_str()),
        Some(current.as_str()),
    );
    if !reasons.is_empty() {
        return Err(ChangeError::Rejected(reasons));
    }
    // Checked like a sign-in: throttled, and a wrong one counts.
    let (_, checked) =
        auth::check_password(s, user.login.as_str(), req.current, req.ip, now).await?;
    if checked.id != user.id {
        return Err(ChangeError::InvalidCredentials);
    }
    let old_hash = checked.password_hash.clone().unwrap_or_default();
    let hash = s.hasher.hash(&new).await?;

    let mut tx = s.db.pool().begin().await?;
    // Conditional on the hash just verified: two changes racing cannot both
    // win, and neither overwrites the other unseen.
    let updated = sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3 AND password_hash = $4",
    )
    .bind(&hash)
    .bind(now.secs())
    .bind(user.id)
    .bind(&old_hash)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        tx.rollback().await?;
        return Err(ChangeError::Conflict);
    }
    let ended = if req.sign_out_others {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user.id)
            .bind(token_hash(req.session_token))
            .execute(&mut *tx)
            .await?
            .rows_affected()
    } else {
        0
    };
    let detail = format!("other_sessions_ended={ended}");
    audit::record(
        &mut *tx,
        &Event {
            event: "password_changed",
            outcome: "success",
            actor_user_id: Some(user.id),
            subject_user_id: Some(user.id),
            ip: req.ip,
            detail: Some(&detail),
            ..Event::default()
        },
        now,
    )
    .await?;
    notify_password_changed(s, &mut tx, &user, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Queues "your password was changed" to every address the user has.
pub async fn notify_password_changed(
    s: &Services,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &User,
    now: Timestamp,
) -> Result<(), DomainError> {
    let addresses = crate::users::contact_addresses(tx, user).await?;
    for to in addresses {
        let m = NewMessage {
            channel: Channel::Email,
            idempotency_key: format!("password-changed:{}:{}:{to}", user.id, now.secs()),
            recipient: to,
            locale: user
                .locale
                .clone()
                .unwrap_or_else(|| s.config.default_locale.clone()),
            template: Template::PasswordChanged {
                display_name: user.display_name.clone(),
            },
            not_after: None,
        };
        outbox::enqueue(&mut **tx, &m, now).await?;
    }
    Ok(())
}
