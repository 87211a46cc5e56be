//! A moment in the audit log and the history: in UTC with the zone named
//! from the server, in the reader's own zone once the page runs in the
//! browser (the same element, updated after hydration).

use leptos::prelude::*;

/// `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc_text(secs: i64) -> String {
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
    let options = js_sys::Object::new();
    for (key, value) in [("dateStyle", "medium"), ("timeStyle", "long")] {
        js_sys::Reflect::set(&options, &key.into(), &value.into()).ok()?;
    }
    let date = js_sys::Date::new(&JsValue::from_f64(secs as f64 * 1000.0));
    Some(date.to_locale_string(&lang, &options).into())
}

#[component]
pub fn When(secs: i64) -> impl IntoView {
    let shown = RwSignal::new(utc_text(secs));
    // Effects run only in the browser, after hydration: the server's text
    // and the first client render agree, then the local time replaces it.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(local) = local_text(secs) {
            shown.set(local);
        }
    });
    let iso = utc_text(secs).replace(" UTC", "Z").replacen(' ', "T", 1);
    view! { <time datetime=iso>{move || shown.get()}</time> }
}
