//! The plural gate: every `{var, plural, …}` block of a text is well formed
//! and has exactly the CLDR cardinal categories of its language (Japanese
//! `other` only, Hebrew `one two other`, Arabic all six), and a
//! translation counts the same variables as the English text.

use std::collections::BTreeSet;

use icu_plurals::{PluralCategory, PluralRuleType, PluralRules};
use sspr_proto::plural::blocks;

/// What is wrong with a text's plural blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PluralProblem {
    /// Not the syntax `sspr_proto::plural` reads.
    Syntax(String),
    /// A block over `var` lacks categories the language's rules have, or
    /// has categories they have not.
    Categories {
        var: String,
        missing: Vec<String>,
        extra: Vec<String>,
    },
    /// The counted variables differ from the English text's.
    Variables {
        english: Vec<String>,
        translated: Vec<String>,
    },
}

/// The CLDR cardinal categories of language `tag`, in CLDR's order.
pub fn categories(tag: &str) -> Vec<&'static str> {
    let locale: icu_locale_core::Locale = tag.parse().unwrap_or(icu_locale_core::Locale::UNKNOWN);
    let Ok(rules) = PluralRules::try_new(locale.into(), PluralRuleType::Cardinal.into()) else {
        return vec!["other"];
    };
    let has: Vec<PluralCategory> = rules.categories().collect();
    sspr_proto::plural::CATEGORIES
        .into_iter()
        .zip([
            PluralCategory::Zero,
            PluralCategory::One,
            PluralCategory::Two,
            PluralCategory::Few,
            PluralCategory::Many,
            PluralCategory::Other,
        ])
        .filter(|(_, c)| has.contains(c))
        .map(|(name, _)| name)
        .collect()
}

/// The variables `text` counts (its blocks'), sorted, without repeats.
fn variables(text: &str) -> Vec<String> {
    blocks(text)
        .map(|b| {
            b.iter()
                .map(|b| b.var.to_owned())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        })
        .unwrap_or_default()
}

/// The problems of `text` in language `tag`; `english` is its source (the
/// text itself for English).
pub fn check(tag: &str, text: &str, english: &str) -> Vec<PluralProblem> {
    let blocks = match blocks(text) {
        Ok(b) => b,
        Err(e) => {
            return vec![PluralProblem::Syntax(format!(
                "{} (at byte {})",
                e.what, e.at
            ))];
        }
    };
    let wanted = categories(tag);
    let mut found = Vec::new();
    for b in &blocks {
        let given: Vec<&str> = b
            .forms
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| !s.starts_with('='))
            .collect();
        let missing: Vec<String> = wanted
            .iter()
            .filter(|c| !given.contains(c))
            .map(|c| (*c).to_owned())
            .collect();
        let extra: Vec<String> = given
            .iter()
            .filter(|c| !wanted.contains(c))
            .map(|c| (*c).to_owned())
            .collect();
        if !missing.is_empty() || !extra.is_empty() {
            found.push(PluralProblem::Categories {
                var: b.var.to_owned(),
                missing,
                extra,
            });
        }
    }
    let (en, tr) = (variables(english), variables(text));
    if en != tr {
        found.push(PluralProblem::Variables {
            english: en,
            translated: tr,
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_has_its_cldr_categories() {
        assert_eq!(categories("en"), ["one", "other"]);
        assert_eq!(categories("ja-JP"), ["other"]);
        assert_eq!(categories("he-IL"), ["one", "two", "other"]);
        assert_eq!(
            categories("ar"),
            ["zero", "one", "two", "few", "many", "other"]
        );
        assert_eq!(categories("fr"), ["one", "many", "other"]);
    }

    #[test]
    fn a_missing_or_extra_category_is_found() {
        let en = "{n, plural, one {# day} other {# days}}";
        assert_eq!(check("en", en, en), []);
        assert_eq!(check("ja-JP", "{n, plural, other {#日}}", en), []);
        assert_eq!(
            check("he-IL", "{n, plural, one {יום} other {# ימים}}", en),
            [PluralProblem::Categories {
                var: "n".into(),
                missing: vec!["two".into()],
                extra: vec![],
            }]
        );
        assert_eq!(
            check("ja-JP", "{n, plural, one {#日} other {#日}}", en),
            [PluralProblem::Categories {
                var: "n".into(),
                missing: vec![],
                extra: vec!["one".into()],
            }]
        );
        // An exact value is allowed besides the categories.
        assert_eq!(check("ja-JP", "{n, plural, =0 {なし} other {#日}}", en), []);
    }

    #[test]
    fn a_translation_counts_what_english_counts() {
        let en = "{n, plural, one {# day} other {# days}}";
        assert_eq!(
            check("ja-JP", "{{ n }}日", en),
            [PluralProblem::Variables {
                english: vec!["n".into()],
                translated: vec![],
            }]
        );
        assert!(matches!(
            check("ja-JP", "{n, plural, other {#日}", en)[..],
            [PluralProblem::Syntax(_)]
        ));
    }
}
