//! Exchange with translators and translation platforms in XLIFF 2.0: one
//! `<unit>` per key (its id), the description as a `<note>`, the English
//! `<source>` and the translation as `<target>`.
//!
//! What the side file knows travels with it, so an export read back changes
//! nothing: the segment's `state` says where the text stands (`initial`: to
//! translate, or stale; `translated`; `reviewed`), `subState="sspr:machine"`
//! marks a machine-made text. Reading a file back, a unit still `initial`
//! with its target untouched changes nothing; any other target counts as
//! translated from the file's `<source>`, which is what the translator saw:
//! a file exported before the English changed brings in stale translations,
//! not current ones, and confirming a stale text (`translated`) makes it
//! current. `reviewed`/`final` clear the machine mark. Placeholders stay
//! plain text (`{{ name }}`), as in the catalogs.

use std::borrow::Cow;

use quick_xml::events::{BytesDecl, BytesEnd, BytesRef, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer, XmlVersion};

use crate::{CatalogError, EntryMeta, Language, Locales, SOURCE_LANGUAGE, source_hash};

const XLIFF_NS: &str = "urn:oasis:names:tc:xliff:document:2.0";
const SSPR_NS: &str = "urn:sspr:catalog";
/// The `subState` of a machine-made translation.
const MACHINE: &str = "sspr:machine";

/// Language `tag` as an XLIFF 2.0 document.
pub fn export(locales: &Locales, tag: &str) -> Result<String, CatalogError> {
    let language = locales.language(tag)?;
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(xml_error)?;
    let mut root = BytesStart::new("xliff");
    root.push_attribute(("xmlns", XLIFF_NS));
    root.push_attribute(("xmlns:sspr", SSPR_NS));
    root.push_attribute(("version", "2.0"));
    root.push_attribute(("srcLang", SOURCE_LANGUAGE));
    root.push_attribute(("trgLang", tag));
    start(&mut w, root)?;
    let mut file = BytesStart::new("file");
    file.push_attribute(("id", "app"));
    // Mail bodies have line breaks and double spaces a tool must keep.
    file.push_attribute(("xml:space", "preserve"));
    start(&mut w, file)?;
    for (key, english) in &locales.english {
        let text = language.messages.get(key).filter(|t| !t.trim().is_empty());
        let mut unit = BytesStart::new("unit");
        unit.push_attribute(("id", key.as_str()));
        start(&mut w, unit)?;
        if let Some(description) = locales.descriptions.get(key) {
            start(&mut w, BytesStart::new("notes"))?;
            let mut note = BytesStart::new("note");
            note.push_attribute(("category", "description"));
            element(&mut w, note, description)?;
            end(&mut w, "notes")?;
        }
        let machine = text.is_some() && language.is_machine(key);
        let state = match text {
            None => "initial",
            Some(_) if !language.is_current(key, english) => "initial",
            Some(_) if machine => "translated",
            Some(_) => "reviewed",
        };
        let mut segment = BytesStart::new("segment");
        segment.push_attribute(("state", state));
        if machine {
            segment.push_attribute(("subState", MACHINE));
        }
        start(&mut w, segment)?;
        element(&mut w, BytesStart::new("source"), english)?;
        if let Some(text) = text {
            element(&mut w, BytesStart::new("target"), text)?;
        }
        end(&mut w, "segment")?;
        end(&mut w, "unit")?;
    }
    end(&mut w, "file")?;
    end(&mut w, "xliff")?;
    let mut xml =
        String::from_utf8(w.into_inner()).map_err(|e| CatalogError::Xliff(e.to_string()))?;
    xml.push('\n');
    Ok(xml)
}

/// Language `tag` with the translations of XLIFF document `xml` read in
/// (not yet saved: see [`Locales::save`]). `machine`: the file comes from a
/// translation engine or a model, so what it brings is machine-made even
/// where it does not say so.
pub fn import(
    locales: &Locales,
    tag: &str,
    xml: &str,
    machine: bool,
) -> Result<Language, CatalogError> {
    let mut language = locales.language(tag)?.clone();
    for unit in read_units(xml, tag)? {
        if !locales.english.contains_key(&unit.id) {
            return Err(CatalogError::NoSuchKey(
                SOURCE_LANGUAGE.to_owned(),
                unit.id.clone(),
            ));
        }
        // A unit left untranslated changes nothing.
        let Some(target) = unit.target.filter(|t| !t.trim().is_empty()) else {
            continue;
        };
        let changed = language.messages.get(&unit.id) != Some(&target);
        let state = unit.state.as_deref().unwrap_or("initial");
        // An untouched unit still "initial" (to translate, or stale) keeps
        // what the side file says, or says nothing if it said nothing.
        if !changed && state == "initial" {
            continue;
        }
        let approved = matches!(state, "reviewed" | "final");
        let marked = unit.sub_state.as_deref() == Some(MACHINE);
        let entry = EntryMeta {
            // The English the translator saw (stale if it has changed since).
            source: source_hash(&unit.source),
            machine: (marked || machine) && !approved,
        };
        language.messages.insert(unit.id.clone(), target);
        language.meta.entries.insert(unit.id, entry);
    }
    // New keys take their place in the English order.
    let position = |key: &String| locales.english.get_index_of(key).unwrap_or(usize::MAX);
    language
        .messages
        .sort_by(|a, _, b, _| position(a).cmp(&position(b)));
    language
        .meta
        .entries
        .sort_by(|a, _, b, _| position(a).cmp(&position(b)));
    Ok(language)
}

/// One `<unit>` as read.
#[derive(Debug, Default)]
struct Unit {
    id: String,
    state: Option<String>,
    sub_state: Option<String>,
    source: String,
    target: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Text {
    Source,
    Target,
}

fn read_units(xml: &str, tag: &str) -> Result<Vec<Unit>, CatalogError> {
    let mut reader = Reader::from_str(xml);
    let mut units = Vec::new();
    let mut unit: Option<Unit> = None;
    let mut inside: Option<Text> = None;
    let mut buf = String::new();
    let mut seen_root = false;
    loop {
        match reader.read_event().map_err(xml_error)? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"xliff" => {
                    check_languages(&e, tag)?;
                    seen_root = true;
                }
                b"unit" => unit = Some(new_unit(&e)?),
                b"segment" => {
                    if let Some(u) = unit.as_mut() {
                        u.state = attribute(&e, "state")?;
                        u.sub_state = attribute(&e, "subState")?;
                    }
                }
                b"source" => {
                    inside = Some(Text::Source);
                    buf.clear();
                }
                b"target" => {
                    inside = Some(Text::Target);
                    buf.clear();
                }
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                b"xliff" => {
                    check_languages(&e, tag)?;
                    seen_root = true;
                }
                b"segment" => {
                    if let Some(u) = unit.as_mut() {
                        u.state = attribute(&e, "state")?;
                        u.sub_state = attribute(&e, "subState")?;
                    }
                }
                b"target" => {
                    if let Some(u) = unit.as_mut() {
                        u.target.get_or_insert_default();
                    }
                }
                _ => {}
            },
            Event::Text(t) if inside.is_some() => {
                buf.push_str(&t.xml10_content().map_err(xml_error)?);
            }
            Event::CData(t) if inside.is_some() => {
                buf.push_str(&t.xml10_content().map_err(xml_error)?);
            }
            Event::GeneralRef(r) if inside.is_some() => buf.push_str(&reference(&r)?),
            Event::End(e) => match e.local_name().as_ref() {
                b"source" | b"target" => {
                    // A unit split into several segments reads as one text.
                    if let (Some(u), Some(which)) = (unit.as_mut(), inside.take()) {
                        match which {
                            Text::Source => u.source.push_str(&buf),
                            Text::Target => u.target.get_or_insert_default().push_str(&buf),
                        }
                    }
                }
                b"unit" => units.extend(unit.take()),
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(CatalogError::Xliff("no <xliff> element".into()));
    }
    Ok(units)
}

fn new_unit(e: &BytesStart<'_>) -> Result<Unit, CatalogError> {
    Ok(Unit {
        id: attribute(e, "id")?
            .ok_or_else(|| CatalogError::Xliff("a <unit> without an id".into()))?,
        ..Unit::default()
    })
}

/// The document must translate English into `tag`.
fn check_languages(e: &BytesStart<'_>, tag: &str) -> Result<(), CatalogError> {
    let source = attribute(e, "srcLang")?;
    let target = attribute(e, "trgLang")?;
    if source.as_deref() != Some(SOURCE_LANGUAGE) || target.as_deref() != Some(tag) {
        return Err(CatalogError::Xliff(format!(
            "the file translates {} into {}, not {SOURCE_LANGUAGE} into {tag}",
            source.unwrap_or_default(),
            target.unwrap_or_default()
        )));
    }
    Ok(())
}

fn attribute(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, CatalogError> {
    match e.try_get_attribute(name).map_err(xml_error)? {
        Some(a) => Ok(Some(
            a.normalized_value(XmlVersion::Explicit1_0)
                .map_err(xml_error)?
                .into_owned(),
        )),
        None => Ok(None),
    }
}

/// `&amp;`, `&#10;` and the like.
fn reference(r: &BytesRef<'_>) -> Result<Cow<'static, str>, CatalogError> {
    if let Some(c) = r.resolve_char_ref().map_err(xml_error)? {
        return Ok(Cow::Owned(c.to_string()));
    }
    let name = r.decode().map_err(xml_error)?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(Cow::Borrowed)
        .ok_or_else(|| CatalogError::Xliff(format!("unknown entity &{name};")))
}

fn start(w: &mut Writer<Vec<u8>>, e: BytesStart<'_>) -> Result<(), CatalogError> {
    w.write_event(Event::Start(e)).map_err(xml_error)
}

fn end(w: &mut Writer<Vec<u8>>, name: &str) -> Result<(), CatalogError> {
    w.write_event(Event::End(BytesEnd::new(name)))
        .map_err(xml_error)
}

fn element(w: &mut Writer<Vec<u8>>, e: BytesStart<'_>, text: &str) -> Result<(), CatalogError> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    start(w, e)?;
    // A raw CR would come back as LF (XML end-of-line handling).
    let escaped = quick_xml::escape::escape(text).replace('\r', "&#13;");
    w.write_event(Event::Text(BytesText::from_escaped(escaped)))
        .map_err(xml_error)?;
    end(w, &name)
}

fn xml_error(e: impl std::fmt::Display) -> CatalogError {
    CatalogError::Xliff(e.to_string())
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;

    use super::*;
    use crate::LanguageMeta;

    fn sample() -> Locales {
        let english: IndexMap<String, String> = [
            ("next", "Next"),
            ("hi", "Hello {{ name }} & <you>,\n  welcome "),
            ("gone", "Not translated"),
            ("changed", "Changed since"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut fr = Language {
            tag: "fr".into(),
            messages: IndexMap::new(),
            meta: LanguageMeta {
                complete: false,
                same_as_english: vec![],
                entries: IndexMap::new(),
            },
        };
        for (k, v, machine) in [
            ("next", "Suivant", true),
            ("hi", "Bonjour {{ name }} & <vous>,\n  bienvenue ", false),
            ("changed", "Modifié", true),
        ] {
            fr.messages.insert(k.into(), v.into());
            fr.meta.entries.insert(
                k.into(),
                EntryMeta {
                    source: source_hash(if k == "changed" {
                        "Old text"
                    } else {
                        &english[k]
                    }),
                    machine,
                },
            );
        }
        Locales {
            dir: std::path::PathBuf::new(),
            descriptions: [(
                "hi".to_owned(),
                "Greeting; name: the user's name".to_owned(),
            )]
            .into_iter()
            .collect(),
            english,
            languages: vec![fr],
        }
    }

    #[test]
    fn a_round_trip_changes_nothing() {
        let l = sample();
        let xml = export(&l, "fr").map_err(|e| e.to_string());
        let xml = xml.as_deref().unwrap_or_default();
        assert!(xml.contains(r#"<unit id="next">"#), "{xml}");
        assert!(xml.contains(r#"xml:space="preserve""#), "{xml}");
        assert!(
            xml.contains(r#"state="translated" subState="sspr:machine""#),
            "{xml}"
        );
        assert!(
            xml.contains("<note category=\"description\">Greeting"),
            "{xml}"
        );
        assert!(xml.contains("&amp; &lt;vous&gt;"), "{xml}");
        let back = import(&l, "fr", xml, false).map_err(|e| e.to_string());
        assert_eq!(back.as_ref().ok(), Some(&l.languages[0]), "{back:?}");
    }

    #[test]
    fn an_edited_target_is_recorded_against_the_source_the_translator_saw() {
        let l = sample();
        let xml = export(&l, "fr").unwrap_or_default();
        // The translator fixes the stale text and translates the missing one.
        let edited = xml
            .replace(
                "<target>Modifié</target>",
                "<target>Modifié depuis</target>",
            )
            .replace(
                "<source>Not translated</source>",
                "<source>Not translated</source><target>Pas traduit</target>",
            );
        let fr = import(&l, "fr", &edited, false).unwrap_or_else(|_| l.languages[0].clone());
        assert_eq!(fr.messages["gone"], "Pas traduit");
        assert!(fr.is_current("gone", "Not translated"));
        assert!(fr.is_current("changed", "Changed since"), "no longer stale");
        // Kept the machine mark: only a review clears it.
        assert!(fr.is_machine("changed"));
        let keys: Vec<&String> = fr.messages.keys().collect();
        assert_eq!(keys, ["next", "hi", "gone", "changed"], "English order");
        // A file exported before the English changed brings the old hash.
        let old = edited
            .replace("<source>Next</source>", "<source>Continue</source>")
            .replace("<target>Suivant</target>", "<target>Continuer</target>");
        let fr = import(&l, "fr", &old, false).unwrap_or_else(|_| l.languages[0].clone());
        assert_eq!(fr.messages["next"], "Continuer");
        assert!(
            !fr.is_current("next", "Next"),
            "stale: made from other English"
        );
    }

    #[test]
    fn an_untracked_text_stays_untracked_and_line_breaks_survive() {
        let mut l = sample();
        l.languages[0].meta.entries.shift_remove("next");
        l.english.insert("gone".into(), "Line\r\nbreak".into());
        l.languages[0]
            .messages
            .insert("gone".into(), "Ligne\r\ncoupée".into());
        let xml = export(&l, "fr").unwrap_or_default();
        let back = import(&l, "fr", &xml, false).map_err(|e| e.to_string());
        assert_eq!(back.as_ref().ok(), Some(&l.languages[0]), "{back:?}");
    }

    #[test]
    fn an_engines_file_is_machine_made() {
        let l = sample();
        let xml = export(&l, "fr").unwrap_or_default().replace(
            "<source>Not translated</source>",
            "<source>Not translated</source><target>Pas traduit</target>",
        );
        let fr = import(&l, "fr", &xml, true).unwrap_or_else(|_| l.languages[0].clone());
        assert!(fr.is_machine("gone"));
        let prefixed = export(&l, "fr")
            .unwrap_or_default()
            .replace(
                "<xliff ",
                "<x:xliff xmlns:x=\"urn:oasis:names:tc:xliff:document:2.0\" ",
            )
            .replace("</xliff>", "</x:xliff>");
        assert!(import(&l, "fr", &prefixed, false).is_ok(), "prefixed names");
    }

    #[test]
    fn a_review_clears_the_machine_mark() {
        let l = sample();
        let xml = export(&l, "fr").unwrap_or_default().replace(
            r#"state="translated" subState="sspr:machine""#,
            r#"state="reviewed""#,
        );
        let fr = import(&l, "fr", &xml, false).unwrap_or_else(|_| l.languages[0].clone());
        assert!(!fr.is_machine("next"));
        assert!(fr.is_current("next", "Next"));
    }

    #[test]
    fn a_file_for_another_language_or_key_is_refused() {
        let l = sample();
        let xml = export(&l, "fr").unwrap_or_default();
        let other = xml.replace(r#"trgLang="fr""#, r#"trgLang="de""#);
        assert!(matches!(
            import(&l, "fr", &other, false),
            Err(CatalogError::Xliff(_))
        ));
        let unknown = xml.replace(r#"<unit id="gone""#, r#"<unit id="nope""#);
        assert!(matches!(
            import(&l, "fr", &unknown, false),
            Err(CatalogError::NoSuchKey(..))
        ));
        assert!(import(&l, "fr", "<xliff><unit", false).is_err());
    }
}
