//! Change password (signed in, knowing the current one), with the policy
//! shown as a live checklist while typing. The checklist runs the same
//! rules as the server (`sspr_proto`) on every keystroke and asks
//! the server, after a pause, about the rest (common and banned passwords).
//! Without JavaScript it is a plain list and the server's answer explains
//! any refusal.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::Redirect;

use sspr_proto::Rules;

use crate::api::password::{ChangePassword, password_rules};
use crate::components::alert::ErrorAlert;
use crate::components::field::{Input, TextField};
use crate::components::page::Page;
use crate::components::password::{NewPasswordFields, Preview};
use crate::error::AppError;
use crate::i18n::*;
use crate::resource;

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let i18n = use_i18n();
    let rules = resource::blocking(|| (), |_| password_rules());
    view! {
        <Page title=move || t_str!(i18n, account_change_password).to_string()>
            <Suspense fallback=move || {
                view! { <p class="loading">{t_str!(i18n, loading)}</p> }
            }>
                {move || Suspend::new(async move {
                    match rules.await {
                        Ok(r) => view! { <ChangePasswordForm rules=r /> }.into_any(),
                        Err(AppError::NotSignedIn) => {
                            view! { <Redirect path="/sign-in?next=%2Faccount%2Fpassword" /> }
                                .into_any()
                        }
                        Err(e) => {
                            view! { <ErrorAlert error=Signal::derive(move || Some(e.clone())) /> }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
            <p>
                <a href="/account">{t_str!(i18n, link_back_to_account)}</a>
            </p>
        </Page>
    }
}

#[component]
fn ChangePasswordForm(rules: Rules) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<ChangePassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <p>{t_str!(i18n, change_password_intro)}</p>
        <ErrorAlert error />
        <ActionForm action=action>
            <TextField
                id="current_password"
                input=Input::CurrentPassword
                maxlength=4096
                autofocus=true
            >
                {t_str!(i18n, field_current_password)}
            </TextField>
            <NewPasswordFields rules preview=Preview::Change />
            <label class="choice">
                <input type="checkbox" name="sign_out_others" value="on" checked=true />
                {t_str!(i18n, change_password_sign_out_others)}
            </label>
            <button type="submit" class="primary" disabled=move || action.pending().get()>
                {t_str!(i18n, action_change_password)}
            </button>
        </ActionForm>
    }
}

#[component]
pub fn ChangePasswordDonePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Page title=move || t_str!(i18n, change_password_done_title).to_string()>
            <p role="status">{t_str!(i18n, change_password_done)}</p>
            <p>
                <a href="/account">{t_str!(i18n, link_back_to_account)}</a>
            </p>
        </Page>
    }
}
