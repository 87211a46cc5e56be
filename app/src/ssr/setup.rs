//! Server halves of the wizard's server functions.

use qrcode::QrCode;
use qrcode::render::svg;
use sspr_domain::methods;
use sspr_domain::phone::Place;
use sspr_domain::questions::{self, Question};
use sspr_domain::registration as reg;
use sspr_domain::users::User;
use sspr_domain::{Timestamp, auth, authenticator};

use sspr_proto::PhoneChannel;
use sspr_proto::views::{AuthenticatorKey, CUSTOM_QUESTION, QuestionInput, SetupView};

use super::{AppState, CookieName, append_cookie_value, cookie_jar, internal, session_token};
use crate::error::AppError;
use crate::i18n::I18nLocaleTrait;

/// The registration flow's cookie (HttpOnly, SameSite=Strict).
pub const FLOW_COOKIE: CookieName = CookieName {
    http: "sspr_setup",
    https: "__Host-sspr_setup",
};
/// Adding or changing security info needs a password proof this recent (docs/security.md #51).
pub const REAUTH_WINDOW_SECS: i64 = 10 * 60;

const SETUP: &str = "/security-info/setup";

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
        .map_err(AppError::from)?
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
            .get(self.st.cookies.name(FLOW_COOKIE))
            .map(|c| c.value().to_owned());
        let token = reg::start(
            &self.st.services,
            &self.user,
            existing.as_deref(),
            self.now(),
        )
        .await?;
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

/// What the wizard's pages show (the domain projects it from the flow).
pub async fn view() -> Result<SetupView, AppError> {
    let ctx = signed_in().await?;
    let s = &ctx.st.services;
    let token = ctx.flow().await?;
    let (locale, region) = (super::request_locale().await, super::browser_region().await);
    let place = Place {
        locale: locale.as_str(),
        browser_region: region.as_deref(),
    };
    Ok(reg::view(s, &token, &ctx.user, place, ctx.now()).await?)
}

pub async fn email(address: String) -> Result<(), AppError> {
    let ctx = signed_in().await?;
    ctx.require_recent_auth()?;
    let token = ctx.flow().await?;
    let s = &ctx.st.services;
    reg::send_email_code(s, &token, &ctx.user, &address, ctx.now()).await?;
    leptos_axum::redirect(&format!("{SETUP}/verify"));
    Ok(())
}

pub async fn phone(region: String, number: String, channel: String) -> Result<(), AppError> {
    let ctx = signed_in().await?;
    ctx.require_recent_auth()?;
    let channel = PhoneChannel::parse(&channel).ok_or(AppError::BadRequest)?;
    let token = ctx.flow().await?;
    let s = &ctx.st.services;
    reg::send_phone_code(s, &token, &ctx.user, &region, &number, channel, ctx.now()).await?;
    leptos_axum::redirect(&format!("{SETUP}/verify"));
    Ok(())
}

pub async fn resend() -> Result<(), AppError> {
    let ctx = signed_in().await?;
    let token = ctx.flow().await?;
    reg::resend(&ctx.st.services, &token, &ctx.user, ctx.now()).await?;
    leptos_axum::redirect(&format!("{SETUP}/verify"));
    Ok(())
}

pub async fn verify(code: String) -> Result<(), AppError> {
    let ctx = signed_in().await?;
    let token = ctx.flow().await?;
    reg::verify_code(&ctx.st.services, &token, &ctx.user, &code, ctx.now()).await?;
    leptos_axum::redirect(SETUP);
    Ok(())
}

pub async fn authenticator_key() -> Result<AuthenticatorKey, AppError> {
    let ctx = signed_in().await?;
    ctx.require_recent_auth()?;
    let token = ctx.flow().await?;
    let s = &ctx.st.services;
    let secret = reg::begin_authenticator(s, &token, &ctx.user, ctx.now()).await?;
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
    reg::verify_authenticator(&ctx.st.services, &token, &ctx.user, &code, ctx.now()).await?;
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
    reg::register_questions(&ctx.st.services, &token, &ctx.user, &entries, ctx.now()).await?;
    leptos_axum::redirect(SETUP);
    Ok(())
}

pub async fn cancel() -> Result<(), AppError> {
    let ctx = signed_in().await?;
    let token = ctx.flow().await?;
    reg::cancel_pending(&ctx.st.services, &token, &ctx.user, ctx.now()).await?;
    leptos_axum::redirect(SETUP);
    Ok(())
}

pub async fn finish() -> Result<(), AppError> {
    let ctx = signed_in().await?;
    let token = ctx.flow().await?;
    reg::finish(&ctx.st.services, &token, &ctx.user, ctx.now()).await?;
    leptos_axum::redirect("/security-info");
    Ok(())
}

pub async fn skip() -> Result<(), AppError> {
    let ctx = signed_in().await?;
    if !reg::skip(&ctx.st.services, &ctx.user, ctx.now())
        .await
        .map_err(AppError::from)?
    {
        let st = reg::standing(&ctx.st.services, &ctx.user, ctx.now())
            .await
            .map_err(AppError::from)?;
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
        .map_err(AppError::from)?;
    leptos_axum::redirect("/account");
    Ok(())
}

pub async fn delete(id: i64) -> Result<(), AppError> {
    let ctx = signed_in().await?;
    ctx.require_recent_auth()?;
    reg::remove_method(&ctx.st.services, &ctx.user, id, ctx.now()).await?;
    leptos_axum::redirect("/security-info");
    Ok(())
}

pub async fn make_default(id: i64) -> Result<(), AppError> {
    let ctx = signed_in().await?;
    let s = &ctx.st.services;
    if !methods::set_default(&s.db, ctx.user.id, id)
        .await
        .map_err(AppError::from)?
    {
        return Err(AppError::NotFound);
    }
    leptos_axum::redirect("/security-info");
    Ok(())
}
