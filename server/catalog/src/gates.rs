//! The catalog gates of the test command: what makes a language ship
//! English, a broken sentence or a silent regression. Each problem names
//! the language, the key and what is wrong.

use std::fmt;

use crate::plurals::{self, PluralProblem};
use crate::{Language, Locales, placeholders, script};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// English has the key, the language not (or an empty text).
    Missing,
    /// The language has a key English has not.
    Extra,
    /// The placeholders differ from the English ones.
    Placeholders {
        english: Vec<String>,
        translated: Vec<String>,
    },
    /// A plural block is malformed, lacks a category of the language's
    /// CLDR rules (or has one they have not), or counts other variables.
    Plural(PluralProblem),
    /// The text is the English one, and the side file does not say it may be.
    SameAsEnglish,
    /// The text has letters, none in the language's script.
    WrongScript,
    /// The side file does not know the translation (a tool must record it).
    Untracked,
    /// The English text changed since the translation, in a language
    /// declared complete.
    Stale,
    /// The side file speaks of a key English has not.
    MetaForUnknownKey,
    /// No code uses the key.
    Unused,
    /// A description of a key English has not.
    DescriptionForUnknownKey,
}

/// One problem: where and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub tag: String,
    pub key: String,
    pub problem: Problem,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.problem {
            Problem::Missing => "missing".to_owned(),
            Problem::Extra => "not in English".to_owned(),
            Problem::Placeholders {
                english,
                translated,
            } => format!("placeholders {translated:?}, English has {english:?}"),
            Problem::Plural(PluralProblem::Syntax(what)) => format!("plural syntax: {what}"),
            Problem::Plural(PluralProblem::Categories {
                var,
                missing,
                extra,
            }) => format!(
                "plural forms of {var}: missing {missing:?}, not in this language's rules {extra:?}"
            ),
            Problem::Plural(PluralProblem::Variables {
                english,
                translated,
            }) => format!("counts {translated:?}, English counts {english:?}"),
            Problem::SameAsEnglish => {
                "the English text (list it in same_as_english if that is right)".to_owned()
            }
            Problem::WrongScript => "no letter of the language's script".to_owned(),
            Problem::Untracked => {
                "not in the side file (record it: sspr i18n touch LANG KEY)".to_owned()
            }
            Problem::Stale => "stale: the English text changed since it was translated".to_owned(),
            Problem::MetaForUnknownKey => "side file entry for a key English has not".to_owned(),
            Problem::Unused => "no code uses this key".to_owned(),
            Problem::DescriptionForUnknownKey => "description of a key English has not".to_owned(),
        };
        write!(f, "{}: {}: {what}", self.tag, self.key)
    }
}

/// Every problem of the catalogs; `code` is the text of the source files
/// that use the keys (for the unused-key gate), `None` to skip that gate.
pub fn check(locales: &Locales, code: Option<&str>) -> Vec<Finding> {
    let mut found = Vec::new();
    let en = crate::SOURCE_LANGUAGE;
    for (key, text) in &locales.english {
        for p in plurals::check(en, text, text) {
            found.push(finding(en, key, Problem::Plural(p)));
        }
    }
    for language in &locales.languages {
        check_language(locales, language, &mut found);
    }
    for key in locales.descriptions.keys() {
        if !locales.english.contains_key(key) {
            found.push(finding(en, key, Problem::DescriptionForUnknownKey));
        }
    }
    if let Some(code) = code {
        let words = identifiers(code);
        for key in locales.english.keys() {
            if !words.contains(key.as_str()) {
                found.push(finding(en, key, Problem::Unused));
            }
        }
    }
    found
}

fn check_language(locales: &Locales, language: &Language, found: &mut Vec<Finding>) {
    let tag = language.tag.as_str();
    let expected_script = script::expected(tag);
    for (key, english) in &locales.english {
        let Some(text) = language.messages.get(key).filter(|t| !t.trim().is_empty()) else {
            found.push(finding(tag, key, Problem::Missing));
            continue;
        };
        let (en_ph, tr_ph) = (placeholders(english), placeholders(text));
        if en_ph != tr_ph {
            found.push(finding(
                tag,
                key,
                Problem::Placeholders {
                    english: en_ph,
                    translated: tr_ph,
                },
            ));
        }
        for p in plurals::check(tag, text, english) {
            found.push(finding(tag, key, Problem::Plural(p)));
        }
        let allowed_same = language.meta.same_as_english.iter().any(|k| k == key);
        if text == english && !allowed_same && text.chars().any(char::is_alphabetic) {
            found.push(finding(tag, key, Problem::SameAsEnglish));
        }
        if let Some(scripts) = expected_script
            && !allowed_same
            && script::lacks(text, scripts)
        {
            found.push(finding(tag, key, Problem::WrongScript));
        }
        if !language.meta.entries.contains_key(key) {
            found.push(finding(tag, key, Problem::Untracked));
        } else if language.meta.complete && !language.is_current(key, english) {
            found.push(finding(tag, key, Problem::Stale));
        }
    }
    for key in language.messages.keys() {
        if !locales.english.contains_key(key) {
            found.push(finding(tag, key, Problem::Extra));
        }
    }
    for key in language.meta.entries.keys() {
        if !locales.english.contains_key(key) {
            found.push(finding(tag, key, Problem::MetaForUnknownKey));
        }
    }
}

fn finding(tag: &str, key: &str, problem: Problem) -> Finding {
    Finding {
        tag: tag.to_owned(),
        key: key.to_owned(),
        problem,
    }
}

/// The identifiers in source code: keys are used as `t!(i18n, key)` and the
/// like, so a key no identifier names is unused.
fn identifiers(code: &str) -> std::collections::HashSet<&str> {
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;

    use super::*;
    use crate::{EntryMeta, LanguageMeta, source_hash};

    fn locales(english: &[(&str, &str)], tag: &str, translated: &[(&str, &str)]) -> Locales {
        let map = |pairs: &[(&str, &str)]| -> IndexMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let english = map(english);
        let entries = translated
            .iter()
            .filter_map(|(k, _)| english.get(*k).map(|en| (k, en)))
            .map(|(k, en)| {
                (
                    (*k).to_owned(),
                    EntryMeta {
                        source: source_hash(en),
                        machine: true,
                    },
                )
            })
            .collect();
        Locales {
            dir: std::path::PathBuf::new(),
            english,
            descriptions: IndexMap::new(),
            languages: vec![Language {
                tag: tag.to_owned(),
                messages: map(translated),
                meta: LanguageMeta {
                    complete: true,
                    same_as_english: vec![],
                    entries,
                },
            }],
        }
    }

    fn problems(l: &Locales) -> Vec<(String, Problem)> {
        check(l, None)
            .into_iter()
            .map(|f| (f.key, f.problem))
            .collect()
    }

    #[test]
    fn a_good_translation_passes() {
        let l = locales(
            &[("next", "Next"), ("hi", "Hello {{ name }}")],
            "ja-JP",
            &[("next", "次へ"), ("hi", "{{ name }} 様")],
        );
        assert_eq!(problems(&l), []);
    }

    #[test]
    fn each_gate_fails_on_its_defect() {
        let l = locales(
            &[
                ("next", "Next"),
                ("hi", "Hello {{ name }}"),
                ("back", "Back"),
                ("gone", "Gone"),
            ],
            "ja-JP",
            &[
                ("next", "Next"),
                ("hi", "こんにちは {{ nom }}"),
                ("back", "Retour"),
                ("extra", "余分"),
            ],
        );
        let p = problems(&l);
        assert!(
            p.contains(&("next".into(), Problem::SameAsEnglish)),
            "{p:?}"
        );
        assert!(p.contains(&("next".into(), Problem::WrongScript)), "{p:?}");
        assert!(p.contains(&("back".into(), Problem::WrongScript)), "{p:?}");
        assert!(p.contains(&("gone".into(), Problem::Missing)), "{p:?}");
        assert!(p.contains(&("extra".into(), Problem::Extra)), "{p:?}");
        assert!(
            p.contains(&(
                "hi".into(),
                Problem::Placeholders {
                    english: vec!["name".into()],
                    translated: vec!["nom".into()]
                }
            )),
            "{p:?}"
        );
    }

    #[test]
    fn a_changed_english_text_makes_the_translation_stale() {
        let mut l = locales(&[("next", "Next")], "de", &[("next", "Weiter")]);
        assert_eq!(problems(&l), []);
        l.english.insert("next".into(), "Continue".into());
        assert_eq!(problems(&l), [("next".into(), Problem::Stale)]);
        // An incomplete language only reports it (sspr i18n status).
        l.languages[0].meta.complete = false;
        assert_eq!(problems(&l), []);
        // Recording the review makes it current again.
        l.languages[0].meta.complete = true;
        l.languages[0].touch("next", "Continue", true);
        assert_eq!(problems(&l), []);
        assert!(!l.languages[0].is_machine("next"));
    }

    #[test]
    fn an_allowed_english_word_passes_and_untracked_text_does_not() {
        let mut l = locales(&[("status", "Status")], "de", &[("status", "Status")]);
        assert_eq!(problems(&l), [("status".into(), Problem::SameAsEnglish)]);
        l.languages[0].meta.same_as_english.push("status".into());
        assert_eq!(problems(&l), []);
        l.languages[0].meta.entries.clear();
        assert_eq!(problems(&l), [("status".into(), Problem::Untracked)]);
    }

    #[test]
    fn a_key_no_code_names_is_unused() {
        let l = locales(&[("next", "Next"), ("old", "Old")], "de", &[]);
        let unused: Vec<String> = check(&l, Some("t!(i18n, next)"))
            .into_iter()
            .filter(|f| f.problem == Problem::Unused)
            .map(|f| f.key)
            .collect();
        assert_eq!(unused, ["old"]);
    }
}
