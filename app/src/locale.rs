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
/// copies the locale into its cookie signal). On the server that effect is
/// a task of its own, run on any worker; when its run overlaps the end of
/// its page, the page's reactive values vanish under it and the task panics
/// ("already disposed") — about once in a thousand pages under load. The
/// server needs neither the effect nor the cookie it would write:
/// `middleware::locale` put the chosen locale in the request's cookie (read
/// here) and sets the response cookie itself. So the context is made under
/// an owner of its own whose effects are paused at once, and a run that
/// starts after that is skipped. (One that started before reads values
/// the rest of the page keeps alive.)
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
    // The context's signals live as long as `quiet`: keep it for the page.
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

#[cfg(all(test, feature = "ssr"))]
mod server_context_tests {
    use std::sync::{Mutex, Once};

    use leptos::prelude::*;

    use super::provide_server_context;
    use crate::i18n::I18nContextProvider;

    /// Panic messages about a disposed reactive value, from any thread.
    static DISPOSED_READS: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn record_disposed_reads() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let message = info.to_string();
                if message.contains("already been disposed") {
                    DISPOSED_READS.lock().unwrap().push(message);
                }
                previous(info);
            }));
        });
    }

    /// Pages rendered and dropped one after another on one thread while
    /// the runtime's two workers run the tasks spawned during each render:
    /// the race that made the server panic about once in a thousand pages.
    /// Without the fix this test saw 3 to 9 panics in a run of 3000 pages;
    /// with it, none in four runs. No task may read a finished page's
    /// values.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_locale_context_leaves_no_task_reading_a_finished_page() {
        record_disposed_reads();
        let _ = any_spawner::Executor::init_tokio();
        for _ in 0..PAGES {
            let owner = Owner::new();
            let html = owner.with(|| {
                provide_server_context();
                view! {
                    <I18nContextProvider>
                        <p>"page"</p>
                        <ul>{(0..200).map(|i| view! { <li>{i}</li> }).collect_view()}</ul>
                    </I18nContextProvider>
                }
                .to_html()
            });
            assert!(html.contains("<p>page"), "{html}");
            drop(owner);
        }
        // Let the last tasks run.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        // Copied out: the assertion's own panic goes through the hook.
        let reads = DISPOSED_READS.lock().unwrap().clone();
        assert!(
            reads.is_empty(),
            "{} panics: {:#?}",
            reads.len(),
            reads.first()
        );
    }

    const PAGES: usize = 3000;
}
