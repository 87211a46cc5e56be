//! Locale negotiation: `?lang=` beats the signed-in account's saved
//! language, which beats the preference cookie, which beats
//! `Accept-Language`, which beats the configured default. The server runs
//! this once per request and hands the result to leptos_i18n through its
//! cookie, so the page, its `<html lang dir>` and the hydrated client agree.
//! Also here: the page's catalog for the browser (`LocaleProvider`).

use crate::i18n::*;

/// Cookie leptos_i18n reads and writes for the chosen locale.
pub const COOKIE_NAME: &str = "i18n_pref_locale";

/// The shipped locale for a BCP 47 tag: exact match first (case-insensitive),
/// then the fallbacks people expect (Chinese by script or region, the old
/// `iw` for Hebrew, Portuguese to Brazilian), then by primary language, so a
/// browser that says only `he` gets `he-IL`.
pub fn match_tag(tag: &str) -> Option<Locale> {
    let tag = tag.trim();
    if tag.is_empty() {
        return None;
    }
    let all = Locale::get_all();
    if let Some(l) = all.iter().find(|l| l.as_str().eq_ignore_ascii_case(tag)) {
        return Some(*l);
    }
    let mut subtags = tag.split(['-', '_']);
    let primary = subtags.next().unwrap_or(tag).to_ascii_lowercase();
    let primary = match primary.as_str() {
        "zh" => return Some(chinese(subtags)),
        "iw" => "he",
        "pt" => return Some(Locale::pt_BR),
        other => other,
    };
    all.iter()
        .find(|l| {
            l.as_str()
                .split('-')
                .next()
                .is_some_and(|p| p.eq_ignore_ascii_case(primary))
        })
        .copied()
}

/// Traditional characters for Taiwan, Hong Kong and Macao or when the tag
/// says `Hant`; Simplified otherwise (mainland China, Singapore, bare `zh`).
fn chinese<'a>(subtags: impl Iterator<Item = &'a str>) -> Locale {
    let traditional = subtags.into_iter().any(|s| {
        ["hant", "tw", "hk", "mo"]
            .iter()
            .any(|t| s.eq_ignore_ascii_case(t))
    });
    if traditional {
        Locale::zh_TW
    } else {
        Locale::zh_CN
    }
}

/// The value of one of leptos_i18n's string macros (`t_string!` and kin),
/// which are futures since catalogs load per language. They are ready at
/// once: the server has every catalog, and the browser has the page's own
/// from the page itself before anything renders (`LocaleProvider`). Use it
/// through `t_str!` / `td_str!`. A catalog that is not there (a deploy
/// that left the page's catalog out) gives empty text, said on the console
/// where the browser's tools and the end-to-end tests see it.
pub fn ready<T: Default>(value: impl std::future::Future<Output = T>) -> T {
    futures::FutureExt::now_or_never(value).unwrap_or_else(|| {
        leptos::logging::error!("sspr: the page's language catalog is not loaded; text left empty");
        T::default()
    })
}

/// Each language's own name, for the picker (from the catalogs by
/// `build.rs`; the `language_name` key).
pub const LANGUAGE_NAMES: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/language_names.rs"));

/// Whether `locale` is a pseudo-locale (`app/build.rs`): the only locales
/// without a name of their own. Only server builds have them.
pub fn is_pseudo(locale: Locale) -> bool {
    !LANGUAGE_NAMES
        .iter()
        .any(|(tag, _)| *tag == locale.as_str())
}

/// Whether the request being rendered is in a pseudo-locale (the locale
/// middleware leaves the chosen one in the request's cookie header). Such
/// a page is served without the wasm, as a browser without JavaScript
/// sees it.
pub fn request_is_pseudo() -> bool {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        let Some(parts) = use_context::<http::request::Parts>() else {
            return false;
        };
        parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
            .filter_map(match_tag)
            .any(is_pseudo)
    }
    #[cfg(not(feature = "ssr"))]
    false
}

/// Picks from an `Accept-Language` header, honouring q-values.
pub fn from_accept_language(header: &str) -> Option<Locale> {
    sspr_proto::accept_language::ranked(header)
        .into_iter()
        .find_map(|tag| match_tag(tag).filter(|l| !is_pseudo(*l)))
}

/// Makes and provides the request's locale context on the server, before
/// `LocaleProvider`, which then uses it instead of making its own.
///
/// Why: leptos_i18n 0.6.2 makes its context with an isomorphic effect (it
/// copies the locale into its cookie signal, and leptos_use's cookie effect
/// then writes a `Set-Cookie`). On the server that effect is a task of its
/// own, run on any worker; when its run overlapped the end of its page, the
/// page's reactive values vanished under it and the task panicked ("already
/// disposed") — about once in a thousand pages under load. The server needs
/// neither the effect nor the cookie it writes: `middleware::locale` put the
/// chosen locale in the request's cookie (read here) and sets the response
/// cookie itself when `?lang=` chose it. So the context is made under an
/// owner of its own whose effects are paused at once: a run that starts
/// after this returns is skipped. What is left is a run that started in the
/// microseconds before the pause and is then held off its core for longer
/// than the rest of the page takes: seen in a stress loop of bare pages on
/// busy cores, not seen when serving; the effect belongs in the browser
/// only, which is leptos_i18n's to change.
#[cfg(feature = "ssr")]
pub fn provide_server_context() {
    use leptos::prelude::{Owner, on_cleanup, provide_context};
    use leptos_i18n::context::{I18nContextOptions, init_i18n_context_with_options};

    let quiet = Owner::new();
    let context = quiet.with(|| {
        init_i18n_context_with_options::<Locale>(
            I18nContextOptions::default().cookie_name(COOKIE_NAME),
        )
    });
    quiet.pause();
    provide_context(context);
    // The context's values live as long as `quiet`: keep it for the page.
    on_cleanup(move || drop(quiet));
}

/// What leptos_i18n's `I18nContextProvider` does, with the page's catalog
/// in a script of its own that carries the page's CSP nonce (leptos_i18n's
/// inline one has none, so the browser would refuse it, docs/security.md
/// #47): provides the locale context, and sets `<html lang dir>`. The
/// browser runs the catalog script while it reads the page, before the wasm
/// starts, and reads the catalog from it when it hydrates: the page hydrates
/// in the language it was rendered in, with no request of the app's and no
/// flash of another language. The script is one file per language under a
/// name that carries its content's hash, so a browser fetches it once.
#[leptos::component]
pub fn LocaleProvider(children: leptos::children::Children) -> impl leptos::IntoView {
    use leptos::prelude::*;
    use leptos_i18n::context::{I18nContextOptions, provide_i18n_context_with_options_inner};
    use leptos_meta::Html;

    #[cfg(feature = "hydrate")]
    let catalog = leptos_i18n::__private::fetch_translations::init_translations::<Locale>();
    let i18n = provide_i18n_context_with_options_inner::<Locale>(
        I18nContextOptions::default().cookie_name(COOKIE_NAME),
    );
    let children = children();
    #[cfg(feature = "ssr")]
    let catalog = {
        let src = catalog_script(i18n.get_locale_untracked()).map(|s| s.path.clone());
        view! { <script nonce=use_nonce() src=src></script> }
    };
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let catalog = ();
    view! {
        {children}
        {catalog}
        <Html
            attr:lang=move || i18n.get_locale().as_str()
            attr:dir=move || i18n.get_locale().direction().as_str()
        />
    }
}

/// Where the browser fetches the catalog scripts (`server::catalog_scripts`).
pub const CATALOG_PREFIX: &str = "/i18n/";

/// One language's catalog as the browser takes it: a script that hands the
/// texts to leptos_i18n, at a path that carries the hash of its content.
#[cfg(feature = "ssr")]
pub struct CatalogScript {
    pub locale: Locale,
    /// `/i18n/<tag>.<22 hex digits of its SHA-256>.js`.
    pub path: String,
    pub text: String,
}

/// The catalog script of every language, made once per process.
#[cfg(feature = "ssr")]
pub fn catalog_scripts() -> &'static [CatalogScript] {
    static SCRIPTS: std::sync::OnceLock<Vec<CatalogScript>> = std::sync::OnceLock::new();
    SCRIPTS.get_or_init(|| {
        Locale::get_all()
            .iter()
            .map(|l| CatalogScript::of(*l))
            .collect()
    })
}

#[cfg(feature = "ssr")]
pub fn catalog_script(locale: Locale) -> Option<&'static CatalogScript> {
    catalog_scripts().iter().find(|s| s.locale == locale)
}

#[cfg(feature = "ssr")]
impl CatalogScript {
    fn of(locale: Locale) -> CatalogScript {
        use leptos::prelude::Owner;
        use leptos_i18n::__private::fetch_translations::RegisterCtx;
        use sha2::Digest;

        // leptos_i18n records the catalog of every language read while its
        // recorder is in context; reading one text records the whole
        // language (one translation unit, no namespaces).
        let owner = Owner::new();
        let text = owner.with(|| {
            let recorded = RegisterCtx::<Locale>::provide_context();
            let _ = td_str!(locale, language_name);
            recorded.to_array()
        });
        let hash = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        CatalogScript {
            locale,
            path: format!("{CATALOG_PREFIX}{}.{}.js", locale.as_str(), &hash[..22]),
            text,
        }
    }
}

/// `?lang=auto`: forget the language chosen in this browser (the picker's
/// cookie) and go by the account's saved one, else the browser's own. My
/// account's "Automatic" choice also clears the saved one.
pub const AUTOMATIC: &str = "auto";

pub struct Negotiated {
    pub locale: Locale,
    /// The locale came from `?lang=`: remember it in the cookie.
    pub explicit: bool,
    /// `?lang=auto`: remove the cookie.
    pub forget: bool,
}

pub fn negotiate(
    query_lang: Option<&str>,
    saved: Option<&str>,
    cookie: Option<&str>,
    accept_language: Option<&str>,
    default: Locale,
) -> Negotiated {
    if let Some(l) = query_lang.and_then(match_tag) {
        return Negotiated {
            locale: l,
            explicit: true,
            forget: false,
        };
    }
    let forget = query_lang == Some(AUTOMATIC);
    // A pseudo-locale comes from `?lang=` (and the cookie it leaves) only:
    // never from an account or a browser's languages.
    let locale = saved
        .and_then(match_tag)
        .filter(|l| !is_pseudo(*l))
        .or_else(|| cookie.filter(|_| !forget).and_then(match_tag))
        .or_else(|| accept_language.and_then(from_accept_language))
        .unwrap_or(default);
    Negotiated {
        locale,
        explicit: false,
        forget,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pseudo-locales exist in server builds only.
    #[cfg(feature = "ssr")]
    #[test]
    fn a_pseudo_locale_comes_from_the_query_or_its_cookie_only() {
        let chosen =
            |q, saved, cookie, accept| negotiate(q, saved, cookie, accept, Locale::ja_JP).locale;
        assert!(chosen(Some("en-XA"), None, None, None) == Locale::en_XA);
        assert!(chosen(None, None, Some("ar-XB"), None) == Locale::ar_XB);
        assert!(chosen(None, Some("en-XA"), None, None) == Locale::ja_JP);
        assert!(chosen(None, None, None, Some("en-XA, de;q=0.5")) == Locale::de);
        assert!(is_pseudo(Locale::en_XA) && !is_pseudo(Locale::he_IL));
    }

    #[test]
    fn query_beats_cookie_beats_header() {
        let n = negotiate(
            Some("he-IL"),
            Some("ja-JP"),
            Some("en"),
            Some("en"),
            Locale::en,
        );
        assert!(n.explicit && n.locale == Locale::he_IL);
        let n = negotiate(None, Some("ja-JP"), Some("he-IL"), Some("en"), Locale::en);
        assert!(
            !n.explicit && n.locale == Locale::ja_JP,
            "saved beats cookie"
        );
        let n = negotiate(None, None, Some("he-IL"), Some("en"), Locale::en);
        assert!(!n.explicit && n.locale == Locale::he_IL);
        let n = negotiate(Some("xx"), None, None, Some("he,en;q=0.5"), Locale::en);
        assert!(
            !n.explicit && n.locale == Locale::he_IL,
            "bad ?lang= falls through"
        );
        assert!(negotiate(None, None, None, None, Locale::he_IL).locale == Locale::he_IL);
        assert!(!n.forget);
    }

    #[test]
    fn automatic_forgets_the_cookie_but_not_the_saved_language() {
        let n = negotiate(Some(AUTOMATIC), None, Some("he-IL"), Some("de"), Locale::en);
        assert!(n.forget && !n.explicit && n.locale == Locale::de);
        let n = negotiate(
            Some(AUTOMATIC),
            Some("ko"),
            Some("he-IL"),
            Some("de"),
            Locale::en,
        );
        assert!(n.forget && n.locale == Locale::ko);
        let n = negotiate(Some(AUTOMATIC), None, Some("he-IL"), None, Locale::fr);
        assert!(n.forget && n.locale == Locale::fr);
    }

    #[test]
    fn accept_language_matches_primary_language_and_q_values() {
        assert_eq!(from_accept_language("he"), Some(Locale::he_IL));
        assert_eq!(
            from_accept_language("fr-FR, he-il;q=0.8, en;q=0.9"),
            Some(Locale::fr)
        );
        assert_eq!(
            from_accept_language("nl-NL, he-il;q=0.8, en;q=0.9"),
            Some(Locale::en)
        );
        assert_eq!(
            from_accept_language("en;q=0, he;q=0.1"),
            Some(Locale::he_IL)
        );
        assert_eq!(from_accept_language("fr, de"), Some(Locale::fr));
        assert_eq!(from_accept_language("nl, sv"), None);
        assert_eq!(from_accept_language(""), None);
    }

    #[test]
    fn regional_and_old_tags_fall_back_as_people_expect() {
        for (tag, want) in [
            ("zh-HK", Locale::zh_TW),
            ("zh-MO", Locale::zh_TW),
            ("zh-Hant", Locale::zh_TW),
            ("zh-Hant-HK", Locale::zh_TW),
            ("zh_tw", Locale::zh_TW),
            ("zh-SG", Locale::zh_CN),
            ("zh-Hans", Locale::zh_CN),
            ("zh", Locale::zh_CN),
            ("iw", Locale::he_IL),
            ("iw-IL", Locale::he_IL),
            ("he", Locale::he_IL),
            ("pt", Locale::pt_BR),
            ("pt-PT", Locale::pt_BR),
            ("ja", Locale::ja_JP),
            ("ar-EG", Locale::ar),
            ("de-AT", Locale::de),
            ("en-GB", Locale::en),
            ("es-419", Locale::es),
            ("ko-KR", Locale::ko),
        ] {
            assert_eq!(match_tag(tag), Some(want), "{tag}");
        }
        assert_eq!(match_tag("nl-BE"), None);
    }

    proptest::proptest! {
        /// docs/security.md #78: any header is a locale or nothing, never a
        /// panic; the same preferences in another spelling choose the same.
        #[test]
        fn any_accept_language_is_a_locale_or_nothing(raw in ".{0,200}") {
            let _ = from_accept_language(&raw);
            let _ = match_tag(&raw);
        }

        #[test]
        fn spacing_and_case_do_not_change_the_choice(
            tags in proptest::collection::vec("[a-zA-Z]{2}(-[a-zA-Z]{2})?", 1..5),
            qs in proptest::collection::vec(0u8..=10, 5),
        ) {
            let header: Vec<String> = tags
                .iter()
                .zip(&qs)
                .map(|(t, q)| format!("{t};q={}", f32::from(*q) / 10.0))
                .collect();
            let tight = header.join(",");
            let loose = header.join(" ,  ").to_uppercase().replace(";Q=", "; q=");
            proptest::prop_assert_eq!(from_accept_language(&tight), from_accept_language(&loose));
        }
    }
}
