//! Adding accounts: one by a form, many from a CSV file (the same code as
//! `sspr user import`, posted as a plain file upload so it works without
//! JavaScript), and an import's report by line (`?report=`, kept by the
//! import's audit row). New accounts have no password: the email address
//! given becomes their first security info, and the user sets a password
//! with the reset wizard (docs/security.md #94).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sspr_proto::admin::{AddUsersView, ImportReportView};

use super::when::When;
use super::{AdminNav, ProofNotice, load_error};
use crate::api::admin::{AdminCreateUser, admin_add_users};
use crate::components::alert::ErrorAlert;
use crate::components::page::Page;
use crate::error::AppError;
use crate::format::count_in;
use crate::i18n::*;
use crate::resource;

const USERS: &str = "/admin/users";
const HERE: &str = "/admin/users/add";
/// Where the import form posts (`server/src/users_import.rs`).
const UPLOAD: &str = "/admin/users/import";

#[component]
pub fn AddUsersPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let report = move || {
        query
            .read()
            .get("report")
            .and_then(|r| r.parse::<i64>().ok())
    };
    let view = resource::blocking(report, admin_add_users);
    view! {
        <Page title=move || t_str!(i18n, admin_add_users_title).to_string() wide=true>
            <AdminNav current=USERS />
            <Suspense fallback=move || {
                view! { <p class="loading">{t_str!(i18n, loading)}</p> }
            }>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(v) => view! { <AddUsers view=v /> }.into_any(),
                        Err(e) => load_error(e, HERE),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn AddUsers(view: AddUsersView) -> impl IntoView {
    let i18n = use_i18n();
    // The upload's refusal comes back in the URL (a plain form's answer).
    let query = use_query_map();
    let upload_error = Signal::derive(move || {
        query
            .read()
            .get("error")
            .and_then(|code| AppError::from_code(&code))
    });
    let (kib, rows) = (view.max_kib, view.max_rows);
    view! {
        <ProofNotice fresh=view.fresh_proof back_to=HERE />
        {view.report.map(|r| view! { <Report report=r /> })}
        <CreateForm />
        <section aria-labelledby="import-heading">
            <h2 id="import-heading">{t_str!(i18n, admin_import_heading)}</h2>
            <p>{t_str!(i18n, admin_import_help)}</p>
            <p>
                {t!(
                    i18n, admin_import_limits, kib = count_in(i18n, kib.into()), rows = count_in(i18n, rows.into())
                )}
            </p>
            <ErrorAlert error=upload_error />
            <form method="post" action=UPLOAD enctype="multipart/form-data">
                <div class="field">
                    <label for="file">{t_str!(i18n, admin_field_import_file)}</label>
                    <input type="file" id="file" name="file" accept=".csv,text/csv" required=true />
                </div>
                <button type="submit" data-testid="import">
                    {t_str!(i18n, admin_import_submit)}
                </button>
            </form>
        </section>
    }
}

#[component]
fn CreateForm() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<AdminCreateUser>::new();
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    // A refusal without JavaScript brings what was typed back in the URL
    // (`ssr::typed_back`); with JavaScript the form simply stays.
    // Only with a refusal in the URL: a link alone does not fill the form.
    let query = use_query_map();
    let came_back = query.read_untracked().get("__err").is_some();
    let typed = move |field: &str| {
        if came_back {
            query.read_untracked().get(field).unwrap_or_default()
        } else {
            String::new()
        }
    };
    let admin_role = typed("role") == "admin";
    let welcome = !came_back || !typed("welcome").is_empty();
    view! {
        <section aria-labelledby="create-heading">
            <h2 id="create-heading">{t_str!(i18n, admin_create_user_heading)}</h2>
            <p id="create-help">{t_str!(i18n, admin_create_user_help)}</p>
            <ErrorAlert error />
            <ActionForm action=create attr:aria-describedby="create-help">
                <div class="field">
                    <label for="login">{t_str!(i18n, admin_col_user_id)}</label>
                    <input
                        type="text"
                        id="login"
                        name="login"
                        value=typed("login")
                        dir="ltr"
                        required=true
                        maxlength=256
                        autocomplete="off"
                        autocapitalize="none"
                        spellcheck="false"
                    />
                </div>
                <div class="field">
                    <label for="display_name">{t_str!(i18n, admin_col_name)}</label>
                    <input
                        type="text"
                        id="display_name"
                        name="display_name"
                        value=typed("display_name")
                        required=true
                        maxlength=200
                        autocomplete="off"
                    />
                </div>
                <div class="field">
                    <label for="email">{t_str!(i18n, admin_col_email)}</label>
                    <input
                        type="email"
                        id="email"
                        name="email"
                        value=typed("email")
                        dir="ltr"
                        autocomplete="off"
                        spellcheck="false"
                    />
                </div>
                <div class="field">
                    <label for="role">{t_str!(i18n, admin_col_role)}</label>
                    <select id="role" name="role">
                        <option value="user" selected=!admin_role>
                            {t_str!(i18n, admin_role_user)}
                        </option>
                        <option value="admin" selected=admin_role>
                            {t_str!(i18n, admin_role_admin)}
                        </option>
                    </select>
                </div>
                <div class="field">
                    <label for="groups">{t_str!(i18n, admin_field_user_groups)}</label>
                    <input
                        type="text"
                        id="groups"
                        name="groups"
                        value=typed("groups")
                        dir="ltr"
                        autocomplete="off"
                        spellcheck="false"
                        aria-describedby="groups-help"
                    />
                    <p class="help" id="groups-help">
                        {t_str!(i18n, admin_field_user_groups_help)}
                    </p>
                </div>
                <div class="field checkbox">
                    <input type="checkbox" id="welcome" name="welcome" value="on" checked=welcome />
                    <label for="welcome">{t_str!(i18n, admin_create_user_welcome)}</label>
                </div>
                <button type="submit" data-testid="create" disabled=move || create.pending().get()>
                    {t_str!(i18n, admin_create_user_submit)}
                </button>
            </ActionForm>
        </section>
    }
}

/// An import's report: counts, then each refused row with its reason.
#[component]
fn Report(report: ImportReportView) -> impl IntoView {
    let i18n = use_i18n();
    let shown = report.rows.len() as u32;
    let more = report.rejected > shown;
    let (created, rejected) = (report.created, report.rejected);
    let by = report.by.clone();
    let rows = report
        .rows
        .into_iter()
        .map(|r| {
            let code = r.code.clone();
            view! {
                <tr data-code=r.code>
                    <th scope="row">{r.line}</th>
                    <td>{move || reason(i18n.get_locale(), &code)}</td>
                    <td>{r.value.map(|v| view! { <bdi dir="ltr">{v}</bdi> })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="report-heading" data-testid="import-report">
            <h2 id="report-heading">{t_str!(i18n, admin_import_report_heading)}</h2>
            <p role="status" data-testid="import-summary">
                {t!(
                    i18n, admin_import_report_summary, created = count_in(i18n, created.into()), rejected = count_in(i18n, rejected.into())
                )}
            </p>
            <p>
                <When secs=report.at />
                " · "
                {match by {
                    Some(login) => view! { <bdi dir="ltr">{login}</bdi> }.into_any(),
                    None => view! { <span>{t_str!(i18n, admin_import_by_cli)}</span> }.into_any(),
                }}
            </p>
            {(rejected > 0)
                .then(|| {
                    view! {
                        <table class="admin-table" data-testid="import-rows">
                            <caption>{t_str!(i18n, admin_import_rows_caption)}</caption>
                            <thead>
                                <tr>
                                    <th scope="col">{t_str!(i18n, admin_col_line)}</th>
                                    <th scope="col">{t_str!(i18n, admin_col_reason)}</th>
                                    <th scope="col">{t_str!(i18n, admin_col_value)}</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    }
                })}
            {more
                .then(|| {
                    view! {
                        <p>
                            {t!(i18n, admin_import_rows_more, shown = count_in(i18n, shown.into()))}
                        </p>
                    }
                })}
        </section>
    }
}

/// Why a row was refused, by its stable code (`import::Rejected`).
fn reason(l: Locale, code: &str) -> String {
    match code {
        "invalid_login" => td_str!(l, admin_import_reject_invalid_login),
        "invalid_display_name" => td_str!(l, admin_import_reject_invalid_display_name),
        "invalid_email" => td_str!(l, admin_import_reject_invalid_email),
        "invalid_role" => td_str!(l, admin_import_reject_invalid_role),
        "invalid_group" => td_str!(l, admin_import_reject_invalid_group),
        "invalid_password_hash" => td_str!(l, admin_import_reject_invalid_password_hash),
        "duplicate" => td_str!(l, admin_import_reject_duplicate),
        _ => td_str!(l, admin_import_reject_unreadable),
    }
    .to_string()
}
