//! The impact preview (`/admin/password-reset/preview?<the settings
//! form>`): before saving, how many users and admins would no longer be
//! able to reset (and how many only until they register more methods),
//! how many would gain it, who (the first hundred here, everyone in the
//! CSV), and the fields that change. "Save these settings" posts the same
//! values to the same save as the settings page.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sspr_proto::admin::{ImpactChangeView, ImpactView, POLICY_FIELDS};

use super::fields::label;
use super::{AdminNav, ProofNotice, load_error};
use crate::api::admin::{AdminSavePolicy, admin_preview_policy};
use crate::components::alert::ErrorAlert;
use crate::components::page::Page;
use crate::format::count_in;
use crate::i18n::*;
use crate::resource;

const SETTINGS: &str = "/admin/password-reset";
pub const HERE: &str = "/admin/password-reset/preview";

#[component]
pub fn ImpactPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    // Only the form's own fields travel on (to the save and the CSV).
    let proposal = move || {
        let q = query.read();
        let mut pairs: Vec<(String, String)> = Vec::new();
        for key in std::iter::once("version").chain(POLICY_FIELDS) {
            if let Some(v) = q.get(key) {
                pairs.push((key.to_owned(), v));
            }
        }
        pairs
    };
    let preview = resource::blocking(proposal, |pairs: Vec<(String, String)>| {
        admin_preview_policy(query_string(&pairs))
    });
    let save = ServerAction::<AdminSavePolicy>::new();
    view! {
        <Page title=move || t_str!(i18n, admin_impact_title).to_string() wide=true>
            <AdminNav current=SETTINGS />
            <Suspense fallback=move || {
                view! { <p class="loading">{t_str!(i18n, loading)}</p> }
            }>
                {move || Suspend::new(async move {
                    let pairs = proposal();
                    match preview.await {
                        Ok(v) => view! { <Impact view=v pairs save /> }.into_any(),
                        Err(e) => load_error(e, SETTINGS),
                    }
                })}
            </Suspense>
        </Page>
    }
}

/// `k=v&…`, encoded.
fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", super::encode_query(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[component]
fn Impact(
    view: ImpactView,
    pairs: Vec<(String, String)>,
    save: ServerAction<AdminSavePolicy>,
) -> impl IntoView {
    let i18n = use_i18n();
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let csv = format!("/admin/password-reset/impact.csv?{}", query_string(&pairs));
    // Back to the form with these values in it, not the stored ones.
    let back = format!("{SETTINGS}?{}", query_string(&pairs));
    let hidden = pairs
        .into_iter()
        .map(|(k, v)| view! { <input type="hidden" name=k value=v /> })
        .collect_view();
    let ImpactView {
        users_losing,
        admins_losing,
        losing_for_methods,
        gaining,
        changes,
        total_changes,
        differences,
        current,
        fresh_proof,
    } = view;
    let shown = changes.len() as u64;
    let differences_rows = differences
        .into_iter()
        .map(|d| {
            let field = d.field.clone();
            view! {
                <tr>
                    <th scope="row">{move || label(i18n.get_locale(), &field)}</th>
                    <td dir="ltr">
                        <code>{d.before}</code>
                    </td>
                    <td dir="ltr">
                        <code>{d.after}</code>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let change_rows = changes
        .into_iter()
        .map(|c| view! { <ChangeRow change=c /> })
        .collect_view();
    view! {
        <h2>{t_str!(i18n, admin_impact_heading)}</h2>
        <ul class="impact" data-testid="impact">
            <li data-testid="users-losing" data-count=users_losing>
                {t!(i18n, admin_impact_users_losing, count = count_in(i18n, users_losing))}
            </li>
            <li data-testid="admins-losing" data-count=admins_losing>
                {t!(i18n, admin_impact_admins_losing, count = count_in(i18n, admins_losing))}
            </li>
            <li data-testid="losing-for-methods" data-count=losing_for_methods>
                {t!(i18n, admin_impact_for_methods, count = count_in(i18n, losing_for_methods))}
            </li>
            <li data-testid="gaining" data-count=gaining>
                {t!(i18n, admin_impact_gaining, count = count_in(i18n, gaining))}
            </li>
        </ul>
        {(!current)
            .then(|| {
                view! { <p class="notice">{t_str!(i18n, admin_impact_outdated)}</p> }
            })}
        <table class="admin-table" data-testid="differences">
            <caption>{t_str!(i18n, admin_impact_differences_caption)}</caption>
            <thead>
                <tr>
                    <th scope="col">{t_str!(i18n, admin_col_setting)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_before)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_after)}</th>
                </tr>
            </thead>
            <tbody>{differences_rows}</tbody>
        </table>
        <table class="admin-table" data-testid="changes">
            <caption>
                {t!(
                    i18n, admin_impact_changes_caption, shown = count_in(i18n, shown), total = count_in(i18n, total_changes)
                )}
            </caption>
            <thead>
                <tr>
                    <th scope="col">{t_str!(i18n, admin_col_user_id)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_name)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_role)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_before)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_after)}</th>
                </tr>
            </thead>
            <tbody>{change_rows}</tbody>
        </table>
        <p>
            <a href=csv download="impact.csv" data-testid="impact-csv">
                {t_str!(i18n, admin_impact_csv)}
            </a>
        </p>
        <ProofNotice fresh=fresh_proof back_to=SETTINGS />
        <ErrorAlert error />
        <ActionForm action=save>
            {hidden} <button type="submit" class="primary" disabled=move || save.pending().get()>
                {t_str!(i18n, admin_impact_save)}
            </button>
        </ActionForm>
        <p>
            <a href=back data-testid="edit-again">
                {t_str!(i18n, admin_impact_back)}
            </a>
        </p>
    }
}

/// A standing in words.
fn standing_text(l: Locale, standing: &str) -> String {
    match standing {
        "eligible" => td_str!(l, admin_standing_eligible).to_string(),
        "disabled" => td_str!(l, admin_standing_disabled).to_string(),
        "not_in_scope" => td_str!(l, admin_standing_not_in_scope).to_string(),
        _ => td_str!(l, admin_standing_short_methods).to_string(),
    }
}

#[component]
fn ChangeRow(change: ImpactChangeView) -> impl IntoView {
    let i18n = use_i18n();
    let is_admin = change.role == "admin";
    let (before, after) = (change.before.clone(), change.after.clone());
    let row = change.login.clone();
    view! {
        <tr data-change=row>
            <th scope="row">
                <bdi dir="ltr">{change.login}</bdi>
            </th>
            <td>
                <bdi>{change.display_name}</bdi>
            </td>
            <td>
                {move || {
                    if is_admin {
                        t_str!(i18n, admin_role_admin).to_string()
                    } else {
                        t_str!(i18n, admin_role_user).to_string()
                    }
                }}
            </td>
            <td>{move || standing_text(i18n.get_locale(), &before)}</td>
            <td>{move || standing_text(i18n.get_locale(), &after)}</td>
        </tr>
    }
}
