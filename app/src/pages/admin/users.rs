//! Users: every account, searched by the start of its user ID, name or
//! email address in any case, filtered by role, registration, whether it
//! can reset, and status (a plain GET form: the filter is in the URL), a
//! page at a time in user ID order.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sspr_proto::admin::{UserRowView, UsersPageView};

use super::{AdminNav, encode_query, load_error};
use crate::api::admin::admin_users;
use crate::components::page::Page;
use crate::i18n::*;
use crate::resource;

const HERE: &str = "/admin/users";

/// The filter as the URL gives it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Query {
    q: String,
    role: String,
    registered: String,
    can_reset: String,
    status: String,
    after: Option<String>,
}

impl Query {
    /// The filter's part of a URL (not the page), encoded.
    fn filter_string(&self) -> String {
        super::filter_query(&[
            ("q", self.q.as_str()),
            ("role", self.role.as_str()),
            ("registered", self.registered.as_str()),
            ("can_reset", self.can_reset.as_str()),
            ("status", self.status.as_str()),
        ])
    }
}

/// The detail page of account `id`.
pub fn user_href(id: i64) -> String {
    format!("/admin/users/detail?id={id}")
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let current = move || {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        Query {
            q: get("q"),
            role: get("role"),
            registered: get("registered"),
            can_reset: get("can_reset"),
            status: get("status"),
            after: q.get("after").filter(|a| !a.is_empty()),
        }
    };
    let page = resource::blocking(current, |q: Query| {
        admin_users(q.q, q.role, q.registered, q.can_reset, q.status, q.after)
    });
    view! {
        <Page title=move || t_str!(i18n, admin_users_title).to_string() wide=true>
            <AdminNav current=HERE />
            <Suspense fallback=move || {
                view! { <p class="loading">{t_str!(i18n, loading)}</p> }
            }>
                {move || Suspend::new(async move {
                    let q = current();
                    match page.await {
                        Ok(v) => view! { <UserList view=v query=q /> }.into_any(),
                        Err(e) => load_error(e, HERE),
                    }
                })}
            </Suspense>
        </Page>
    }
}

/// A `<select>` of a filter: "any" and the given choices.
fn choice_select(
    id: &'static str,
    label: AnyView,
    chosen: String,
    choices: Vec<(&'static str, AnyView)>,
) -> impl IntoView {
    let i18n = use_i18n();
    let options = choices
        .into_iter()
        .map(|(value, text)| {
            let selected = chosen == value;
            view! {
                <option value=value selected=selected>
                    {text}
                </option>
            }
        })
        .collect_view();
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id name=id>
                <option value="">{t_str!(i18n, admin_filter_any)}</option>
                {options}
            </select>
        </div>
    }
}

#[component]
fn UserList(view: UsersPageView, query: Query) -> impl IntoView {
    let i18n = use_i18n();
    let filter = query.filter_string();
    let csv = format!("/admin/users.csv?{filter}");
    let next = view.next_after.map(|after| {
        let after = encode_query(&after);
        if filter.is_empty() {
            format!("{HERE}?after={after}")
        } else {
            format!("{HERE}?{filter}&after={after}")
        }
    });
    let yes_no = || {
        vec![
            ("yes", t_str!(i18n, admin_yes).into_any()),
            ("no", t_str!(i18n, admin_no).into_any()),
        ]
    };
    let empty = view.users.is_empty();
    let rows = view
        .users
        .into_iter()
        .map(|u| view! { <UserRow user=u /> })
        .collect_view();
    view! {
        <form method="get" action=HERE class="filters" role="search">
            <div class="field">
                <label for="q">{t_str!(i18n, admin_filter_search)}</label>
                <input
                    type="search"
                    id="q"
                    name="q"
                    dir="auto"
                    autocomplete="off"
                    spellcheck="false"
                    aria-describedby="q-hint"
                    value=query.q.clone()
                />
                <p class="hint" id="q-hint">
                    {t_str!(i18n, admin_help_search)}
                </p>
            </div>
            {choice_select(
                "role",
                t_str!(i18n, admin_filter_role).into_any(),
                query.role.clone(),
                vec![
                    ("user", t_str!(i18n, admin_role_user).into_any()),
                    ("admin", t_str!(i18n, admin_role_admin).into_any()),
                ],
            )}
            {choice_select(
                "registered",
                t_str!(i18n, admin_filter_registered).into_any(),
                query.registered.clone(),
                yes_no(),
            )}
            {choice_select(
                "can_reset",
                t_str!(i18n, admin_filter_can_reset).into_any(),
                query.can_reset.clone(),
                yes_no(),
            )}
            {choice_select(
                "status",
                t_str!(i18n, admin_filter_status).into_any(),
                query.status.clone(),
                vec![
                    ("enabled", t_str!(i18n, admin_status_enabled).into_any()),
                    ("disabled", t_str!(i18n, admin_status_disabled).into_any()),
                    ("locked", t_str!(i18n, admin_status_locked).into_any()),
                ],
            )}
            <button type="submit">{t_str!(i18n, admin_filter_apply)}</button>
        </form>
        <p>
            <a href="/admin/users/add" data-testid="add-users">
                {t_str!(i18n, admin_add_users_title)}
            </a>
            " · "
            <a href=csv download="users.csv" data-testid="users-csv">
                {t_str!(i18n, admin_users_csv)}
            </a>
        </p>
        <table class="admin-table" data-testid="users">
            <caption>{t_str!(i18n, admin_users_caption)}</caption>
            <thead>
                <tr>
                    // The one order the keyset pages follow, announced as such.
                    <th scope="col" aria-sort="ascending">
                        {t_str!(i18n, admin_col_user_id)}
                    </th>
                    <th scope="col">{t_str!(i18n, admin_col_name)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_email)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_role)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_status)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_methods)}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {empty.then(|| view! { <p data-testid="no-users">{t_str!(i18n, admin_no_users)}</p> })}
        {next
            .map(|href| {
                view! {
                    <p>
                        <a href=href rel="next">
                            {t_str!(i18n, admin_next_page)}
                        </a>
                    </p>
                }
            })}
    }
}

#[component]
fn UserRow(user: UserRowView) -> impl IntoView {
    let i18n = use_i18n();
    let href = user_href(user.id);
    let login = user.login.clone();
    let is_admin = user.role == "admin";
    let enabled = user.enabled;
    view! {
        <tr data-user=login>
            <th scope="row">
                <a href=href>
                    <bdi dir="ltr">{user.login}</bdi>
                </a>
            </th>
            <td>
                <bdi>{user.display_name}</bdi>
            </td>
            <td dir="ltr">{user.email}</td>
            <td>
                {move || {
                    if is_admin {
                        t_str!(i18n, admin_role_admin).to_string()
                    } else {
                        t_str!(i18n, admin_role_user).to_string()
                    }
                }}
            </td>
            <td>
                {move || {
                    if enabled {
                        t_str!(i18n, admin_status_enabled).to_string()
                    } else {
                        t_str!(i18n, admin_status_disabled).to_string()
                    }
                }}
                {user
                    .from_directory
                    .then(|| {
                        view! {
                            " · "
                            {t_str!(i18n, admin_member_from_directory)}
                        }
                    })}
            </td>
            <td>{user.methods}</td>
        </tr>
    }
}
