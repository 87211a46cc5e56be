//! Locale negotiation: `?lang=` beats the preference cookie, which beats
//! `Accept-Language`, which beats the configured default. The server runs
//! this once per request and hands the result to leptos_i18n through its
//! cookie, so the page, its `<html lang dir>` and the hydrated client agree.

use crate::i18n::*;

/// Cookie leptos_i18n reads and writes for the chosen locale.
pub const COOKIE_NAME: &str = "i18n_pref_locale";

/// The shipped locale for a BCP 47 tag: exact match first (case-insensitive),
/// then by primary language, so a browser that says only `he` gets `he-IL`.
pub fn match_tag(tag: &str) -> Option<Locale> {
    let tag = tag.trim();
    if tag.is_empty() {
        return None;
    }
    let all = Locale::get_all();
    if let Some(l) = all.iter().find(|l| l.as_str().eq_ignore_ascii_case(tag)) {
        return Some(*l);
    }
    let primary = tag.split(['-', '_']).next().unwrap_or(tag);
    all.iter()
        .find(|l| {
            l.as_str()
                .split('-')
                .next()
                .is_some_and(|p| p.eq_ignore_ascii_case(primary))
        })
        .copied()
}

/// Picks from an `Accept-Language` header, honouring q-values.
pub fn from_accept_language(header: &str) -> Option<Locale> {
    let mut ranked: Vec<(f32, usize, &str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map(|q| q.trim().parse::<f32>().unwrap_or(0.0))
                .unwrap_or(1.0);
            (q > 0.0 && tag != "*").then_some((q, i, tag))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.iter().find_map(|(_, _, tag)| match_tag(tag))
}

/// Makes and provides the request's locale context on the server, before
/// `I18nContextProvider`, which then uses it instead of making its own.
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

pub struct Negotiated {
    pub locale: Locale,
    /// The locale came from `?lang=`: remember it in the cookie.
    pub explicit: bool,
}

pub fn negotiate(
    query_lang: Option<&str>,
    cookie: Option<&str>,
    accept_language: Option<&str>,
    default: Locale,
) -> Negotiated {
    if let Some(l) = query_lang.and_then(match_tag) {
        return Negotiated {
            locale: l,
            explicit: true,
        };
    }
    let locale = cookie
        .and_then(match_tag)
        .or_else(|| accept_language.and_then(from_accept_language))
        .unwrap_or(default);
    Negotiated {
        locale,
        explicit: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_beats_cookie_beats_header() {
        let n = negotiate(Some("he-IL"), Some("en"), Some("en"), Locale::en);
        assert!(n.explicit && n.locale == Locale::he_IL);
        let n = negotiate(None, Some("he-IL"), Some("en"), Locale::en);
        assert!(!n.explicit && n.locale == Locale::he_IL);
        let n = negotiate(Some("xx"), None, Some("he,en;q=0.5"), Locale::en);
        assert!(
            !n.explicit && n.locale == Locale::he_IL,
            "bad ?lang= falls through"
        );
        assert!(negotiate(None, None, None, Locale::he_IL).locale == Locale::he_IL);
    }

    #[test]
    fn accept_language_matches_primary_language_and_q_values() {
        assert_eq!(from_accept_language("he"), Some(Locale::he_IL));
        assert_eq!(
            from_accept_language("fr-FR, he-il;q=0.8, en;q=0.9"),
            Some(Locale::en)
        );
        assert_eq!(
            from_accept_language("en;q=0, he;q=0.1"),
            Some(Locale::he_IL)
        );
        assert_eq!(from_accept_language("fr, de"), None);
        assert_eq!(from_accept_language(""), None);
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
