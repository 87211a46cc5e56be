//! The gates over the product's own catalogs (`app/locales`), which the
//! test command runs: a language that ships English, a broken placeholder,
//! a stale text in a language declared complete, an unused key or a side
//! file out of step fails here, naming the language and the key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use sspr_catalog::{Locales, gates, xliff};

fn locales_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../app/locales")
}

#[test]
fn the_catalogs_pass_every_gate() {
    let locales = Locales::load(&locales_dir()).unwrap();
    assert!(
        locales.languages.len() >= 10,
        "the eleven languages of issue 14"
    );
    let app =
        sspr_catalog::files::rust_sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../app"))
            .unwrap();
    let found = gates::check(&locales, Some(&app));
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(lines.is_empty(), "{}", lines.join("\n"));
}

#[test]
fn reading_and_writing_the_catalogs_changes_no_byte() {
    let source = locales_dir();
    let copy = tempfile::tempdir().unwrap();
    std::fs::create_dir(copy.path().join("meta")).unwrap();
    for sub in ["", "meta"] {
        for entry in std::fs::read_dir(source.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, copy.path().join(sub).join(path.file_name().unwrap()))
                    .unwrap();
            }
        }
    }
    let locales = Locales::load(copy.path()).unwrap();
    for language in &locales.languages {
        locales.save(language).unwrap();
    }
    locales.save_descriptions().unwrap();
    for sub in ["", "meta"] {
        for entry in std::fs::read_dir(source.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let written = copy.path().join(sub).join(path.file_name().unwrap());
                assert!(
                    std::fs::read(&path).unwrap() == std::fs::read(&written).unwrap(),
                    "{} changed when written back",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn every_language_survives_an_xliff_round_trip() {
    let locales = Locales::load(&locales_dir()).unwrap();
    for language in &locales.languages {
        let xml = xliff::export(&locales, &language.tag).unwrap();
        let back = xliff::import(&locales, &language.tag, &xml, false).unwrap();
        assert!(
            &back == language,
            "{} changed in a round trip",
            language.tag
        );
    }
}
