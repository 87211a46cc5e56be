//! What the admin portal's pages show: the password reset settings, their
//! history, the audit log. Only the admin part of the wasm uses these.

use serde::{Deserialize, Serialize};

/// The SSPR policy as the settings form shows it (the server's `Policy`,
/// field for field, with the lists as lists).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySettings {
    /// `none`, `groups` or `all`.
    pub sspr_scope: String,
    pub sspr_groups: Vec<String>,
    pub methods_required: u8,
    pub allow_email: bool,
    pub allow_phone_sms: bool,
    pub allow_phone_voice: bool,
    pub allow_authenticator: bool,
    pub allow_questions: bool,
    pub questions_to_register: u8,
    pub require_registration: bool,
    pub max_registration_skips: u8,
    pub reconfirm_days: u16,
    pub notify_users_on_reset: bool,
    pub notify_admins_on_admin_reset: bool,
    pub helpdesk_contact: String,
    pub password_min_length: u8,
    pub single_factor_password_min_length: u8,
    pub banned_words: Vec<String>,
    pub phone_regions: Vec<String>,
    pub default_phone_region: String,
    pub max_sends_per_destination_per_hour: i64,
    pub max_sends_per_account_per_hour: i64,
    pub allow_unlock: bool,
    pub reset_show_hints: bool,
    /// `admins` or `everyone`.
    pub sign_in_second_factor: String,
    pub email_code_length: u8,
    pub phone_code_length: u8,
    pub code_ttl_secs: i64,
    pub max_code_attempts: i64,
    pub resend_cooldown_secs: i64,
}

/// Every field the settings form posts (checkboxes only when ticked): what
/// the impact preview carries from the form to the save.
pub const POLICY_FIELDS: [&str; 30] = [
    "sspr_scope",
    "sspr_groups",
    "methods_required",
    "allow_email",
    "allow_phone_sms",
    "allow_phone_voice",
    "allow_authenticator",
    "allow_questions",
    "questions_to_register",
    "require_registration",
    "max_registration_skips",
    "reconfirm_days",
    "notify_users_on_reset",
    "notify_admins_on_admin_reset",
    "helpdesk_contact",
    "password_min_length",
    "single_factor_password_min_length",
    "banned_words",
    "phone_regions",
    "default_phone_region",
    "max_sends_per_destination_per_hour",
    "max_sends_per_account_per_hour",
    "allow_unlock",
    "reset_show_hints",
    "sign_in_second_factor",
    "email_code_length",
    "phone_code_length",
    "code_ttl_secs",
    "max_code_attempts",
    "resend_cooldown_secs",
];

/// Settings that live in the configuration file, shown read-only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFacts {
    pub lockout_threshold: i64,
    pub lockout_account_threshold: i64,
    pub lockout_base_secs: i64,
    pub session_idle_secs: i64,
    pub admin_session_idle_secs: i64,
    /// `ldap`, `active_directory`, or "" without a directory.
    pub directory: String,
}

/// The "Password reset" settings page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyPageView {
    /// The version in force (0: never saved); the form posts it back.
    pub version: i64,
    pub settings: PolicySettings,
    /// The defaults, shown beside each field.
    pub defaults: PolicySettings,
    /// Local groups, for the "Selected" scope.
    pub groups: Vec<String>,
    pub config: ConfigFacts,
    /// The admin proved who they are recently enough to save.
    pub fresh_proof: bool,
}

/// One field a saved version changed, both values as JSON text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersionView {
    pub id: i64,
    /// Unix seconds, UTC.
    pub saved_at: i64,
    pub saved_by: String,
    pub restored_from: Option<i64>,
    pub changes: Vec<FieldChange>,
}

/// The settings' history, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyHistoryView {
    pub latest: i64,
    pub versions: Vec<PolicyVersionView>,
    /// The next (older) page starts before this version.
    pub next_before: Option<i64>,
    pub fresh_proof: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub id: i64,
    /// Unix seconds, UTC.
    pub at: i64,
    pub event: String,
    pub outcome: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

/// One page of the audit log, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPageView {
    pub entries: Vec<AuditEntryView>,
    pub next_before: Option<i64>,
    /// Every event name, for the filter.
    pub events: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub name: String,
    pub members: i64,
    /// Filled by the directory's sync: shown read-only.
    pub from_directory: bool,
}

/// The local groups page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupsView {
    pub groups: Vec<GroupSummary>,
    /// Groups the "Selected" scope names.
    pub selected: Vec<String>,
    pub fresh_proof: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub login: String,
    pub display_name: String,
    /// Mirrored from the directory: managed there, not here.
    pub from_directory: bool,
}

/// One group's members.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMembersView {
    pub group: String,
    /// Filled by the directory's sync: no forms to change it.
    pub from_directory: bool,
    pub members: Vec<MemberView>,
    pub fresh_proof: bool,
}

/// One account in the users list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRowView {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    /// `user` or `admin`.
    pub role: String,
    pub enabled: bool,
    pub from_directory: bool,
    pub methods: i64,
}

/// A page of the users list, in user ID order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersPageView {
    pub users: Vec<UserRowView>,
    /// The next page starts after this user ID.
    pub next_after: Option<String>,
}

/// A registered method as an admin sees it: masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminMethodView {
    pub kind: String,
    pub destination: String,
    /// Unix seconds, UTC: when it was last proven.
    pub verified_at: i64,
    pub is_default: bool,
}

/// One account's detail page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetailView {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: String,
    pub enabled: bool,
    pub from_directory: bool,
    /// Unix seconds, UTC.
    pub created_at: i64,
    pub password_changed_at: Option<i64>,
    pub info_confirmed_at: Option<i64>,
    pub last_sign_in: Option<i64>,
    pub last_reset: Option<i64>,
    /// The sign-in lockout ends then; `None`: not locked.
    pub locked_until: Option<i64>,
    pub groups: Vec<String>,
    pub methods: Vec<AdminMethodView>,
    /// `eligible`, `disabled`, `not_in_scope` or `needs_methods`.
    pub standing: String,
    /// Usable methods and methods needed (for `needs_methods`).
    pub have: u32,
    pub need: u32,
    /// The page is the signed-in admin's own account.
    pub is_self: bool,
    pub fresh_proof: bool,
}

/// An account a policy change flips.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactChangeView {
    pub login: String,
    pub display_name: String,
    pub role: String,
    /// Standings, as in `UserDetailView::standing`.
    pub before: String,
    pub after: String,
}

/// What saving the proposed settings would change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactView {
    pub users_losing: u64,
    pub admins_losing: u64,
    pub losing_for_methods: u64,
    pub gaining: u64,
    /// The first accounts that change, by user ID (the CSV has them all).
    pub changes: Vec<ImpactChangeView>,
    pub total_changes: u64,
    /// Field by field, what the proposal changes in the settings in force.
    pub differences: Vec<FieldChange>,
    /// The version the proposal was made from is still the one in force.
    pub current: bool,
    pub fresh_proof: bool,
}

/// The page that adds accounts: one by its form, many from a CSV file,
/// and the report of an import (`?report=` the import's audit row).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddUsersView {
    pub fresh_proof: bool,
    /// The largest file the portal takes, in KiB and rows.
    pub max_kib: u32,
    pub max_rows: u32,
    pub report: Option<ImportReportView>,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReportView {
    pub at: i64,
    /// The admin's user ID; `None` for the command line.
    pub by: Option<String>,
    pub created: u32,
    pub rejected: u32,
    /// The first rejected rows (the audit row keeps 200).
    pub rows: Vec<ImportRejectView>,
}

/// A row the import refused: its line in the file, a stable code and the
/// value it gave (when the code names one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRejectView {
    pub line: u64,
    pub code: String,
    pub value: Option<String>,
}
