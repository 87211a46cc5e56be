use sspr_domain::auth::{self, SignInRequest};
use sspr_domain::{registration, users};
use sspr_proto::views::AccountView;

use super::{clear_session_cookie, client_ip, session_token, set_session_cookie, state};
use crate::error::AppError;

/// A redirect target taken from a form: a local path only (no scheme, no
/// `//host`), so the sign-in page cannot be used as an open redirect.
pub fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    ok.then_some(next)
}

pub async fn sign_in(login: String, password: String, next: String) -> Result<(), AppError> {
    let st = state()?;
    let s = &st.services;
    let previous = session_token(&st.cookies).await;
    let ip = client_ip().await;
    let req = SignInRequest {
        login: &login,
        password: &password,
        ip,
        previous_session: previous.as_deref(),
    };
    match auth::sign_in(s, req, s.now()).await {
        Ok(signed_in) => {
            set_session_cookie(&st.cookies, signed_in.session_token);
            let standing = match users::find_by_id(s.db.pool(), signed_in.user_id)
                .await
                .map_err(AppError::from)?
            {
                Some(user) => Some(
                    registration::standing(s, &user, s.now())
                        .await
                        .map_err(AppError::from)?,
                ),
                None => None,
            };
            // "More information required": the wizard interrupts sign-in.
            let target = match standing {
                Some(st) if st.must_register || st.must_reconfirm => "/security-info/setup",
                _ => local_path(&next).unwrap_or("/account"),
            };
            leptos_axum::redirect(target);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn reauthenticate(password: String, next: String) -> Result<(), AppError> {
    let st = state()?;
    let s = &st.services;
    let Some(token) = session_token(&st.cookies).await else {
        return Err(AppError::NotSignedIn);
    };
    let ip = client_ip().await;
    let fresh = auth::reauthenticate(s, &token, &password, ip, s.now()).await?;
    set_session_cookie(&st.cookies, fresh);
    leptos_axum::redirect(local_path(&next).unwrap_or("/security-info"));
    Ok(())
}

pub async fn sign_out() -> Result<(), AppError> {
    let st = state()?;
    let s = &st.services;
    if let Some(token) = session_token(&st.cookies).await {
        let ip = client_ip().await;
        auth::sign_out(s, &token, ip, s.now())
            .await
            .map_err(AppError::from)?;
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
        .map_err(AppError::from)?
    else {
        return Ok(None);
    };
    let groups = users::groups_of(s.db.pool(), user.id)
        .await
        .map_err(AppError::from)?;
    Ok(Some(AccountView {
        login: user.login_display,
        display_name: user.display_name,
        email: user.email,
        is_admin: user.role == users::Role::Admin,
        groups,
    }))
}
