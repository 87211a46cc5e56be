//! Choosing a plural form of a catalog text (`sspr_proto::plural` has the
//! syntax) by the CLDR rules of the page's language: on the server with
//! ICU4X's compiled rules, in the browser with its own `Intl.PluralRules`,
//! so no plural data is in the wasm. Both follow CLDR, so a page hydrates
//! with the form the server chose.

use crate::i18n::Locale;

/// `text` with its `{var, plural, …}` blocks' forms for `n` in `locale`.
/// `#` is the number as the language writes it (`crate::format::number`).
pub fn plural(text: &str, locale: Locale, var: &str, n: u64) -> String {
    let shown = crate::format::number(n, locale);
    sspr_proto::plural::select(text, var, n, &shown, |n| category(locale, n))
}

#[cfg(feature = "ssr")]
fn category(locale: Locale, n: u64) -> &'static str {
    use icu_plurals::{PluralCategory, PluralRuleType, PluralRules};
    let tag: icu_locale_core::Locale = crate::format::data_tag(locale)
        .parse()
        .unwrap_or(icu_locale_core::Locale::UNKNOWN);
    match PluralRules::try_new(tag.into(), PluralRuleType::Cardinal.into()) {
        Ok(rules) => match rules.category_for(n) {
            PluralCategory::Zero => "zero",
            PluralCategory::One => "one",
            PluralCategory::Two => "two",
            PluralCategory::Few => "few",
            PluralCategory::Many => "many",
            PluralCategory::Other => "other",
        },
        Err(_) => "other",
    }
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn category(locale: Locale, n: u64) -> &'static str {
    use js_sys::{Array, Intl::PluralRules, Object};
    let locales = Array::of1(&crate::format::data_tag(locale).into());
    let chosen = String::from(PluralRules::new(&locales, &Object::new()).select(n as f64));
    sspr_proto::plural::CATEGORIES
        .into_iter()
        .find(|c| *c == chosen)
        .unwrap_or("other")
}

/// Neither side (a plain `cargo check` of the crate): `other`.
#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn category(_: Locale, _: u64) -> &'static str {
    "other"
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn each_language_gets_its_own_form() {
        let text = "{n, plural, zero {Z} one {O} two {T} few {F} many {M} other {#}}";
        let form = |l, n| plural(text, l, "n", n);
        assert_eq!(form(Locale::en, 1), "O");
        assert_eq!(form(Locale::en, 2), "2");
        assert_eq!(form(Locale::ja_JP, 1), "1");
        assert_eq!(form(Locale::he_IL, 2), "T");
        assert_eq!(form(Locale::ar, 0), "Z");
        assert_eq!(form(Locale::ar, 3), "F");
        assert_eq!(form(Locale::ar, 11), "M");
        assert_eq!(form(Locale::ar, 100), "100");
        assert_eq!(form(Locale::fr, 0), "O");
        assert_eq!(form(Locale::fr, 1_000_000), "M");
        assert_eq!(form(Locale::en_XA, 1), "O");
    }
}
