//! Admins manage local groups (the "Selected" scope's members): create,
//! rename and delete a group, add and remove sspr's own accounts. Each
//! change is audited in the transaction that makes it. Accounts mirrored
//! from a directory take their groups from the directory's sync, so they
//! are refused here; and a group with such members is the directory's,
//! shown read-only: no account joins it here, and it is neither renamed
//! nor deleted (the next sync would undo either).

use crate::audit::{self, Event, Kind, Outcome};
use crate::identity::Login;
use crate::policy::Policy;
use crate::store::{self, Tx};
use crate::{Db, DomainError, Timestamp};

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("not a valid group name")]
    InvalidName,
    #[error("no such group")]
    NoSuchGroup,
    #[error("no such account")]
    NoSuchUser,
    #[error("the account's groups come from the directory")]
    FromDirectory,
    #[error("a group with that name exists")]
    Exists,
    /// The password reset settings name the group: renaming or deleting it
    /// would silently change who may reset.
    #[error("the password reset settings name this group")]
    InUse,
    #[error(transparent)]
    Internal(#[from] DomainError),
}

/// Who acts, for the audit row.
#[derive(Clone, Copy, Debug)]
pub struct Actor {
    pub user_id: i64,
    pub ip: Option<std::net::IpAddr>,
}

fn name(raw: &str) -> Result<Login, GroupError> {
    Login::parse(raw).map_err(|_| GroupError::InvalidName)
}

/// Creates the group (nothing happens, and nothing is audited, when it
/// exists).
pub async fn create(db: &Db, by: Actor, group: &str, now: Timestamp) -> Result<(), GroupError> {
    let group = name(group)?;
    let mut tx = db.pool().begin().await.map_err(DomainError::from)?;
    if !store::groups::ensure(&mut *tx, &group, now).await? {
        return Ok(());
    }
    let event = Event {
        actor_user_id: Some(by.user_id),
        ..Event::new(Kind::GroupCreated, Outcome::Success)
    }
    .ip(by.ip)
    .detail(format!("group={}", group.as_str()));
    audit::record(&mut *tx, &event, now).await?;
    tx.commit().await.map_err(DomainError::from)?;
    Ok(())
}

/// Adds (`add`) or removes the account `login` names.
pub async fn set_member(
    db: &Db,
    by: Actor,
    group: &str,
    login: &str,
    add: bool,
    now: Timestamp,
) -> Result<(), GroupError> {
    let group = name(group)?;
    let login = Login::parse(login).map_err(|_| GroupError::NoSuchUser)?;
    let mut tx = db.pool().begin().await.map_err(DomainError::from)?;
    // Written first: see `store::groups::lock`.
    if !store::groups::lock(&mut *tx, &group).await? {
        return Err(GroupError::NoSuchGroup);
    }
    let user = store::users::find_by_login(&mut *tx, &login)
        .await?
        .ok_or(GroupError::NoSuchUser)?;
    // A local account may leave a directory's group (one added before
    // the directory was configured), not join one.
    if user.directory_dn.is_some()
        || (add && store::groups::has_directory_members(&mut *tx, &group).await?)
    {
        return Err(GroupError::FromDirectory);
    }
    let (changed, kind) = if add {
        let added = store::groups::add_member(&mut *tx, &group, user.id).await?;
        (added, Kind::GroupMemberAdded)
    } else {
        let removed = store::groups::remove_member(&mut *tx, &group, user.id).await?;
        (removed, Kind::GroupMemberRemoved)
    };
    if !changed {
        // Already so: nothing happened, so nothing is audited.
        return Ok(());
    }
    let event = Event {
        actor_user_id: Some(by.user_id),
        subject_user_id: Some(user.id),
        ..Event::new(kind, Outcome::Success)
    }
    .ip(by.ip)
    .detail(format!("group={}", group.as_str()));
    audit::record(&mut *tx, &event, now).await?;
    tx.commit().await.map_err(DomainError::from)?;
    Ok(())
}

/// Refuses a change to a group the policy in force names (or a rename to
/// a name it names), or one the
/// directory's sync fills; takes the policy's lock first (written before
/// read), so a save naming the group cannot slip in between.
async fn check_changeable(
    tx: &mut Tx,
    group: &Login,
    new_name: Option<&Login>,
) -> Result<(), GroupError> {
    store::settings::lock(&mut **tx, "policy").await?;
    let policy = match store::settings::get(&mut **tx, "policy").await? {
        Some(text) => serde_json::from_str::<Policy>(&text)
            .map_err(|e| DomainError::Corrupt(format!("policy: {e}")))?,
        None => Policy::default(),
    };
    let named = |n: &Login| policy.sspr_groups.iter().any(|g| g == n.as_str());
    if named(group) || new_name.is_some_and(named) {
        return Err(GroupError::InUse);
    }
    if !store::groups::lock(&mut **tx, group).await? {
        return Err(GroupError::NoSuchGroup);
    }
    if store::groups::has_directory_members(&mut **tx, group).await? {
        return Err(GroupError::FromDirectory);
    }
    Ok(())
}

/// Renames `from` to `to` (memberships stay).
pub async fn rename(
    db: &Db,
    by: Actor,
    from: &str,
    to: &str,
    now: Timestamp,
) -> Result<(), GroupError> {
    let (from, to) = (name(from)?, name(to)?);
    if from == to {
        return Ok(());
    }
    let mut tx = db.pool().begin().await.map_err(DomainError::from)?;
    // The new name too: settings may name a group before it exists, and
    // this rename would bring its members into scope unseen.
    check_changeable(&mut tx, &from, Some(&to)).await?;
    match store::groups::rename(&mut *tx, &from, &to).await {
        Ok(true) => {}
        Ok(false) => return Err(GroupError::NoSuchGroup),
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => return Err(GroupError::Exists),
        Err(e) => return Err(DomainError::from(e).into()),
    }
    let event = Event {
        actor_user_id: Some(by.user_id),
        ..Event::new(Kind::GroupRenamed, Outcome::Success)
    }
    .ip(by.ip)
    .detail(format!(
        "group={} renamed_to={}",
        from.as_str(),
        to.as_str()
    ));
    audit::record(&mut *tx, &event, now).await?;
    tx.commit().await.map_err(DomainError::from)?;
    Ok(())
}

/// Deletes the group and its memberships (the accounts stay).
pub async fn delete(db: &Db, by: Actor, group: &str, now: Timestamp) -> Result<(), GroupError> {
    let group = name(group)?;
    let mut tx = db.pool().begin().await.map_err(DomainError::from)?;
    check_changeable(&mut tx, &group, None).await?;
    if !store::groups::delete(&mut tx, &group).await? {
        return Err(GroupError::NoSuchGroup);
    }
    let event = Event {
        actor_user_id: Some(by.user_id),
        ..Event::new(Kind::GroupDeleted, Outcome::Success)
    }
    .ip(by.ip)
    .detail(format!("group={}", group.as_str()));
    audit::record(&mut *tx, &event, now).await?;
    tx.commit().await.map_err(DomainError::from)?;
    Ok(())
}
