use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    view! {
        <Title text=t_str!(i18n, not_found_title).to_string() />
        <section class="card">
            <h1>{t_str!(i18n, not_found_title)}</h1>
            <p>{t_str!(i18n, not_found_text)}</p>
            <p>
                <a href="/sign-in">{t_str!(i18n, link_back_to_sign_in)}</a>
            </p>
        </section>
    }
}
