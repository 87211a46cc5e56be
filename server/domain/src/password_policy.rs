//! The password policy, server side: the shared cheap rules
//! (`sspr_proto`) plus those that need data the browser must not
//! carry — the bundled common-password list, the admin's banned words —
//! and the current password. Server-authoritative: the browser's checklist
//! is a preview.

use std::collections::HashSet;
use std::io::Read;
use std::sync::OnceLock;

use sspr_proto::unleet;
pub use sspr_proto::{FLOOR, MAX, SINGLE_FACTOR_MIN};
pub use sspr_proto::{Reason, Rules};

use crate::policy::Policy;
use crate::users::User;

/// The NCSC "100k most used passwords" list (from Have I Been Pwned, as
/// published in SecLists, MIT), gzip-compressed: one password per line.
const COMMON_GZ: &[u8] = include_bytes!("../data/common-passwords.txt.gz");

/// Banned words the admin may set: at most this many, each 4–16 characters.
pub const MAX_BANNED_WORDS: usize = 1000;
pub const BANNED_WORD_CHARS: std::ops::RangeInclusive<usize> = 4..=16;

struct CommonList {
    entries: usize,
    folded: HashSet<Box<str>>,
}

fn common_list() -> &'static CommonList {
    static LIST: OnceLock<CommonList> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut text = String::new();
        // A corrupt bundled file is a build defect; an empty list would
        // silently weaken the policy, so the tests assert its size.
        if flate2::read::GzDecoder::new(COMMON_GZ)
            .read_to_string(&mut text)
            .is_err()
        {
            tracing::error!("the bundled common-password list is unreadable");
            text.clear();
        }
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        CommonList {
            entries: lines.len(),
            folded: lines.iter().map(|l| l.to_lowercase().into()).collect(),
        }
    })
}

/// How many passwords the bundled list holds.
pub fn common_list_size() -> usize {
    common_list().entries
}

/// Whether a password is, or is a trivial variation of, a common one:
/// compared case-insensitively, with character swaps undone, and with
/// digits and symbols at its ends stripped (`Password123456789!`).
pub fn is_common(password: &str) -> bool {
    let list = &common_list().folded;
    let lower = password.to_lowercase();
    let trimmed = lower.trim_matches(|c: char| !c.is_alphabetic()).to_owned();
    let (lower_plain, trimmed_plain) = (unleet(&lower), unleet(&trimmed));
    [&lower, &lower_plain, &trimmed, &trimmed_plain]
        .into_iter()
        .any(|candidate| candidate.chars().count() >= 4 && list.contains(candidate.as_str()))
}

/// Whether `a` and `b` differ by at most one insertion, deletion or
/// substitution.
fn within_one_edit(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if short.len() == long.len() {
        // One substitution: all after the first difference matches.
        prefix == short.len() || short[prefix + 1..] == long[prefix + 1..]
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

/// Whether the password contains a banned word, after lower-casing and
/// undoing swaps, exactly or at edit distance 1.
pub fn contains_banned(password: &str, words: &[String]) -> bool {
    let plain: Vec<char> = unleet(&password.to_lowercase()).chars().collect();
    words.iter().any(|w| {
        let word: Vec<char> = unleet(&w.to_lowercase()).chars().collect();
        if word.is_empty() {
            return false;
        }
        (word.len().saturating_sub(1)..=word.len() + 1).any(|width| {
            width > 0
                && width <= plain.len()
                && plain
                    .windows(width)
                    .any(|window| within_one_edit(window, &word))
        })
    })
}

/// Checks a list of banned words as the admin entered it.
pub fn valid_banned_words(words: &[String]) -> bool {
    words.len() <= MAX_BANNED_WORDS
        && words
            .iter()
            .all(|w| BANNED_WORD_CHARS.contains(&w.trim().chars().count()))
}

/// The rules for this account: the policy's minimum when its sign-in asks
/// for a second factor, else the single-factor minimum (15 unless the
/// organisation lowered it; docs/security.md #82).
pub fn rules_for(policy: &Policy, user: &User, second_factor_at_sign_in: bool) -> Rules {
    let mut context: Vec<&str> = vec![user.login_display.as_str(), user.display_name.as_str()];
    if let Some(email) = user.email.as_deref() {
        context.push(email);
    }
    let min = if second_factor_at_sign_in {
        policy.password_min_length
    } else {
        policy.single_factor_password_min_length
    };
    Rules::for_account(usize::from(min), &context)
}

/// Every reason to refuse `new` (already NFKC-normalized, like `confirm`
/// and `current`). Empty means accepted.
pub fn evaluate(
    policy: &Policy,
    rules: &Rules,
    new: &str,
    confirm: Option<&str>,
    current: Option<&str>,
) -> Vec<Reason> {
    let mut reasons = sspr_proto::check(new, rules);
    // Past the maximum nothing else is worth computing.
    if new.chars().count() <= MAX {
        if is_common(new) {
            reasons.push(Reason::Common);
        }
        if contains_banned(new, &policy.banned_words) {
            reasons.push(Reason::Banned);
        }
        if current == Some(new) {
            reasons.push(Reason::SameAsCurrent);
        }
    }
    if let Some(confirm) = confirm
        && confirm != new
    {
        reasons.push(Reason::Mismatch);
    }
    reasons.sort();
    reasons.dedup();
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn the_bundled_list_is_large_and_readable() {
        assert!(common_list_size() >= 100_000, "{}", common_list_size());
        assert!(is_common("password"));
        assert!(is_common("Qwerty123"));
    }

    #[test]
    fn common_passwords_are_caught_with_their_usual_disguises() {
        // docs/security.md #5: "password123456789" rejected as commonly used.
        assert!(is_common("password123456789"));
        assert!(is_common("P@ssw0rd"));
        assert!(is_common("!!Sunshine2024!!"));
        assert!(!is_common("correct horse battery staple"));
        assert!(!is_common("mauve-tractor-lighthouse"));
    }

    #[test]
    fn edit_distance_one() {
        assert!(within_one_edit(&chars("contoso"), &chars("contoso")));
        assert!(within_one_edit(&chars("kontoso"), &chars("contoso")));
        assert!(within_one_edit(&chars("contosso"), &chars("contoso")));
        assert!(within_one_edit(&chars("cntoso"), &chars("contoso")));
        assert!(!within_one_edit(&chars("kontozo"), &chars("contoso")));
        assert!(!within_one_edit(&chars("contosoxx"), &chars("contoso")));
    }

    #[test]
    fn banned_words_match_inside_disguised_and_misspelt() {
        let words = vec!["contoso".to_owned(), "Fabrikam".to_owned()];
        assert!(contains_banned("I love Contoso very much", &words));
        assert!(contains_banned("c0nt0$o-2024-winter", &words));
        assert!(contains_banned("kontoso rules the world", &words));
        assert!(contains_banned("fabr1kam!", &words));
        assert!(!contains_banned("a quiet walk by the sea", &words));
    }

    #[test]
    fn banned_word_lists_are_bounded() {
        assert!(valid_banned_words(&["contoso".into()]));
        assert!(!valid_banned_words(&["abc".into()]));
        assert!(!valid_banned_words(&["x".repeat(17)]));
        assert!(!valid_banned_words(&vec!["contoso".to_owned(); 1001]));
    }
}
