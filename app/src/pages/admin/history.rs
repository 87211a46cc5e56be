//! The settings' history: every saved version, newest first, with who saved
//! it, when, and each field it changed; any version can be brought back
//! (itself a new version).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sspr_proto::admin::{PolicyHistoryView, PolicyVersionView};

use super::fields::label;
use super::when::When;
use super::{AdminNav, ProofNotice, load_error};
use crate::api::admin::{AdminRestorePolicy, admin_policy_history};
use crate::components::alert::ErrorAlert;
use crate::components::page::Page;
use crate::i18n::*;
use crate::resource;

const HERE: &str = "/admin/password-reset/history";

#[component]
pub fn HistoryPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    };
    let restore = ServerAction::<AdminRestorePolicy>::new();
    // Loaded again after each restore (a new version heads the list).
    let history = resource::blocking(
        move || (before(), restore.version().get()),
        |(before, _)| admin_policy_history(before),
    );
    view! {
        <Page title=move || t_str!(i18n, admin_history_title).to_string() wide=true>
            <AdminNav current=HERE />
            <Suspense fallback=move || {
                view! { <p class="loading">{t_str!(i18n, loading)}</p> }
            }>
                {move || Suspend::new(async move {
                    match history.await {
                        Ok(v) => view! { <History view=v restore /> }.into_any(),
                        Err(e) => load_error(e, HERE),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn History(view: PolicyHistoryView, restore: ServerAction<AdminRestorePolicy>) -> impl IntoView {
    let i18n = use_i18n();
    let error = Signal::derive(move || restore.value().get().and_then(Result::err));
    let query = use_query_map();
    let restored = move || {
        matches!(restore.value().get(), Some(Ok(()))) || query.read().get("restored").is_some()
    };
    let latest = view.latest;
    let rows = view
        .versions
        .into_iter()
        .map(|v| view! { <VersionRow version=v latest restore /> })
        .collect_view();
    let next = view.next_before.map(|b| format!("{HERE}?before={b}"));
    view! {
        <ProofNotice fresh=view.fresh_proof back_to=HERE />
        <div role="status">
            {move || {
                restored()
                    .then(|| {
                        view! {
                            <p class="notice" data-testid="restored">
                                {t_str!(i18n, admin_restored)}
                            </p>
                        }
                    })
            }}
        </div>
        <ErrorAlert error />
        <table class="admin-table" data-testid="history">
            <caption>{t_str!(i18n, admin_history_caption)}</caption>
            <thead>
                <tr>
                    <th scope="col" aria-sort="descending">
                        {t_str!(i18n, admin_col_version)}
                    </th>
                    <th scope="col">{t_str!(i18n, admin_col_saved)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_by)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_changes)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_action)}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {next
            .map(|href| {
                view! {
                    <p>
                        <a href=href rel="next">
                            {t_str!(i18n, admin_older)}
                        </a>
                    </p>
                }
            })}
    }
}

#[component]
fn VersionRow(
    version: PolicyVersionView,
    latest: i64,
    restore: ServerAction<AdminRestorePolicy>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = version.id;
    let changes = version
        .changes
        .into_iter()
        .map(|c| {
            let field = c.field.clone();
            view! {
                <li>
                    {move || label(i18n.get_locale(), &field)} ": " <bdi dir="ltr">{c.before}</bdi>
                    " → " <bdi dir="ltr">{c.after}</bdi>
                </li>
            }
        })
        .collect_view();
    let note = version.restored_from.map(|from| {
        view! { <p class="hint">{t!(i18n, admin_restored_from, version = from)}</p> }
    });
    view! {
        <tr data-version=id>
            <th scope="row">{id}</th>
            <td>
                <When secs=version.saved_at />
            </td>
            <td>
                <bdi>{version.saved_by}</bdi>
            </td>
            <td>{note} <ul class="changes">{changes}</ul></td>
            <td>
                {if id == latest {
                    view! { <span>{t_str!(i18n, admin_in_force)}</span> }.into_any()
                } else {
                    view! {
                        <ActionForm action=restore>
                            <input type="hidden" name="version" value=id />
                            <input type="hidden" name="based_on" value=latest />
                            <button type="submit">{t!(i18n, admin_restore, version = id)}</button>
                        </ActionForm>
                    }
                        .into_any()
                }}
            </td>
        </tr>
    }
}
