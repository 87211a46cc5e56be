//! The views the pages render and the structured inputs they post: what
//! the server functions in `app/src/api` exchange with the browser.

use serde::{Deserialize, Serialize};

use crate::method::{MethodKind, PhoneChannel};

/// A country in the phone number's picker: its ISO 3166 code (what the form
/// posts), its name in the page's language, and its calling code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneRegion {
    pub code: String,
    pub name: String,
    pub calling_code: u16,
}

/// What the "My account" page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub is_admin: bool,
    pub groups: Vec<String>,
    /// The language saved on the account; `None`: the browser's decides.
    pub language: Option<String>,
}

/// One row of the development outbox, rendered in the message's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub created_at: String,
    /// `email`, `sms` or `voice`.
    pub channel: String,
    pub recipient: String,
    pub state: String,
    pub locale: String,
    pub subject: String,
    pub body: String,
}

/// An ALTCHA proof-of-work challenge, as the page receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptchaPuzzle {
    pub algorithm: String,
    pub challenge: String,
    pub maxnumber: u64,
    pub salt: String,
    pub signature: String,
}

/// A security question being asked: a predefined one by id (worded by the
/// locale catalogs) or the user's own text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskedQuestion {
    pub predefined: bool,
    pub text: String,
}

/// What the reset wizard's gate pages show. The same for every account
/// until a gate is passed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetView {
    pub gates_needed: u64,
    pub passed: u64,
    /// What may be chosen next.
    pub offered: Vec<MethodKind>,
    /// The questions of a pending security-questions gate.
    pub questions: Vec<AskedQuestion>,
    /// Masked hints (`da***@example.org`, `*******78`), in the opt-in
    /// hints mode only.
    pub email_hint: Option<String>,
    pub phone_hint: Option<String>,
    /// The pending gate: its kind and the code's length (for questions, how
    /// many are asked).
    pub pending: Option<(MethodKind, u64)>,
    pub sms: bool,
    pub voice: bool,
    /// The countries the admin allows, named in the page's language.
    pub phone_regions: Vec<PhoneRegion>,
    /// The browser's country if allowed, else the organisation's default.
    pub default_region: String,
    /// The account may be unlocked without a new password.
    pub allow_unlock: bool,
}

/// What the reset wizard's last page shows, once every gate is passed:
/// the rules for the new password and whether "unlock only" is offered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetPasswordView {
    pub rules: crate::Rules,
    pub allow_unlock: bool,
}

/// A registered method, as "My security info" and the wizard list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodView {
    pub id: i64,
    pub kind: MethodKind,
    pub masked_destination: String,
    /// Phones only.
    pub channel: Option<PhoneChannel>,
    pub is_default: bool,
    pub verified_at: String,
}

/// The methods the policy lets this user register.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allowed {
    pub email: bool,
    pub sms: bool,
    pub voice: bool,
    pub authenticator: bool,
    pub questions: bool,
}

/// The value of the question picker that means "my own question".
pub const CUSTOM_QUESTION: &str = "custom";

/// One row of the security-questions form: a predefined question id, or
/// `custom` with the user's own question, and the answer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionInput {
    pub choice: String,
    #[serde(default)]
    pub custom: String,
    pub answer: String,
}

impl std::fmt::Debug for QuestionInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The answer is a secret: never logged.
        f.debug_struct("QuestionInput")
            .field("choice", &self.choice)
            .finish_non_exhaustive()
    }
}

/// The registration step waiting for the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendingView {
    Code {
        kind: MethodKind,
        destination: String,
        /// Phones only.
        channel: Option<PhoneChannel>,
        digits: u64,
        /// The channel failed to deliver the latest code.
        delivery_failed: bool,
    },
    Authenticator,
}

/// Everything the registration wizard's pages show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupView {
    pub display_name: String,
    pub have: u64,
    pub need: u64,
    pub methods: Vec<MethodView>,
    pub allowed: Allowed,
    pub pending: Option<PendingView>,
    pub must_register: bool,
    pub may_skip: bool,
    pub must_reconfirm: bool,
    /// The countries the admin allows, named in the page's language.
    pub phone_regions: Vec<PhoneRegion>,
    /// The browser's country if allowed, else the organisation's default.
    pub default_region: String,
    /// How many security questions the policy asks for.
    pub questions_needed: u64,
    /// Ids of the predefined questions (worded by the locale catalogs).
    pub predefined_questions: Vec<String>,
}

/// The authenticator app's key: as a QR code (SVG) and as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatorKey {
    pub secret_text: String,
    pub qr_svg: String,
}

/// One way the second factor at sign-in can be proven: a registered method.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorChoice {
    /// The method's id, posted back to choose it.
    pub id: i64,
    pub kind: MethodKind,
    /// How a phone code is delivered.
    pub channel: Option<PhoneChannel>,
    /// `da***@example.org`, `*********67`; empty for the authenticator.
    pub masked: String,
}

/// What the sign-in's second-factor pages show (only to someone who just
/// typed the account's password).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorView {
    pub choices: Vec<FactorChoice>,
    /// The chosen method waiting for its code, and the code's digits.
    pub pending: Option<(FactorChoice, u64)>,
}
