//! Accounts an admin makes: one at a time in the portal, or many from a
//! CSV (`sspr user import`, or the portal's import page — the same code).
//!
//! An account made without a password cannot sign in, and one with no
//! security info cannot reset. So the email address an admin gives such an
//! account is registered as its first email method, the way an admin may
//! fill in a user's authentication email elsewhere: the user then sets
//! their first password with the reset wizard, proving that address by a
//! code (docs/security.md #94). The account, its groups, that method and
//! the `account_created` audit row are written in one transaction.

use crate::audit::{self, Event, Kind, Outcome};
use crate::groups::Actor;
use crate::identity::Login;
use crate::methods::NewMethod;
use crate::users::{self, CreateUserError, NewUser};
use crate::{Db, DomainError, Timestamp, store};

/// Creates the account; `by` is the admin in the portal, `None` for the
/// command line. Returns the new account's id.
pub async fn create(
    db: &Db,
    by: Option<Actor>,
    login: &Login,
    user: &NewUser,
    groups: &[Login],
    now: Timestamp,
) -> Result<i64, CreateUserError> {
    let mut tx = db.pool().begin().await.map_err(DomainError::from)?;
    let id = users::insert_with_groups(&mut tx, login, user, groups, now).await?;
    let email_method = match (&user.password_hash, &user.email) {
        (None, Some(address)) => {
            store::methods::upsert(&mut *tx, id, &NewMethod::email(address), now).await?;
            true
        }
        _ => false,
    };
    let event = Event {
        actor_user_id: by.map(|a| a.user_id),
        subject_user_id: Some(id),
        ..Event::new(Kind::AccountCreated, Outcome::Success)
    }
    .ip(by.and_then(|a| a.ip))
    .detail(format!(
        "role={} groups={} email_method={}",
        user.role.as_str(),
        groups.len(),
        if email_method { "registered" } else { "none" }
    ));
    audit::record(&mut *tx, &event, now).await?;
    tx.commit().await.map_err(DomainError::from)?;
    Ok(id)
}
