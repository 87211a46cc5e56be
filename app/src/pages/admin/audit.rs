//! The audit log: every security event, newest first, filtered by user,
//! event, outcome and day (a plain GET form: the filter is in the URL, so
//! it works without JavaScript and can be bookmarked), a page at a time,
//! and the same filter as a CSV download (`/admin/audit.csv`, streamed).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sspr_proto::admin::{AuditEntryView, AuditPageView};

use super::when::When;
use super::{AdminNav, load_error};
use crate::api::admin::admin_audit;
use crate::components::page::Page;
use crate::i18n::*;
use crate::resource;

const HERE: &str = "/admin/audit";

/// The filter as the URL gives it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Query {
    user: String,
    event: String,
    outcome: String,
    from: String,
    to: String,
    before: Option<i64>,
}

impl Query {
    /// The filter's part of a URL (not the page), encoded.
    fn filter_string(&self) -> String {
        super::filter_query(&[
            ("user", self.user.as_str()),
            ("event", self.event.as_str()),
            ("outcome", self.outcome.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
        ])
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let current = move || {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        Query {
            user: get("user"),
            event: get("event"),
            outcome: get("outcome"),
            from: get("from"),
            to: get("to"),
            before: q.get("before").and_then(|b| b.parse().ok()),
        }
    };
    let page = resource::blocking(current, |q: Query| {
        admin_audit(q.user, q.event, q.outcome, q.from, q.to, q.before)
    });
    view! {
        <Page title=move || t_str!(i18n, admin_audit_title).to_string() wide=true>
            <AdminNav current=HERE />
            <Suspense fallback=move || {
                view! { <p class="loading">{t_str!(i18n, loading)}</p> }
            }>
                {move || Suspend::new(async move {
                    let q = current();
                    match page.await {
                        Ok(v) => view! { <AuditLog view=v query=q /> }.into_any(),
                        Err(e) => load_error(e, HERE),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn AuditLog(view: AuditPageView, query: Query) -> impl IntoView {
    let i18n = use_i18n();
    let filter = query.filter_string();
    let csv = format!("/admin/audit.csv?{filter}");
    let next = view.next_before.map(|b| {
        if filter.is_empty() {
            format!("{HERE}?before={b}")
        } else {
            format!("{HERE}?{filter}&before={b}")
        }
    });
    let event_options = view
        .events
        .iter()
        .map(|e| {
            let selected = *e == query.event;
            view! {
                <option value=e.clone() selected=selected>
                    {event_name(e)}
                </option>
            }
        })
        .collect_view();
    let outcome = query.outcome.clone();
    let outcome_option = move |value: &'static str, text: AnyView| {
        let selected = outcome == value;
        view! {
            <option value=value selected=selected>
                {text}
            </option>
        }
    };
    let rows = view
        .entries
        .into_iter()
        .map(|e| view! { <EntryRow entry=e /> })
        .collect_view();
    view! {
        <form method="get" action=HERE class="filters" role="search">
            <div class="field">
                <label for="user">{t_str!(i18n, admin_filter_user)}</label>
                <input
                    type="text"
                    id="user"
                    name="user"
                    dir="ltr"
                    autocomplete="off"
                    spellcheck="false"
                    value=query.user.clone()
                />
            </div>
            <div class="field">
                <label for="event">{t_str!(i18n, admin_filter_event)}</label>
                <select id="event" name="event">
                    <option value="">{t_str!(i18n, admin_filter_any)}</option>
                    {event_options}
                </select>
            </div>
            <div class="field">
                <label for="outcome">{t_str!(i18n, admin_filter_outcome)}</label>
                <select id="outcome" name="outcome">
                    {outcome_option("", t_str!(i18n, admin_filter_any).into_any())}
                    {outcome_option("success", t_str!(i18n, admin_outcome_success).into_any())}
                    {outcome_option("failure", t_str!(i18n, admin_outcome_failure).into_any())}
                    {outcome_option("alert", t_str!(i18n, admin_outcome_alert).into_any())}
                </select>
            </div>
            <div class="field">
                <label for="from">{t_str!(i18n, admin_filter_from)}</label>
                <input type="date" id="from" name="from" value=query.from.clone() />
            </div>
            <div class="field">
                <label for="to">{t_str!(i18n, admin_filter_to)}</label>
                <input type="date" id="to" name="to" value=query.to.clone() />
            </div>
            <button type="submit">{t_str!(i18n, admin_filter_apply)}</button>
        </form>
        <p>
            <a href=csv download="audit.csv" data-testid="audit-csv">
                {t_str!(i18n, admin_audit_csv)}
            </a>
        </p>
        <table class="admin-table" data-testid="audit">
            <caption>{t_str!(i18n, admin_audit_caption)}</caption>
            <thead>
                <tr>
                    <th scope="col" aria-sort="descending">
                        {t_str!(i18n, admin_col_time)}
                    </th>
                    <th scope="col">{t_str!(i18n, admin_col_event)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_outcome)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_actor)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_subject)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_address)}</th>
                    <th scope="col">{t_str!(i18n, admin_col_detail)}</th>
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
fn EntryRow(entry: AuditEntryView) -> impl IntoView {
    let i18n = use_i18n();
    let outcome = entry.outcome.clone();
    let event = entry.event.clone();
    view! {
        <tr data-event=event>
            <td>
                <When secs=entry.at />
            </td>
            <td>{event_name(&entry.event)}</td>
            <td>
                {move || match outcome.as_str() {
                    "success" => t_str!(i18n, admin_outcome_success).to_string(),
                    "failure" => t_str!(i18n, admin_outcome_failure).to_string(),
                    "alert" => t_str!(i18n, admin_outcome_alert).to_string(),
                    other => other.to_owned(),
                }}
            </td>
            <td>
                <bdi>{entry.actor}</bdi>
            </td>
            <td>
                <bdi>{entry.subject}</bdi>
            </td>
            <td dir="ltr">{entry.ip}</td>
            <td>
                <bdi>{entry.detail}</bdi>
            </td>
        </tr>
    }
}

/// An event's name in the page's language; the stored name (what the CSV
/// export and a SIEM see) for an event this build does not know, such as
/// one a newer instance wrote during a rolling upgrade.
fn event_name(event: &str) -> String {
    let l = use_i18n().get_locale_untracked();
    match event {
        "sign_in" => td_str!(l, audit_event_sign_in),
        "sign_in_second_factor" => td_str!(l, audit_event_sign_in_second_factor),
        "sign_out" => td_str!(l, audit_event_sign_out),
        "reauthenticate" => td_str!(l, audit_event_reauthenticate),
        "password_changed" => td_str!(l, audit_event_password_changed),
        "password_reset" => td_str!(l, audit_event_password_reset),
        "account_unlocked" => td_str!(l, audit_event_account_unlocked),
        "reset_started" => td_str!(l, audit_event_reset_started),
        "reset_gate" => td_str!(l, audit_event_reset_gate),
        "reset_surge" => td_str!(l, audit_event_reset_surge),
        "phone_budget" => td_str!(l, audit_event_phone_budget),
        "security_info_added" => td_str!(l, audit_event_security_info_added),
        "security_info_removed" => td_str!(l, audit_event_security_info_removed),
        "security_info_confirmed" => td_str!(l, audit_event_security_info_confirmed),
        "security_info_code" => td_str!(l, audit_event_security_info_code),
        "policy_changed" => td_str!(l, audit_event_policy_changed),
        "audit_exported" => td_str!(l, audit_event_audit_exported),
        "group_created" => td_str!(l, audit_event_group_created),
        "group_member_added" => td_str!(l, audit_event_group_member_added),
        "group_member_removed" => td_str!(l, audit_event_group_member_removed),
        "account_disabled" => td_str!(l, audit_event_account_disabled),
        "account_enabled" => td_str!(l, audit_event_account_enabled),
        "sessions_revoked" => td_str!(l, audit_event_sessions_revoked),
        "security_info_cleared" => td_str!(l, audit_event_security_info_cleared),
        "invitation_sent" => td_str!(l, audit_event_invitation_sent),
        "impact_exported" => td_str!(l, audit_event_impact_exported),
        "group_renamed" => td_str!(l, audit_event_group_renamed),
        "group_deleted" => td_str!(l, audit_event_group_deleted),
        "users_exported" => td_str!(l, audit_event_users_exported),
        "account_created" => td_str!(l, audit_event_account_created),
        "users_imported" => td_str!(l, audit_event_users_imported),
        other => return other.to_owned(),
    }
    .to_owned()
}
