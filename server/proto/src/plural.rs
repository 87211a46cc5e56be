//! Plural forms in catalog texts, in ICU MessageFormat's syntax (which
//! translation platforms know): `{minutes, plural, one {# minute} other {#
//! minutes}}`. Each language lists the CLDR categories its rules have
//! (Japanese only `other`, Arabic six); `#` is the number. One parser for
//! the three places that read them: the app choosing a form (server and
//! browser), the build making the pseudo-locales, and the catalog gates.
//! Not supported, and refused by the gates: nested blocks, `select`,
//! `offset`.

/// The CLDR plural categories, in CLDR's order.
pub const CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

/// One `{var, plural, …}` block of a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block<'a> {
    /// Byte range of the whole block in the text.
    pub start: usize,
    pub end: usize,
    pub var: &'a str,
    /// `(selector, text)`: a category or `=N`, in the author's order.
    pub forms: Vec<(&'a str, &'a str)>,
}

/// What is wrong with a text's plural syntax, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub at: usize,
    pub what: &'static str,
}

/// The pieces of a text: literal runs, `{{ placeholder }}`s and plural
/// blocks, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
    Plural(Block<'a>),
}

/// Splits `text` into [`Piece`]s.
pub fn pieces(text: &str) -> Result<Vec<Piece<'_>>, SyntaxError> {
    let mut out = Vec::new();
    let mut literal = 0;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("{{") {
            let end = placeholder_end(text, i)?;
            push_text(&mut out, &text[literal..i]);
            out.push(Piece::Placeholder(&text[i..end]));
            i = end;
            literal = i;
        } else if rest.starts_with('{') {
            let block = block(text, i)?;
            push_text(&mut out, &text[literal..i]);
            i = block.end;
            literal = i;
            out.push(Piece::Plural(block));
        } else if rest.starts_with('}') {
            return Err(SyntaxError {
                at: i,
                what: "a `}` that closes nothing",
            });
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    push_text(&mut out, &text[literal..]);
    Ok(out)
}

/// The plural blocks of `text`.
pub fn blocks(text: &str) -> Result<Vec<Block<'_>>, SyntaxError> {
    Ok(pieces(text)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Plural(b) => Some(b),
            _ => None,
        })
        .collect())
}

/// `text` with each block over `var` replaced by its form for `n`: an
/// exact `=n` first, else the form of `n`'s category (from `category`, the
/// language's CLDR rules), else `other`. `#` in the form becomes `shown`,
/// `n` as the language writes it.
/// Only the blocks are parsed, so a value already put in the text outside
/// them (a name with a stray `}`) cannot stop the choice; forms hold no
/// values. A block that is not well formed stays as it is (the gates keep
/// those out of the catalogs).
pub fn select(
    text: &str,
    var: &str,
    n: u64,
    shown: &str,
    category: impl Fn(u64) -> &'static str,
) -> String {
    let head = format!("{{{var},");
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find(&head) {
        let at = from + found;
        from = at + 1;
        if at > 0 && text[..at].ends_with('{') {
            continue;
        }
        let Ok(b) = block(text, at) else { continue };
        out.push_str(&text[copied..b.start]);
        let exact = format!("={n}");
        let wanted = category(n);
        let form = b
            .forms
            .iter()
            .find(|(s, _)| *s == exact)
            .or_else(|| b.forms.iter().find(|(s, _)| *s == wanted))
            .or_else(|| b.forms.iter().find(|(s, _)| *s == "other"))
            .map_or("", |(_, f)| *f);
        out.push_str(&form.replace('#', shown));
        copied = b.end;
        from = b.end;
    }
    out.push_str(&text[copied..]);
    out
}

fn push_text<'a>(out: &mut Vec<Piece<'a>>, text: &'a str) {
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
}

/// The end of the `{{ … }}` starting at `at`.
fn placeholder_end(text: &str, at: usize) -> Result<usize, SyntaxError> {
    text[at..]
        .find("}}")
        .map(|e| at + e + 2)
        .ok_or(SyntaxError {
            at,
            what: "a `{{` without `}}`",
        })
}

/// The block starting at `at` (a `{` that does not start `{{`).
fn block(text: &str, at: usize) -> Result<Block<'_>, SyntaxError> {
    let err = |at, what| Err(SyntaxError { at, what });
    let inner = &text[at + 1..];
    let head = inner
        .find(',')
        .and_then(|c1| Some((c1, c1 + 1 + inner[c1 + 1..].find(',')?)));
    let Some((c1, c2)) = head else {
        return err(at, "a block must start `{name, plural,`");
    };
    // No space around the name: `select` finds a block by `{name,`.
    let var = &inner[..c1];
    if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return err(at, "a block must start `{name, plural,`");
    }
    if inner[c1 + 1..c2].trim() != "plural" {
        return err(at, "only `{name, plural, …}` blocks are supported");
    }
    let mut i = at + 1 + c2 + 1;
    let mut forms = Vec::new();
    loop {
        i += text[i..].len() - text[i..].trim_start().len();
        match text[i..].chars().next() {
            Some('}') => break,
            None => return err(at, "a block that is never closed"),
            _ => {}
        }
        let sel_end = text[i..]
            .find(|c: char| c.is_whitespace() || c == '{')
            .map_or(text.len(), |e| i + e);
        let selector = &text[i..sel_end];
        if !is_selector(selector) {
            return err(i, "a form's selector must be a CLDR category or `=N`");
        }
        if forms.iter().any(|(s, _)| *s == selector) {
            return err(i, "a form given twice");
        }
        i = sel_end;
        i += text[i..].len() - text[i..].trim_start().len();
        if !text[i..].starts_with('{') || text[i..].starts_with("{{") {
            return err(i, "a form's text must follow in `{…}`");
        }
        let body_start = i + 1;
        let mut j = body_start;
        loop {
            let rest = &text[j..];
            if rest.starts_with("{{") {
                // Values are put in before the form is chosen: one inside a
                // form could hold a `}` or a `#` of its own.
                return err(j, "a form cannot hold a `{{ placeholder }}`");
            } else if rest.starts_with('{') {
                return err(j, "blocks cannot nest");
            } else if rest.starts_with('}') {
                break;
            } else if let Some(c) = rest.chars().next() {
                j += c.len_utf8();
            } else {
                return err(body_start, "a form whose `}` is missing");
            }
        }
        forms.push((selector, &text[body_start..j]));
        i = j + 1;
    }
    if !forms.iter().any(|(s, _)| *s == "other") {
        return err(at, "every block needs an `other` form");
    }
    Ok(Block {
        start: at,
        end: i + 1,
        var,
        forms,
    })
}

fn is_selector(s: &str) -> bool {
    CATEGORIES.contains(&s)
        || s.strip_prefix('=').is_some_and(|n| {
            !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
                && (n == "0" || !n.starts_with('0'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn english(n: u64) -> &'static str {
        if n == 1 { "one" } else { "other" }
    }

    #[test]
    fn a_form_is_chosen_by_category_exact_value_or_other() {
        let text = "Try again in {minutes, plural, one {# minute} other {# minutes}}.";
        assert_eq!(
            select(text, "minutes", 1, "1", english),
            "Try again in 1 minute."
        );
        assert_eq!(
            select(text, "minutes", 5, "5", english),
            "Try again in 5 minutes."
        );
        let arabic = "{n, plural, zero {لا شيء} =2 {اثنان} few {# قليل} other {# آخر}}";
        assert_eq!(select(arabic, "n", 2, "2", |_| "two"), "اثنان");
        assert_eq!(select(arabic, "n", 3, "3", |_| "few"), "3 قليل");
        // A category the text lacks (a pseudo-locale made from English).
        assert_eq!(select(arabic, "n", 11, "11", |_| "many"), "11 آخر");
        // `#` is the number as the language writes it.
        assert_eq!(
            select(text, "minutes", 1440, "1.440", english),
            "Try again in 1.440 minutes."
        );
    }

    #[test]
    fn placeholders_and_other_blocks_are_left_alone() {
        let text = "Code {{ code }}, {minutes, plural, one {# minute} other {# minutes}}, \
                    {n, plural, other {# left}}";
        assert_eq!(
            select(text, "minutes", 1, "1", english),
            "Code {{ code }}, 1 minute, {n, plural, other {# left}}"
        );
        let pieces = pieces("a {{ b }} {n, plural, one {x #} other {z}} c").unwrap();
        assert_eq!(pieces.len(), 5);
        assert!(
            matches!(&pieces[3], Piece::Plural(b) if b.forms == [("one", "x #"), ("other", "z")])
        );
    }

    #[test]
    fn malformed_blocks_are_refused() {
        for bad in [
            "{n, plural, one {x}}",
            "{n, select, a {x} other {y}}",
            "{n, plural, one {x} other {y}",
            "{n, plural, lots {x} other {y}}",
            "{n, plural, one {x {m, plural, other {y}}} other {z}}",
            "{n, plural, one {x} one {y} other {z}}",
            "{ n, plural, one {x} other {z}}",
            "{n, plural, one {x {{ y }}} other {z}}",
            "{n, plural, =01 {x} other {z}}",
            "closing } alone",
            "{{ open",
        ] {
            assert!(pieces(bad).is_err(), "{bad}");
        }
        assert_eq!(
            select("{n, plural, one {x}}", "n", 1, "1", english),
            "{n, plural, one {x}}"
        );
        // A value put in before the choice cannot stop it.
        assert_eq!(
            select(
                "Hello Bo}b{, {n, plural, one {# day} other {# days}}",
                "n",
                1,
                "1",
                english
            ),
            "Hello Bo}b{, 1 day"
        );
    }
}
