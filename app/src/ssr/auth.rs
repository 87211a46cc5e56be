use sspr_domain::auth::{self, SignInOutcome, SignInRequest};
use sspr_domain::{Services, registration, second_factor, users};
use sspr_proto::views::{AccountView, SecondFactorView};

use super::{
    AppState, CookieName, append_cookie_value, clear_session_cookie, client_ip, cookie_jar,
    remove_cookie, session_token, set_session_cookie, state,
};
use crate::error::AppError;

/// The second factor's flow at sign-in (HttpOnly, Strict; `__Host-` on
/// https).
pub const SECOND_FACTOR_COOKIE: CookieName = CookieName {
    http: "sspr_signin",
    https: "__Host-sspr_signin",
};

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
        next: local_path(&next).unwrap_or_default(),
    };
    match auth::sign_in(s, req, s.now()).await? {
        SignInOutcome::SignedIn(signed_in) => {
            set_session_cookie(&st.cookies, signed_in.session_token);
            let target = after_sign_in(s, signed_in.user_id, &next).await?;
            leptos_axum::redirect(&target);
        }
        SignInOutcome::SecondFactor { flow_token } => {
            append_cookie_value(&st.cookies, SECOND_FACTOR_COOKIE, flow_token);
            leptos_axum::redirect("/sign-in/verify");
        }
    }
    Ok(())
}

/// Where a new session goes: the registration wizard when the policy
/// needs more security info ("more information required"), else `next`
/// (a local path) or "My account".
async fn after_sign_in(s: &Services, user_id: i64, next: &str) -> Result<String, AppError> {
    let standing = match users::find_by_id(s.db.pool(), user_id).await? {
        Some(user) => Some(registration::standing(s, &user, s.now()).await?),
        None => None,
    };
    Ok(match standing {
        Some(st) if st.must_register || st.must_reconfirm => "/security-info/setup".to_owned(),
        _ => local_path(next).unwrap_or("/account").to_owned(),
    })
}

async fn second_factor_token() -> Result<(AppState, String), AppError> {
    let st = state()?;
    let token = cookie_jar()
        .await
        .get(st.cookies.name(SECOND_FACTOR_COOKIE))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty());
    match token {
        Some(token) => Ok((st, token)),
        None => Err(AppError::FlowExpired),
    }
}

/// What the second-factor pages show.
pub async fn second_factor_view() -> Result<SecondFactorView, AppError> {
    let (st, token) = second_factor_token().await?;
    let s = &st.services;
    Ok(second_factor::view(s, &token, s.now()).await?)
}

pub async fn second_factor_choose(method: i64) -> Result<(), AppError> {
    let (st, token) = second_factor_token().await?;
    let s = &st.services;
    second_factor::choose(s, &token, method, s.now()).await?;
    leptos_axum::redirect("/sign-in/code");
    Ok(())
}

pub async fn second_factor_resend() -> Result<(), AppError> {
    let (st, token) = second_factor_token().await?;
    let s = &st.services;
    second_factor::resend(s, &token, s.now()).await?;
    leptos_axum::redirect("/sign-in/code");
    Ok(())
}

/// The right code starts the session and goes where the password alone
/// would have gone.
pub async fn second_factor_verify(code: String) -> Result<(), AppError> {
    let (st, token) = second_factor_token().await?;
    let s = &st.services;
    let previous = session_token(&st.cookies).await;
    let ip = client_ip().await;
    let verified =
        second_factor::verify(s, &token, &code, previous.as_deref(), ip, s.now()).await?;
    set_session_cookie(&st.cookies, verified.signed_in.session_token);
    // The flow is spent; the cookie goes with it.
    remove_cookie(&st.cookies, SECOND_FACTOR_COOKIE);
    let target = after_sign_in(s, verified.signed_in.user_id, &verified.next).await?;
    leptos_axum::redirect(&target);
    Ok(())
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

pub async fn choose_language(lang: String, back: String) -> Result<(), AppError> {
    use crate::i18n::I18nLocaleTrait;

    // A pseudo-locale is for testing a page, never an account's language.
    // "Automatic" saves none: the browser's languages decide.
    let automatic = lang == crate::locale::AUTOMATIC;
    let locale = crate::locale::match_tag(&lang)
        .filter(|l| !crate::locale::is_pseudo(*l))
        .map(|l| l.as_str())
        .or(automatic.then_some(crate::locale::AUTOMATIC))
        .ok_or(AppError::BadRequest)?;
    let saved = (!automatic).then_some(locale);
    let st = state()?;
    let s = &st.services;
    if let Some(token) = session_token(&st.cookies).await
        && let Some(user) = auth::current_user(s, &token, s.now())
            .await
            .map_err(AppError::from)?
    {
        users::set_locale(s.db.pool(), user.id, saved)
            .await
            .map_err(AppError::from)?;
    }
    // `?lang=` on the way back sets the language cookie, or `?lang=auto`
    // clears it (`middleware::locale`); the page's own query is not kept.
    let path = local_path(&back)
        .and_then(|p| p.split(['?', '#']).next())
        .filter(|p| !p.is_empty())
        .unwrap_or("/");
    leptos_axum::redirect(&format!("{path}?lang={locale}"));
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
        language: user
            .locale
            .filter(|l| crate::locale::match_tag(l).is_some()),
        login: user.login_display,
        display_name: user.display_name,
        email: user.email,
        is_admin: user.role == users::Role::Admin,
        groups,
    }))
}
