//! The last step, once every gate is passed: the account's eligibility,
//! the new password (or "unlock only"), committed in one transaction with
//! everything it ends and tells.

use std::net::IpAddr;

use sspr_proto::views::ResetPasswordView;

use super::{Flow, ResetError, State, WIZARD};
use crate::audit::{self, Event, Kind as AuditKind, Outcome};
use crate::directory::DirectoryError;
use crate::eligibility::{self, Account, Standing};
use crate::flow::Step;
use crate::methods::{self, Method};
use crate::outbox::Template;
use crate::password::Normalized;
use crate::password_policy::{self, Reason, Rules};
use crate::policy::{self, Policy, SsprScope};
use crate::store::Tx;
use crate::users::{self, Role, User};
use crate::{DomainError, Services, Timestamp, auth, lockout, notices, password_change, sessions};

/// Whether the account may reset now (`eligibility::assess`); told only
/// after a passed gate. `registered` is the account's methods when the
/// caller has them.
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
    let registered = match registered {
        Some(list) => list.to_vec(),
        None => methods::list(s.db.pool(), user.id).await?,
    };
    let kinds: Vec<_> = registered.iter().map(|m| m.kind).collect();
    // Group names are read only when the scope needs them.
    let groups = match policy.sspr_scope {
        SsprScope::Groups if user.role != Role::Admin => {
            users::groups_of(s.db.pool(), user.id).await?
        }
        _ => Vec::new(),
    };
    let account = Account {
        role: user.role,
        enabled: user.enabled,
        kinds: &kinds,
        groups: &groups,
    };
    match eligibility::assess(policy, &account) {
        Standing::Eligible => {}
        Standing::Disabled => return Err(ResetError::AccountDisabled),
        Standing::NotInScope => return Err(ResetError::NotEnabled),
        Standing::NeedsMethods { have, need } => {
            return Err(ResetError::NotEnoughMethods { have, need });
        }
    }
    // The flow was started needing `need` gates (fixed then, so a policy
    // change mid-flow does not move the goal post for the gates); the
    // account must still have that many usable methods.
    let have = eligibility::usable(policy, user.role, &kinds);
    if have < need {
        return Err(ResetError::NotEnoughMethods { have, need });
    }
    Ok(user)
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
    lockout::clear_everywhere(tx, &auth::throttle_key(&user.login)).await
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
    let new_raw = new;
    let new = Normalized::new(new)?;
    let confirm = Normalized::new(confirm)?;
    let (flow, user, policy) = ready(s, token, now).await?;
    let rules = password_change::rules_under(s, &policy, &user).await?;
    let reasons =
        password_policy::evaluate(&policy, &rules, new.as_str(), Some(confirm.as_str()), None);
    if !reasons.is_empty() {
        return Err(ResetError::Rejected(reasons, rules));
    }
    if let (Some(dir), Some(dn)) = (&s.directory, user.directory_dn.as_deref()) {
        // The directory's own policy runs after ours; what it refuses
        // comes back as reasons on the same page.
        let flow = reserve_write(s, token, flow, now).await?;
        if let Err(e) = dir.reset_password(dn, new_raw).await {
            release_write(s, token, now).await?;
            return Err(match e {
                DirectoryError::Refused(r) => ResetError::Rejected(vec![r.into()], rules),
                other => DomainError::from(other).into(),
            });
        }
        // Exactly once: the flow is consumed by a conditional update in
        // the transaction that ends sessions and queues the notices.
        let mut tx: Tx = WIZARD.consume(s, &flow, "done", now).await?;
        finalize(s, &mut tx, &flow, &user, &policy, ip, now).await?;
        tx.commit().await?;
        return Ok(());
    }
    let hash = s.hasher.hash(&new).await?;
    let mut tx: Tx = WIZARD.consume(s, &flow, "done", now).await?;
    crate::store::users::set_password_hash(&mut *tx, user.id, None, &hash, Some(now)).await?;
    finalize(s, &mut tx, &flow, &user, &policy, ip, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Everything a reset ends and tells, in the transaction that consumed
/// the flow: sessions, other flows, the sign-in lockout, audit, notices.
async fn finalize(
    s: &Services,
    tx: &mut Tx,
    flow: &Flow,
    user: &User,
    policy: &Policy,
    ip: Option<IpAddr>,
    now: Timestamp,
) -> Result<(), ResetError> {
    let tx = &mut *tx;
    sessions::revoke_all(&mut **tx, user.id).await?;
    crate::store::flows::consume_all_of_user(&mut **tx, user.id, now).await?;
    // A reset also lifts a sign-in lockout.
    lift_lockout(tx, user).await?;
    let event = Event::by_self(AuditKind::PasswordReset, Outcome::Success, user.id)
        .ip(ip)
        .detail(format!("gates={}", flow.state.passed.len()));
    audit::record(&mut **tx, &event, now).await?;
    // An admin is told whatever the policy says: a takeover of an admin
    // account must not go unnoticed.
    if policy.notify_users_on_reset || user.role == Role::Admin {
        notices::password_changed(s, tx, user, now).await?;
    }
    if user.role == Role::Admin && policy.notify_admins_on_admin_reset {
        notify_other_admins(s, tx, user, now).await?;
    }
    Ok(())
}

/// How long a write to the directory may be in progress before another
/// submission may take it over (the instance that began it stopped).
pub const WRITE_RESERVATION_SECS: i64 = 120;

/// Marks the flow as writing to the directory, so a parallel submission
/// (another tab, another instance) does not write a second password;
/// returns the flow as saved. A reservation left by an instance that
/// stopped mid-write is taken over once it is old.
async fn reserve_write(
    s: &Services,
    token: &str,
    flow: Flow,
    now: Timestamp,
) -> Result<Flow, ResetError> {
    WIZARD
        .transition(s, token, flow, now, |_, state: &mut State| {
            if let Some(since) = state.writing_since
                && now.secs() - since < WRITE_RESERVATION_SECS
            {
                return Err(ResetError::Internal(DomainError::Contention(
                    "the new password is being written",
                )));
            }
            state.writing_since = Some(now.secs());
            Ok(Step::save(Ok(()), Vec::new()))
        })
        .await?;
    super::load(s, token, now).await
}

/// The directory refused or did not answer: the flow is usable again.
async fn release_write(s: &Services, token: &str, now: Timestamp) -> Result<(), ResetError> {
    let flow = super::load(s, token, now).await?;
    WIZARD
        .transition(s, token, flow, now, |_, state: &mut State| {
            state.writing_since = None;
            Ok::<_, ResetError>(Step::save(Ok(()), Vec::new()))
        })
        .await
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
    if let (Some(dir), Some(dn)) = (&s.directory, user.directory_dn.as_deref()) {
        // The directory's own lockout too (ppolicy, AD `lockoutTime`);
        // clearing it twice is harmless, so no reservation is needed.
        dir.unlock(dn).await.map_err(DomainError::from)?;
    }
    let mut tx: Tx = WIZARD.consume(s, &flow, "unlocked", now).await?;
    lift_lockout(&mut tx, &user).await?;
    let event = Event::by_self(AuditKind::AccountUnlocked, Outcome::Success, user.id).ip(ip);
    audit::record(&mut *tx, &event, now).await?;
    tx.commit().await?;
    Ok(())
}
