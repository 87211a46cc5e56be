//! The organisation's SSPR policy. The `settings` row `policy` (JSON)
//! overrides these defaults field by field; with no row, the defaults
//! apply. Every save goes through `policy_history` (a version, its
//! changes and an audit row, in one transaction).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

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

/// Whose sign-in asks for a second factor after the password
/// (docs/security.md #82). Admins always.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecondFactorScope {
    /// Admins only.
    #[default]
    Admins,
    /// Every account with a method that can prove it.
    Everyone,
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
    /// Minimum password length, in characters, for accounts whose sign-in
    /// asks for a second factor. Never below 8.
    pub password_min_length: u8,
    /// Minimum for every other account, whose password is its only factor
    /// at sign-in: 15 (NIST SP 800-63B-4). An organisation may lower it,
    /// never below 8; `sspr policy show` then says it departs from the
    /// guideline.
    pub single_factor_password_min_length: u8,
    /// Who is asked for a second factor at sign-in besides admins.
    pub sign_in_second_factor: SecondFactorScope,
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
    /// A user who resets their password is told at every address they
    /// have (Entra's "Notify users on password resets"). Admins always are.
    pub notify_users_on_reset: bool,
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
            single_factor_password_min_length: 15,
            sign_in_second_factor: SecondFactorScope::Admins,
            banned_words: Vec::new(),
            sspr_scope: SsprScope::All,
            sspr_groups: Vec::new(),
            allow_unlock: true,
            notify_users_on_reset: true,
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
    /// `field` is the policy's field name (the admin portal shows its
    /// label); `message` says the rule in English for the CLI.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Someone saved another version since the editor read version `0`.
    #[error("the policy changed since version {0} was read; reload and try again")]
    Conflict(i64),
    #[error("there is no policy version {0}")]
    NoSuchVersion(i64),
    #[error(transparent)]
    Internal(#[from] DomainError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> Result<(), PolicyError> {
    Err(PolicyError::Invalid {
        field,
        message: message.into(),
    })
}

fn within(field: &'static str, v: i64, lo: i64, hi: i64) -> Result<(), PolicyError> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        invalid(field, format!("{field} must be {lo} to {hi}"))
    }
}

impl Policy {
    /// Checks every rule a stored policy must keep; `save` runs it, so no
    /// caller can store a policy the product would misread.
    pub fn validate(&self) -> Result<(), PolicyError> {
        within("methods_required", self.methods_required.into(), 1, 2)?;
        let (floor, max) = (password_policy::FLOOR as i64, password_policy::MAX as i64);
        within(
            "password_min_length",
            self.password_min_length.into(),
            floor,
            max,
        )?;
        within(
            "single_factor_password_min_length",
            self.single_factor_password_min_length.into(),
            floor,
            max,
        )?;
        if !password_policy::valid_banned_words(&self.banned_words) {
            return invalid(
                "banned_words",
                "banned_words: at most 1000 words of 4 to 16 characters",
            );
        }
        within(
            "questions_to_register",
            self.questions_to_register.into(),
            1,
            questions::MAX_QUESTIONS as i64,
        )?;
        // A code shorter than 6 digits is guessable within the attempt
        // limits (docs/security.md #22); 10 is what people can still type.
        within("email_code_length", self.email_code_length.into(), 6, 10)?;
        within("phone_code_length", self.phone_code_length.into(), 6, 10)?;
        within("code_ttl_secs", self.code_ttl_secs, 60, 3600)?;
        within("max_code_attempts", self.max_code_attempts, 1, 10)?;
        within("resend_cooldown_secs", self.resend_cooldown_secs, 10, 3600)?;
        within(
            "max_sends_per_destination_per_hour",
            self.max_sends_per_destination_per_hour,
            1,
            100,
        )?;
        within(
            "max_sends_per_account_per_hour",
            self.max_sends_per_account_per_hour,
            1,
            100,
        )?;
        within(
            "max_registration_skips",
            self.max_registration_skips.into(),
            0,
            10,
        )?;
        within("reconfirm_days", self.reconfirm_days.into(), 0, 730)?;
        let region_ok = |region: &String| {
            region.parse::<phonenumber::country::Id>().is_ok()
                && region.len() == 2
                && region.to_ascii_uppercase() == *region
        };
        if let Some(bad) = self.phone_regions.iter().find(|r| !region_ok(r)) {
            return invalid(
                "phone_regions",
                format!("{bad:?} is not an ISO 3166 region code (e.g. US)"),
            );
        }
        if !region_ok(&self.default_phone_region) {
            return invalid(
                "default_phone_region",
                format!(
                    "{:?} is not an ISO 3166 region code (e.g. US)",
                    self.default_phone_region
                ),
            );
        }
        if (self.allow_phone_sms || self.allow_phone_voice) && self.phone_regions.is_empty() {
            return invalid(
                "phone_regions",
                "phone_regions may not be empty while phones are allowed",
            );
        }
        if !self.phone_regions.contains(&self.default_phone_region)
            && !self.phone_regions.is_empty()
        {
            return invalid(
                "default_phone_region",
                "default_phone_region must be one of phone_regions",
            );
        }
        self.validate_methods()?;
        if self.sspr_scope == SsprScope::Groups && self.sspr_groups.is_empty() {
            return invalid(
                "sspr_groups",
                "sspr_scope = groups needs at least one group in sspr_groups",
            );
        }
        if self.sspr_groups.len() > 100 || self.sspr_groups.iter().any(|g| g.trim().is_empty()) {
            return invalid(
                "sspr_groups",
                "sspr_groups: at most 100 non-empty group names",
            );
        }
        let contact = self.helpdesk_contact.as_str();
        let contact_ok = contact.is_empty()
            || (contact.len() <= 256
                && (crate::identity::valid_email(contact)
                    || url::Url::parse(contact)
                        .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.has_host())));
        if !contact_ok {
            return invalid(
                "helpdesk_contact",
                "helpdesk_contact must be empty, an email address or an http(s) URL",
            );
        }
        Ok(())
    }

    /// Combinations of methods that cannot work. Admins always need two
    /// kinds of method and never questions (`required_for`), and everyone's
    /// methods come from this list: with fewer than two kinds besides
    /// questions, an admin could never finish registering. Questions are
    /// never counted alone.
    fn validate_methods(&self) -> Result<(), PolicyError> {
        let strong = [
            self.allow_email,
            self.allow_phone_sms || self.allow_phone_voice,
            self.allow_authenticator,
        ]
        .into_iter()
        .filter(|on| *on)
        .count();
        if strong < 2 {
            return invalid(
                "allowed_methods",
                "allow at least two of email, mobile phone and authenticator app: admins always \
                 verify two kinds, and security questions never count for them",
            );
        }
        Ok(())
    }
}

impl Policy {
    /// Where this policy departs from the published guidelines, in words
    /// for the admin (`sspr policy show`). Empty when it follows them.
    pub fn departures(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if usize::from(self.single_factor_password_min_length) < password_policy::SINGLE_FACTOR_MIN
        {
            notes.push(format!(
                "single_factor_password_min_length = {} departs from NIST SP 800-63B-4, which asks \
                 for at least {} characters when the password is the only factor at sign-in",
                self.single_factor_password_min_length,
                password_policy::SINGLE_FACTOR_MIN
            ));
        }
        if self.allow_questions {
            notes.push(
                "allow_questions = true: security questions are weak (NIST SP 800-63B, ASVS \
                 6.4.2); they are never counted alone and never offered to admins"
                    .into(),
            );
        }
        notes
    }
}

/// The `settings` key the policy is stored under.
const KEY: &str = "policy";

/// How long a policy read stays in use. A change saved through this
/// process applies at once; one saved by another instance (or `sspr policy
/// set`) within this time (docs/security.md #87).
pub const CACHED_FOR: Duration = Duration::from_secs(1);

/// The policy as last read, and when (`Db` carries one, shared by its
/// clones). Most requests read the policy, some several times: this keeps
/// those reads off the database.
#[derive(Clone, Debug, Default)]
pub struct Cached(Arc<Mutex<Option<(Instant, Policy)>>>);

impl Cached {
    fn fresh(&self) -> Option<Policy> {
        self.fresh_part(Policy::clone)
    }

    /// What `part` takes from a fresh copy, without cloning the rest (the
    /// banned words can be a thousand strings).
    fn fresh_part<T>(&self, part: impl FnOnce(&Policy) -> T) -> Option<T> {
        let held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        held.as_ref()
            .filter(|(read, _)| read.elapsed() < CACHED_FOR)
            .map(|(_, p)| part(p))
    }

    /// Keeps `p`, read (or saved) at `at`, unless what is held is newer: a
    /// read that began before a save and ended after it must not bring the
    /// old policy back.
    fn keep(&self, at: Instant, p: &Policy) {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if held.as_ref().is_none_or(|(then, _)| *then <= at) {
            *held = Some((at, p.clone()));
        }
    }

    /// Forgets the copy: the next `load` reads the database (tests that
    /// count statements).
    #[cfg(feature = "testkit")]
    pub fn forget(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// The policy in force: read from the database at most once per
/// [`CACHED_FOR`].
pub async fn load(db: &Db) -> Result<Policy, DomainError> {
    if let Some(p) = db.policy_cache().fresh() {
        return Ok(p);
    }
    // Timed from before the read: the copy is never younger than the row.
    let asked = Instant::now();
    let p = match store::settings::get(db.pool(), KEY).await? {
        None => Policy::default(),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| DomainError::Corrupt(format!("settings.policy: {e}")))?,
    };
    db.policy_cache().keep(asked, &p);
    Ok(p)
}

/// The help desk contact in force ("" = none): every page carries it, so it
/// is taken from the cached copy alone.
pub async fn helpdesk_contact(db: &Db) -> Result<String, DomainError> {
    match db.policy_cache().fresh_part(|p| p.helpdesk_contact.clone()) {
        Some(contact) => Ok(contact),
        None => Ok(load(db).await?.helpdesk_contact),
    }
}

/// Validates and stores the policy as the operator (`sspr policy set`,
/// tests): a new version in the history like any other
/// ([`crate::policy_history::save`]).
pub async fn save(db: &Db, p: &Policy, now: Timestamp) -> Result<i64, PolicyError> {
    crate::policy_history::save(db, p, &crate::policy_history::Editor::operator(), None, now).await
}

/// Stores `p` as the policy in force inside the caller's transaction; the
/// caller keeps it in this process's cache after committing ([`keep`]).
pub(crate) async fn put<'e>(
    exec: impl store::Exec<'e>,
    p: &Policy,
    now: Timestamp,
) -> Result<(), DomainError> {
    let text = serde_json::to_string(p).map_err(|e| DomainError::Corrupt(e.to_string()))?;
    store::settings::put(exec, KEY, &text, now).await
}

/// This process uses `p` from now on (saved at `at`).
pub(crate) fn keep(db: &Db, at: Instant, p: &Policy) {
    db.policy_cache().keep(at, p);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(change: impl FnOnce(&mut Policy)) -> String {
        let mut p = Policy::default();
        change(&mut p);
        match p.validate() {
            Err(PolicyError::Invalid { field, message }) => format!("{field}: {message}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_default_policy_is_valid() {
        assert!(Policy::default().validate().is_ok());
    }

    #[test]
    fn every_field_is_checked() {
        assert!(refused(|p| p.email_code_length = 0).contains("email_code_length"));
        assert!(refused(|p| p.phone_code_length = 4).contains("phone_code_length"));
        assert!(refused(|p| p.code_ttl_secs = 0).contains("code_ttl_secs"));
        assert!(refused(|p| p.max_code_attempts = 0).contains("max_code_attempts"));
        assert!(refused(|p| p.resend_cooldown_secs = -1).contains("resend_cooldown_secs"));
        assert!(refused(|p| p.max_sends_per_destination_per_hour = 0).contains("destination"));
        assert!(refused(|p| p.max_sends_per_account_per_hour = 1000).contains("account"));
        assert!(refused(|p| p.max_registration_skips = 200).contains("skips"));
        assert!(refused(|p| p.reconfirm_days = 731).contains("reconfirm_days"));
        assert!(
            refused(|p| {
                p.allow_email = false;
                p.allow_phone_sms = false;
                p.allow_phone_voice = false;
                p.allow_authenticator = false;
                p.allow_questions = true;
            })
            .starts_with("allowed_methods")
        );
        assert!(
            refused(|p| {
                p.methods_required = 2;
                p.allow_phone_sms = false;
                p.allow_phone_voice = false;
                p.allow_authenticator = false;
                p.allow_questions = true;
            })
            .starts_with("allowed_methods")
        );

        assert!(refused(|p| p.methods_required = 3).contains("methods_required"));
        assert!(refused(|p| p.password_min_length = 7).contains("password_min_length"));
        assert!(
            refused(|p| p.single_factor_password_min_length = 7)
                .contains("single_factor_password_min_length")
        );
        assert!(refused(|p| p.questions_to_register = 0).contains("questions_to_register"));
        assert!(refused(|p| p.banned_words = vec!["abc".into()]).contains("banned_words"));
        assert!(refused(|p| p.phone_regions = vec!["XX".into()]).contains("XX"));
        assert!(refused(|p| p.phone_regions = vec!["us".into()]).contains("us"));
        assert!(refused(|p| p.default_phone_region = "FR".into()).contains("default_phone_region"));
        assert!(refused(|p| p.phone_regions = vec![]).contains("phone_regions"));
        assert!(refused(|p| p.sspr_scope = SsprScope::Groups).contains("sspr_groups"));
        assert!(refused(|p| p.helpdesk_contact = "call Bob".into()).contains("helpdesk_contact"));
        assert!(
            refused(|p| p.helpdesk_contact = "javascript:alert(1)".into())
                .contains("helpdesk_contact")
        );
    }

    #[test]
    fn a_lowered_single_factor_minimum_is_allowed_and_reported() {
        assert!(Policy::default().departures().is_empty());
        let lowered = Policy {
            single_factor_password_min_length: 10,
            ..Policy::default()
        };
        assert!(lowered.validate().is_ok());
        let notes = lowered.departures();
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("800-63B-4"), "{notes:?}");
    }

    #[test]
    fn reasonable_settings_pass() {
        let p = Policy {
            email_code_length: 6,
            phone_code_length: 10,
            phone_regions: vec!["IL".into(), "JP".into()],
            default_phone_region: "IL".into(),
            allow_phone_sms: true,
            sspr_scope: SsprScope::Groups,
            sspr_groups: vec!["staff".into()],
            helpdesk_contact: "https://help.example.org/password".into(),
            ..Policy::default()
        };
        assert!(p.validate().is_ok());
        let mail = Policy {
            helpdesk_contact: "helpdesk@example.org".into(),
            ..Policy::default()
        };
        assert!(mail.validate().is_ok());
        let no_phones = Policy {
            allow_phone_sms: false,
            allow_phone_voice: false,
            phone_regions: vec![],
            ..Policy::default()
        };
        assert!(no_phones.validate().is_ok());
    }
}
