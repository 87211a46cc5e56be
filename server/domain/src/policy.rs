//! The organisation's SSPR policy. Until the admin portal edits it, the
//! `settings` row `policy` (JSON) overrides these defaults field by field;
//! with no row, the defaults apply.

use serde::{Deserialize, Serialize};

use crate::{Db, DomainError, Timestamp, password_policy, questions, store};

/// Who may reset their own password. Admins always may.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SsprScope {
    /// Everyone.
    #[default]
    All,
    /// Nobody but admins.
    None,
    /// Members of `sspr_groups`.
    Groups,
}

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
    pub sspr_scope: SsprScope,
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
            sspr_scope: SsprScope::All,
            sspr_groups: Vec::new(),
            allow_unlock: true,
            notify_admins_on_admin_reset: true,
            helpdesk_contact: String::new(),
            reset_show_hints: false,
        }
    }
}

impl Policy {
    /// Digits of the codes sent to an email address, or to a phone.
    pub fn code_length(&self, kind: crate::methods::Kind) -> usize {
        usize::from(if kind == crate::methods::Kind::Email {
            self.email_code_length
        } else {
            self.phone_code_length
        })
    }

    /// Methods this account must have registered: admins always two.
    pub fn required_for(&self, is_admin: bool) -> usize {
        if is_admin {
            2
        } else {
            usize::from(self.methods_required.clamp(1, 2))
        }
    }
}

/// A policy that cannot be saved, with the rule it breaks.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl Policy {
    /// Checks every rule a stored policy must keep; `save` runs it, so no
    /// caller can store a policy the product would misread.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let fail = |m: String| Err(PolicyError::Invalid(m));
        if !(1..=2).contains(&self.methods_required) {
            return fail("methods_required must be 1 or 2".into());
        }
        let min = usize::from(self.password_min_length);
        if !(password_policy::FLOOR..=password_policy::MAX).contains(&min) {
            return fail("password_min_length must be 8 to 128".into());
        }
        if !password_policy::valid_banned_words(&self.banned_words) {
            return fail("banned_words: at most 1000 words of 4 to 16 characters".into());
        }
        if !(1..=questions::MAX_QUESTIONS).contains(&usize::from(self.questions_to_register)) {
            return fail(format!(
                "questions_to_register must be 1 to {}",
                questions::MAX_QUESTIONS
            ));
        }
        Ok(())
    }
}

/// The `settings` key the policy is stored under.
const KEY: &str = "policy";

pub async fn load(db: &Db) -> Result<Policy, DomainError> {
    match store::settings::get(db.pool(), KEY).await? {
        None => Ok(Policy::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| DomainError::Corrupt(format!("settings.policy: {e}"))),
    }
}

/// Validates and stores the policy.
pub async fn save(db: &Db, p: &Policy, now: Timestamp) -> Result<(), PolicyError> {
    p.validate()?;
    let text = serde_json::to_string(p).map_err(|e| DomainError::Corrupt(e.to_string()))?;
    store::settings::put(db.pool(), KEY, &text, now).await?;
    Ok(())
}
