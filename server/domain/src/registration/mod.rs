//! The security-info registration wizard (the aka.ms/ssprsetup journey).
//!
//! The flow ([`crate::flow`], kind `register`) holds the method being set
//! up until the user proves it: [`send`] (a code to an email address or
//! phone) → [`prove`] (the code, the authenticator app's code, or the
//! security questions; the method is stored in the same transaction) →
//! [`prove::finish`]. Where the account stands against the policy — must
//! it register, may it postpone, must it reconfirm — and removing a method
//! live apart from the flow, in [`standing`].

mod error;
mod prove;
mod send;
mod standing;
mod view;

use serde::{Deserialize, Serialize};

pub use error::RegError;
pub use prove::{
    begin_authenticator, cancel_pending, delivery_failed, finish, questions_needed,
    register_questions, verify_authenticator, verify_code,
};
pub use send::{resend, send_email_code, send_phone_code};
pub use standing::{Standing, reconfirm, remove_method, skip, standing};
pub use view::view;

use crate::flow::{self, Wizard};
use crate::methods::{Kind, PhoneChannel};
use crate::policy::Policy;
use crate::users::{Role, User};
use crate::{Services, Timestamp};

pub const FLOW_KIND: &str = "register";
/// The whole wizard must be finished within this time.
pub const FLOW_TTL_SECS: i64 = 15 * 60;
pub(crate) const WIZARD: Wizard = Wizard {
    kind: FLOW_KIND,
    ttl_secs: FLOW_TTL_SECS,
};
/// Wrong codes tolerated in one flow, whatever the destination, so that
/// switching addresses does not buy fresh guesses.
pub const MAX_FLOW_FAILURES: i64 = 10;

/// The flow's state (stored as JSON in `flows.data`; the field names are
/// part of the schema).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub pending: Option<Pending>,
    pub failures: i64,
}

/// A method being set up, not yet proven.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    Code {
        method: Kind,
        destination: String,
        channel: Option<PhoneChannel>,
        code_hash: String,
        digits: usize,
        sent_at: i64,
        expires_at: i64,
        attempts: i64,
        /// The outbox row carrying the latest code, to tell the user when
        /// its delivery fails.
        #[serde(default)]
        message_key: String,
    },
    Authenticator {
        /// Encrypted like stored secrets.
        secret: String,
    },
}

pub type Flow = flow::Flow<State>;

/// Starts a flow for `user`, or continues the one `existing` names.
/// Returns the token for the cookie.
pub async fn start(
    s: &Services,
    user: &User,
    existing: Option<&str>,
    now: Timestamp,
) -> Result<String, RegError> {
    if let Some(token) = existing
        && load(s, token, user.id, now).await.is_ok()
    {
        return Ok(token.to_owned());
    }
    Ok(WIZARD
        .create(s, Some(user.id), &State::default(), now)
        .await?)
}

/// The user's open registration flow behind `token`. A flow belongs to the
/// session's user; a token from another account is treated as no flow.
pub async fn load(
    s: &Services,
    token: &str,
    user_id: i64,
    now: Timestamp,
) -> Result<Flow, RegError> {
    let flow: Flow = WIZARD.load(s, token, now).await?;
    if flow.user_id != Some(user_id) {
        return Err(RegError::FlowExpired);
    }
    Ok(flow)
}

/// Methods the policy lets this user register.
pub fn allowed(policy: &Policy, user: &User, kind: Kind) -> bool {
    match kind {
        Kind::Email => policy.allow_email,
        Kind::Phone => policy.allow_phone_sms || policy.allow_phone_voice,
        Kind::Authenticator => policy.allow_authenticator,
        // Never for admins (Entra's two-gate policy; docs/security.md #41).
        Kind::Questions => policy.allow_questions && user.role != Role::Admin,
    }
}
