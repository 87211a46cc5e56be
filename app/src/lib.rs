//! The SSPR web app, rendered on the server and hydrated in the browser.
//! Every visible string comes from `locales/*.json` through the generated
//! `i18n` module.

#![recursion_limit = "256"]

/// The module leptos_i18n generates from `locales/` at build time. Its code
/// is not ours, so our workspace lints do not apply to it.
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));
}
pub use generated::i18n;

pub mod api;
mod components;
pub mod error;
pub mod locale;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment, path};

use crate::components::layout::Layout;
use crate::i18n::I18nContextProvider;
use crate::pages::account::AccountPage;
use crate::pages::change_password::{ChangePasswordDonePage, ChangePasswordPage};
use crate::pages::dev_outbox::DevOutboxPage;
use crate::pages::home::HomePage;
use crate::pages::not_found::NotFound;
use crate::pages::reset::{
    ResetCodePage, ResetDonePage, ResetPage, ResetPasswordPage, ResetQuestionsPage,
    ResetUnlockedPage, ResetVerifyPage, ResetWizard,
};
use crate::pages::security_info::{ReauthPage, SecurityInfoPage};
use crate::pages::setup::{
    SetupAppPage, SetupEmailPage, SetupPage, SetupPhonePage, SetupQuestionsPage, SetupVerifyPage,
};
use crate::pages::short_links::SetupAlias;
use crate::pages::sign_in::{SignInCodePage, SignInPage, SignInVerifyPage};

/// The HTML document. `lang` and `dir` on `<html>` come from the locale
/// (leptos_i18n inserts them), never hard-coded here.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let cookie = leptos_i18n::context::CookieOptions::<i18n::Locale>::default()
        .path("/")
        .max_age(365_i64 * 24 * 3600 * 1000);
    view! {
        <I18nContextProvider cookie_name=locale::COOKIE_NAME cookie_options=cookie>
            <Stylesheet id="leptos" href="/pkg/sspr.css" />
            <Router>
                <Layout>
                    // Pages that load data render it fully before sending
                    // (SsrMode::Async): a browser without JavaScript cannot
                    // swap in streamed fragments.
                    <Routes fallback=NotFound>
                        <Route path=StaticSegment("") view=HomePage />
                        <Route path=path!("/sign-in") view=SignInPage />
                        <Route
                            path=path!("/sign-in/verify")
                            view=SignInVerifyPage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/sign-in/code") view=SignInCodePage ssr=SsrMode::Async />
                        <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                        <Route
                            path=path!("/account/password")
                            view=ChangePasswordPage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/account/password/done") view=ChangePasswordDonePage />
                        <ParentRoute path=path!("/reset") view=ResetWizard>
                            <Route path=path!("") view=ResetPage ssr=SsrMode::Async />
                            <Route path=path!("verify") view=ResetVerifyPage ssr=SsrMode::Async />
                            <Route path=path!("code") view=ResetCodePage ssr=SsrMode::Async />
                            <Route
                                path=path!("questions")
                                view=ResetQuestionsPage
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("password")
                                view=ResetPasswordPage
                                ssr=SsrMode::Async
                            />
                            <Route path=path!("done") view=ResetDonePage />
                            <Route path=path!("unlocked") view=ResetUnlockedPage />
                        </ParentRoute>
                        <Route
                            path=path!("/security-info")
                            view=SecurityInfoPage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/security-info/reauth") view=ReauthPage />
                        <Route
                            path=path!("/security-info/setup")
                            view=SetupPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/email")
                            view=SetupEmailPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/phone")
                            view=SetupPhonePage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/verify")
                            view=SetupVerifyPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/app")
                            view=SetupAppPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/questions")
                            view=SetupQuestionsPage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/ssprsetup") view=SetupAlias />
                        <Route path=path!("/dev/outbox") view=DevOutboxPage ssr=SsrMode::Async />
                    </Routes>
                </Layout>
            </Router>
        </I18nContextProvider>
    }
}
