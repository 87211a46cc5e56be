use leptos::prelude::*;

use crate::i18n::*;

/// Page frame: skip link, header with the product name and the language
/// picker, and the main landmark. `data-hydrated` appears once the wasm has
/// taken over, which end-to-end tests wait for.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
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
