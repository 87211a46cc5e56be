//! The impact preview of a policy change: who could reset before and
//! cannot after (users and admins apart, and why), and who gains, computed
//! from every account's facts with the one eligibility rule
//! (`eligibility::assess`) under both policies. Three reads (accounts,
//! registered kinds, memberships of the groups either policy names), then
//! memory only: fast at 100 000 accounts (bench `admin_users`).

use std::collections::HashMap;

use crate::eligibility::{self, Account, Standing};
use crate::methods::Kind;
use crate::policy::Policy;
use crate::users::Role;
use crate::{Db, DomainError, store};

/// One account whose standing the change flips.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub login_display: String,
    pub display_name: String,
    pub role: Role,
    pub before: Standing,
    pub after: Standing,
}

impl Change {
    pub fn loses(&self) -> bool {
        self.before.is_eligible() && !self.after.is_eligible()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Impact {
    /// Users (not admins) who could reset and no longer can.
    pub users_losing: usize,
    pub admins_losing: usize,
    /// Of the losing, how many only because they lack methods (they can
    /// register more; the others are out of scope).
    pub losing_for_methods: usize,
    pub gaining: usize,
    /// Every account that loses or gains, by user ID.
    pub changes: Vec<Change>,
}

pub async fn preview(db: &Db, before: &Policy, after: &Policy) -> Result<Impact, DomainError> {
    let pool = db.pool();
    let accounts = store::users::all_facts(pool).await?;
    let mut kinds: HashMap<i64, Vec<Kind>> = HashMap::new();
    for (user_id, kind) in store::methods::kinds_by_user(pool).await? {
        kinds.entry(user_id).or_default().push(kind);
    }
    let mut named: Vec<String> = before
        .sspr_groups
        .iter()
        .chain(&after.sspr_groups)
        .cloned()
        .collect();
    named.sort();
    named.dedup();
    let mut groups: HashMap<i64, Vec<String>> = HashMap::new();
    for (user_id, name) in store::groups::memberships_in(pool, &named).await? {
        groups.entry(user_id).or_default().push(name);
    }
    let mut impact = Impact::default();
    for a in accounts {
        let account = Account {
            role: a.role,
            enabled: a.enabled,
            kinds: kinds.get(&a.id).map_or(&[], Vec::as_slice),
            groups: groups.get(&a.id).map_or(&[], Vec::as_slice),
        };
        let was = eligibility::assess(before, &account);
        let will = eligibility::assess(after, &account);
        if was.is_eligible() == will.is_eligible() {
            continue;
        }
        let change = Change {
            login_display: a.login_display,
            display_name: a.display_name,
            role: a.role,
            before: was,
            after: will,
        };
        if change.loses() {
            match a.role {
                Role::Admin => impact.admins_losing += 1,
                Role::User => impact.users_losing += 1,
            }
            if matches!(will, Standing::NeedsMethods { .. }) {
                impact.losing_for_methods += 1;
            }
        } else {
            impact.gaining += 1;
        }
        impact.changes.push(change);
    }
    impact
        .changes
        .sort_by(|a, b| a.login_display.cmp(&b.login_display));
    Ok(impact)
}
