//! Server halves of the wizard's server functions.

use qrcode::QrCode;
use qrcode::render::svg;
use sspr_domain::methods;
use sspr_domain::password::HashError;
use sspr_domain::phone::PhoneError;
use sspr_domain::questions::{self, Question, QuestionError};
use sspr_domain::registration::{self as reg, Pending, RegError};
use sspr_domain::users::User;
use sspr_domain::{Timestamp, auth, authenticator, policy};
use time::OffsetDateTime;
use time::macros::format_description;

use sspr_proto::views::{
    Allowed, AuthenticatorKey, CUSTOM_QUESTION, MethodView, PendingView, QuestionInput, SetupView,
};
use sspr_proto::{MethodKind, PhoneChannel};

use super::{AppState, append_cookie_value, cookie_jar, internal, session_token};
use crate::error::AppError;

/// The registration flow's cookie (HttpOnly, SameSite=Strict).
pub const FLOW_COOKIE: &str = "sspr_setup";
/// Adding or changing security info needs a password proof this recent (#51).
pub const REAUTH_WINDOW_SECS: i64 = 10 * 60;

const SETUP: &str = "/security-info/setup";

fn reg_error(e: RegError) -> AppError {
    match e {
        RegError::FlowExpired => AppError::FlowExpired,
        RegError::MethodNotAllowed => AppError::MethodNotAllowed,
        RegError::InvalidEmail => AppError::InvalidEmail,
        RegError::InvalidPhone(PhoneError::Invalid) => AppError::InvalidPhone,
        RegError::InvalidPhone(PhoneError::RegionNotAllowed) => AppError::PhoneRegionNotAllowed,
        RegError::InvalidPhone(PhoneError::UnsupportedType) => AppError::PhoneTypeNotSupported,
        RegError::AlreadyRegistered => AppError::AlreadyRegistered,
        RegError::Throttled { retry_after_secs } => AppError::Throttled {
            retry_after_secs: secs(retry_after_secs),
        },
        RegError::ResendTooSoon { retry_after_secs } => AppError::ResendTooSoon {
            retry_after_secs: secs(retry_after_secs),
        },
        RegError::NoPendingCode => AppError::NoPendingCode,
        RegError::CodeFormat { digits } => AppError::CodeFormat {
            digits: digits as u64,
        },
        RegError::WrongCode { attempts_left } => AppError::WrongCode {
            attempts_left: secs(attempts_left),
        },
        RegError::CodeExpired => AppError::CodeExpired,
        RegError::TooManyAttempts => AppError::TooManyAttempts,
        RegError::NotEnoughMethods { have, need } => AppError::NotEnoughMethods {
            have: have as u64,
            need: need as u64,
        },
        RegError::LastMethod => AppError::LastMethod,
        RegError::NoSuchMethod => AppError::NotFound,
        RegError::Questions(q) => question_error(q),
        RegError::Hash(HashError::TooLong) => AppError::PasswordTooLong,
        RegError::Hash(HashError::Busy { retry_after_secs }) => AppError::Busy { retry_after_secs },
        RegError::Hash(e @ HashError::Internal(_)) => internal(e),
        RegError::Internal(e) => internal(e),
    }
}

fn question_error(e: QuestionError) -> AppError {
    let n = |i: usize| i as u64;
    match e {
        QuestionError::WrongCount { need, .. } => AppError::QuestionsCount { need: n(need) },
        QuestionError::UnknownQuestion { index } => AppError::QuestionUnknown { index: n(index) },
        QuestionError::QuestionLength { index, min, max } => AppError::QuestionLength {
            index: n(index),
            min: n(min),
            max: n(max),
        },
        QuestionError::AnswerLength { index, min, max } => AppError::AnswerLength {
            index: n(index),
            min: n(min),
            max: n(max),
        },
        QuestionError::RepeatedQuestion { index } => AppError::QuestionRepeated { index: n(index) },
        QuestionError::RepeatedAnswer { index } => AppError::AnswerRepeated { index: n(index) },
        QuestionError::AnswerInQuestion { index } => AppError::AnswerInQuestion { index: n(index) },
    }
}

fn secs(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

struct Ctx {
    st: AppState,
    user: User,
    authenticated_at: Timestamp,
}

async fn signed_in() -> Result<Ctx, AppError> {
    let st = super::state()?;
    let Some(token) = session_token(&st.cookies).await else {
        return Err(AppError::NotSignedIn);
    };
    let s = &st.services;
    match auth::current_session(s, &token, s.now())
        .await
        .map_err(internal)?
    {
        Some((session, user)) => Ok(Ctx {
            authenticated_at: session.authenticated_at,
            user,
            st,
        }),
        None => Err(AppError::NotSignedIn),
    }
}

impl Ctx {
    fn now(&self) -> Timestamp {
        self.st.services.now()
    }

    /// The wizard's flow token, starting a flow (and setting its cookie)
    /// when there is no live one.
    async fn flow(&self) -> Result<String, AppError> {
        let existing = cookie_jar()
            .await
            .get(FLOW_COOKIE)
            .map(|c| c.value().to_owned());
        let token = reg::start(
            &self.st.services,
            &self.user,
            existing.as_deref(),
            self.now(),
        )
        .await
        .map_err(reg_error)?;
        if existing.as_deref() != Some(token.as_str()) {
            append_cookie_value(&self.st.cookies, FLOW_COOKIE, token.clone());
        }
        Ok(token)
    }

    /// Changes to security info need a recent password proof, except while
    /// registering right after sign-in (which is itself that proof).
    fn require_recent_auth(&self) -> Result<(), AppError> {
        if self.now().secs() - self.authenticated_at.secs() > REAUTH_WINDOW_SECS {
            return Err(AppError::ReauthenticationRequired);
        }
        Ok(())
    }
}

fn fmt_time(t: Timestamp) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    OffsetDateTime::from_unix_timestamp(t.secs())
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_default()
}

pub async fn view() -> Result<SetupView, AppError> {
    let ctx = signed_in().await?;
    let s = &ctx.st.services;
    let token = ctx.flow().await?;
    let policy = policy::load(&s.db).await.map_err(internal)?;
    let flow = reg::load(s, &token, ctx.user.id, ctx.now())
        .await
        .map_err(reg_error)?;
    let standing = reg::standing(s, &ctx.user, ctx.now())
        .await
        .map_err(internal)?;
    let list = methods::list(&s.db, ctx.user.id).await.map_err(internal)?;
    let delivery_failed = reg::delivery_failed(s, &flow).await.map_err(internal)?;
    let pending = flow.state.pending.map(|p| match p {
        Pending::Code {
            method,
            destination,
            channel,
            digits,
            ..
        } => PendingView::Code {
            kind: method,
            destination,
            channel,
            digits: digits as u64,
            delivery_failed,
        },
        Pending::Authenticator { .. } => PendingView::Authenticator,
    });
    Ok(SetupView {
        display_name: ctx.user.display_name.clone(),
        have: standing.have as u64,
        need: standing.need as u64,
        methods: list
            .iter()
            .map(|m| MethodView {
                id: m.id,
                kind: m.kind,
                masked_destination: m.masked_destination(),
                channel: m.phone_channel,
                is_default: m.is_default,
                verified_at: fmt_time(m.verified_at),
            })
            .collect(),
        allowed: Allowed {
            email: reg::allowed(&policy, &ctx.user, MethodKind::Email),
            sms: policy.allow_phone_sms,
            voice: policy.allow_phone_voice,
            authenticator: reg::allowed(&policy, &ctx.user, MethodKind::Authenticator),
            questions: reg::allowed(&policy, &ctx.user, MethodKind::Questions),
        },
        pending,
        must_register: standing.must_register,
        may_skip: standing.may_skip,
        must_reconfirm: standing.must_reconfirm,
        phone_regions: policy.phone_regions.clone(),
        default_region: policy.default_phone_region.clone(),
        questions_needed: reg::questions_needed(&policy) as u64,
        predefined_questions: questions::PREDEFINED
            .iter()
            .map(|q| (*q).to_owned())
            .collect(),
    })
}

pub async fn email(address: String) -> Result<(), AppError> {
    let ctx = signed_in().await?;
    ctx.require_recent_auth()?;
    let token = ctx.flow().await?;
    let s = &ctx.st.services;
    reg::send_email_code(s, &token, &ctx.user, &address, ctx.now())
        .await
        .map_err(reg_error)?;
    leptos_axum::redirect(&format!("{SETUP}/verify"));
    Ok(())
}

pub async fn phone(region: String, number: String, channel: String) -> Result<(), AppError> {
    let ctx = signed_in().await?;
    ctx.require_recent_auth()?;
    let channel = PhoneChannel::parse(&channel).ok_or(AppError::BadRequest)?;
    let token = ctx.flow().await?;
    let s = &ctx.st.services;
    reg::send_phone_code(s, &token, &ctx.user, &region, &number, channel, ctx.now())
        .await
        .map_err(reg_error)?;
    leptos_axum::redirect(&format!("{SETUP}/verify"));
    Ok(())
}

pub async fn resend() -> Result<(), AppError> {
    let ctx = signed_in().await?;
    let token = ctx.flow().await?;
    reg::resend(&ctx.st.services, &token, &ctx.user, ctx.now())
        .await
        .map_err(reg_error)?;
    leptos_axum::redirect(&format!("{SETUP}/verify"));
    Ok(())
}

pub async fn verify(code: String) -> Result<(), AppError> {
    let ctx = signed_in().await?;
    let token = ctx.flow().await?;
    reg::verify_code(&ctx.st.services, &token, &ctx.user, &code, ctx.now())
        .await
        .map_err(reg_error)?;
    leptos_axum::redirect(SETUP);
    Ok(())
}

pub async fn authenticator_key() -> Result<AuthenticatorKey, AppError> {
    let ctx = signed_in().await?;
    ctx.require_recent_auth()?;
    let token = ctx.flow().await?;
    let s = &ctx.st.services;
    let secret = reg::begin_authenticator(s, &token, &ctx.user, ctx.now())
        .await
        .map_err(reg_error)?;
    let account = ctx.user.login_display.clone();
    let uri = authenticator::provisioning_uri(&secret, "SSPR", &account).map_err(internal)?;
    let qr_svg = QrCode::new(uri.as_bytes())
        .map_err(internal)?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(AuthenticatorKey {
        secret_text: authenticator::secret_text(&secret),
        qr_svg,
    })
}

pub async fn authenticator_verify(code: String) -> Result<(), AppError> {
    let ctx = signed_in().await?;
    let token = ctx.flow().await?;
    reg::verify_authenticator(&ctx.st.services, &token, &ctx.user, &code, ctx.now())
        .await
        .map_err(reg_error)?;
    leptos_axum::redirect(SETUP);
    Ok(())
}

pub async fn questions(entries: Vec<QuestionInput>) -> Result<(), AppError> {
    let ctx = signed_in().await?;
    ctx.require_recent_auth()?;
    let token = ctx.flow().await?;
    let entries: Vec<questions::Entry> = entries
        .into_iter()
        .map(|e| questions::Entry {
            question: if e.choice == CUSTOM_QUESTION {
                Question::Custom(e.custom)
            } else {
                Question::Predefined(e.choice)
            },
            answer: e.answer,
        })
        .collect();
    reg::register_questions(&ctx.st.services, &token, &ctx.user, &entries, ctx.now())
        .await
        .map_err(reg_error)?;
    leptos_axum::redirect(SETUP);
    Ok(())
}

pub async fn cancel() -> Result<(), AppError> {
    let ctx = signed_in().await?;
    let token = ctx.flow().await?;
    reg::cancel_pending(&ctx.st.services, &token, &ctx.user, ctx.now())
        .await
        .map_err(reg_error)?;
    leptos_axum::redirect(SETUP);
    Ok(())
}

pub async fn finish() -> Result<(), AppError> {
    let ctx = signed_in().await?;
    let token = ctx.flow().await?;
    reg::finish(&ctx.st.services, &token, &ctx.user, ctx.now())
        .await
        .map_err(reg_error)?;
    leptos_axum::redirect("/security-info");
    Ok(())
}

pub async fn skip() -> Result<(), AppError> {
    let ctx = signed_in().await?;
    if !reg::skip(&ctx.st.services, &ctx.user, ctx.now())
        .await
        .map_err(internal)?
    {
        let st = reg::standing(&ctx.st.services, &ctx.user, ctx.now())
            .await
            .map_err(internal)?;
        return Err(AppError::NotEnoughMethods {
            have: st.have as u64,
            need: st.need as u64,
        });
    }
    leptos_axum::redirect("/account");
    Ok(())
}

pub async fn reconfirm() -> Result<(), AppError> {
    let ctx = signed_in().await?;
    reg::reconfirm(&ctx.st.services, &ctx.user, ctx.now())
        .await
        .map_err(internal)?;
    leptos_axum::redirect("/account");
    Ok(())
}

pub async fn delete(id: i64) -> Result<(), AppError> {
    let ctx = signed_in().await?;
    ctx.require_recent_auth()?;
    reg::remove_method(&ctx.st.services, &ctx.user, id, ctx.now())
        .await
        .map_err(reg_error)?;
    leptos_axum::redirect("/security-info");
    Ok(())
}

pub async fn make_default(id: i64) -> Result<(), AppError> {
    let ctx = signed_in().await?;
    let s = &ctx.st.services;
    if !methods::set_default(&s.db, ctx.user.id, id)
        .await
        .map_err(internal)?
    {
        return Err(AppError::NotFound);
    }
    leptos_axum::redirect("/security-info");
    Ok(())
}
