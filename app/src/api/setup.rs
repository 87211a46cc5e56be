//! Server functions of the security-info wizard and "My security info".
//! Each step posts here and is redirected to the next step's page, so the
//! wizard works the same with and without JavaScript.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodView {
    pub id: i64,
    /// `email`, `phone`, `authenticator`, `questions`
    pub kind: String,
    pub masked_destination: String,
    /// `sms` or `voice` for phones
    pub channel: Option<String>,
    pub is_default: bool,
    pub verified_at: String,
}

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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendingView {
    Code {
        kind: String,
        destination: String,
        channel: Option<String>,
        digits: u64,
        resend_in_secs: u64,
        /// The channel failed to deliver the latest code.
        delivery_failed: bool,
    },
    Authenticator,
}

/// Everything the wizard pages show.
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
    pub phone_regions: Vec<String>,
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
