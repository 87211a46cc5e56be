//! A moment in the audit log and the history. The server writes it in UTC
//! as the page's language writes dates and times (CLDR, by ICU4X; Latin
//! digits, as `crate::format` explains), so a page
//! read without JavaScript is in the reader's language; once the page runs
//! in the browser, the browser's `Intl` puts it in the reader's own zone
//! (the same element, updated after hydration). The wasm holds no date
//! data: before the browser's text replaces it, the client's first render
//! is the plain UTC form, and hydration keeps the server's text node as it
//! is, so neither is seen.

use leptos::prelude::*;

use crate::i18n::{Locale, use_i18n};

/// `secs` in UTC in `locale`'s medium date and time, seconds included and
/// the zone named; `YYYY-MM-DD HH:MM:SS UTC` if the moment is out of range.
#[cfg(feature = "ssr")]
pub fn utc_text(secs: i64, locale: Locale) -> String {
    localized(secs, locale).unwrap_or_else(|| iso_text(secs))
}

/// In the browser before its own zone is known: the plain UTC form.
#[cfg(not(feature = "ssr"))]
pub fn utc_text(secs: i64, _: Locale) -> String {
    iso_text(secs)
}

#[cfg(feature = "ssr")]
fn localized(secs: i64, locale: Locale) -> Option<String> {
    use icu_datetime::DateTimeFormatter;
    use icu_datetime::fieldsets::YMDT;
    use icu_datetime::input::{Date, DateTime, Time};
    use icu_datetime::options::TimePrecision;
    let at = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    let tag: icu_locale_core::Locale = crate::format::latin_digits(locale).parse().ok()?;
    let fields = YMDT::medium().with_time_precision(TimePrecision::Second);
    let formatter = DateTimeFormatter::try_new(tag.into(), fields).ok()?;
    let moment = DateTime {
        date: Date::try_new_iso(at.year(), at.month().into(), at.day()).ok()?,
        time: Time::try_new(at.hour(), at.minute(), at.second(), 0).ok()?,
    };
    Some(format!("{} UTC", formatter.format(&moment)))
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
fn iso_text(secs: i64) -> String {
    #[cfg(feature = "ssr")]
    {
        let format =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
        time::OffsetDateTime::from_unix_timestamp(secs)
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        // "2026-12-02T11:40:00.000Z" → "2026-12-02 11:40:00 UTC"
        let iso: String = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0))
            .to_iso_string()
            .into();
        match (iso.get(..10), iso.get(11..19)) {
            (Some(day), Some(time)) => format!("{day} {time} UTC"),
            _ => iso,
        }
    }
}

/// In the browser's zone and the page's language, the zone named.
#[cfg(feature = "hydrate")]
fn local_text(secs: i64) -> Option<String> {
    use wasm_bindgen::JsValue;
    let lang = document().document_element()?.get_attribute("lang")?;
    let js_options = js_sys::Object::new();
    // Latin digits in every language, as the server writes them
    // (`crate::format`).
    let options = [
        ("dateStyle", "medium"),
        ("timeStyle", "long"),
        ("numberingSystem", "latn"),
    ];
    for (key, value) in options {
        js_sys::Reflect::set(&js_options, &key.into(), &value.into()).ok()?;
    }
    let date = js_sys::Date::new(&JsValue::from_f64(secs as f64 * 1000.0));
    Some(date.to_locale_string(&lang, &js_options).into())
}

#[component]
pub fn When(secs: i64) -> impl IntoView {
    let shown = RwSignal::new(utc_text(secs, use_i18n().get_locale_untracked()));
    // Effects run only in the browser, after hydration: the local time
    // replaces the server's text.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(local) = local_text(secs) {
            shown.set(local);
        }
    });
    let iso = iso_text(secs).replace(" UTC", "Z").replacen(' ', "T", 1);
    view! { <time datetime=iso>{move || shown.get()}</time> }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    // 2026-12-03 16:05:09 UTC
    const AT: i64 = 1_796_313_909;

    #[test]
    fn each_language_writes_its_own_dates() {
        assert_eq!(iso_text(AT), "2026-12-03 16:05:09 UTC");
        let en = utc_text(AT, Locale::en);
        assert!(en.contains("Dec 3, 2026") && en.contains("4:05:09"), "{en}");
        let de = utc_text(AT, Locale::de);
        assert!(
            de.starts_with("03.12.2026") && de.contains("16:05:09"),
            "{de}"
        );
        let ja = utc_text(AT, Locale::ja_JP);
        assert!(
            ja.starts_with("2026/12/03") && ja.contains("16:05:09"),
            "{ja}"
        );
        for locale in [
            Locale::en,
            Locale::de,
            Locale::ja_JP,
            Locale::he_IL,
            Locale::en_XA,
        ] {
            assert!(utc_text(AT, locale).ends_with(" UTC"));
        }
    }
}
