//! Server functions of the security-info wizard and "My security info".
//! Each step posts here and is redirected to the next step's page, so the
//! wizard works the same with and without JavaScript.

use leptos::prelude::*;
use sspr_proto::views::{AuthenticatorKey, QuestionInput, SetupView};

use crate::error::AppError;

#[server(prefix = "/api", endpoint = "setup_state")]
pub async fn setup_state() -> Result<SetupView, AppError> {
    crate::ssr::setup::view().await
}

#[server(prefix = "/api", endpoint = "setup_email")]
pub async fn setup_email(address: String) -> Result<(), AppError> {
    crate::ssr::setup::email(address).await
}

#[server(prefix = "/api", endpoint = "setup_phone")]
pub async fn setup_phone(region: String, number: String, channel: String) -> Result<(), AppError> {
    crate::ssr::setup::phone(region, number, channel).await
}

#[server(prefix = "/api", endpoint = "setup_resend")]
pub async fn setup_resend() -> Result<(), AppError> {
    crate::ssr::setup::resend().await
}

#[server(prefix = "/api", endpoint = "setup_verify")]
pub async fn setup_verify(code: String) -> Result<(), AppError> {
    crate::ssr::setup::verify(code).await
}

#[server(prefix = "/api", endpoint = "setup_authenticator_key")]
pub async fn setup_authenticator_key() -> Result<AuthenticatorKey, AppError> {
    crate::ssr::setup::authenticator_key().await
}

#[server(prefix = "/api", endpoint = "setup_authenticator_verify")]
pub async fn setup_authenticator_verify(code: String) -> Result<(), AppError> {
    crate::ssr::setup::authenticator_verify(code).await
}

#[server(prefix = "/api", endpoint = "setup_questions")]
pub async fn setup_questions(entries: Vec<QuestionInput>) -> Result<(), AppError> {
    crate::ssr::setup::questions(entries).await
}

#[server(prefix = "/api", endpoint = "setup_cancel")]
pub async fn setup_cancel() -> Result<(), AppError> {
    crate::ssr::setup::cancel().await
}

#[server(prefix = "/api", endpoint = "setup_finish")]
pub async fn setup_finish() -> Result<(), AppError> {
    crate::ssr::setup::finish().await
}

#[server(prefix = "/api", endpoint = "setup_skip")]
pub async fn setup_skip() -> Result<(), AppError> {
    crate::ssr::setup::skip().await
}

#[server(prefix = "/api", endpoint = "setup_reconfirm")]
pub async fn setup_reconfirm() -> Result<(), AppError> {
    crate::ssr::setup::reconfirm().await
}

#[server(prefix = "/api", endpoint = "security_info_delete")]
pub async fn security_info_delete(id: i64) -> Result<(), AppError> {
    crate::ssr::setup::delete(id).await
}

#[server(prefix = "/api", endpoint = "security_info_default")]
pub async fn security_info_default(id: i64) -> Result<(), AppError> {
    crate::ssr::setup::make_default(id).await
}
