//! Server halves of the password server functions.

use sspr_domain::auth;
use sspr_domain::password_change::{self, ChangeRequest};
use sspr_domain::password_policy::{Reason, Rules};
use sspr_domain::users::User;

use super::{client_ip, session_token, state};
use crate::error::AppError;

async fn signed_in() -> Result<(super::AppState, String, User), AppError> {
    let st = state()?;
    let Some(token) = session_token(&st.cookies).await else {
        return Err(AppError::NotSignedIn);
    };
    let s = &st.services;
    match auth::current_user(s, &token, s.now())
        .await
        .map_err(AppError::from)?
    {
        Some(user) => Ok((st, token, user)),
        None => Err(AppError::NotSignedIn),
    }
}

pub async fn rules() -> Result<Rules, AppError> {
    let (st, _, user) = signed_in().await?;
    password_change::rules(&st.services, &user)
        .await
        .map_err(AppError::from)
}

pub async fn preview(password: String) -> Result<Vec<Reason>, AppError> {
    let (st, _, user) = signed_in().await?;
    password_change::preview(&st.services, &user, &password)
        .await
        .map_err(AppError::from)
}

pub async fn change(
    current: String,
    new: String,
    confirm: String,
    sign_out_others: bool,
) -> Result<(), AppError> {
    let (st, token, _) = signed_in().await?;
    let s = &st.services;
    let ip = client_ip().await;
    let req = ChangeRequest {
        session_token: &token,
        current: &current,
        new: &new,
        confirm: &confirm,
        sign_out_others,
        ip,
    };
    let fresh = password_change::change(s, req, s.now()).await?;
    super::set_session_cookie(&st.cookies, fresh);
    leptos_axum::redirect("/account/password/done");
    Ok(())
}
