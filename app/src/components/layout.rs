use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_location;
use wasm_bindgen::JsCast;

use crate::i18n::*;

/// Page frame: skip link, header with the product name and the language
/// picker, and the main landmark. `data-hydrated` appears once the wasm has
/// taken over, which end-to-end tests wait for.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    focus_each_new_step();
    view! {
        <div class="page" data-hydrated=move || hydrated.get().then_some("true")>
            <a class="skip-link" href="#main">{t!(i18n, skip_to_content)}</a>
            <header class="site-header">
                <a class="brand" href="/">{t!(i18n, app_name)}</a>
                <LanguagePicker/>
            </header>
            <main id="main" tabindex="-1">{children()}</main>
        </div>
    }
}

/// A plain GET form: works without JavaScript (the server reads `?lang=`
/// and remembers it in the locale cookie), and with it alike.
#[component]
fn LanguagePicker() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form class="language-picker" method="get">
            <label for="lang">{t!(i18n, nav_language)}</label>
            <select id="lang" name="lang">
                {Locale::get_all()
                    .iter()
                    .map(|l| {
                        let l = *l;
                        view! {
                            <option value=l.as_str() lang=l.as_str() selected=move || i18n.get_locale() == l>
                                {td_string!(l, language_name)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button type="submit" class="secondary">{t!(i18n, nav_change_language)}</button>
        </form>
    }
}

/// A full page load focuses the page's `autofocus` field by itself; a
/// client-side navigation (the hydrated wizard going to its next step) does
/// not, because browsers honour `autofocus` once per document. So after
/// each navigation, focus moves to the new step's `autofocus` field once it
/// has rendered, or else to the main landmark, so keyboard and screen-reader
/// users start on the new step.
fn focus_each_new_step() {
    let location = use_location();
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        if previous.is_some_and(|p| p != path) {
            // After this tick: the old page's fields are gone by then.
            set_timeout(move || focus_when_rendered(0), Duration::ZERO);
        }
        path
    });
}

/// Pages that load data render their fields a little later: look again
/// for up to a second.
fn focus_when_rendered(attempt: u32) {
    const ATTEMPTS: u32 = 20;
    let doc = document();
    let target = doc.query_selector("main [autofocus]").ok().flatten();
    let target = match target {
        Some(field) => Some(field),
        None if attempt < ATTEMPTS => {
            set_timeout(
                move || focus_when_rendered(attempt + 1),
                Duration::from_millis(50),
            );
            None
        }
        None => doc.get_element_by_id("main"),
    };
    if let Some(el) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}
