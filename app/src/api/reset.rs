//! Server functions of the password reset wizard (`/reset`). Every step is
//! a form posting here and redirecting to the next page, so the wizard
//! works without JavaScript; with it, the CAPTCHA solves itself and the
//! password checklist is live.

use leptos::prelude::*;
use sspr_proto::Reason;
use sspr_proto::views::{CaptchaPuzzle, ResetPasswordView, ResetView};

use crate::error::AppError;

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

/// The last page's view: the new password's rules and whether "unlock
/// only" is offered (one call for the page).
#[server(prefix = "/api", endpoint = "reset_password_view")]
pub async fn reset_new_password_view() -> Result<ResetPasswordView, AppError> {
    crate::ssr::reset::password_view().await
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
