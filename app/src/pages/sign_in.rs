use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::SignIn;
use crate::components::alert::ErrorAlert;
use crate::i18n::*;

#[component]
pub fn SignInPage() -> impl IntoView {
    let i18n = use_i18n();
    // Created under <Routes>, so an error carried back in the URL after a
    // no-JavaScript post becomes the action's initial value.
    let action = ServerAction::<SignIn>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    // Where to go after signing in (the server accepts local paths only).
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <Title text=t_string!(i18n, sign_in_title).to_string()/>
        <section class="card" aria-labelledby="page-title">
            <h1 id="page-title">{t!(i18n, sign_in_title)}</h1>
            <p>{t!(i18n, sign_in_intro)}</p>
            <ErrorAlert error/>
            <ActionForm action=action>
                <input type="hidden" name="next" value=next/>
                <div class="field">
                    <label for="login">{t!(i18n, field_user_id)}</label>
                    <input
                        id="login"
                        name="login"
                        type="text"
                        autocomplete="username"
                        autocapitalize="none"
                        spellcheck="false"
                        dir="ltr"
                        required
                        autofocus
                        aria-invalid=move || error.get().is_some().then_some("true")
                    />
                </div>
                <div class="field">
                    <label for="password">{t!(i18n, field_password)}</label>
                    <input
                        id="password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        dir="ltr"
                        required
                        aria-invalid=move || error.get().is_some().then_some("true")
                    />
                </div>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {t!(i18n, action_sign_in)}
                </button>
            </ActionForm>
            <ul class="links">
                <li>
                    <a href="/reset">{t!(i18n, link_forgot_password)}</a>
                </li>
                <li>
                    <a href="/security-info/setup">{t!(i18n, link_register_security_info)}</a>
                </li>
            </ul>
        </section>
    }
}
