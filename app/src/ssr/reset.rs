//! Server halves of the reset wizard's server functions.

use sspr_domain::captcha;
use sspr_domain::phone::Place;
use sspr_domain::reset;
use sspr_proto::views::{CaptchaPuzzle, ResetPasswordView, ResetView};
use sspr_proto::{PhoneChannel, Reason};

use super::{
    AppState, CookieName, CookiePolicy, append_cookie_value, client_ip, cookie_jar, internal, state,
};
use crate::error::AppError;
use crate::i18n::I18nLocaleTrait;

/// The reset flow's cookie and the CAPTCHA nonce's (HttpOnly, Strict).
pub const FLOW_COOKIE: CookieName = CookieName {
    http: "sspr_reset",
    https: "__Host-sspr_reset",
};
pub const NONCE_COOKIE: CookieName = CookieName {
    http: "sspr_captcha",
    https: "__Host-sspr_captcha",
};

async fn cookie(policy: &CookiePolicy, name: CookieName) -> Option<String> {
    cookie_jar()
        .await
        .get(policy.name(name))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

async fn flow_token() -> Result<(AppState, String), AppError> {
    let st = state()?;
    match cookie(&st.cookies, FLOW_COOKIE).await {
        Some(token) => Ok((st, token)),
        None => Err(AppError::FlowExpired),
    }
}

pub async fn challenge() -> Result<CaptchaPuzzle, AppError> {
    let st = state()?;
    let s = &st.services;
    let nonce = match cookie(&st.cookies, NONCE_COOKIE).await {
        Some(n) if captcha::valid_nonce(&n) => n,
        _ => {
            let n = hex::encode(
                &s.key.keyed_hash(
                    "captcha-nonce",
                    &[sspr_domain::secrets::random_token().as_bytes()],
                )[..16],
            );
            append_cookie_value(&st.cookies, NONCE_COOKIE, n.clone());
            n
        }
    };
    let p = captcha::issue(s, &nonce, s.now()).map_err(internal)?;
    Ok(CaptchaPuzzle {
        algorithm: p.algorithm,
        challenge: p.challenge,
        maxnumber: p.maxnumber,
        salt: p.salt,
        signature: p.signature,
    })
}

pub async fn start(login: String, captcha: String) -> Result<(), AppError> {
    let st = state()?;
    let s = &st.services;
    let nonce = cookie(&st.cookies, NONCE_COOKIE).await.unwrap_or_default();
    let ip = client_ip().await;
    let token = reset::start(s, &login, captcha.trim(), &nonce, ip, s.now()).await?;
    append_cookie_value(&st.cookies, FLOW_COOKIE, token);
    leptos_axum::redirect("/reset/verify");
    Ok(())
}

/// What the gate pages show (the domain projects it from the flow).
pub async fn view() -> Result<ResetView, AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    let (locale, region) = (super::request_locale().await, super::browser_region().await);
    let place = Place {
        locale: locale.as_str(),
        browser_region: region.as_deref(),
    };
    Ok(reset::view(s, &token, place, s.now()).await?)
}

pub async fn email(address: String) -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::send_email_code(s, &token, &address, s.now()).await?;
    leptos_axum::redirect("/reset/code");
    Ok(())
}

pub async fn email_hint() -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::send_email_code_to_hint(s, &token, s.now()).await?;
    leptos_axum::redirect("/reset/code");
    Ok(())
}

pub async fn phone(region: String, number: String, channel: String) -> Result<(), AppError> {
    let channel = PhoneChannel::parse(&channel).ok_or(AppError::BadRequest)?;
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::send_phone_code(s, &token, &region, &number, channel, s.now()).await?;
    leptos_axum::redirect("/reset/code");
    Ok(())
}

pub async fn authenticator() -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::choose_authenticator(s, &token, s.now()).await?;
    leptos_axum::redirect("/reset/code");
    Ok(())
}

pub async fn questions() -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::choose_questions(s, &token, s.now()).await?;
    leptos_axum::redirect("/reset/questions");
    Ok(())
}

pub async fn answers(answers: Vec<String>) -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    let done = reset::verify_answers(s, &token, &answers, s.now()).await?;
    leptos_axum::redirect(next_page(done));
    Ok(())
}

/// Where a passed gate leads: the new password, or the next gate.
fn next_page(done: bool) -> &'static str {
    if done {
        "/reset/password"
    } else {
        "/reset/verify"
    }
}

pub async fn verify(code: String) -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    let done = reset::verify(s, &token, &code, s.now()).await?;
    leptos_axum::redirect(next_page(done));
    Ok(())
}

pub async fn resend() -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::resend(s, &token, s.now()).await?;
    leptos_axum::redirect("/reset/code");
    Ok(())
}

pub async fn unlock() -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    let ip = client_ip().await;
    reset::unlock(s, &token, ip, s.now()).await?;
    leptos_axum::redirect("/reset/unlocked");
    Ok(())
}

pub async fn password_view() -> Result<ResetPasswordView, AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    Ok(reset::password_view(s, &token, s.now()).await?)
}

pub async fn preview(password: String) -> Result<Vec<Reason>, AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::preview(s, &token, &password, s.now())
        .await
        .map_err(AppError::from)
}

pub async fn set_password(new: String, confirm: String) -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    let ip = client_ip().await;
    reset::set_password(s, &token, &new, &confirm, ip, s.now()).await?;
    leptos_axum::redirect("/reset/done");
    Ok(())
}
