//! Who may reset their password under a policy, and why not: one rule for
//! the reset wizard's last check, the admin portal's user detail and list
//! filter, and the impact preview of a policy change (docs/security.md #92).
//!
//! An account can reset when it is enabled, in the policy's scope (admins
//! always are) and has registered as many methods as it must pass gates,
//! counting only methods a gate can use under the policy: a kind the
//! policy no longer allows cannot be chosen at a gate, so it does not
//! count. Email counts once; security questions count only next to
//! another kind, and never for an admin.

use crate::methods::Kind;
use crate::policy::{Policy, SsprScope};
use crate::users::Role;

/// What the rule needs to know about an account.
#[derive(Clone, Copy, Debug)]
pub struct Account<'a> {
    pub role: Role,
    pub enabled: bool,
    /// Kinds of method registered (repeats allowed).
    pub kinds: &'a [Kind],
    /// Canonical names of the account's groups.
    pub groups: &'a [String],
}

/// Whether an account may reset, or the first reason it may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Eligible,
    Disabled,
    /// Outside the policy's scope (None, or not in a Selected group).
    NotInScope,
    /// In scope but with fewer usable methods than gates to pass.
    NeedsMethods {
        have: usize,
        need: usize,
    },
}

impl Standing {
    pub fn is_eligible(self) -> bool {
        self == Standing::Eligible
    }

    /// A stable name, for CSV files and the portal.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Eligible => "eligible",
            Standing::Disabled => "disabled",
            Standing::NotInScope => "not_in_scope",
            Standing::NeedsMethods { .. } => "needs_methods",
        }
    }
}

/// Kinds a gate can offer under `policy` to this role, questions apart.
pub fn gate_kinds(policy: &Policy) -> Vec<Kind> {
    let mut kinds = Vec::new();
    if policy.allow_email {
        kinds.push(Kind::Email);
    }
    if policy.allow_phone_sms || policy.allow_phone_voice {
        kinds.push(Kind::Phone);
    }
    if policy.allow_authenticator {
        kinds.push(Kind::Authenticator);
    }
    kinds
}

/// Whether security questions can be a (second) gate for this role.
pub fn questions_count(policy: &Policy, role: Role) -> bool {
    policy.allow_questions && role != Role::Admin
}

/// How many distinct gates the registered `kinds` can pass under `policy`.
pub fn usable(policy: &Policy, role: Role, kinds: &[Kind]) -> usize {
    let strong = gate_kinds(policy);
    let mut n = strong.iter().filter(|k| kinds.contains(k)).count();
    if n > 0 && questions_count(policy, role) && kinds.contains(&Kind::Questions) {
        n += 1;
    }
    n
}

/// SSPR scope: everyone, nobody, or members of the listed groups. Admins
/// are always in scope.
pub fn in_scope(policy: &Policy, role: Role, groups: &[String]) -> bool {
    if role == Role::Admin {
        return true;
    }
    match policy.sspr_scope {
        SsprScope::None => false,
        SsprScope::Groups => groups.iter().any(|g| policy.sspr_groups.contains(g)),
        SsprScope::All => true,
    }
}

pub fn assess(policy: &Policy, a: &Account<'_>) -> Standing {
    if !a.enabled {
        return Standing::Disabled;
    }
    if !in_scope(policy, a.role, a.groups) {
        return Standing::NotInScope;
    }
    let need = policy.required_for(a.role == Role::Admin);
    let have = usable(policy, a.role, a.kinds);
    if have < need {
        return Standing::NeedsMethods { have, need };
    }
    Standing::Eligible
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account<'a>(role: Role, kinds: &'a [Kind], groups: &'a [String]) -> Account<'a> {
        Account {
            role,
            enabled: true,
            kinds,
            groups,
        }
    }

    #[test]
    fn a_kind_the_policy_no_longer_allows_does_not_count() {
        let mut p = Policy::default();
        let kinds = [Kind::Email, Kind::Phone];
        assert_eq!(usable(&p, Role::User, &kinds), 2);
        p.allow_phone_sms = false;
        p.allow_phone_voice = false;
        assert_eq!(usable(&p, Role::User, &kinds), 1);
    }

    #[test]
    fn questions_count_only_beside_another_kind_and_never_for_admins() {
        let p = Policy {
            allow_questions: true,
            ..Policy::default()
        };
        assert_eq!(usable(&p, Role::User, &[Kind::Questions]), 0);
        assert_eq!(usable(&p, Role::User, &[Kind::Questions, Kind::Email]), 2);
        assert_eq!(usable(&p, Role::Admin, &[Kind::Questions, Kind::Email]), 1);
    }

    #[test]
    fn admins_are_always_in_scope_and_always_need_two() {
        let p = Policy {
            sspr_scope: SsprScope::None,
            ..Policy::default()
        };
        let one = [Kind::Email];
        assert_eq!(
            assess(&p, &account(Role::Admin, &one, &[])),
            Standing::NeedsMethods { have: 1, need: 2 }
        );
        assert_eq!(
            assess(&p, &account(Role::User, &one, &[])),
            Standing::NotInScope
        );
    }

    #[test]
    fn a_selected_group_brings_its_members_in_scope() {
        let p = Policy {
            sspr_scope: SsprScope::Groups,
            sspr_groups: vec!["staff".into()],
            ..Policy::default()
        };
        let kinds = [Kind::Email];
        let staff = ["staff".to_owned()];
        assert!(assess(&p, &account(Role::User, &kinds, &staff)).is_eligible());
        assert_eq!(
            assess(&p, &account(Role::User, &kinds, &["guests".to_owned()])),
            Standing::NotInScope
        );
        let disabled = Account {
            enabled: false,
            ..account(Role::User, &kinds, &staff)
        };
        assert_eq!(assess(&p, &disabled), Standing::Disabled);
    }
}
