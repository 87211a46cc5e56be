//! What the admin portal shows of accounts: the list (prefix search on
//! the user ID, the name and the address, filters, keyset pages in user
//! ID order) and one account's detail (its groups, methods, last sign-in
//! and reset, lockout, and whether it can reset or why not).

use crate::audit::Kind as AuditKind;
use crate::eligibility::{self, Account, Standing};
use crate::identity::fold;
use crate::methods::Method;
use crate::policy::Policy;
use crate::store::users::{Dates, Listed, Search};
use crate::users::{Role, User};
use crate::{DomainError, Services, Timestamp, auth, lockout, store};

/// Accounts shown on a page of the list.
pub const PAGE_SIZE: i64 = 50;

/// Locked accounts the "locked" filter considers at most (an attack that
/// locks more is one for the audit log, not for a list).
const LOCKED_SHOWN: i64 = 5000;

/// The list's filters; `None` is "any".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Typed text: the start of a user ID, a name or an address, in any case.
    pub text: String,
    pub role: Option<Role>,
    pub registered: Option<bool>,
    pub can_reset: Option<bool>,
    pub enabled: Option<bool>,
    /// Only accounts whose sign-in is locked now.
    pub locked: bool,
}

pub struct Page {
    pub users: Vec<Listed>,
    /// The next page starts after this (canonical) user ID.
    pub next_after: Option<String>,
}

/// One page of the list, after the user ID `after`.
pub async fn page(
    s: &Services,
    policy: &Policy,
    q: &Query,
    after: Option<&str>,
) -> Result<Page, DomainError> {
    let mut users = rows(s, policy, q, after, PAGE_SIZE + 1).await?;
    let more = users.len() > PAGE_SIZE as usize;
    users.truncate(PAGE_SIZE as usize);
    Ok(Page {
        next_after: if more {
            users.last().map(|u| u.login.clone())
        } else {
            None
        },
        users,
    })
}

/// Up to `limit` accounts that match, in user ID order after `after` (the
/// page, and the CSV export a batch at a time).
pub async fn rows(
    s: &Services,
    policy: &Policy,
    q: &Query,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Listed>, DomainError> {
    let folded = fold(&q.text);
    let locked = if q.locked {
        let cfg = &s.config.sign_in_lockout;
        let prefix = auth::throttle_key_prefix();
        Some(lockout::locked_keys(s.db.pool(), cfg, prefix, s.now(), LOCKED_SHOWN).await?)
    } else {
        None
    };
    let search = Search {
        prefix: Some(folded.as_str()).filter(|t| !t.is_empty()),
        role: q.role,
        registered: q.registered,
        enabled: q.enabled,
        eligible: q.can_reset.map(|c| (c, policy)),
        logins: locked.as_deref(),
        after,
        limit,
    };
    store::users::search(s.db.pool(), &search).await
}

/// Everything the user detail page shows.
pub struct Detail {
    pub user: User,
    pub from_directory: bool,
    pub dates: Dates,
    pub groups: Vec<String>,
    pub methods: Vec<Method>,
    pub last_sign_in: Option<Timestamp>,
    pub last_reset: Option<Timestamp>,
    pub locked_until: Option<Timestamp>,
    pub standing: Standing,
}

pub async fn detail(
    s: &Services,
    policy: &Policy,
    user_id: i64,
) -> Result<Option<Detail>, DomainError> {
    let pool = s.db.pool();
    let Some(user) = store::users::find_by_id(pool, user_id).await? else {
        return Ok(None);
    };
    let Some(dates) = store::users::dates(pool, user_id).await? else {
        return Ok(None);
    };
    let groups = store::groups::of_user(pool, user_id).await?;
    let methods = store::methods::list(pool, user_id).await?;
    let kinds: Vec<_> = methods.iter().map(|m| m.kind).collect();
    let standing = eligibility::assess(
        policy,
        &Account {
            role: user.role,
            enabled: user.enabled,
            kinds: &kinds,
            groups: &groups,
        },
    );
    let signed_in = [AuditKind::SignIn, AuditKind::SignInSecondFactor];
    let last_sign_in = store::audit_events::last_success(pool, user_id, &signed_in).await?;
    let last_reset =
        store::audit_events::last_success(pool, user_id, &[AuditKind::PasswordReset]).await?;
    let cfg = &s.config.sign_in_lockout;
    let key = auth::throttle_key(&user.login);
    let locked_until = lockout::locked_until(pool, cfg, &key, s.now()).await?;
    Ok(Some(Detail {
        from_directory: user.directory_dn.is_some(),
        user,
        dates,
        groups,
        methods,
        last_sign_in,
        last_reset,
        locked_until,
        standing,
    }))
}
