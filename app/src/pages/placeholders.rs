//! Pages whose flows arrive in later issues. They exist now so the links
//! from the sign-in page are stable and tell the user the truth.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::i18n::*;

#[component]
pub fn ResetPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, reset_title).to_string()/>
        <section class="card">
            <h1>{t!(i18n, reset_title)}</h1>
            <p>{t!(i18n, reset_unavailable)}</p>
            <p>
                <a href="/sign-in">{t!(i18n, link_back_to_sign_in)}</a>
            </p>
        </section>
    }
}

/// The short registration link (like aka.ms/ssprsetup).
#[component]
pub fn SetupAlias() -> impl IntoView {
    view! { <Redirect path="/security-info/setup"/> }
}

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, account_change_password).to_string()/>
        <section class="card">
            <h1>{t!(i18n, account_change_password)}</h1>
            <p>{t!(i18n, change_password_unavailable)}</p>
            <p>
                <a href="/account">{t!(i18n, link_back_to_account)}</a>
            </p>
        </section>
    }
}
