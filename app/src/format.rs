//! Numbers and the CLDR locale behind them. On the server ICU4X formats
//! with its compiled CLDR data; in the browser `Intl` does, so the wasm
//! holds no locale data. Both follow CLDR, so a page hydrates with what the
//! server wrote.
//!
//! Every language writes numbers in Latin digits (`-u-nu-latn`), with its
//! own grouping (`1,234`, `1.234`, `1 234`): codes, user IDs and phone
//! numbers are in Latin digits too, and one page uses one digit system.

use crate::i18n::Locale;

/// The BCP 47 tag CLDR data is looked up by: a pseudo-locale (`en-XA`,
/// `ar-XB`, made from English) formats as English.
pub fn data_tag(locale: Locale) -> &'static str {
    use crate::i18n::I18nLocaleTrait;
    // Only server builds have pseudo-locales (`app/build.rs`).
    if cfg!(feature = "ssr") && crate::locale::is_pseudo(locale) {
        "en"
    } else {
        locale.as_str()
    }
}

/// [`data_tag`] with Latin digits asked for.
pub fn latin_digits(locale: Locale) -> String {
    format!("{}-u-nu-latn", data_tag(locale))
}

/// `n` as `locale` writes a count.
pub fn number(n: u64, locale: Locale) -> String {
    formatted(n, locale).unwrap_or_else(|| n.to_string())
}

/// [`number`] in the page's language, as a view that follows it.
pub fn count_in(
    i18n: leptos_i18n::I18nContext<Locale>,
    n: u64,
) -> impl Fn() -> String + Clone + Send + Sync + 'static {
    move || number(n, i18n.get_locale())
}

#[cfg(feature = "ssr")]
fn formatted(n: u64, locale: Locale) -> Option<String> {
    use icu_decimal::DecimalFormatter;
    use icu_decimal::input::Decimal;
    let tag: icu_locale_core::Locale = latin_digits(locale).parse().ok()?;
    let formatter = DecimalFormatter::try_new(tag.into(), Default::default()).ok()?;
    Some(formatter.format(&Decimal::from(n)).to_string())
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn formatted(n: u64, locale: Locale) -> Option<String> {
    use js_sys::{Array, Intl::NumberFormat, Object};
    use wasm_bindgen::JsValue;
    let locales = Array::of1(&latin_digits(locale).into());
    let format = NumberFormat::new(&locales, &Object::new()).format();
    format
        .call1(&JsValue::NULL, &JsValue::from_f64(n as f64))
        .ok()?
        .as_string()
}

/// Neither side (a plain `cargo check` of the crate): plain digits.
#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn formatted(_: u64, _: Locale) -> Option<String> {
    None
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn each_language_groups_digits_its_own_way() {
        assert_eq!(number(7, Locale::en), "7");
        assert_eq!(number(1234, Locale::en), "1,234");
        assert_eq!(number(1234, Locale::de), "1.234");
        assert_eq!(number(1234, Locale::fr), "1\u{202f}234");
        // Spanish groups from five digits on (CLDR's minimum grouping).
        assert_eq!(number(1234, Locale::es), "1234");
        assert_eq!(number(12345, Locale::es), "12.345");
        // Latin digits in Arabic too, and in the pseudo-locales.
        assert_eq!(number(1234, Locale::ar), "1,234");
        assert_eq!(number(1234, Locale::ar_XB), "1,234");
        assert_eq!(number(1234, Locale::ja_JP), "1,234");
    }
}
