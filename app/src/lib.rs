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
mod lazy_pages;
pub mod locale;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment, path};

use crate::components::layout::Layout;
pub use crate::components::page::HelpdeskContact;
use crate::i18n::I18nContextProvider;
use crate::lazy_pages as lazy;
use crate::pages::home::HomePage;
use crate::pages::not_found::NotFound;
use crate::pages::reset::{ResetPage, ResetWizard};
use crate::pages::short_links::SetupAlias;
use crate::pages::sign_in::SignInPage;

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
                // The built CSS under its content-hashed name (hash-files).
                <link rel="stylesheet" id="leptos" href=stylesheet_href(&options) />
                // For the browser, which reads it once when it starts.
                {use_context::<HelpdeskContact>()
                    .filter(|h| !h.0.is_empty())
                    .map(|h| view! { <meta name=HelpdeskContact::META_NAME content=h.0 /> })}
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Where Leptos reads the built files' hashed names (`hash-files`): the
/// file beside the executable. `sspr serve` checks it at start.
pub fn hash_file_path(options: &LeptosOptions) -> std::path::PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(options.hash_file.as_ref())))
        .unwrap_or_else(|| options.hash_file.as_ref().into())
}

/// The stylesheet's URL under its content-hashed name, worked out once per
/// process: leptos_meta's `HashedStylesheet` reads the hash file again for
/// every page (seven system calls a page; `sspr serve` has checked at start
/// that the file is there).
fn stylesheet_href(options: &LeptosOptions) -> &'static str {
    static HREF: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HREF.get_or_init(|| {
        let mut name = options.output_name.to_string();
        if options.hash_files {
            let hashes = std::fs::read_to_string(hash_file_path(options)).unwrap_or_default();
            if let Some(hash) = hashes.lines().find_map(|l| l.trim().strip_prefix("css:")) {
                name.push('.');
                name.push_str(hash.trim());
            }
        }
        format!("/{}/{name}.css", options.site_pkg_dir)
    })
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // The server makes the locale context itself (see the function); the
    // provider below then uses it. The browser has no cookie code: the
    // provider reads the locale from `<html lang>` there.
    #[cfg(feature = "ssr")]
    locale::provide_server_context();
    // The server provides the help desk contact for each page itself.
    #[cfg(feature = "hydrate")]
    provide_context(HelpdeskContact::from_document());
    view! {
        <I18nContextProvider>
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
                            view=lazy::SignInVerify::route()
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/sign-in/code")
                            view=lazy::SignInCode::route()
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/account")
                            view=lazy::Account::route()
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/account/password")
                            view=lazy::ChangePassword::route()
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/account/password/done")
                            view=lazy::ChangePasswordDone::route()
                        />
                        <ParentRoute path=path!("/reset") view=ResetWizard>
                            <Route path=path!("") view=ResetPage ssr=SsrMode::Async />
                            <Route
                                path=path!("verify")
                                view=lazy::ResetVerify::route()
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("code")
                                view=lazy::ResetCode::route()
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("questions")
                                view=lazy::ResetQuestions::route()
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("password")
                                view=lazy::ResetPassword::route()
                                ssr=SsrMode::Async
                            />
                            <Route path=path!("done") view=lazy::ResetDone::route() />
                            <Route path=path!("unlocked") view=lazy::ResetUnlocked::route() />
                        </ParentRoute>
                        <Route
                            path=path!("/security-info")
                            view=lazy::SecurityInfo::route()
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/security-info/reauth") view=lazy::Reauth::route() />
                        <Route
                            path=path!("/security-info/setup")
                            view=lazy::Setup::route()
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/email")
                            view=lazy::SetupEmail::route()
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/phone")
                            view=lazy::SetupPhone::route()
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/verify")
                            view=lazy::SetupVerify::route()
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/app")
                            view=lazy::SetupApp::route()
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/questions")
                            view=lazy::SetupQuestions::route()
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/ssprsetup") view=SetupAlias />
                        <Route
                            path=path!("/dev/outbox")
                            view=lazy::DevOutbox::route()
                            ssr=SsrMode::Async
                        />
                    </Routes>
                </Layout>
            </Router>
        </I18nContextProvider>
    }
}
