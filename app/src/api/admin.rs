//! The admin portal's server functions. All are named `admin_*` and live
//! under `/api/admin_`: the server's `admin_only` layer refuses any request
//! there without an admin session before the arguments are read, and each
//! function checks again (`crate::ssr::admin::admin`). A test lists every
//! registered function with that prefix and tries it without a session, as
//! a user and as an admin, so a new one cannot miss the check.

// The settings form posts every field of the policy; its server function
// takes them as arguments, one per field, like any no-JavaScript form.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use sspr_proto::admin::{
    AddUsersView, AuditPageView, GroupMembersView, GroupsView, ImpactView, PolicyHistoryView,
    PolicyPageView, UserDetailView, UsersPageView,
};

use crate::error::AppError;

/// The "Password reset" settings and what the form needs beside them.
#[server(prefix = "/api", endpoint = "admin_policy")]
pub async fn admin_policy() -> Result<PolicyPageView, AppError> {
    crate::ssr::admin::policy_page().await
}

/// Saves the settings as a new version. `version` is the one the form
/// was loaded with; checkboxes are present when ticked.
#[server(prefix = "/api", endpoint = "admin_save_policy")]
pub async fn admin_save_policy(
    version: i64,
    #[server(default)] sspr_scope: String,
    #[server(default)] sspr_groups: String,
    #[server(default)] methods_required: String,
    #[server(default)] allow_email: Option<String>,
    #[server(default)] allow_phone_sms: Option<String>,
    #[server(default)] allow_phone_voice: Option<String>,
    #[server(default)] allow_authenticator: Option<String>,
    #[server(default)] allow_questions: Option<String>,
    #[server(default)] questions_to_register: String,
    #[server(default)] require_registration: Option<String>,
    #[server(default)] max_registration_skips: String,
    #[server(default)] reconfirm_days: String,
    #[server(default)] notify_users_on_reset: Option<String>,
    #[server(default)] notify_admins_on_admin_reset: Option<String>,
    #[server(default)] helpdesk_contact: String,
    #[server(default)] password_min_length: String,
    #[server(default)] single_factor_password_min_length: String,
    #[server(default)] banned_words: String,
    #[server(default)] phone_regions: String,
    #[server(default)] default_phone_region: String,
    #[server(default)] max_sends_per_destination_per_hour: String,
    #[server(default)] max_sends_per_account_per_hour: String,
    #[server(default)] allow_unlock: Option<String>,
    #[server(default)] reset_show_hints: Option<String>,
    #[server(default)] sign_in_second_factor: String,
    #[server(default)] email_code_length: String,
    #[server(default)] phone_code_length: String,
    #[server(default)] code_ttl_secs: String,
    #[server(default)] max_code_attempts: String,
    #[server(default)] resend_cooldown_secs: String,
) -> Result<(), AppError> {
    let flag = |v: Option<String>| v.map(|_| "on".to_owned()).unwrap_or_default();
    let fields = vec![
        ("sspr_scope", sspr_scope),
        ("sspr_groups", sspr_groups),
        ("methods_required", methods_required),
        ("allow_email", flag(allow_email)),
        ("allow_phone_sms", flag(allow_phone_sms)),
        ("allow_phone_voice", flag(allow_phone_voice)),
        ("allow_authenticator", flag(allow_authenticator)),
        ("allow_questions", flag(allow_questions)),
        ("questions_to_register", questions_to_register),
        ("require_registration", flag(require_registration)),
        ("max_registration_skips", max_registration_skips),
        ("reconfirm_days", reconfirm_days),
        ("notify_users_on_reset", flag(notify_users_on_reset)),
        (
            "notify_admins_on_admin_reset",
            flag(notify_admins_on_admin_reset),
        ),
        ("helpdesk_contact", helpdesk_contact),
        ("password_min_length", password_min_length),
        (
            "single_factor_password_min_length",
            single_factor_password_min_length,
        ),
        ("banned_words", banned_words),
        ("phone_regions", phone_regions),
        ("default_phone_region", default_phone_region),
        (
            "max_sends_per_destination_per_hour",
            max_sends_per_destination_per_hour,
        ),
        (
            "max_sends_per_account_per_hour",
            max_sends_per_account_per_hour,
        ),
        ("allow_unlock", flag(allow_unlock)),
        ("reset_show_hints", flag(reset_show_hints)),
        ("sign_in_second_factor", sign_in_second_factor),
        ("email_code_length", email_code_length),
        ("phone_code_length", phone_code_length),
        ("code_ttl_secs", code_ttl_secs),
        ("max_code_attempts", max_code_attempts),
        ("resend_cooldown_secs", resend_cooldown_secs),
    ];
    crate::ssr::admin::save_policy(crate::ssr::admin::PolicyForm { version, fields }).await
}

/// Saved versions of the settings, newest first; `before` pages on.
#[server(prefix = "/api", endpoint = "admin_policy_history")]
pub async fn admin_policy_history(
    #[server(default)] before: Option<i64>,
) -> Result<PolicyHistoryView, AppError> {
    crate::ssr::admin::policy_history(before).await
}

/// Brings back version `version` as a new version; `based_on` is the
/// newest version the page showed.
#[server(prefix = "/api", endpoint = "admin_restore_policy")]
pub async fn admin_restore_policy(version: i64, based_on: i64) -> Result<(), AppError> {
    crate::ssr::admin::restore_policy(version, based_on).await
}

/// One page of the audit log, filtered (each filter empty = any).
#[server(prefix = "/api", endpoint = "admin_audit")]
pub async fn admin_audit(
    #[server(default)] user: String,
    #[server(default)] event: String,
    #[server(default)] outcome: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] before: Option<i64>,
) -> Result<AuditPageView, AppError> {
    let q = crate::ssr::admin::AuditQuery {
        user,
        event,
        outcome,
        from,
        to,
    };
    crate::ssr::admin::audit_page(q, before).await
}

/// Local groups with their member counts.
#[server(prefix = "/api", endpoint = "admin_groups")]
pub async fn admin_groups() -> Result<GroupsView, AppError> {
    crate::ssr::admin::groups_page().await
}

/// One group's members.
#[server(prefix = "/api", endpoint = "admin_group_members")]
pub async fn admin_group_members(
    #[server(default)] group: String,
) -> Result<GroupMembersView, AppError> {
    crate::ssr::admin::group_members(group).await
}

/// Creates a local group (and goes to its members).
#[server(prefix = "/api", endpoint = "admin_create_group")]
pub async fn admin_create_group(name: String) -> Result<(), AppError> {
    crate::ssr::admin::create_group(name).await
}

/// Adds the account `login` names to `group`.
#[server(prefix = "/api", endpoint = "admin_add_member")]
pub async fn admin_add_member(group: String, login: String) -> Result<(), AppError> {
    crate::ssr::admin::set_member(group, login, true).await
}

/// Removes the account from `group`.
#[server(prefix = "/api", endpoint = "admin_remove_member")]
pub async fn admin_remove_member(group: String, login: String) -> Result<(), AppError> {
    crate::ssr::admin::set_member(group, login, false).await
}

/// What saving the settings in `query` (the settings form, as the preview
/// page's URL carries it) would change: who loses and who gains the
/// right to reset, and the fields that differ.
#[server(prefix = "/api", endpoint = "admin_preview_policy")]
pub async fn admin_preview_policy(
    #[server(default)] query: String,
) -> Result<ImpactView, AppError> {
    crate::ssr::admin_impact::preview(query).await
}

/// A page of the users list, filtered (each filter empty = any), after the
/// user ID `after`.
#[server(prefix = "/api", endpoint = "admin_users")]
pub async fn admin_users(
    #[server(default)] q: String,
    #[server(default)] role: String,
    #[server(default)] registered: String,
    #[server(default)] can_reset: String,
    #[server(default)] status: String,
    #[server(default)] after: Option<String>,
) -> Result<UsersPageView, AppError> {
    let q = crate::ssr::admin_users::UsersQuery {
        text: q,
        role,
        registered,
        can_reset,
        status,
    };
    crate::ssr::admin_users::users_page(q, after).await
}

/// The page that adds accounts, with the report of import `report`.
#[server(prefix = "/api", endpoint = "admin_add_users")]
pub async fn admin_add_users(
    #[server(default)] report: Option<i64>,
) -> Result<AddUsersView, AppError> {
    crate::ssr::admin_users::add_users(report).await
}

/// Creates a local account (`groups` `;`- or `,`-separated); with
/// `welcome` ticked, emails the user how to set their first password.
#[server(prefix = "/api", endpoint = "admin_create_user")]
pub async fn admin_create_user(
    login: String,
    display_name: String,
    #[server(default)] email: String,
    #[server(default)] role: String,
    #[server(default)] groups: String,
    #[server(default)] welcome: Option<String>,
) -> Result<(), AppError> {
    crate::ssr::admin_users::create_user(
        crate::ssr::admin_users::NewAccountForm {
            login,
            display_name,
            email,
            role,
            groups,
        },
        welcome.is_some(),
    )
    .await
}

/// One account's detail.
#[server(prefix = "/api", endpoint = "admin_user")]
pub async fn admin_user(id: i64) -> Result<UserDetailView, AppError> {
    crate::ssr::admin_users::user_detail(id).await
}

/// An action on account `id`: `disable`, `enable`, `unlock`, `sign_out`,
/// `clear_security_info` (with `confirm` ticked), `invite_register` or
/// `invite_reset`.
#[server(prefix = "/api", endpoint = "admin_user_action")]
pub async fn admin_user_action(
    id: i64,
    action: String,
    #[server(default)] confirm: Option<String>,
) -> Result<(), AppError> {
    crate::ssr::admin_users::user_action(id, action, confirm.is_some()).await
}

/// Renames `group` to `name` (refused while the settings name it).
#[server(prefix = "/api", endpoint = "admin_rename_group")]
pub async fn admin_rename_group(group: String, name: String) -> Result<(), AppError> {
    crate::ssr::admin::rename_group(group, name).await
}

/// Deletes `group` (with `confirm` ticked; refused while the settings
/// name it). The accounts stay.
#[server(prefix = "/api", endpoint = "admin_delete_group")]
pub async fn admin_delete_group(
    group: String,
    #[server(default)] confirm: Option<String>,
) -> Result<(), AppError> {
    crate::ssr::admin::delete_group(group, confirm.is_some()).await
}
