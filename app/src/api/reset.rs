//! Server functions of the password reset wizard (`/reset`). Every step is
//! a form posting here and redirecting to the next page, so the wizard
//! works without JavaScript; with it, the CAPTCHA solves itself and the
//! password checklist is live.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
pub use sspr_password_rules::{Reason, Rules};

use crate::error::AppError;

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

/// What the gate pages show. The same for every account until a gate is
/// passed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetView {
    pub gates_needed: u64,
    pub passed: u64,
    /// `email`, `phone`, `authenticator`, `questions`: what may be chosen
    /// next.
    pub offered: Vec<String>,
    /// The questions of a pending security-questions gate.
    pub questions: Vec<AskedQuestion>,
    /// Masked hints (`da***@example.org`, `*******78`), in the opt-in
    /// hints mode only.
    pub email_hint: Option<String>,
    pub phone_hint: Option<String>,
    /// The gate waiting for a code: its kind and the code's length.
    pub pending: Option<(String, u64)>,
    pub sms: bool,
    pub voice: bool,
    pub phone_regions: Vec<String>,
    pub default_region: String,
    /// Seconds until "send a new code" is accepted.
    pub resend_in_secs: u64,
    /// The account may be unlocked without a new password.
    pub allow_unlock: bool,
    /// The organisation's help desk (URL or email), or empty.
    pub helpdesk: String,
}

/// A fresh CAPTCHA bound to this browser (a nonce in an HttpOnly cookie).
#[server(prefix = "/api", endpoint = "reset_challenge")]
pub async fn reset_challenge() -> Result<CaptchaPuzzle, AppError> {
    crate::ssr::reset::challenge().await
}

/// Step 1: the user ID and the solved CAPTCHA (empty without JavaScript).
#[server(prefix = "/api", endpoint = "reset_start")]
pub async fn reset_start(
    login: String,
    #[server(default)] captcha: String,
) -> Result<(), AppError> {
    crate::ssr::reset::start(login, captcha).await
}

#[server(prefix = "/api", endpoint = "reset_state")]
pub async fn reset_state() -> Result<ResetView, AppError> {
    crate::ssr::reset::view().await
}

#[server(prefix = "/api", endpoint = "reset_email")]
pub async fn reset_email(address: String) -> Result<(), AppError> {
    crate::ssr::reset::email(address).await
}

/// Hints mode: send a code to the hinted address, nothing to type.
#[server(prefix = "/api", endpoint = "reset_email_hint")]
pub async fn reset_email_hint() -> Result<(), AppError> {
    crate::ssr::reset::email_hint().await
}

#[server(prefix = "/api", endpoint = "reset_phone")]
pub async fn reset_phone(region: String, number: String, channel: String) -> Result<(), AppError> {
    crate::ssr::reset::phone(region, number, channel).await
}

#[server(prefix = "/api", endpoint = "reset_authenticator")]
pub async fn reset_authenticator() -> Result<(), AppError> {
    crate::ssr::reset::authenticator().await
}

/// The security-questions gate (a second gate only).
#[server(prefix = "/api", endpoint = "reset_questions")]
pub async fn reset_questions() -> Result<(), AppError> {
    crate::ssr::reset::questions().await
}

/// The answers, in the order the questions were asked (`answers[0]`, …).
#[server(prefix = "/api", endpoint = "reset_answers")]
pub async fn reset_answers(#[server(default)] answers: Vec<String>) -> Result<(), AppError> {
    crate::ssr::reset::answers(answers).await
}

#[server(prefix = "/api", endpoint = "reset_verify")]
pub async fn reset_verify(code: String) -> Result<(), AppError> {
    crate::ssr::reset::verify(code).await
}

#[server(prefix = "/api", endpoint = "reset_resend")]
pub async fn reset_resend() -> Result<(), AppError> {
    crate::ssr::reset::resend().await
}

/// "Unlock only": lifts a sign-in lockout without a new password.
#[server(prefix = "/api", endpoint = "reset_unlock")]
pub async fn reset_unlock() -> Result<(), AppError> {
    crate::ssr::reset::unlock().await
}

/// The organisation's help desk contact for the reset pages ("" = none).
#[server(prefix = "/api", endpoint = "reset_helpdesk")]
pub async fn reset_helpdesk() -> Result<String, AppError> {
    crate::ssr::reset::helpdesk().await
}

#[server(prefix = "/api", endpoint = "reset_password_rules")]
pub async fn reset_password_rules() -> Result<Rules, AppError> {
    crate::ssr::reset::rules().await
}

#[server(prefix = "/api", endpoint = "reset_password_preview")]
pub async fn reset_password_preview(password: String) -> Result<Vec<Reason>, AppError> {
    crate::ssr::reset::preview(password).await
}

#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    crate::ssr::reset::set_password(new_password, confirm_password).await
}
