//! Changing a known password (signed in): the current password is checked
//! like a sign-in (a wrong one counts toward the lockout, docs/security.md #9),
//! the new one against the policy, and the change commits in one
//! transaction with the sessions it ends, its audit row and the notice to
//! the owner.

use std::net::IpAddr;

use crate::audit::{self, Event, Kind as AuditKind, Outcome};
use crate::auth::{self, SignInError};
use crate::directory::DirectoryError;
use crate::password::{HashError, Normalized};
use crate::password_policy::{self, Reason, Rules};
use crate::rate::Network;
use crate::users::User;
use crate::{
    DomainError, Services, Timestamp, methods, notices, policy, second_factor, sessions, store,
};

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("not signed in")]
    NotSignedIn,
    #[error("the current password is wrong")]
    InvalidCredentials,
    #[error("the new password is refused: {0:?}")]
    Rejected(Vec<Reason>, Rules),
    #[error("the password is longer than the limit")]
    PasswordTooLong,
    #[error("server busy")]
    Busy { retry_after_secs: u64 },
    #[error("too many password checks from this address")]
    Throttled { retry_after_secs: u64 },
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
            SignInError::Throttled { retry_after_secs } => {
                ChangeError::Throttled { retry_after_secs }
            }
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
    pub ip: Option<IpAddr>,
}

/// The rules that apply to `user` now, for the live checklist.
pub async fn rules(s: &Services, user: &User) -> Result<Rules, DomainError> {
    let policy = policy::load(&s.db).await?;
    rules_under(s, &policy, user).await
}

/// The rules that apply to `user` under `policy` (already read).
pub async fn rules_under(
    s: &Services,
    policy: &crate::policy::Policy,
    user: &User,
) -> Result<Rules, DomainError> {
    let registered = methods::list(s.db.pool(), user.id).await?;
    let asks = second_factor::asked_of(policy, user, &registered);
    Ok(password_policy::rules_for(policy, user, asks))
}

/// The server half of the live checklist: every reason the server would
/// refuse `candidate` for `user`, without hashing anything.
pub async fn preview(
    s: &Services,
    user: &User,
    candidate: &str,
) -> Result<Vec<Reason>, ChangeError> {
    let policy = policy::load(&s.db).await?;
    verdict(s, &policy, user, candidate).await
}

/// Every reason the server would refuse `candidate` as `user`'s new
/// password under `policy` (the live checklist of change and reset).
pub(crate) async fn verdict<E>(
    s: &Services,
    policy: &crate::policy::Policy,
    user: &User,
    candidate: &str,
) -> Result<Vec<Reason>, E>
where
    E: From<HashError> + From<DomainError>,
{
    let new = Normalized::new(candidate)?;
    let rules = rules_under(s, policy, user).await?;
    Ok(password_policy::evaluate(
        policy,
        &rules,
        new.as_str(),
        None,
        None,
    ))
}

/// Changes the signed-in user's password. Returns the session's new token:
/// the session is rotated with the change (docs/security.md #69).
pub async fn change(
    s: &Services,
    req: ChangeRequest<'_>,
    now: Timestamp,
) -> Result<String, ChangeError> {
    let Some(user) = auth::current_user(s, req.session_token, now).await? else {
        return Err(ChangeError::NotSignedIn);
    };
    // The policy first: a refused password costs no argon2 work.
    let current = Normalized::new(req.current)?;
    let new = Normalized::new(req.new)?;
    let confirm = Normalized::new(req.confirm)?;
    let policy = policy::load(&s.db).await?;
    let rules = rules_under(s, &policy, &user).await?;
    let reasons = password_policy::evaluate(
        &policy,
        &rules,
        new.as_str(),
        Some(confirm.as_str()),
        Some(current.as_str()),
    );
    if !reasons.is_empty() {
        return Err(ChangeError::Rejected(reasons, rules));
    }
    // Checked like a sign-in: throttled, and a wrong one counts.
    let (_, checked) =
        auth::check_password(s, user.login.as_str(), req.current, req.ip, now).await?;
    if checked.id != user.id {
        return Err(ChangeError::InvalidCredentials);
    }
    let mut tx = match (&s.directory, checked.directory_dn.as_deref()) {
        // Written by the user themselves, bound with the current password:
        // the directory applies its own policy, history and minimum age
        // (docs/security.md #84). The directory orders racing changes.
        (Some(dir), Some(dn)) => {
            match dir.change_password(dn, req.current, req.new).await {
                Ok(()) => {}
                Err(DirectoryError::Refused(r)) => {
                    return Err(ChangeError::Rejected(vec![r.into()], rules));
                }
                Err(DirectoryError::WrongPassword) => return Err(ChangeError::InvalidCredentials),
                Err(e) => return Err(DomainError::from(e).into()),
            }
            s.db.pool().begin().await?
        }
        _ => {
            let old_hash = checked.password_hash.clone().unwrap_or_default();
            let hash = s
                .hasher
                .hash_for(&Network::of(req.ip).to_string(), &new)
                .await?;
            let mut tx = s.db.pool().begin().await?;
            // Conditional on the hash just verified: two changes racing
            // cannot both win, and neither overwrites the other unseen.
            let replaced = store::users::set_password_hash(
                &mut *tx,
                user.id,
                Some(&old_hash),
                &hash,
                Some(now),
            )
            .await?;
            if !replaced {
                tx.rollback().await?;
                return Err(ChangeError::Conflict);
            }
            tx
        }
    };
    let Some(fresh) = sessions::rotate(&mut *tx, req.session_token, now).await? else {
        tx.rollback().await?;
        return Err(ChangeError::NotSignedIn);
    };
    let ended = if req.sign_out_others {
        sessions::revoke_others(&mut *tx, user.id, &fresh).await?
    } else {
        0
    };
    let detail = format!("other_sessions_ended={ended}");
    let event = Event::by_self(AuditKind::PasswordChanged, Outcome::Success, user.id)
        .ip(req.ip)
        .detail(detail);
    audit::record(&mut *tx, &event, now).await?;
    notices::password_changed(s, &mut tx, &user, now).await?;
    tx.commit().await?;
    Ok(fresh)
}
