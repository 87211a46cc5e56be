//! `/admin`: where an admin starts — the settings, their history and the
//! audit log.

use leptos::prelude::*;
use sspr_proto::admin::PolicyPageView;

use super::{AdminNav, load_error};
use crate::api::admin::admin_policy;
use crate::components::loader::WithView;
use crate::components::page::Page;
use crate::i18n::*;

const HERE: &str = "/admin";

#[component]
pub fn AdminHomePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Page title=move || t_str!(i18n, admin_title).to_string() wide=true>
            <AdminNav current=HERE />
            // Loaded for the check alone: the page is for admins only.
            <WithView
                load=admin_policy
                page=|v: PolicyPageView| view! { <Overview view=v /> }
                error=|e| load_error(e, HERE)
            />
        </Page>
    }
}

#[component]
fn Overview(view: PolicyPageView) -> impl IntoView {
    let i18n = use_i18n();
    let scope = view.settings.sspr_scope.clone();
    let groups = view.settings.sspr_groups.join(", ");
    view! {
        <h2>{t_str!(i18n, admin_settings_heading)}</h2>
        <p>
            <a href="/admin/password-reset" data-testid="settings-link">
                {t_str!(i18n, admin_policy_title)}
            </a>
            " — "
            <span data-testid="scope-summary">
                {move || match scope.as_str() {
                    "none" => t_str!(i18n, admin_scope_none).to_string(),
                    "groups" => format!("{}: {}", t_str!(i18n, admin_scope_groups), groups.clone()),
                    _ => t_str!(i18n, admin_scope_all).to_string(),
                }}
            </span>
        </p>
        <p>{t_str!(i18n, admin_rule_admins)}</p>
        <p>
            <a href="/admin/users">{t_str!(i18n, admin_users_title)}</a>
        </p>
        <p>
            <a href="/admin/groups">{t_str!(i18n, admin_groups_title)}</a>
        </p>
        <h2>{t_str!(i18n, admin_activity_heading)}</h2>
        <ul>
            <li>
                <a href="/admin/password-reset/history">{t_str!(i18n, admin_history_title)}</a>
            </li>
            <li>
                <a href="/admin/audit">{t_str!(i18n, admin_audit_title)}</a>
            </li>
        </ul>
    }
}
