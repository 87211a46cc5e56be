//! One account: its groups, registered methods (masked) with when each
//! was last proven, last sign-in and reset, lockout, whether it can reset
//! or why not, and the admin's actions on it (each a plain form; each
//! audited and told to the user).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sspr_proto::MethodKind;
use sspr_proto::admin::UserDetailView;

use super::when::When;
use super::{AdminNav, ProofNotice, load_error};
use crate::api::admin::{AdminUserAction, admin_user};
use crate::components::alert::ErrorAlert;
use crate::components::method::MethodLabel;
use crate::components::page::Page;
use crate::i18n::*;
use crate::resource;

/// The page's own path, for the navigation (it sits under Users).
const USERS: &str = "/admin/users";
const HERE: &str = "/admin/users/detail";

#[component]
pub fn UserPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let action = ServerAction::<AdminUserAction>::new();
    // Loaded again after each action, so the page shows its effect.
    let done = RwSignal::new(0_u32);
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            done.update(|n| *n += 1);
        }
    });
    let id = move || {
        query
            .read()
            .get("id")
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let detail = resource::blocking(move || (id(), done.get()), |(id, _)| admin_user(id));
    view! {
        <Page title=move || t_str!(i18n, admin_user_title).to_string() wide=true>
            <AdminNav current=USERS />
            <Suspense fallback=move || {
                view! { <p class="loading">{t_str!(i18n, loading)}</p> }
            }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(v) => view! { <Detail view=v action /> }.into_any(),
                        Err(e) => load_error(e, HERE),
                    }
                })}
            </Suspense>
        </Page>
    }
}

/// A date, or "never".
fn when_or_never(secs: Option<i64>) -> AnyView {
    let i18n = use_i18n();
    match secs {
        Some(s) => view! { <When secs=s /> }.into_any(),
        None => view! { <span>{t_str!(i18n, admin_never)}</span> }.into_any(),
    }
}

#[component]
fn Detail(view: UserDetailView, action: ServerAction<AdminUserAction>) -> impl IntoView {
    let i18n = use_i18n();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    // Without JavaScript the action's redirect says what was done.
    let query = use_query_map();
    let done = move || {
        let from_url = query.read().get("done");
        let from_action = matches!(action.value().get(), Some(Ok(())));
        (from_action || from_url.is_some()).then_some(())
    };
    let standing = view.standing.clone();
    let (have, need) = (view.have, view.need);
    let is_admin = view.role == "admin";
    let groups = if view.groups.is_empty() {
        None
    } else {
        Some(view.groups.join(", "))
    };
    let methods = view
        .methods
        .iter()
        .map(|m| {
            let kind = MethodKind::parse(&m.kind);
            let default = m.is_default;
            view! {
                <tr data-method=m.kind.clone()>
                    <th scope="row">{kind.map(|kind| view! { <MethodLabel kind /> })}</th>
                    <td dir="ltr">{m.destination.clone()}</td>
                    <td>
                        <When secs=m.verified_at />
                    </td>
                    <td>
                        {move || {
                            if default {
                                t_str!(i18n, admin_default_method).to_string()
                            } else {
                                String::new()
                            }
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let no_methods = view.methods.is_empty();
    let back_to = format!("{HERE}?id={}", view.id);
    let id = view.id;
    let button = move |name: &'static str, text: AnyView| {
        view! {
            <ActionForm action=action attr:class="inline">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="action" value=name />
                <button type="submit" data-action=name disabled=move || action.pending().get()>
                    {text}
                </button>
            </ActionForm>
        }
    };
    let enabled = view.enabled;
    let from_directory = view.from_directory;
    let is_self = view.is_self;
    view! {
        <h2>
            <bdi>{view.display_name.clone()}</bdi>
            " ("
            <bdi dir="ltr">{view.login.clone()}</bdi>
            ")"
        </h2>
        <div role="status">
            {move || {
                done()
                    .map(|_| {
                        view! {
                            <p class="notice" data-testid="done">
                                {t_str!(i18n, admin_action_done)}
                            </p>
                        }
                    })
            }}
        </div>
        <ErrorAlert error />
        <dl class="facts" data-testid="user-facts">
            <dt>{t_str!(i18n, admin_col_email)}</dt>
            <dd dir="ltr">{view.email.clone()}</dd>
            <dt>{t_str!(i18n, admin_col_role)}</dt>
            <dd>
                {move || {
                    if is_admin {
                        t_str!(i18n, admin_role_admin).to_string()
                    } else {
                        t_str!(i18n, admin_role_user).to_string()
                    }
                }}
            </dd>
            <dt>{t_str!(i18n, admin_col_status)}</dt>
            <dd data-testid="status">
                {move || {
                    if enabled {
                        t_str!(i18n, admin_status_enabled).to_string()
                    } else {
                        t_str!(i18n, admin_status_disabled).to_string()
                    }
                }}
                {from_directory
                    .then(|| {
                        view! {
                            " · "
                            {t_str!(i18n, admin_member_from_directory)}
                        }
                    })}
            </dd>
            <dt>{t_str!(i18n, admin_user_can_reset)}</dt>
            <dd data-testid="standing" data-standing=view.standing.clone()>
                {move || match standing.as_str() {
                    "eligible" => t_str!(i18n, admin_standing_eligible).to_string(),
                    "disabled" => t_str!(i18n, admin_standing_disabled).to_string(),
                    "not_in_scope" => t_str!(i18n, admin_standing_not_in_scope).to_string(),
                    _ => {
                        t_str!(i18n, admin_standing_needs_methods, have = have, need = need)
                            .to_string()
                    }
                }}
            </dd>
            <dt>{t_str!(i18n, admin_user_locked)}</dt>
            <dd data-testid="locked">
                {match view.locked_until {
                    Some(until) => {
                        view! {
                            <span>{t_str!(i18n, admin_locked_until)} " " <When secs=until /></span>
                        }
                            .into_any()
                    }
                    None => view! { <span>{t_str!(i18n, admin_no)}</span> }.into_any(),
                }}
            </dd>
            <dt>{t_str!(i18n, admin_user_groups)}</dt>
            <dd>
                {match groups {
                    Some(g) => view! { <bdi>{g}</bdi> }.into_any(),
                    None => view! { <span>{t_str!(i18n, admin_none)}</span> }.into_any(),
                }}
            </dd>
            <dt>{t_str!(i18n, admin_user_last_sign_in)}</dt>
            <dd>{when_or_never(view.last_sign_in)}</dd>
            <dt>{t_str!(i18n, admin_user_last_reset)}</dt>
            <dd>{when_or_never(view.last_reset)}</dd>
            <dt>{t_str!(i18n, admin_user_password_changed)}</dt>
            <dd>{when_or_never(view.password_changed_at)}</dd>
            <dt>{t_str!(i18n, admin_user_created)}</dt>
            <dd>
                <When secs=view.created_at />
            </dd>
        </dl>
        <table class="admin-table" data-testid="methods">
            <caption>{t_str!(i18n, admin_methods_caption)}</caption>
            <thead>
                <tr>
                    <th scope="col">{t_str!(i18n, admin_col_method)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_destination)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_verified)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_default)}</th>
                </tr>
            </thead>
            <tbody>{methods}</tbody>
        </table>
        {no_methods.then(|| view! { <p>{t_str!(i18n, admin_no_methods)}</p> })}
        <h3>{t_str!(i18n, admin_actions_heading)}</h3>
        <ProofNotice fresh=view.fresh_proof back_to=back_to />
        <div class="actions">
            {(!from_directory && !is_self && enabled)
                .then(|| button("disable", t_str!(i18n, admin_action_disable).into_any()))}
            {(!from_directory && !enabled)
                .then(|| button("enable", t_str!(i18n, admin_action_enable).into_any()))}
            {button("unlock", t_str!(i18n, admin_action_unlock).into_any())}
            {button("sign_out", t_str!(i18n, admin_action_sign_out).into_any())}
            {button("invite_register", t_str!(i18n, admin_action_invite_register).into_any())}
            {button("invite_reset", t_str!(i18n, admin_action_invite_reset).into_any())}
        </div>
        {(!is_self)
            .then(|| {
                view! {
                    <ActionForm action=action attr:class="danger">
                        <input type="hidden" name="id" value=id />
                        <input type="hidden" name="action" value="clear_security_info" />
                        <p>{t_str!(i18n, admin_clear_explained)}</p>
                        <label class="choice">
                            <input type="checkbox" name="confirm" required=true />
                            {t_str!(i18n, admin_clear_confirm)}
                        </label>
                        <button
                            type="submit"
                            data-action="clear_security_info"
                            disabled=move || action.pending().get()
                        >
                            {t_str!(i18n, admin_action_clear)}
                        </button>
                    </ActionForm>
                }
            })}
        <p>
            <a href=USERS>{t_str!(i18n, admin_users_back)}</a>
        </p>
    }
}
