//! The admin portal (`/admin`): the password reset settings (with the impact
//! preview of a change), their history, users, local groups and the audit log. Its own wasm chunk (`lazy_pages.rs`, `AdminPart`): a
//! user resetting a password never downloads it. Every server function it
//! calls checks for an admin session on the server; what the pages hide is
//! only for the reader's sake.

pub mod add_users;
pub mod audit;
pub mod fields;
pub mod groups;
pub mod history;
pub mod home;
pub mod impact;
pub mod policy;
pub mod user;
pub mod users;
pub mod when;

use leptos::prelude::*;

use crate::components::alert::ErrorAlert;
use crate::error::AppError;
use crate::i18n::*;

/// The portal's navigation, on every admin page; `current` is the page's
/// own path (`aria-current`).
#[component]
pub fn AdminNav(current: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let link = move |href: &'static str, text: AnyView| {
        let here = (href == current).then_some("page");
        view! {
            <li>
                <a href=href aria-current=here>
                    {text}
                </a>
            </li>
        }
    };
    view! {
        <nav class="admin-nav" aria-label=move || t_str!(i18n, admin_nav_label).to_string()>
            <ul>
                {link("/admin", t_str!(i18n, admin_title).into_any())}
                {link("/admin/password-reset", t_str!(i18n, admin_policy_title).into_any())}
                {link(
                    "/admin/password-reset/history",
                    t_str!(i18n, admin_history_title).into_any(),
                )} {link("/admin/users", t_str!(i18n, admin_users_title).into_any())}
                {link("/admin/groups", t_str!(i18n, admin_groups_title).into_any())}
                {link("/admin/audit", t_str!(i18n, admin_audit_title).into_any())}
            </ul>
        </nav>
    }
}

/// What an admin page shows when its view cannot be loaded: for anyone but
/// a signed-in admin, the refusal and the way to sign in as one.
pub fn load_error(e: AppError, back_to: &'static str) -> AnyView {
    let i18n = use_i18n();
    let sign_in = matches!(e, AppError::AdminOnly | AppError::NotSignedIn)
        .then(|| format!("/sign-in?next={}", encode_query(back_to)));
    view! {
        <ErrorAlert error=Signal::derive(move || Some(e.clone())) />
        {sign_in
            .map(|href| {
                view! {
                    <p>
                        <a href=href>{t_str!(i18n, admin_sign_in_as_admin)}</a>
                    </p>
                }
            })}
    }
    .into_any()
}

/// Shown where a change needs the password proven again first.
#[component]
pub fn ProofNotice(fresh: bool, #[prop(into)] back_to: String) -> impl IntoView {
    let i18n = use_i18n();
    let href = format!("/security-info/reauth?next={}", encode_query(&back_to));
    (!fresh).then(|| {
        view! {
            <p class="notice" data-testid="proof-notice">
                {t_str!(i18n, admin_proof_needed)}
                " "
                <a href=href>{t_str!(i18n, admin_proof_link)}</a>
            </p>
        }
    })
}

/// Percent-encodes a query value (everything but unreserved characters),
/// for the portal's links that carry a filter or a group name.
pub fn encode_query(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `k=v&…` of the filters that are set, encoded (a filter page's links keep
/// its filter).
pub fn filter_query(filters: &[(&str, &str)]) -> String {
    filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode_query(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The page listing `group`'s members.
pub fn members_href(group: &str) -> String {
    format!("/admin/groups/members?group={}", encode_query(group))
}
