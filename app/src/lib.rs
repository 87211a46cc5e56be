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

/// `t_string!` with its value rather than a future (see `locale::ready`).
/// Every plain text of a page is written with it, not with `t!`: `t!`
/// makes each text an async value of its own in the browser (catalogs load
/// per language), ~7 KB of the first download for ~370 texts, to follow a
/// change of language the app never makes without a page load. `t!` stays
/// where a placeholder is filled with markup.
macro_rules! t_str {
    ($($args:tt)*) => {
        $crate::locale::ready($crate::i18n::t_string!($($args)*))
    };
}

/// `td_string!` with its value rather than a future (see `locale::ready`).
macro_rules! td_str {
    ($($args:tt)*) => {
        $crate::locale::ready($crate::i18n::td_string!($($args)*))
    };
}

pub mod api;
mod components;
pub mod error;
pub mod format;
mod lazy_pages;
pub mod locale;
mod pages;
pub mod plural;
mod resource;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment, path};

use crate::components::layout::Layout;
pub use crate::components::page::HelpdeskContact;
use crate::lazy_pages::{
    AccountPart, AdminPart, LazyPage, RegistrationPart, ResetPart, SecurityInfoPart, SignInPart,
};
use crate::pages::home::HomePage;
use crate::pages::not_found::NotFound;
use crate::pages::reset::{ResetPage, ResetWizard};
use crate::pages::short_links::SetupAlias;
use crate::pages::sign_in::SignInPage;

/// The HTML document. `lang` and `dir` on `<html>` come from the locale
/// (leptos_i18n inserts them), never hard-coded here.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let hydrate = !locale::request_is_pseudo();
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href=FAVICON type="image/svg+xml" />
                <AutoReload options=options.clone() />
                // The built CSS under its content-hashed name (hash-files).
                <link rel="stylesheet" id="leptos" href=stylesheet_href(&options) />
                // For the browser, which reads it once when it starts.
                {use_context::<HelpdeskContact>()
                    .filter(|h| !h.0.is_empty())
                    .map(|h| view! { <meta name=HelpdeskContact::META_NAME content=h.0 /> })}
                // Not in a pseudo-locale, which the wasm does not know.
                {hydrate.then(|| view! { <HydrationScripts options /> })}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The icon, in the page itself: as a file it was a request of its own on
/// every page (revalidated, ~1 KB with headers) for 264 bytes of SVG (issue
/// 12). The same picture as `public/favicon.svg`, which stays for whatever
/// asks for it by name; CSP allows `data:` images (docs/security.md #47).
const FAVICON: &str = "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' \
    viewBox='0 0 32 32'><rect width='32' height='32' rx='6' fill='%230b5cad'/>\
    <path d='M11 14v-3a5 5 0 0 1 10 0v3' fill='none' stroke='%23fff' stroke-width='2.5'/>\
    <rect x='8' y='14' width='16' height='12' rx='2' fill='%23fff'/></svg>";

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
        <locale::LocaleProvider>
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
                            view=LazyPage::SignIn(SignInPart::Verify)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/sign-in/code")
                            view=LazyPage::SignIn(SignInPart::Code)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/account")
                            view=LazyPage::Account(AccountPart::Account)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/account/password")
                            view=LazyPage::Account(AccountPart::ChangePassword)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/account/password/done")
                            view=LazyPage::Account(AccountPart::ChangePasswordDone)
                        />
                        <ParentRoute path=path!("/reset") view=ResetWizard>
                            <Route path=path!("") view=ResetPage ssr=SsrMode::Async />
                            <Route
                                path=path!("verify")
                                view=LazyPage::Reset(ResetPart::Verify)
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("code")
                                view=LazyPage::Reset(ResetPart::Code)
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("questions")
                                view=LazyPage::Reset(ResetPart::Questions)
                                ssr=SsrMode::Async
                            />
                            <Route
                                path=path!("password")
                                view=LazyPage::Reset(ResetPart::Password)
                                ssr=SsrMode::Async
                            />
                            <Route path=path!("done") view=LazyPage::Reset(ResetPart::Done) />
                            <Route
                                path=path!("unlocked")
                                view=LazyPage::Reset(ResetPart::Unlocked)
                            />
                        </ParentRoute>
                        <Route
                            path=path!("/security-info")
                            view=LazyPage::SecurityInfo(SecurityInfoPart::Overview)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/reauth")
                            view=LazyPage::SecurityInfo(SecurityInfoPart::Reauth)
                        />
                        <Route
                            path=path!("/security-info/setup")
                            view=LazyPage::Registration(RegistrationPart::Start)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/email")
                            view=LazyPage::Registration(RegistrationPart::Email)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/phone")
                            view=LazyPage::Registration(RegistrationPart::Phone)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/verify")
                            view=LazyPage::Registration(RegistrationPart::Verify)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/app")
                            view=LazyPage::Registration(RegistrationPart::App)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/security-info/setup/questions")
                            view=LazyPage::Registration(RegistrationPart::Questions)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin")
                            view=LazyPage::Admin(AdminPart::Home)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/password-reset")
                            view=LazyPage::Admin(AdminPart::Policy)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/password-reset/preview")
                            view=LazyPage::Admin(AdminPart::Impact)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/users")
                            view=LazyPage::Admin(AdminPart::Users)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/users/add")
                            view=LazyPage::Admin(AdminPart::AddUsers)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/users/detail")
                            view=LazyPage::Admin(AdminPart::User)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/password-reset/history")
                            view=LazyPage::Admin(AdminPart::History)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/groups")
                            view=LazyPage::Admin(AdminPart::Groups)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/groups/members")
                            view=LazyPage::Admin(AdminPart::GroupMembers)
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/audit")
                            view=LazyPage::Admin(AdminPart::Audit)
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/ssprsetup") view=SetupAlias />
                        <Route
                            path=path!("/dev/outbox")
                            view=LazyPage::DevOutbox
                            ssr=SsrMode::Async
                        />
                    </Routes>
                </Layout>
            </Router>
        </locale::LocaleProvider>
    }
}

#[cfg(test)]
mod tests {
    use super::FAVICON;

    /// The icon in the page and the file are one picture: a change to one
    /// that forgets the other fails here.
    #[test]
    fn the_page_icon_is_public_favicon_svg() {
        let inline = FAVICON
            .strip_prefix("data:image/svg+xml,")
            .unwrap_or_default()
            .replace("%23", "#")
            .replace('\'', "\"");
        assert_eq!(inline, include_str!("../../public/favicon.svg").trim_end());
    }
}
