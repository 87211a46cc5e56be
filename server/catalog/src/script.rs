//! Which writing system a language's texts must show. A translation that
//! has letters but none of its language's script is English (or another
//! language) left in place; Latin-script languages are caught instead by
//! the "same as English" gate.

use unicode_script::{Script, UnicodeScript};

/// The scripts one of which a text in language `tag` must use, or `None`
/// for languages written in Latin script.
pub fn expected(tag: &str) -> Option<&'static [Script]> {
    let language = tag.split('-').next().unwrap_or(tag);
    Some(match language {
        // Kanji alone is also Chinese; any kana or kanji passes here and
        // the reviewers judge the rest.
        "ja" => &[Script::Hiragana, Script::Katakana, Script::Han],
        "zh" => &[Script::Han],
        "ko" => &[Script::Hangul],
        "ar" => &[Script::Arabic],
        "he" => &[Script::Hebrew],
        _ => return None,
    })
}

/// Whether `text` (placeholders taken out) has letters and none of them in
/// `scripts`.
pub fn lacks(text: &str, scripts: &[Script]) -> bool {
    let text = without_placeholders(text);
    let mut letters = text.chars().filter(|c| c.is_alphabetic()).peekable();
    letters.peek().is_some() && !letters.any(|c| scripts.contains(&c.script()))
}

fn without_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => rest = &rest[start + end + 2..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_left_in_english_lacks_the_script() {
        let ja = expected("ja-JP").unwrap_or_default();
        assert!(lacks("Next", ja));
        assert!(!lacks("次へ", ja));
        assert!(
            !lacks("ユーザー ID", ja),
            "a Latin token beside kana is fine"
        );
        assert!(!lacks("6 ～ 10。", ja), "no letters, nothing to judge");
        assert!(lacks("{{ name }} signed in", ja));
        assert!(!lacks("{{ name }}", ja));
        assert!(lacks("שלום", expected("ar").unwrap_or_default()));
        assert!(!lacks("שלום", expected("he-IL").unwrap_or_default()));
        assert!(expected("de").is_none());
    }
}
