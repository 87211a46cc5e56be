//! Server functions for choosing a password: the rules for the live
//! checklist, the server's verdict on a candidate, and the change itself.

use leptos::prelude::*;
use sspr_proto::{Reason, Rules};

use crate::error::AppError;

/// The rules that apply to the signed-in account.
#[server(prefix = "/api", endpoint = "password_rules")]
pub async fn password_rules() -> Result<Rules, AppError> {
    crate::ssr::password::rules().await
}

/// Every reason the server would refuse `password`, including the checks
/// the browser cannot make (common and banned passwords). Hashes nothing.
#[server(prefix = "/api", endpoint = "password_preview")]
pub async fn password_preview(password: String) -> Result<Vec<Reason>, AppError> {
    crate::ssr::password::preview(password).await
}

/// Changes the signed-in user's password; `sign_out_others` is the
/// checkbox (present when ticked).
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
    #[server(default)] sign_out_others: Option<String>,
) -> Result<(), AppError> {
    crate::ssr::password::change(
        current_password,
        new_password,
        confirm_password,
        sign_out_others.is_some(),
    )
    .await
}
