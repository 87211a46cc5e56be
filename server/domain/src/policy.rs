//! The organisation's SSPR policy. Until the admin portal edits it, the
//! `settings` row `policy` (JSON) overrides these defaults field by field;
//! with no row, the defaults apply.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Db, DomainError, Timestamp};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Methods a user must register and, later, verify to reset (1 or 2).
    /// Admins always need 2 whatever this says.
    pub methods_required: u8,
    pub allow_email: bool,
    pub allow_phone_sms: bool,
    pub allow_phone_voice: bool,
    pub allow_authenticator: bool,
    /// Off by default: knowledge-based answers are weak (ASVS 6.4.2,
    /// NIST 800-63B). Never for admins, never the only method.
    pub allow_questions: bool,
    pub questions_to_register: u8,
    /// Signing in without enough methods interrupts with the wizard.
    pub require_registration: bool,
    /// Times a user may postpone registering before it becomes mandatory.
    pub max_registration_skips: u8,
    /// Days before users are asked to reconfirm their info (0 = never).
    pub reconfirm_days: u16,
    /// ISO 3166 regions whose phone numbers may be registered.
    pub phone_regions: Vec<String>,
    /// Region assumed for numbers typed without a country code.
    pub default_phone_region: String,
    pub email_code_length: u8,
    pub phone_code_length: u8,
    pub code_ttl_secs: i64,
    pub max_code_attempts: i64,
    pub resend_cooldown_secs: i64,
    pub max_sends_per_destination_per_hour: i64,
    pub max_sends_per_account_per_hour: i64,
    /// Minimum password length, in characters, for accounts with another
    /// factor registered; accounts with none need 15. Never below 8.
    pub password_min_length: u8,
    /// Words no password may contain (4–16 characters, at most 1000),
    /// matched case-insensitively, through 0/1/$/@ swaps and one typo.
    pub banned_words: Vec<String>,
    /// Who may reset: `all`, `none` or `groups` (members of
    /// `sspr_groups`). Admins always may.
    pub sspr_scope: String,
    pub sspr_groups: Vec<String>,
    /// A locked-out user who knows the password may unlock the account
    /// through the reset gates without changing it.
    pub allow_unlock: bool,
    /// When an admin resets their own password, the other admins are told.
    pub notify_admins_on_admin_reset: bool,
    /// Shown with reset errors: a help-desk URL or email address ("" = none).
    pub helpdesk_contact: String,
    /// Opt-in, Entra style: the reset gates show masked hints of the
    /// registered address and number (`da***@example.org`, `*******78`)
    /// and email codes go out without typing the address. Off by default:
    /// anyone who types a user ID sees the hints.
    pub reset_show_hints: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            methods_required: 1,
            allow_email: true,
            allow_phone_sms: true,
            allow_phone_voice: true,
            allow_authenticator: true,
            allow_questions: false,
            questions_to_register: 3,
            require_registration: true,
            max_registration_skips: 3,
            reconfirm_days: 180,
            phone_regions: vec!["US".into(), "IL".into(), "JP".into(), "TW".into()],
            default_phone_region: "US".into(),
            email_code_length: 8,
            phone_code_length: 6,
            code_ttl_secs: 600,
            max_code_attempts: 5,
            resend_cooldown_secs: 60,
            max_sends_per_destination_per_hour: 5,
            max_sends_per_account_per_hour: 10,
            password_min_length: 8,
            banned_words: Vec::new(),
            sspr_scope: "all".into(),
            sspr_groups: Vec::new(),
            allow_unlock: true,
            notify_admins_on_admin_reset: true,
            helpdesk_contact: String::new(),
            reset_show_hints: false,
        }
    }
}

impl Policy {
    /// Methods this account must have registered: admins always two.
    pub fn required_for(&self, is_admin: bool) -> usize {
        if is_admin {
            2
        } else {
            usize::from(self.methods_required.clamp(1, 2))
        }
    }
}

pub async fn load(db: &Db) -> Result<Policy, DomainError> {
    let row = sqlx::query("SELECT value FROM settings WHERE setting_key = 'policy'")
        .fetch_optional(db.pool())
        .await?;
    match row {
        None => Ok(Policy::default()),
        Some(r) => {
            let text: String = r.try_get("value")?;
            serde_json::from_str(&text)
                .map_err(|e| DomainError::Corrupt(format!("settings.policy: {e}")))
        }
    }
}

pub async fn save(db: &Db, p: &Policy, now: Timestamp) -> Result<(), DomainError> {
    let text = serde_json::to_string(p).map_err(|e| DomainError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO settings (setting_key, value, updated_at) VALUES ('policy', $1, $2) \
         ON CONFLICT (setting_key) DO UPDATE SET value = $1, updated_at = $2",
    )
    .bind(text)
    .bind(now.secs())
    .execute(db.pool())
    .await?;
    Ok(())
}
