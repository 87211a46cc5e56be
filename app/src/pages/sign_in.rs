use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::SignIn;
use crate::components::alert::ErrorAlert;
use crate::components::field::{Input, TextField};
use crate::components::page::Page;
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
    let invalid = Signal::derive(move || error.get().is_some());
    view! {
        <Page title=move || t_string!(i18n, sign_in_title).to_string()>
            <p>{t!(i18n, sign_in_intro)}</p>
            <ErrorAlert error />
            <ActionForm action=action>
                <input type="hidden" name="next" value=next />
                <TextField id="login" input=Input::UserId autofocus=true invalid>
                    {t!(i18n, field_user_id)}
                </TextField>
                <TextField id="password" input=Input::CurrentPassword ltr=true invalid>
                    {t!(i18n, field_password)}
                </TextField>
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
        </Page>
    }
}
