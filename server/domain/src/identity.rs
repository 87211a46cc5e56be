//! User IDs: one canonical form for lookup and uniqueness.
//!
//! Canonical = trim, NFKC, Unicode default case folding, NFKC again (so
//! "ＪＤｏｅ" and "jdoe" are the same account). Characters that make two
//! different-looking IDs render alike, or break logs, are refused outright
//! (docs/security.md Part 3, the bad-input catalog: zero-width, bidi controls, C0/C1).

use unicode_normalization::UnicodeNormalization;

/// Longest accepted user ID, in bytes after normalization.
pub const MAX_LOGIN_BYTES: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Login(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("the user ID is empty")]
    Empty,
    #[error("the user ID is too long")]
    TooLong,
    #[error("the user ID contains a character that is not allowed")]
    ForbiddenCharacter,
}

impl Login {
    pub fn parse(raw: &str) -> Result<Login, LoginError> {
        // Cap before the (linear, but allocating) normalization passes.
        if raw.len() > MAX_LOGIN_BYTES * 4 {
            return Err(LoginError::TooLong);
        }
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(LoginError::Empty);
        }
        if trimmed.chars().any(is_forbidden) {
            return Err(LoginError::ForbiddenCharacter);
        }
        // NFKC can turn one character into a space and a combining mark
        // (¨ becomes " ̈"), and a case fold can undo a composition: repeat
        // until nothing changes, so the stored form parses to itself.
        let mut canonical = canonicalize(trimmed);
        for _ in 0..4 {
            let next = canonicalize(canonical.trim());
            if next == canonical {
                break;
            }
            canonical = next;
        }
        if canonical.is_empty() {
            return Err(LoginError::Empty);
        }
        if canonical.len() > MAX_LOGIN_BYTES {
            return Err(LoginError::TooLong);
        }
        Ok(Login(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A canonical value read back from storage.
    pub(crate) fn from_stored(s: String) -> Login {
        Login(s)
    }
}

impl std::fmt::Display for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name or an address folded like user IDs (trimmed, NFKC, case fold,
/// NFKC), so the admin portal's prefix search finds "Zoë" by typing "ZOË"
/// or "zoë" (accents stay: they are letters). Not for identity: nothing is
/// refused here.
pub fn fold(s: &str) -> String {
    canonicalize(s.trim())
}

/// NFKC, full case fold, NFKC.
fn canonicalize(s: &str) -> String {
    let nfkc: String = s.nfkc().collect();
    let folded = caseless::default_case_fold_str(&nfkc);
    folded.nfkc().collect()
}

fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM/RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{FEFF}'              // BOM / zero-width no-break space
        )
}

/// Minimal syntax check for contact email addresses entered by admins.
/// Registration (with proof by code) applies the full rules.
pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && s.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, ',' | ';' | '<' | '>' | '"' | '(' | ')')
        })
        && !local.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_and_case_variants_are_one_account() {
        let a = Login::parse("JDoe").map(|l| l.0);
        let b = Login::parse("  ｊｄｏｅ ").map(|l| l.0);
        assert_eq!(a, Ok("jdoe".to_owned()));
        assert_eq!(a, b);
    }

    #[test]
    fn sharp_s_folds_to_ss() {
        assert_eq!(
            Login::parse("STRAẞE").map(|l| l.0),
            Ok("strasse".to_owned())
        );
    }

    #[test]
    fn dotless_i_does_not_match_i() {
        // GitHub 2016 / CVE-2019-19844 class: "mıke" must stay distinct from "mike".
        assert_ne!(Login::parse("mıke"), Login::parse("mike"));
    }

    #[test]
    fn invisible_and_control_characters_are_refused() {
        for bad in [
            "jd\u{200B}oe",
            "jdoe\u{202E}",
            "a\r\nb",
            "nul\0",
            "\u{FEFF}x",
        ] {
            assert_eq!(
                Login::parse(bad),
                Err(LoginError::ForbiddenCharacter),
                "{bad:?}"
            );
        }
        assert_eq!(Login::parse("   "), Err(LoginError::Empty));
        assert_eq!(Login::parse(&"a".repeat(257)), Err(LoginError::TooLong));
    }

    #[test]
    fn email_syntax() {
        assert!(valid_email("ab@contoso.example"));
        for bad in [
            "a@b,c@d.example",
            "a@x.test\r\nBcc: b@y.test",
            "nope",
            "@x.test",
            "a@x",
            "a b@x.test",
        ] {
            assert!(!valid_email(bad), "{bad:?}");
        }
    }
}
