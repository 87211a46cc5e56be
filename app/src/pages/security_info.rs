//! "My security info": what is registered, and the way to change it.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::api::Reauthenticate;
use crate::api::setup::setup_state;
use crate::components::alert::ErrorAlert;
use crate::components::field::{Input, TextField};
use crate::components::method::{MethodActions, MethodList};
use crate::components::page::Page;
use crate::error::AppError;
use crate::i18n::*;
use crate::resource;

#[component]
pub fn SecurityInfoPage() -> impl IntoView {
    let i18n = use_i18n();
    let actions = MethodActions::new();
    // Reloads after a delete or a new default, also when the action's
    // redirect leads back to this same page.
    let state = resource::blocking(move || actions.version(), |_| setup_state());
    view! {
        <Page title=move || t_str!(i18n, security_info_title).to_string()>
            <p>{t_str!(i18n, security_info_intro)}</p>
            <Suspense fallback=move || {
                view! { <p class="loading">{t_str!(i18n, loading)}</p> }
            }>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(v) => {
                            view! {
                                <p>{t!(i18n, setup_registered_heading, have = v.have)}</p>
                                <MethodList methods=v.methods.clone() actions=actions />
                                <p>
                                    <a class="button" href="/security-info/setup">
                                        {t_str!(i18n, action_add_method)}
                                    </a>
                                </p>
                            }
                                .into_any()
                        }
                        Err(AppError::NotSignedIn) => {
                            view! { <Redirect path="/sign-in?next=%2Fsecurity-info" /> }.into_any()
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

/// Asks for the password again before security info changes.
#[component]
pub fn ReauthPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<Reauthenticate>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let query = use_query_map();
    let next = move || {
        query
            .read()
            .get("next")
            .unwrap_or_else(|| "/security-info".to_owned())
    };
    view! {
        <Page title=move || t_str!(i18n, reauth_title).to_string()>
            <p>{t_str!(i18n, error_reauthentication_required)}</p>
            <ErrorAlert error />
            <ActionForm action=action>
                <input type="hidden" name="next" value=next />
                <TextField id="password" input=Input::CurrentPassword ltr=true autofocus=true>
                    {t_str!(i18n, field_password)}
                </TextField>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {t_str!(i18n, action_continue)}
                </button>
            </ActionForm>
        </Page>
    }
}
