use sspr_domain::auth::{self, SignInError, SignInRequest};
use sspr_domain::users;

use super::{clear_session_cookie, client_ip, internal, session_token, set_session_cookie, state};
use crate::api::AccountView;
use crate::error::AppError;

pub async fn sign_in(login: String, password: String) -> Result<(), AppError> {
    let st = state()?;
    let s = &st.services;
    let previous = session_token(&st.cookies).await;
    let ip = client_ip().await;
    let req = SignInRequest {
        login: &login,
        password: &password,
        ip: ip.as_deref(),
        previous_session: previous.as_deref(),
    };
    match auth::sign_in(s, req, s.now()).await {
        Ok(signed_in) => {
            set_session_cookie(&st.cookies, signed_in.session_token);
            leptos_axum::redirect("/account");
            Ok(())
        }
        Err(SignInError::InvalidCredentials) => Err(AppError::InvalidCredentials),
        Err(SignInError::PasswordTooLong) => Err(AppError::PasswordTooLong),
        Err(SignInError::Busy { retry_after_secs }) => Err(AppError::Busy { retry_after_secs }),
        Err(SignInError::Internal(e)) => Err(internal(e)),
    }
}

pub async fn sign_out() -> Result<(), AppError> {
    let st = state()?;
    let s = &st.services;
    if let Some(token) = session_token(&st.cookies).await {
        let ip = client_ip().await;
        auth::sign_out(s, &token, ip.as_deref(), s.now())
            .await
            .map_err(internal)?;
    }
    clear_session_cookie(&st.cookies);
    leptos_axum::redirect("/sign-in");
    Ok(())
}

pub async fn current_account() -> Result<Option<AccountView>, AppError> {
    let st = state()?;
    let s = &st.services;
    let Some(token) = session_token(&st.cookies).await else {
        return Ok(None);
    };
    let Some(user) = auth::current_user(s, &token, s.now())
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    let groups = users::groups_of(&s.db, user.id).await.map_err(internal)?;
    Ok(Some(AccountView {
        login: user.login_display,
        display_name: user.display_name,
        email: user.email,
        is_admin: user.role == users::Role::Admin,
        groups,
    }))
}
