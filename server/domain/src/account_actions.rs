//! What an admin does to one account from the portal: create it (see
//! `new_accounts`), disable or enable it, lift its sign-in lockout, sign it out everywhere, clear its
//! security info so the user registers again, or email the user an
//! invitation to register or to reset. Each is audited in the transaction
//! that makes it and told to the user at every address they have
//! (docs/security.md #93); an invitation links to the product's public
//! address and never carries a password or a code.

use crate::audit::{self, Event, Kind, Outcome};
use crate::groups::Actor;
use crate::import::{self, Fields, Rejected};
use crate::new_accounts;
use crate::outbox::Template;
use crate::store::Tx;
use crate::users::{CreateUserError, User};
use crate::{DomainError, Services, Timestamp, auth, lockout, notices, store};

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("no such account")]
    NoSuchUser,
    /// The directory decides whether the account is enabled (the next
    /// sync would undo the change).
    #[error("the account is managed in the directory")]
    FromDirectory,
    /// An admin cannot disable their own account or clear their own
    /// security info here (they would lock themselves out).
    #[error("an admin cannot do this to their own account")]
    OwnAccount,
    /// Clearing security info asks for an explicit confirmation.
    #[error("the action was not confirmed")]
    NotConfirmed,
    /// The user has no address to send an invitation to.
    #[error("the account has no email address")]
    NoAddress,
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl From<sqlx::Error> for ActionError {
    fn from(e: sqlx::Error) -> Self {
        ActionError::Internal(e.into())
    }
}

/// What an invitation asks the user to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invitation {
    Register,
    Reset,
    /// A new account's: set the first password with the reset wizard.
    Welcome,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// What a CSV row would be rejected for (`Duplicate` included).
    #[error(transparent)]
    Invalid(#[from] Rejected),
    #[error(transparent)]
    Internal(#[from] DomainError),
}

/// Creates an account from the portal's form, by the same checks and the
/// same writes as the CSV import; with `welcome`, emails the user how to
/// set their first password. Returns the account's id.
pub async fn create(
    s: &Services,
    by: Actor,
    fields: &Fields<'_>,
    welcome: bool,
    now: Timestamp,
) -> Result<i64, CreateError> {
    let (login, user, groups) = import::parse_account(fields)?;
    let id = match new_accounts::create(&s.db, Some(by), &login, &user, &groups, now).await {
        Ok(id) => id,
        Err(CreateUserError::Duplicate) => {
            return Err(Rejected::Duplicate(user.login_display).into());
        }
        Err(CreateUserError::Domain(e)) => return Err(e.into()),
    };
    if welcome {
        // The account exists whatever the invitation does; with no
        // address there is nothing to send, which the form prevents.
        match invite(s, by, id, Invitation::Welcome, now).await {
            Ok(()) | Err(ActionError::NoAddress) => {}
            Err(ActionError::Internal(e)) => return Err(e.into()),
            Err(e) => return Err(DomainError::Corrupt(e.to_string()).into()),
        }
    }
    Ok(id)
}

/// Opens the transaction and takes the account's row first (written
/// before it is read: see `store::settings::lock`).
async fn begin(s: &Services, user_id: i64) -> Result<(Tx, User), ActionError> {
    let mut tx = s.db.pool().begin().await?;
    if !store::users::lock(&mut *tx, user_id).await? {
        return Err(ActionError::NoSuchUser);
    }
    let user = store::users::find_by_id(&mut *tx, user_id)
        .await?
        .ok_or(ActionError::NoSuchUser)?;
    Ok((tx, user))
}

/// Audits `kind` by the admin on the account and tells the user.
async fn finish(
    s: &Services,
    mut tx: Tx,
    by: Actor,
    user: &User,
    kind: Kind,
    change: &str,
    now: Timestamp,
) -> Result<(), ActionError> {
    let event = Event {
        actor_user_id: Some(by.user_id),
        subject_user_id: Some(user.id),
        ..Event::new(kind, Outcome::Success)
    }
    .ip(by.ip);
    audit::record(&mut *tx, &event, now).await?;
    let template = Template::AccountChangedByAdmin {
        display_name: user.display_name.clone(),
        change: change.to_owned(),
    };
    let topic = format!("admin-{change}");
    notices::email_user(s, &mut tx, user, &topic, &template, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Disables (`enabled` false: every session ends) or enables the account.
/// Nothing happens, and nothing is audited, when it already is so.
pub async fn set_enabled(
    s: &Services,
    by: Actor,
    user_id: i64,
    enabled: bool,
    now: Timestamp,
) -> Result<(), ActionError> {
    if !enabled && user_id == by.user_id {
        return Err(ActionError::OwnAccount);
    }
    let (mut tx, user) = begin(s, user_id).await?;
    if user.directory_dn.is_some() {
        return Err(ActionError::FromDirectory);
    }
    if user.enabled == enabled {
        return Ok(());
    }
    store::users::set_enabled(&mut *tx, user_id, enabled).await?;
    let (kind, change) = if enabled {
        (Kind::AccountEnabled, "enabled")
    } else {
        store::sessions::delete_all_of_user(&mut *tx, user_id, None).await?;
        (Kind::AccountDisabled, "disabled")
    };
    finish(s, tx, by, &user, kind, change, now).await
}

/// Lifts the sign-in lockout, from everywhere and every network, and the
/// directory's own lockout for a directory account.
pub async fn unlock(
    s: &Services,
    by: Actor,
    user_id: i64,
    now: Timestamp,
) -> Result<(), ActionError> {
    // The directory's lockout first, outside the transaction (no lock is
    // held across a network call); clearing it twice is harmless.
    let found = store::users::find_by_id(s.db.pool(), user_id)
        .await?
        .ok_or(ActionError::NoSuchUser)?;
    if let (Some(dir), Some(dn)) = (&s.directory, found.directory_dn.as_deref()) {
        dir.unlock(dn).await.map_err(DomainError::from)?;
    }
    let (mut tx, user) = begin(s, user_id).await?;
    lockout::clear_everywhere(&mut tx, &auth::throttle_key(&user.login)).await?;
    finish(s, tx, by, &user, Kind::AccountUnlocked, "unlocked", now).await
}

/// Ends every session of the account.
pub async fn sign_out_everywhere(
    s: &Services,
    by: Actor,
    user_id: i64,
    now: Timestamp,
) -> Result<(), ActionError> {
    let (mut tx, user) = begin(s, user_id).await?;
    store::sessions::delete_all_of_user(&mut *tx, user_id, None).await?;
    finish(s, tx, by, &user, Kind::SessionsRevoked, "signed_out", now).await
}

/// Clears every registered method (`confirmed`: the admin ticked the box
/// that says so): the user must register again, and cannot reset until
/// they have. The notice goes to the addresses they had.
pub async fn clear_security_info(
    s: &Services,
    by: Actor,
    user_id: i64,
    confirmed: bool,
    now: Timestamp,
) -> Result<(), ActionError> {
    if !confirmed {
        return Err(ActionError::NotConfirmed);
    }
    if user_id == by.user_id {
        return Err(ActionError::OwnAccount);
    }
    let (mut tx, user) = begin(s, user_id).await?;
    let template = Template::AccountChangedByAdmin {
        display_name: user.display_name.clone(),
        change: "security_info_cleared".into(),
    };
    // Told before the addresses it lists are deleted.
    notices::email_user(s, &mut tx, &user, "admin-cleared", &template, now).await?;
    store::methods::delete_all(&mut *tx, user_id).await?;
    store::users::clear_info_confirmed(&mut *tx, user_id).await?;
    let event = Event {
        actor_user_id: Some(by.user_id),
        subject_user_id: Some(user.id),
        ..Event::new(Kind::SecurityInfoCleared, Outcome::Success)
    }
    .ip(by.ip);
    audit::record(&mut *tx, &event, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Emails the user a link to register their security info, or to reset
/// their password, at the product's public address.
pub async fn invite(
    s: &Services,
    by: Actor,
    user_id: i64,
    what: Invitation,
    now: Timestamp,
) -> Result<(), ActionError> {
    let (mut tx, user) = begin(s, user_id).await?;
    let base = s.config.public_url.trim_end_matches('/');
    let (link, reset, name) = match what {
        Invitation::Register => (format!("{base}/security-info"), false, "register"),
        Invitation::Reset | Invitation::Welcome => (format!("{base}/reset"), true, "reset"),
    };
    let welcome = what == Invitation::Welcome;
    let name = if welcome { "welcome" } else { name };
    let template = Template::Invitation {
        display_name: user.display_name.clone(),
        link,
        reset,
        welcome: welcome.then(|| user.login_display.clone()),
    };
    let topic = format!("invitation-{name}");
    if notices::email_user(s, &mut tx, &user, &topic, &template, now).await? == 0 {
        return Err(ActionError::NoAddress);
    }
    let event = Event {
        actor_user_id: Some(by.user_id),
        subject_user_id: Some(user.id),
        ..Event::new(Kind::InvitationSent, Outcome::Success)
    }
    .ip(by.ip)
    .detail(format!("invitation={name}"));
    audit::record(&mut *tx, &event, now).await?;
    tx.commit().await?;
    Ok(())
}
