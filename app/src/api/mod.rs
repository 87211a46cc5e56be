//! Server functions: the only way the browser talks to the server. Each is
//! a thin adapter — decode the form, call the domain (in `crate::ssr`), map
//! the outcome to an [`AppError`] code. Endpoints are pinned so URLs stay
//! stable for no-JavaScript forms, proxies and rate-limit rules. What they
//! exchange is defined in `sspr_proto::views`, which `crate::ssr` uses too.

use leptos::prelude::*;
use sspr_proto::views::{AccountView, OutboxEntry, SecondFactorView};

use crate::error::AppError;

pub mod admin;
pub mod password;
pub mod reset;
pub mod setup;

/// Signs in and goes on: to the registration wizard when the policy needs
/// more security info, else to `next` (a local path) or "My account".
/// Every failure is `invalid_credentials`.
#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(
    login: String,
    password: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    crate::ssr::auth::sign_in(login, password, next).await
}

/// The second factor at sign-in: the account's methods and the pending
/// one (only for the browser that just typed the password).
#[server(prefix = "/api", endpoint = "sign_in_factors")]
pub async fn sign_in_factors() -> Result<SecondFactorView, AppError> {
    crate::ssr::auth::second_factor_view().await
}

/// Chooses a registered method: sends its code, or asks for the app's.
#[server(prefix = "/api", endpoint = "sign_in_choose")]
pub async fn sign_in_choose(method: i64) -> Result<(), AppError> {
    crate::ssr::auth::second_factor_choose(method).await
}

#[server(prefix = "/api", endpoint = "sign_in_resend")]
pub async fn sign_in_resend() -> Result<(), AppError> {
    crate::ssr::auth::second_factor_resend().await
}

/// The second factor's code: right, and the session starts.
#[server(prefix = "/api", endpoint = "sign_in_verify")]
pub async fn sign_in_verify(code: String) -> Result<(), AppError> {
    crate::ssr::auth::second_factor_verify(code).await
}

/// Proves the password again before security info changes.
#[server(prefix = "/api", endpoint = "reauthenticate")]
pub async fn reauthenticate(
    password: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    crate::ssr::auth::reauthenticate(password, next).await
}

/// Ends the current session and goes to the sign-in page.
#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::ssr::auth::sign_out().await
}

/// Switches the pages to language `lang` and goes back to `back` (a local
/// path) in it; while someone is signed in, saves it on their account too.
/// A plain form posts here (the header's picker, My account), so the page
/// loads anew in the language: the browser holds one language's texts.
#[server(prefix = "/api", endpoint = "choose_language")]
pub async fn choose_language(
    lang: String,
    #[server(default)] back: String,
) -> Result<(), AppError> {
    crate::ssr::auth::choose_language(lang, back).await
}

/// The signed-in account, or `None`.
#[server(prefix = "/api", endpoint = "current_account")]
pub async fn current_account() -> Result<Option<AccountView>, AppError> {
    crate::ssr::auth::current_account().await
}

/// Messages on the development outbox (only in `outbox` delivery mode).
#[server(prefix = "/api", endpoint = "dev_outbox")]
pub async fn dev_outbox() -> Result<Vec<OutboxEntry>, AppError> {
    crate::ssr::outbox::list().await
}
