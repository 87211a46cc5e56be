//! The second factor at sign-in (docs/security.md #82).
//!
//! After the right password, an account whose sign-in asks for more —
//! admins always, everyone when the policy's `sign_in_second_factor` says
//! so — gets no session yet. A `sign_in` flow remembers the proven
//! password, and the session starts only when one of the account's
//! registered methods is proven too: a code sent to its email address or
//! phone, or the authenticator app's current code.
//!
//! The checks are the reset gates' ([`crate::reset`]): the same code
//! rules, the same failure counts per typed ID, method and network (a
//! guess at a user's code is one guess whichever page it was typed into,
//! so a stolen password does not buy a fresh budget), the same send
//! limits. Unlike the reset gates, these pages show the account's masked
//! destinations: only someone who just typed its password sees them.
//!
//! The steps: [`begin`] (from `auth::sign_in`) → [`choose`] / [`resend`]
//! (send.rs) → [`verify`] (check.rs), which ends the flow and starts the
//! session in one transaction.

mod check;
mod send;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use sspr_proto::views::{FactorChoice, SecondFactorView};

use crate::flow::{self, Wizard};
use crate::identity::Login;
use crate::methods::{self, Kind, Method, PhoneChannel};
use crate::policy::{self, Policy, SecondFactorScope};
use crate::rate::Network;
use crate::reset::ResetError;
use crate::users::{Role, User};
use crate::{DomainError, Services, Timestamp, authenticator};

pub use check::{Verified, verify};
pub use send::{choose, resend};

pub const FLOW_KIND: &str = "sign_in";
/// Long enough to fetch a code from a phone, short enough that a proven
/// password does not wait around.
pub const FLOW_TTL_SECS: i64 = 10 * 60;
pub(crate) const WIZARD: Wizard = Wizard {
    kind: FLOW_KIND,
    ttl_secs: FLOW_TTL_SECS,
};

/// The flow's state (JSON in `flows.data`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The typed ID's keyed hash the gates' counters are keyed on
    /// ([`crate::reset::identifier`]).
    pub identifier: String,
    /// The network the password came from: failures count against it.
    pub network: String,
    /// Where to go once signed in (a local path, checked by the caller).
    pub next: String,
    pub pending: Option<Pending>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Pending {
    /// A code went to the registered method `method_id`.
    Code {
        method_id: i64,
        kind: Kind,
        code_hash: String,
        digits: usize,
        sent_at: i64,
        expires_at: i64,
        attempts: i64,
    },
    /// The user will type the authenticator app's current code.
    Authenticator { method_id: i64 },
}

impl Pending {
    fn method_id(&self) -> i64 {
        match self {
            Pending::Code { method_id, .. } | Pending::Authenticator { method_id } => *method_id,
        }
    }
    /// Whether `other` asks for the same thing (the same code of the same
    /// method; its wrong-try count may differ).
    fn same_ask(&self, other: &Pending) -> bool {
        match (self, other) {
            (Pending::Code { code_hash: a, .. }, Pending::Code { code_hash: b, .. }) => a == b,
            (Pending::Authenticator { method_id: a }, Pending::Authenticator { method_id: b }) => {
                a == b
            }
            _ => false,
        }
    }
    fn kind(&self) -> Kind {
        match self {
            Pending::Code { kind, .. } => *kind,
            Pending::Authenticator { .. } => Kind::Authenticator,
        }
    }
}

pub type Flow = flow::Flow<State>;

/// Whether `m` can prove the second factor under `policy`: a code
/// channel the organisation allows. Security questions never can (they
/// are something known, like the password).
pub fn proves(policy: &Policy, m: &Method) -> bool {
    match m.kind {
        Kind::Email => policy.allow_email,
        Kind::Phone => match m.phone_channel {
            Some(PhoneChannel::Voice) => policy.allow_phone_voice,
            _ => policy.allow_phone_sms,
        },
        Kind::Authenticator => policy.allow_authenticator,
        Kind::Questions => false,
    }
}

/// Whether `user`'s sign-in asks for a second factor: admins always,
/// everyone when the policy says so — when the account has a method that
/// can prove it. An account without one signs in with its password alone
/// (and is sent to register: admins must), so its password must meet the
/// single-factor minimum (`password_policy::rules_for`).
pub fn asked_of(policy: &Policy, user: &User, registered: &[Method]) -> bool {
    let in_scope =
        user.role == Role::Admin || policy.sign_in_second_factor == SecondFactorScope::Everyone;
    in_scope && registered.iter().any(|m| proves(policy, m))
}

/// Opens the flow after the right password; returns its token.
pub(crate) async fn begin(
    s: &Services,
    user: &User,
    login: &Login,
    ip: Option<IpAddr>,
    next: &str,
    now: Timestamp,
) -> Result<String, DomainError> {
    let state = State {
        identifier: crate::reset::identifier(s, login),
        network: Network::of(ip).to_string(),
        next: next.to_owned(),
        pending: None,
    };
    WIZARD.create(s, Some(user.id), &state, now).await
}

/// The open flow behind `token` (always an account's).
pub async fn load(s: &Services, token: &str, now: Timestamp) -> Result<Flow, ResetError> {
    Ok(WIZARD.load(s, token, now).await?)
}

/// The account's methods that can prove the second factor, the default
/// first.
async fn choices(s: &Services, policy: &Policy, flow: &Flow) -> Result<Vec<Method>, ResetError> {
    let user_id = flow.user_id.ok_or(ResetError::FlowExpired)?;
    let mut list: Vec<Method> = methods::list(s.db.pool(), user_id)
        .await?
        .into_iter()
        .filter(|m| proves(policy, m))
        .collect();
    list.sort_by_key(|m| !m.is_default);
    Ok(list)
}

fn choice(m: &Method) -> FactorChoice {
    FactorChoice {
        id: m.id,
        kind: m.kind,
        channel: m.phone_channel,
        masked: m.masked_destination(),
    }
}

/// What the second-factor pages show.
pub async fn view(
    s: &Services,
    token: &str,
    now: Timestamp,
) -> Result<SecondFactorView, ResetError> {
    let flow = load(s, token, now).await?;
    let policy = policy::load(&s.db).await?;
    let methods = choices(s, &policy, &flow).await?;
    let pending = flow.state.pending.as_ref().and_then(|p| {
        let digits = match p {
            Pending::Code { digits, .. } => *digits,
            Pending::Authenticator { .. } => authenticator::DIGITS,
        };
        let m = methods.iter().find(|m| m.id == p.method_id())?;
        Some((choice(m), u64::try_from(digits).unwrap_or(u64::MAX)))
    });
    Ok(SecondFactorView {
        choices: methods.iter().map(choice).collect(),
        pending,
    })
}
