use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use sspr_proto::views::AccountView;

use crate::api::{SignOut, current_account};
use crate::components::alert::ErrorAlert;
use crate::components::layout::LanguageOptions;
use crate::error::AppError;
use crate::i18n::*;
use crate::locale::{AUTOMATIC, is_pseudo, match_tag};
use crate::resource;

#[component]
pub fn AccountPage() -> impl IntoView {
    let i18n = use_i18n();
    // Blocking: the server must know before the first byte whether to
    // answer with the page or a redirect to sign-in.
    let account = resource::blocking(|| (), |_| current_account());
    view! {
        <Title text=t_str!(i18n, account_title).to_string() />
        <Suspense fallback=move || {
            view! { <p class="loading">{t_str!(i18n, loading)}</p> }
        }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(Some(a)) => view! { <AccountCard account=a /> }.into_any(),
                    Ok(None) | Err(AppError::NotSignedIn) => {
                        view! { <Redirect path="/sign-in" /> }.into_any()
                    }
                    Err(e) => {
                        view! { <ErrorAlert error=Signal::derive(move || Some(e.clone())) /> }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccountCard(account: AccountView) -> impl IntoView {
    let i18n = use_i18n();
    let sign_out = ServerAction::<SignOut>::new();
    let error = Signal::derive(move || sign_out.value().get().and_then(Result::err));
    let name = account.display_name.clone();
    let groups = if account.groups.is_empty() {
        None
    } else {
        Some(account.groups.join(", "))
    };
    let is_admin = account.is_admin;
    // The list shows what is saved, whatever the page's language (a link's
    // `?lang=`); nothing saved: the browser's decides ("Automatic").
    let saved = account
        .language
        .as_deref()
        .and_then(match_tag)
        .filter(|l| !is_pseudo(*l));
    let automatic = saved.is_none();
    view! {
        <section class="card" aria-labelledby="page-title">
            <h1 id="page-title">{t_str!(i18n, account_title)}</h1>
            <p class="greeting">
                {t!(i18n, account_greeting, name = move || view! { <bdi>{name.clone()}</bdi> })}
            </p>
            <dl class="facts">
                <dt>{t_str!(i18n, account_user_id)}</dt>
                <dd dir="ltr" data-testid="login">
                    {account.login}
                </dd>
                <dt>{t_str!(i18n, account_email)}</dt>
                <dd dir="ltr">
                    {match account.email {
                        Some(e) => e.into_any(),
                        None => t_str!(i18n, account_none).into_any(),
                    }}
                </dd>
                <dt>{t_str!(i18n, account_role)}</dt>
                <dd>
                    {move || {
                        if is_admin {
                            t_str!(i18n, role_admin).into_any()
                        } else {
                            t_str!(i18n, role_user).into_any()
                        }
                    }}
                </dd>
                <dt>{t_str!(i18n, account_groups)}</dt>
                <dd>
                    {match groups {
                        Some(g) => g.into_any(),
                        None => t_str!(i18n, account_none).into_any(),
                    }}
                </dd>
            </dl>
            <ul class="tiles">
                <li>
                    <a href="/security-info">{t_str!(i18n, account_security_info)}</a>
                    <p>{t_str!(i18n, account_security_info_desc)}</p>
                </li>
                <li>
                    <a href="/account/password">{t_str!(i18n, account_change_password)}</a>
                    <p>{t_str!(i18n, account_change_password_desc)}</p>
                </li>
            </ul>
            // The header's picker saves the language too; here it is
            // explained, next to the account it belongs to.
            <form class="account-language" method="post" action="/api/choose_language">
                <input type="hidden" name="back" value="/account" />
                <label for="account-lang">{t_str!(i18n, account_language)}</label>
                <p class="hint" id="account-lang-hint">
                    {t_str!(i18n, account_language_hint)}
                </p>
                <select id="account-lang" name="lang" aria-describedby="account-lang-hint">
                    <option value=AUTOMATIC selected=automatic>
                        {t_str!(i18n, account_language_automatic)}
                    </option>
                    <LanguageOptions chosen=Signal::derive(move || saved) />
                </select>
                <button type="submit" class="secondary">
                    {t_str!(i18n, account_language_save)}
                </button>
            </form>
            <ErrorAlert error />
            <ActionForm action=sign_out>
                <button type="submit" class="secondary">
                    {t_str!(i18n, action_sign_out)}
                </button>
            </ActionForm>
        </section>
    }
}
