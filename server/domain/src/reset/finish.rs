//! The last step, once every gate is passed: the account's eligibility,
//! the new password (or "unlock only"), committed in one transaction with
//! everything it ends and tells.

use std::net::IpAddr;

use sspr_proto::views::ResetPasswordView;

use super::{Flow, ResetError, WIZARD};
use crate::audit::{self, Event, Kind as AuditKind, Outcome};
use crate::methods::{self, Method};
use crate::outbox::Template;
use crate::password::Normalized;
use crate::password_policy::{self, Reason, Rules};
use crate::policy::{self, Policy, SsprScope};
use crate::store::Tx;
use crate::users::{self, Role, User};
use crate::{DomainError, Services, Timestamp, auth, lockout, notices, password_change, sessions};

/// Whether the account may reset now; told only after a passed gate.
/// `registered` is the account's methods when the caller has them.
pub(super) async fn eligibility(
    s: &Services,
    policy: &Policy,
    user_id: Option<i64>,
    need: usize,
    registered: Option<&[Method]>,
) -> Result<User, ResetError> {
    let user = match user_id {
        Some(id) => users::find_by_id(s.db.pool(), id).await?,
        None => None,
    };
    let Some(user) = user else {
        return Err(ResetError::FlowExpired);
    };
    if !user.enabled {
        return Err(ResetError::AccountDisabled);
    }
    if !enabled_for(s, policy, &user).await? {
        return Err(ResetError::NotEnabled);
    }
    let have = match registered {
        Some(list) => methods::counted(list),
        None => methods::counted(&methods::list(s.db.pool(), user.id).await?),
    };
    if have < need {
        return Err(ResetError::NotEnoughMethods { have, need });
    }
    Ok(user)
}

/// SSPR scope: everyone, nobody, or members of the listed groups. Admins
/// are always in scope.
async fn enabled_for(s: &Services, policy: &Policy, user: &User) -> Result<bool, DomainError> {
    if user.role == Role::Admin {
        return Ok(true);
    }
    Ok(match policy.sspr_scope {
        SsprScope::None => false,
        SsprScope::Groups => {
            let groups = users::groups_of(s.db.pool(), user.id).await?;
            groups.iter().any(|g| policy.sspr_groups.contains(g))
        }
        SsprScope::All => true,
    })
}

/// The rules for the new password of a flow that passed every gate.
pub async fn password_rules(
    s: &Services,
    token: &str,
    now: Timestamp,
) -> Result<Rules, ResetError> {
    Ok(password_view(s, token, now).await?.rules)
}

/// What the last page shows: the rules for the new password and whether
/// "unlock only" is offered (one read of the policy and of the flow).
pub async fn password_view(
    s: &Services,
    token: &str,
    now: Timestamp,
) -> Result<ResetPasswordView, ResetError> {
    let (_, user, policy) = ready(s, token, now).await?;
    Ok(ResetPasswordView {
        rules: password_change::rules_under(s, &policy, &user).await?,
        allow_unlock: policy.allow_unlock,
    })
}

/// The flow, its user and the policy, once every gate is passed.
async fn ready(
    s: &Services,
    token: &str,
    now: Timestamp,
) -> Result<(Flow, User, Policy), ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = super::load(s, token, now).await?;
    if !flow.state.done() {
        return Err(ResetError::GatesIncomplete);
    }
    let user = eligibility(s, &policy, flow.user_id, flow.state.gates_needed, None).await?;
    Ok((flow, user, policy))
}

/// The server's verdict on a candidate new password (live checklist).
pub async fn preview(
    s: &Services,
    token: &str,
    candidate: &str,
    now: Timestamp,
) -> Result<Vec<Reason>, ResetError> {
    let (_, user, policy) = ready(s, token, now).await?;
    password_change::verdict(s, &policy, &user, candidate).await
}

/// Ends the account's sign-in lockout, account-wide and from every
/// network, inside the caller's transaction.
async fn lift_lockout(tx: &mut Tx, user: &User) -> Result<(), DomainError> {
    lockout::clear_everywhere(&mut **tx, &auth::throttle_key(&user.login)).await
}

/// Step 3: sets the new password. One transaction: the flow is consumed by
/// a conditional update (so of many parallel submissions one wins), the
/// hash replaced, every session and every other open flow of the user
/// ended, the sign-in lockout lifted, the change audited and notified.
/// Nobody is signed in by a reset.
pub async fn set_password(
    s: &Services,
    token: &str,
    new: &str,
    confirm: &str,
    ip: Option<IpAddr>,
    now: Timestamp,
) -> Result<(), ResetError> {
    let new = Normalized::new(new)?;
    let confirm = Normalized::new(confirm)?;
    let (flow, user, policy) = ready(s, token, now).await?;
    let rules = password_change::rules_under(s, &policy, &user).await?;
    let reasons =
        password_policy::evaluate(&policy, &rules, new.as_str(), Some(confirm.as_str()), None);
    if !reasons.is_empty() {
        return Err(ResetError::Rejected(reasons, rules));
    }
    let hash = s.hasher.hash(&new).await?;
    let mut tx: Tx = WIZARD.consume(s, &flow, "done", now).await?;
    crate::store::users::set_password_hash(&mut *tx, user.id, None, &hash, Some(now)).await?;
    sessions::revoke_all(&mut *tx, user.id).await?;
    crate::store::flows::consume_all_of_user(&mut *tx, user.id, now).await?;
    // A reset also lifts a sign-in lockout.
    lift_lockout(&mut tx, &user).await?;
    let event = Event::by_self(AuditKind::PasswordReset, Outcome::Success, user.id)
        .ip(ip)
        .detail(format!("gates={}", flow.state.passed.len()));
    audit::record(&mut *tx, &event, now).await?;
    notices::password_changed(s, &mut tx, &user, now).await?;
    if user.role == Role::Admin && policy.notify_admins_on_admin_reset {
        notify_other_admins(s, &mut tx, &user, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An admin reset their own password: every other admin is told, so a
/// takeover of an admin account does not go unnoticed.
async fn notify_other_admins(
    s: &Services,
    tx: &mut Tx,
    admin: &User,
    now: Timestamp,
) -> Result<(), DomainError> {
    let template = Template::AdminPasswordReset {
        admin_name: admin.display_name.clone(),
        admin_login: admin.login_display.clone(),
    };
    let topic = format!("admin-reset:{}", admin.id);
    notices::email_admins(s, tx, Some(admin.id), &topic, &template, now).await
}

/// "Unlock only": a user locked out by sign-in throttling who still knows
/// the password passes the same gates and lifts the lockout without
/// changing the password (when the policy allows it).
pub async fn unlock(
    s: &Services,
    token: &str,
    ip: Option<IpAddr>,
    now: Timestamp,
) -> Result<(), ResetError> {
    let policy = policy::load(&s.db).await?;
    if !policy.allow_unlock {
        return Err(ResetError::MethodNotAllowed);
    }
    let (flow, user, _) = ready(s, token, now).await?;
    let mut tx: Tx = WIZARD.consume(s, &flow, "unlocked", now).await?;
    lift_lockout(&mut tx, &user).await?;
    let event = Event::by_self(AuditKind::AccountUnlocked, Outcome::Success, user.id).ip(ip);
    audit::record(&mut *tx, &event, now).await?;
    tx.commit().await?;
    Ok(())
}
