use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_location;
use wasm_bindgen::JsCast;

use crate::i18n::*;
use crate::locale::LANGUAGE_NAMES;

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
            <a class="skip-link" href="#main">
                {t_str!(i18n, skip_to_content)}
            </a>
            <header class="site-header">
                <a class="brand" href="/">
                    {t_str!(i18n, app_name)}
                </a>
                <LanguagePicker />
            </header>
            <main id="main" tabindex="-1">
                {children()}
            </main>
        </div>
    }
}

/// A plain form that posts to `choose_language`, with or without
/// JavaScript: the page loads anew in the chosen language (the browser has
/// the texts of one language only), which is also saved on the account of
/// whoever is signed in. A link with `?lang=` changes the language too.
#[component]
fn LanguagePicker() -> impl IntoView {
    let i18n = use_i18n();
    let back = use_location().pathname;
    view! {
        <form class="language-picker" method="post" action="/api/choose_language">
            <input type="hidden" name="back" value=back />
            <label for="lang">{t_str!(i18n, nav_language)}</label>
            <select id="lang" name="lang">
                <LanguageOptions chosen=Signal::derive(move || Some(i18n.get_locale())) />
            </select>
            <button type="submit" class="secondary">
                {t_str!(i18n, nav_change_language)}
            </button>
        </form>
    }
}

/// One `<option>` per language, in its own name, `chosen` selected (the
/// header's picker: the page's language; My account: the saved one, none
/// when "Automatic" is). The pseudo-locales (`app/build.rs`) have no name
/// and are listed only on their own pages, so that the picker shows the
/// page's language there too.
#[component]
pub fn LanguageOptions(chosen: Signal<Option<Locale>>) -> impl IntoView {
    let i18n = use_i18n();
    let current = i18n.get_locale_untracked();
    Locale::get_all()
        .iter()
        .filter_map(|l| {
            let l = *l;
            let name = LANGUAGE_NAMES
                .iter()
                .find(|(tag, _)| *tag == l.as_str())
                .map(|(_, name)| *name)
                .or_else(|| (l == current).then_some(l.as_str()))?;
            Some(view! {
                <option value=l.as_str() lang=l.as_str() selected=move || chosen.get() == Some(l)>
                    {name}
                </option>
            })
        })
        .collect_view()
}

/// A full page load focuses the page's `autofocus` field by itself; a
/// client-side navigation (the hydrated wizard going to its next step) does
/// not, because browsers honour `autofocus` once per document. So after
/// each navigation, focus moves to the new step's `autofocus` field once it
/// has rendered, or else to the main landmark, so keyboard and screen-reader
/// users start on the new step. It never takes focus back from someone who
/// has already moved it into the new step (a fast typist, a click), and a
/// search left over from an earlier navigation gives up.
fn focus_each_new_step() {
    let location = use_location();
    let navigation = StoredValue::new(0u64);
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        if previous.is_some_and(|p| p != path) {
            navigation.update_value(|n| *n += 1);
            let search = FocusSearch {
                navigation,
                number: navigation.get_value(),
                left_behind: document().active_element(),
            };
            // After this tick: the old page's fields are gone by then.
            set_timeout(move || search.run(0), Duration::ZERO);
        }
        path
    });
}

/// One navigation's search for the field to focus.
struct FocusSearch {
    /// The latest navigation's number.
    navigation: StoredValue<u64>,
    /// This search's navigation.
    number: u64,
    /// What had focus when the navigation began (often the old page's
    /// submit button): focus still there, or on nothing, is not a choice
    /// anybody made on the new step.
    left_behind: Option<web_sys::Element>,
}

impl FocusSearch {
    /// Pages that load data render their fields a little later: look again
    /// for up to a second.
    fn run(self, attempt: u32) {
        const ATTEMPTS: u32 = 20;
        if self.navigation.try_get_value() != Some(self.number) || self.focus_was_moved() {
            return;
        }
        let doc = document();
        let target = match doc.query_selector("main [autofocus]").ok().flatten() {
            Some(field) => Some(field),
            None if attempt < ATTEMPTS => {
                set_timeout(move || self.run(attempt + 1), Duration::from_millis(50));
                return;
            }
            None => doc.get_element_by_id("main"),
        };
        if let Some(el) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    }

    /// Whether somebody put focus somewhere since the navigation: on
    /// anything but the page itself, the main landmark or what the
    /// navigation left behind (the header's language picker counts too).
    fn focus_was_moved(&self) -> bool {
        let doc = document();
        let Some(active) = doc.active_element() else {
            return false;
        };
        let on_page_itself = doc.body().is_some_and(|b| *b == active)
            || doc.document_element().as_ref() == Some(&active);
        !on_page_itself && active.id() != "main" && self.left_behind.as_ref() != Some(&active)
    }
}
