//! Where the account stands against the policy — must it register, may it
//! postpone, must it reconfirm — and the changes made outside the wizard:
//! "Ask me later", "Looks good", removing a method.

use super::RegError;
use crate::methods;
use crate::policy;
use crate::users::{Role, User};
use crate::{DomainError, Services, Timestamp, store};

/// Where the user stands against the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    pub have: usize,
    pub need: usize,
    /// Signing in should lead to the wizard.
    pub must_register: bool,
    /// The user may still postpone ("Ask me later").
    pub may_skip: bool,
    /// Enough methods, but the reconfirmation period has passed.
    pub must_reconfirm: bool,
}

pub async fn standing(s: &Services, user: &User, now: Timestamp) -> Result<Standing, DomainError> {
    let policy = policy::load(&s.db).await?;
    let have = methods::counted(&methods::list(s.db.pool(), user.id).await?);
    let need = policy.required_for(user.role == Role::Admin);
    let (confirmed, skips) = store::users::registration_standing(s.db.pool(), user.id).await?;
    let must_register = policy.require_registration && have < need;
    let must_reconfirm = !must_register
        && policy.reconfirm_days > 0
        && confirmed
            .is_some_and(|c| now.secs() - c.secs() >= i64::from(policy.reconfirm_days) * 86_400);
    Ok(Standing {
        have,
        need,
        must_register,
        // Admins may not postpone: their accounts need recovery most.
        may_skip: must_register
            && user.role != Role::Admin
            && skips < i64::from(policy.max_registration_skips),
        must_reconfirm,
    })
}

/// "Ask me later": counts a postponement, if one is left. The count is a
/// conditional update, so parallel clicks cannot postpone more often than
/// the policy allows.
pub async fn skip(s: &Services, user: &User, now: Timestamp) -> Result<bool, DomainError> {
    let st = standing(s, user, now).await?;
    if !st.may_skip {
        return Ok(false);
    }
    let policy = policy::load(&s.db).await?;
    let max = i64::from(policy.max_registration_skips);
    store::users::add_skip(s.db.pool(), user.id, max).await
}

/// "Looks good": confirms the current info without changes.
pub async fn reconfirm(s: &Services, user: &User, now: Timestamp) -> Result<(), DomainError> {
    store::users::confirm_info(s.db.pool(), user.id, false, now).await
}

/// Removes a registered method, unless the policy still needs it: a user
/// never drops below the required count by deleting (Entra refuses too).
/// Audited, and notified to the user's addresses, in one transaction that
/// first locks the account, so two removals in parallel (two tabs) cannot
/// each see the other's method still there and together go below it.
pub async fn remove_method(
    s: &Services,
    user: &User,
    method_id: i64,
    now: Timestamp,
) -> Result<(), RegError> {
    let policy = policy::load(&s.db).await?;
    let need = policy.required_for(user.role == Role::Admin);
    let mut tx = s.db.pool().begin().await.map_err(DomainError::from)?;
    store::users::lock(&mut *tx, user.id).await?;
    let all = methods::list(&mut *tx, user.id).await?;
    let Some(target) = all.iter().find(|m| m.id == method_id) else {
        return Err(RegError::NoSuchMethod);
    };
    let remaining: Vec<_> = all.iter().filter(|m| m.id != method_id).cloned().collect();
    if methods::counted(&remaining) < need {
        return Err(RegError::LastMethod);
    }
    if !methods::remove(s, &mut tx, user, target, now).await? {
        return Err(RegError::NoSuchMethod);
    }
    tx.commit().await.map_err(DomainError::from)?;
    Ok(())
}
