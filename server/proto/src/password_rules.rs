//! The cheap password rules, in one place for the server and the browser.
//!
//! The server is the authority: it normalizes (NFKC) before calling
//! [`check`], then adds the rules that need data the browser must not carry
//! (the common-password list, the admin's banned words, the current
//! password; `sspr_domain::password_policy`). The browser calls the same
//! [`check`] on every keystroke for the live checklist.
//!
//! No composition rules and no expiry (NIST SP 800-63B §3.1.1.2,
//! docs/security.md #3): length, control characters and personal information.

use serde::{Deserialize, Serialize};

/// Never below this, whatever the configuration says.
pub const FLOOR: usize = 8;
/// When the password is the account's only factor at sign-in (NIST SP
/// 800-63B-4): the default of the policy's single-factor minimum.
pub const SINGLE_FACTOR_MIN: usize = 15;
/// Longer passwords are refused with a reason, never truncated.
pub const MAX: usize = 128;
/// Context words shorter than this are too common to forbid inside a
/// password ("al", "li").
pub const MIN_CONTEXT_WORD: usize = 4;

/// Why a password is refused. Each has a stable code and a sentence in the
/// locale catalogs (`password_rule_<code>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    TooShort,
    TooLong,
    ControlCharacter,
    PersonalInfo,
    Common,
    Banned,
    SameAsCurrent,
    Mismatch,
    /// Refused by the organisation's directory (its own password policy,
    /// which sspr's runs before): too short for it.
    DirectoryTooShort,
    /// … its complexity or quality rules.
    DirectoryQuality,
    /// … one of the account's recent passwords.
    DirectoryHistory,
    /// … changed too recently (the directory's minimum age).
    DirectoryTooYoung,
    /// … for a reason it did not name.
    DirectoryRefused,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::TooShort => "too_short",
            Reason::TooLong => "too_long",
            Reason::ControlCharacter => "control_character",
            Reason::PersonalInfo => "personal_info",
            Reason::Common => "common",
            Reason::Banned => "banned",
            Reason::SameAsCurrent => "same_as_current",
            Reason::Mismatch => "mismatch",
            Reason::DirectoryTooShort => "directory_too_short",
            Reason::DirectoryQuality => "directory_quality",
            Reason::DirectoryHistory => "directory_history",
            Reason::DirectoryTooYoung => "directory_too_young",
            Reason::DirectoryRefused => "directory_refused",
        }
    }
}

/// What the server tells the browser about this account's rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    pub min_length: usize,
    pub max_length: usize,
    /// Lower-cased words the password may not contain: the user ID, the
    /// email local part, the parts of the display name.
    pub context_words: Vec<String>,
}

impl Rules {
    /// The rules for an account whose minimum length the server chose
    /// (by whether its sign-in asks for a second factor). Never below
    /// [`FLOOR`].
    pub fn for_account(min_length: usize, context: &[&str]) -> Rules {
        Rules {
            min_length: min_length.clamp(FLOOR, MAX),
            max_length: MAX,
            context_words: context_words(context),
        }
    }
}

/// Splits identifiers into the words a password may not contain:
/// `jane.doe@contoso.example` gives `jane.doe`, `jane` and `doe`.
pub fn context_words(sources: &[&str]) -> Vec<String> {
    let mut words = Vec::new();
    for s in sources {
        let lower = s.to_lowercase();
        let local = lower.split('@').next().unwrap_or_default().to_owned();
        words.push(local.clone());
        words.extend(
            local
                .split(|c: char| !c.is_alphanumeric())
                .map(str::to_owned),
        );
    }
    words.retain(|w| w.chars().count() >= MIN_CONTEXT_WORD);
    words.sort();
    words.dedup();
    words
}

/// Undoes the usual character swaps before comparing with words:
/// `p@$$w0rd1` reads as `passwordl`.
pub fn unleet(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'l',
            '$' => 's',
            '@' => 'a',
            other => other,
        })
        .collect()
}

/// The rules that need no server data. `password` is already normalized
/// (NFKC) on the server; the browser passes what was typed. Reasons come
/// back sorted, without repeats.
pub fn check(password: &str, rules: &Rules) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let len = password.chars().count();
    if len < rules.min_length {
        reasons.push(Reason::TooShort);
    }
    if len > rules.max_length {
        reasons.push(Reason::TooLong);
    }
    if password.chars().any(char::is_control) {
        reasons.push(Reason::ControlCharacter);
    }
    // Only look inside passwords of a sane size; the length rule already
    // refuses the rest.
    if len <= rules.max_length {
        let lower = password.to_lowercase();
        let plain = unleet(&lower);
        if rules
            .context_words
            .iter()
            .any(|w| lower.contains(w.as_str()) || plain.contains(unleet(w).as_str()))
        {
            reasons.push(Reason::PersonalInfo);
        }
    }
    reasons.sort();
    reasons.dedup();
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(min: usize) -> Rules {
        Rules::for_account(min, &["jdoe", "Jane Doe", "jane.doe@contoso.example"])
    }

    #[test]
    fn the_minimum_never_drops_below_eight_nor_passes_the_maximum() {
        assert_eq!(rules(8).min_length, 8);
        assert_eq!(rules(15).min_length, 15);
        assert_eq!(rules(4).min_length, FLOOR);
        assert_eq!(rules(200).min_length, MAX);
    }

    #[test]
    fn length_counts_code_points_and_long_passwords_are_refused_not_cut() {
        let r = rules(8);
        assert_eq!(check("ééééééé", &r), vec![Reason::TooShort]);
        assert!(check("éééééééé", &r).is_empty());
        assert!(check(&"x".repeat(64), &r).is_empty(), "64 accepted");
        assert!(check(&"x".repeat(128), &r).is_empty());
        assert_eq!(check(&"x".repeat(129), &r), vec![Reason::TooLong]);
    }

    #[test]
    fn unicode_and_spaces_are_fine_control_characters_are_not() {
        let r = rules(8);
        assert!(check("correct horse battery staple", &r).is_empty());
        assert!(check("🦀🦀🦀🦀 ferris 🦀🦀", &r).is_empty());
        assert!(check("סיסמה ארוכה מאוד", &r).is_empty());
        assert_eq!(
            check("pass\u{0}word-long", &r),
            vec![Reason::ControlCharacter]
        );
        assert_eq!(
            check("pass\u{85}word-long", &r),
            vec![Reason::ControlCharacter]
        );
    }

    #[test]
    fn personal_information_is_refused_even_disguised() {
        // docs/security.md #5: user jdoe with "jdoejdoejdoejdoe" is rejected.
        let r = rules(15);
        assert_eq!(check("jdoejdoejdoejdoe", &r), vec![Reason::PersonalInfo]);
        assert_eq!(
            check("my name is JANE and more", &r),
            vec![Reason::PersonalInfo]
        );
        assert_eq!(check("j@ne-was-here-2024", &r), vec![Reason::PersonalInfo]);
        assert!(check("an unrelated long passphrase", &r).is_empty());
        assert_eq!(
            context_words(&["a.li@x.example"]),
            vec!["a.li".to_owned()],
            "short parts are not words"
        );
    }
}
