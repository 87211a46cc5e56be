//! The audit trail: one row per security-relevant event, in UTC, with the
//! account (when known) and the client address. Never a password, code or
//! token (docs/security.md #55). Event names and outcomes are enums that
//! store exactly the strings earlier versions wrote, so old rows and new
//! ones read alike.

use std::net::IpAddr;

use crate::identity::Login;
use crate::secrets::ServerKey;
use crate::store::{self, Exec};
use crate::{DomainError, Timestamp};

macro_rules! names {
    ($(#[$doc:meta])* $ty:ident { $($variant:ident => $s:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub enum $ty {
            #[default]
            $($variant,)*
        }
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $s,)*
                }
            }
            pub const ALL: &'static [$ty] = &[$($ty::$variant,)*];
            pub fn parse(s: &str) -> Option<$ty> {
                $ty::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

names!(
    /// What happened.
    Kind {
        SignIn => "sign_in",
        SignInSecondFactor => "sign_in_second_factor",
        SignOut => "sign_out",
        Reauthenticate => "reauthenticate",
        PasswordChanged => "password_changed",
        PasswordReset => "password_reset",
        AccountUnlocked => "account_unlocked",
        ResetStarted => "reset_started",
        ResetGate => "reset_gate",
        ResetSurge => "reset_surge",
        PhoneBudget => "phone_budget",
        SecurityInfoAdded => "security_info_added",
        SecurityInfoRemoved => "security_info_removed",
        SecurityInfoConfirmed => "security_info_confirmed",
        SecurityInfoCode => "security_info_code",
        PolicyChanged => "policy_changed",
        AuditExported => "audit_exported",
        GroupCreated => "group_created",
        GroupMemberAdded => "group_member_added",
        GroupMemberRemoved => "group_member_removed",
        AccountDisabled => "account_disabled",
        AccountEnabled => "account_enabled",
        SessionsRevoked => "sessions_revoked",
        SecurityInfoCleared => "security_info_cleared",
        InvitationSent => "invitation_sent",
        ImpactExported => "impact_exported",
        GroupRenamed => "group_renamed",
        GroupDeleted => "group_deleted",
        UsersExported => "users_exported",
        AccountCreated => "account_created",
        UsersImported => "users_imported",
    }
);

names!(
    /// How it ended.
    Outcome {
        Success => "success",
        Failure => "failure",
        Alert => "alert",
    }
);

impl Outcome {
    pub fn of(ok: bool) -> Outcome {
        if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        }
    }
}

/// The user ID to record for an event about a typed ID: as typed when it
/// names an account; otherwise a keyed hash (`unknown:` and 16 hex
/// digits), since people type passwords and other people's names into
/// that field, yet admins still see the same unknown ID tried again and
/// again (docs/security.md #73).
pub fn typed_login(key: &ServerKey, login: &Login, names_an_account: bool) -> String {
    if names_an_account {
        login.as_str().to_owned()
    } else {
        let hash = key.keyed_hash("audit-unknown-login", &[login.as_str().as_bytes()]);
        format!("unknown:{}", hex::encode(&hash[..8]))
    }
}

/// One audit row to write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub event: Kind,
    pub outcome: Outcome,
    pub actor_user_id: Option<i64>,
    pub subject_user_id: Option<i64>,
    /// The canonical user ID typed, for events about accounts that may not exist.
    pub subject_login: Option<String>,
    pub ip: Option<IpAddr>,
    pub detail: Option<String>,
}

impl Event {
    pub fn new(event: Kind, outcome: Outcome) -> Event {
        Event {
            event,
            outcome,
            ..Event::default()
        }
    }
    /// Something a user did to their own account.
    pub fn by_self(event: Kind, outcome: Outcome, user_id: i64) -> Event {
        Event {
            actor_user_id: Some(user_id),
            subject_user_id: Some(user_id),
            ..Event::new(event, outcome)
        }
    }
    pub fn ip(self, ip: Option<IpAddr>) -> Event {
        Event { ip, ..self }
    }
    pub fn detail(self, detail: impl Into<String>) -> Event {
        Event {
            detail: Some(detail.into()),
            ..self
        }
    }
}

pub async fn record<'e>(exec: impl Exec<'e>, e: &Event, now: Timestamp) -> Result<(), DomainError> {
    store::audit_events::insert(exec, e, now).await.map(drop)
}

/// [`record`], returning the row's id (a page that shows what the event
/// recorded links to it).
pub async fn record_id<'e>(
    exec: impl Exec<'e>,
    e: &Event,
    now: Timestamp,
) -> Result<i64, DomainError> {
    store::audit_events::insert(exec, e, now).await
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub at: i64,
    pub event: String,
    pub outcome: String,
    pub subject_user_id: Option<i64>,
    pub subject_login: Option<String>,
}

pub use store::audit_events::recent;

/// What the audit log page filters on; `None` matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Rows about or by one typed user ID.
    pub user: Option<UserFilter>,
    pub event: Option<Kind>,
    pub outcome: Option<Outcome>,
    /// From this time on (inclusive).
    pub since: Option<Timestamp>,
    /// Before this time (exclusive).
    pub until: Option<Timestamp>,
}

/// A typed user ID as the audit log matches it: its account (as actor or
/// subject) when there is one, and the ID as recorded for events about a
/// typed ID — in clear for an account, as its keyed hash when no account
/// had it then (`typed_login`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserFilter {
    pub user_id: Option<i64>,
    pub recorded_as: [String; 2],
}

impl UserFilter {
    pub fn new(key: &ServerKey, login: &Login, user_id: Option<i64>) -> UserFilter {
        UserFilter {
            user_id,
            recorded_as: [
                typed_login(key, login, true),
                typed_login(key, login, false),
            ],
        }
    }
}

/// One row of the audit log as admins read it: the accounts by user ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub at: Timestamp,
    pub event: String,
    pub outcome: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

/// Rows matching `filter`, newest first, up to `limit`, older than the row
/// `before` when given (keyset paging: a page costs the same at any depth).
pub async fn search<'e>(
    exec: impl Exec<'e>,
    filter: &Filter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, DomainError> {
    store::audit_events::search(exec, filter, before, limit).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows written by earlier versions must keep reading the same: the
    /// stored names are part of the schema.
    #[test]
    fn event_names_are_the_stored_strings() {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "sign_in",
                "sign_in_second_factor",
                "sign_out",
                "reauthenticate",
                "password_changed",
                "password_reset",
                "account_unlocked",
                "reset_started",
                "reset_gate",
                "reset_surge",
                "phone_budget",
                "security_info_added",
                "security_info_removed",
                "security_info_confirmed",
                "security_info_code",
                "policy_changed",
                "audit_exported",
                "group_created",
                "group_member_added",
                "group_member_removed",
                "account_disabled",
                "account_enabled",
                "sessions_revoked",
                "security_info_cleared",
                "invitation_sent",
                "impact_exported",
                "group_renamed",
                "group_deleted",
                "users_exported",
                "account_created",
                "users_imported",
            ]
        );
        let outcomes: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(outcomes, ["success", "failure", "alert"]);
    }
}
