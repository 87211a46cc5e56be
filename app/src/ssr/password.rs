//! Server halves of the password server functions.

use sspr_domain::auth;
use sspr_domain::password_change::{self, ChangeError, ChangeRequest};
use sspr_domain::password_policy::{Reason, Rules};
use sspr_domain::users::User;

use super::{client_ip, internal, session_token, state};
use crate::error::AppError;

async fn signed_in() -> Result<(super::AppState, String, User), AppError> {
    let st = state()?;
    let Some(token) = session_token(&st.cookies).await else {
        return Err(AppError::NotSignedIn);
    };
    let s = &st.services;
    match auth::current_user(s, &token, s.now())
        .await
        .map_err(internal)?
    {
        Some(user) => Ok((st, token, user)),
        None => Err(AppError::NotSignedIn),
    }
}

fn rejected(reasons: Vec<Reason>, rules: &Rules) -> AppError {
    AppError::PasswordRejected {
        reasons,
        min_length: rules.min_length as u64,
        max_length: rules.max_length as u64,
    }
}

pub async fn rules() -> Result<Rules, AppError> {
    let (st, _, user) = signed_in().await?;
    password_change::rules(&st.services, &user)
        .await
        .map_err(internal)
}

pub async fn preview(password: String) -> Result<Vec<Reason>, AppError> {
    let (st, _, user) = signed_in().await?;
    password_change::preview(&st.services, &user, &password)
        .await
        .map_err(|e| change_error(e, None))
}

fn change_error(e: ChangeError, rules: Option<&Rules>) -> AppError {
    match e {
        ChangeError::NotSignedIn => AppError::NotSignedIn,
        ChangeError::InvalidCredentials => AppError::InvalidCredentials,
        ChangeError::Rejected(reasons) => match rules {
            Some(r) => rejected(reasons, r),
            None => rejected(
                reasons,
                &Rules {
                    min_length: sspr_proto::FLOOR,
                    max_length: sspr_proto::MAX,
                    context_words: vec![],
                },
            ),
        },
        ChangeError::PasswordTooLong => AppError::PasswordTooLong,
        ChangeError::Busy { retry_after_secs } => AppError::Busy { retry_after_secs },
        // Someone changed it a moment ago: the current password typed is
        // no longer current.
        ChangeError::Conflict => AppError::InvalidCredentials,
        ChangeError::Internal(e) => internal(e),
    }
}

pub async fn change(
    current: String,
    new: String,
    confirm: String,
    sign_out_others: bool,
) -> Result<(), AppError> {
    let (st, token, user) = signed_in().await?;
    let s = &st.services;
    let ip = client_ip().await;
    let req = ChangeRequest {
        session_token: &token,
        current: &current,
        new: &new,
        confirm: &confirm,
        sign_out_others,
        ip: ip.as_deref(),
    };
    match password_change::change(s, req, s.now()).await {
        Ok(()) => {
            leptos_axum::redirect("/account/password/done");
            Ok(())
        }
        Err(e) => {
            let rules = password_change::rules(s, &user).await.map_err(internal)?;
            Err(change_error(e, Some(&rules)))
        }
    }
}
