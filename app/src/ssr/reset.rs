//! Server halves of the reset wizard's server functions.

use sspr_domain::captcha::{self, CaptchaError};
use sspr_domain::phone::PhoneError;
use sspr_domain::policy;
use sspr_domain::questions::Question;
use sspr_domain::reset::{self, Pending, ResetError};
use sspr_proto::views::{AskedQuestion, CaptchaPuzzle, ResetView};
use sspr_proto::{MethodKind, PhoneChannel, Reason, Rules};

use super::{AppState, append_cookie_value, client_ip, cookie_jar, internal, state};
use crate::error::AppError;

/// The reset flow's cookie and the CAPTCHA nonce's (HttpOnly, Strict).
pub const FLOW_COOKIE: &str = "sspr_reset";
pub const NONCE_COOKIE: &str = "sspr_captcha";

fn secs(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn reset_error(e: ResetError) -> AppError {
    match e {
        ResetError::FlowExpired => AppError::FlowExpired,
        ResetError::Captcha(CaptchaError::Expired) => AppError::CaptchaExpired,
        ResetError::Captcha(_) => AppError::CaptchaInvalid,
        ResetError::InvalidLogin => AppError::InvalidLogin,
        ResetError::Throttled { retry_after_secs } => AppError::Throttled {
            retry_after_secs: secs(retry_after_secs),
        },
        ResetError::MethodBlocked { retry_after_secs } => AppError::MethodBlocked {
            retry_after_secs: secs(retry_after_secs),
        },
        ResetError::MethodNotAllowed => AppError::MethodNotAllowed,
        ResetError::InvalidEmail => AppError::InvalidEmail,
        ResetError::InvalidPhone(PhoneError::Invalid) => AppError::InvalidPhone,
        ResetError::InvalidPhone(PhoneError::RegionNotAllowed) => AppError::PhoneRegionNotAllowed,
        ResetError::InvalidPhone(PhoneError::UnsupportedType) => AppError::PhoneTypeNotSupported,
        ResetError::NoPendingCode => AppError::NoPendingCode,
        ResetError::CodeFormat { digits } => AppError::CodeFormat {
            digits: digits as u64,
        },
        ResetError::WrongCode { attempts_left } => AppError::WrongCode {
            attempts_left: secs(attempts_left),
        },
        ResetError::AnswersIncomplete { need } => AppError::AnswersIncomplete { need: need as u64 },
        ResetError::WrongAnswers { attempts_left } => AppError::WrongAnswers {
            attempts_left: secs(attempts_left),
        },
        ResetError::CodeExpired => AppError::CodeExpired,
        ResetError::TooManyAttempts => AppError::TooManyAttempts,
        ResetError::ResendTooSoon { retry_after_secs } => AppError::ResendTooSoon {
            retry_after_secs: secs(retry_after_secs),
        },
        ResetError::NotEnabled => AppError::ResetNotEnabled,
        ResetError::NotEnoughMethods { have, need } => AppError::NotEnoughMethods {
            have: have as u64,
            need: need as u64,
        },
        ResetError::AccountDisabled => AppError::AccountDisabled,
        ResetError::GatesIncomplete => AppError::GatesIncomplete,
        ResetError::Rejected(reasons, rules) => AppError::PasswordRejected {
            reasons,
            min_length: rules.min_length as u64,
            max_length: rules.max_length as u64,
        },
        ResetError::Hash(sspr_domain::password::HashError::TooLong) => AppError::PasswordTooLong,
        ResetError::Hash(sspr_domain::password::HashError::Busy { retry_after_secs }) => {
            AppError::Busy { retry_after_secs }
        }
        ResetError::Hash(e) => internal(e),
        ResetError::Internal(e) => internal(e),
    }
}

async fn cookie(name: &str) -> Option<String> {
    cookie_jar()
        .await
        .get(name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

async fn flow_token() -> Result<(AppState, String), AppError> {
    let st = state()?;
    match cookie(FLOW_COOKIE).await {
        Some(token) => Ok((st, token)),
        None => Err(AppError::FlowExpired),
    }
}

pub async fn challenge() -> Result<CaptchaPuzzle, AppError> {
    let st = state()?;
    let s = &st.services;
    let nonce = match cookie(NONCE_COOKIE).await {
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
    let nonce = cookie(NONCE_COOKIE).await.unwrap_or_default();
    let ip = client_ip().await;
    let token = reset::start(s, &login, captcha.trim(), &nonce, ip.as_deref(), s.now())
        .await
        .map_err(reset_error)?;
    append_cookie_value(&st.cookies, FLOW_COOKIE, token);
    leptos_axum::redirect("/reset/verify");
    Ok(())
}

pub async fn view() -> Result<ResetView, AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    let flow = reset::load(s, &token, s.now()).await.map_err(reset_error)?;
    let policy = policy::load(&s.db).await.map_err(internal)?;
    let offered = reset::choices(s, &policy, &flow)
        .await
        .map_err(reset_error)?;
    let hints = reset::hints(s, &policy, &flow).await.map_err(reset_error)?;
    Ok(ResetView {
        gates_needed: flow.state.gates_needed as u64,
        passed: flow.state.passed.len() as u64,
        offered,
        questions: match &flow.state.pending {
            Some(Pending::Questions { questions }) => questions
                .iter()
                .map(|q| match q {
                    Question::Predefined(id) => AskedQuestion {
                        predefined: true,
                        text: id.clone(),
                    },
                    Question::Custom(text) => AskedQuestion {
                        predefined: false,
                        text: text.clone(),
                    },
                })
                .collect(),
            _ => Vec::new(),
        },
        email_hint: hints.email,
        phone_hint: hints.phone,
        pending: flow.state.pending.as_ref().map(|p| match p {
            Pending::Code { kind, digits, .. } => (*kind, *digits as u64),
            Pending::Authenticator => (
                MethodKind::Authenticator,
                sspr_domain::authenticator::DIGITS as u64,
            ),
            Pending::Questions { questions } => (MethodKind::Questions, questions.len() as u64),
        }),
        sms: policy.allow_phone_sms,
        voice: policy.allow_phone_voice,
        phone_regions: policy.phone_regions.clone(),
        default_region: policy.default_phone_region.clone(),
        allow_unlock: policy.allow_unlock,
    })
}

pub async fn email(address: String) -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::send_email_code(s, &token, &address, s.now())
        .await
        .map_err(reset_error)?;
    leptos_axum::redirect("/reset/code");
    Ok(())
}

pub async fn email_hint() -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::send_email_code_to_hint(s, &token, s.now())
        .await
        .map_err(reset_error)?;
    leptos_axum::redirect("/reset/code");
    Ok(())
}

pub async fn phone(region: String, number: String, channel: String) -> Result<(), AppError> {
    let channel = PhoneChannel::parse(&channel).ok_or(AppError::BadRequest)?;
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::send_phone_code(s, &token, &region, &number, channel, s.now())
        .await
        .map_err(reset_error)?;
    leptos_axum::redirect("/reset/code");
    Ok(())
}

pub async fn authenticator() -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::choose_authenticator(s, &token, s.now())
        .await
        .map_err(reset_error)?;
    leptos_axum::redirect("/reset/code");
    Ok(())
}

pub async fn questions() -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::choose_questions(s, &token, s.now())
        .await
        .map_err(reset_error)?;
    leptos_axum::redirect("/reset/questions");
    Ok(())
}

pub async fn answers(answers: Vec<String>) -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    let done = reset::verify_answers(s, &token, &answers, s.now())
        .await
        .map_err(reset_error)?;
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
    let done = reset::verify(s, &token, &code, s.now())
        .await
        .map_err(reset_error)?;
    leptos_axum::redirect(next_page(done));
    Ok(())
}

pub async fn resend() -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::resend(s, &token, s.now())
        .await
        .map_err(reset_error)?;
    leptos_axum::redirect("/reset/code");
    Ok(())
}

pub async fn unlock() -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    let ip = client_ip().await;
    reset::unlock(s, &token, ip.as_deref(), s.now())
        .await
        .map_err(reset_error)?;
    leptos_axum::redirect("/reset/unlocked");
    Ok(())
}

pub async fn helpdesk() -> Result<String, AppError> {
    let st = state()?;
    let policy = policy::load(&st.services.db).await.map_err(internal)?;
    Ok(policy.helpdesk_contact)
}

pub async fn rules() -> Result<Rules, AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::password_rules(s, &token, s.now())
        .await
        .map_err(reset_error)
}

pub async fn preview(password: String) -> Result<Vec<Reason>, AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    reset::preview(s, &token, &password, s.now())
        .await
        .map_err(reset_error)
}

pub async fn set_password(new: String, confirm: String) -> Result<(), AppError> {
    let (st, token) = flow_token().await?;
    let s = &st.services;
    let ip = client_ip().await;
    reset::set_password(s, &token, &new, &confirm, ip.as_deref(), s.now())
        .await
        .map_err(reset_error)?;
    leptos_axum::redirect("/reset/done");
    Ok(())
}
