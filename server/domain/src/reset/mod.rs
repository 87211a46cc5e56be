//! The password reset wizard ("Can't access your account?").
//!
//! Step 1 ([`start`]) takes a user ID and a CAPTCHA and always answers the
//! same way: a flow is created whether or not the ID names an account that
//! may reset, and every later step behaves identically for an account that
//! does not exist, is disabled, or has nothing registered — codes are
//! "sent" (only real ones leave, through the outbox) and typed codes are
//! checked against a code nobody knows. The account's real state is
//! revealed only once a gate has been passed, i.e. to someone who proved
//! control of a method.
//!
//! The steps, one file each: [`start`] (user ID, CAPTCHA, per-address
//! ceilings, surge alert) → [`gates`] (what may be chosen, sending codes)
//! → [`check`] (codes, authenticator, answers; the failure throttles) →
//! [`finish`] (eligibility, the new password, unlock only). [`hints`] is
//! the opt-in masked-hints mode; [`view`] projects the flow into what the
//! pages show. The flow runs on [`crate::flow`].

pub(crate) mod check;
mod error;
mod finish;
pub(crate) mod gates;
pub(crate) mod guesses;
mod hints;
mod start;
mod view;

use serde::{Deserialize, Serialize};

pub use check::{verify, verify_answers};
pub use error::ResetError;
pub use finish::{
    WRITE_RESERVATION_SECS, password_rules, password_view, preview, set_password, unlock,
};
pub use gates::{
    choices, choose_authenticator, choose_questions, offered, resend, send_email_code,
    send_email_code_to_hint, send_phone_code,
};
pub use guesses::{
    BLOCK_SECS, MAX_FAILURES_PER_HOUR, MAX_STREAK_PER_ACCOUNT, MAX_STREAK_PER_NETWORK, STREAK_SECS,
};
pub use hints::{HINT_DOMAIN_TTL_SECS, Hints, hints};
pub(crate) use start::identifier;
pub use start::start;
pub use view::view;

use crate::flow::{self, Wizard};
use crate::methods::{self, Kind, Method, PhoneChannel};
use crate::questions::Question;
use crate::rate;
use crate::{DomainError, Services, Timestamp};

pub const FLOW_KIND: &str = "reset";
pub const FLOW_TTL_SECS: i64 = 15 * 60;
pub(crate) const WIZARD: Wizard = Wizard {
    kind: FLOW_KIND,
    ttl_secs: FLOW_TTL_SECS,
};
// Housekeeping deletes counters older than the longest window.
const _: () = assert!(BLOCK_SECS <= rate::LONGEST_WINDOW_SECS);
/// Code sends per identifier per hour, whether or not it names an account.
pub const MAX_SENDS_PER_IDENTIFIER: i64 = 5;

/// Config `[reset]`: step 1's ceilings per client address (an IPv4 address
/// or an IPv6 /64), the second line of defence behind the per-ID limits,
/// and the threshold of the surge alert over all addresses.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ResetConfig {
    /// Wizards started per address per hour (docs/security.md #38: 20).
    pub starts_per_address_per_hour: i64,
    /// Of those, started without a solved CAPTCHA (no JavaScript).
    pub starts_without_captcha_per_address_per_hour: i64,
    /// Starts from all addresses together in an hour above which the admins
    /// are alerted, once that hour (docs/security.md #38: a flood spread
    /// over many addresses passes every per-address ceiling).
    pub alert_starts_per_hour: i64,
}

impl Default for ResetConfig {
    fn default() -> Self {
        ResetConfig {
            starts_per_address_per_hour: 20,
            starts_without_captcha_per_address_per_hour: 3,
            alert_starts_per_hour: 500,
        }
    }
}

/// The flow's state (stored as JSON in `flows.data`; the field names are
/// part of the schema).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Keyed hash of the canonical user ID: throttles are keyed on it
    /// whether or not it names an account.
    pub identifier: String,
    pub gates_needed: usize,
    /// Kinds proven so far (never two of one kind).
    pub passed: Vec<Kind>,
    pub pending: Option<Pending>,
    /// The network the flow was started from ([`rate::Network`]): the
    /// gates count failures per network. Empty in flows started before
    /// it was stored (counted as "unknown").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub network: String,
    /// When an instance began writing the new password to the directory
    /// (`finish::set_password`): another submission waits, and a
    /// reservation older than `finish::WRITE_RESERVATION_SECS` (an
    /// instance that stopped mid-write) may be taken over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writing_since: Option<i64>,
}

impl State {
    pub fn done(&self) -> bool {
        self.passed.len() >= self.gates_needed
    }
    /// Records `kind` as proven.
    fn pass(&mut self, kind: Kind) {
        self.pending = None;
        if !self.passed.contains(&kind) {
            self.passed.push(kind);
        }
    }
    /// The network the gates count this flow's failures against.
    fn network(&self) -> String {
        if self.network.is_empty() {
            rate::Network::Unknown.to_string()
        } else {
            self.network.clone()
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Pending {
    /// A code was (or, for a non-matching destination, was not) sent.
    Code {
        kind: Kind,
        /// What the user typed (for "send a new code").
        destination: String,
        channel: Option<PhoneChannel>,
        code_hash: String,
        digits: usize,
        sent_at: i64,
        expires_at: i64,
        attempts: i64,
    },
    /// The user will type the authenticator app's current code.
    Authenticator,
    /// The user will answer their security questions (only ever a second
    /// gate, so only someone who already proved a method sees them).
    Questions { questions: Vec<Question> },
}

pub type Flow = flow::Flow<State>;

/// The open reset flow behind `token`.
pub async fn load(s: &Services, token: &str, now: Timestamp) -> Result<Flow, ResetError> {
    Ok(WIZARD.load(s, token, now).await?)
}

/// The methods the flow's account registered (none for an unknown ID).
/// The query runs for an unknown ID too (with an id no account has), so
/// both paths cost the same statement (docs/security.md #11).
async fn registered(s: &Services, user_id: Option<i64>) -> Result<Vec<Method>, DomainError> {
    methods::list(s.db.pool(), user_id.unwrap_or(NO_ACCOUNT)).await
}

/// An id no account has: the stand-in for an unknown ID in the queries
/// that run on both paths.
const NO_ACCOUNT: i64 = -1;

/// Refuses when this method is blocked for the identifier (from the
/// flow's network).
async fn check_blocked(
    s: &Services,
    state: &State,
    kind: Kind,
    now: Timestamp,
) -> Result<(), ResetError> {
    guesses::Counts::of(state, kind).ensure_open(s, now).await
}
