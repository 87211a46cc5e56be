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
    pub members: Vec<MemberView>,
    pub fresh_proof: bool,
}
