//! The message catalogs as translators work with them.
//!
//! `app/locales/<tag>.json` holds one language's messages, flat `key →
//! text` with `{{ placeholder }}`s and ICU plural blocks (the format leptos_i18n compiles and
//! translation platforms import as "key-value JSON"). JSON has no room for
//! what translators need beside the text, so each language has a side file
//! `app/locales/meta/<tag>.json` that this crate keeps in sync:
//! - for English (`meta/en.json`), a description of every key that needs
//!   context: where the text appears, what each placeholder holds;
//! - for a translation, per key the short hash of the English text it was
//!   made from (so a changed English text makes it **stale**, the way
//!   localized documentation tracks its sources) and whether it is
//!   machine-made, not yet reviewed by a native speaker; per language,
//!   whether it is declared complete and which texts are rightly the same
//!   as the English.
//!
//! On top: per-language completeness ([`status`]), the gates the test
//! command runs ([`gates`]), and exchange with translators in XLIFF 2.0
//! ([`xliff`]). `sspr i18n …` is the command line over them; TRANSLATING.md
//! is the workflow.

pub mod files;
pub mod gates;
pub mod plurals;
mod script;
pub mod status;
pub mod xliff;

pub use files::{CatalogError, EntryMeta, Language, LanguageMeta, Locales, Messages};

/// The language every other is translated from.
pub const SOURCE_LANGUAGE: &str = "en";

/// The short hash of an English text that a translation records: the first
/// 8 hex digits of its SHA-256. A collision would only hide one stale
/// translation among hundreds of texts.
pub fn source_hash(english: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(english.as_bytes())[..4])
}

/// The `{{ name }}` placeholders of a text, sorted, with repeats.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        found.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_short_and_stable() {
        // The side files hold these: changing the function makes every
        // translation stale at once.
        assert_eq!(source_hash("Next"), "1ff57a29");
        assert_ne!(source_hash("Next"), source_hash("Next "));
    }

    #[test]
    fn placeholders_are_found_with_repeats() {
        assert_eq!(
            placeholders("Hello {{ name }}, {{count}} of {{ name }}"),
            ["count", "name", "name"]
        );
        assert!(placeholders("Hello {{ unclosed").is_empty());
    }
}
