//! Every locale has every key `en` has, with the same placeholders, and no
//! key `en` lacks. (leptos_i18n only warns at build time and falls back to
//! English, which would ship untranslated strings silently.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn load(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BTreeMap::new();
    flatten("", &value, &mut out);
    out
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(
                prefix.to_owned(),
                other.as_str().unwrap_or_default().to_owned(),
            );
        }
    }
}

/// `{{ name }}` placeholders and `<tag>` components used in a string.
fn placeholders(s: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        found.insert(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    found
}

#[test]
fn every_locale_matches_en_keys_and_placeholders() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    let en = load(&dir.join("en.json"));
    let mut problems = Vec::new();
    let mut locales = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") || path.ends_with("en.json") {
            continue;
        }
        locales += 1;
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let other = load(&path);
        for (key, text) in &en {
            match other.get(key) {
                None => problems.push(format!("{name}: missing key {key}")),
                Some(t) if t.trim().is_empty() => problems.push(format!("{name}: empty {key}")),
                Some(t) if placeholders(t) != placeholders(text) => problems.push(format!(
                    "{name}: {key} has placeholders {:?}, en has {:?}",
                    placeholders(t),
                    placeholders(text)
                )),
                Some(_) => {}
            }
        }
        for key in other.keys().filter(|k| !en.contains_key(*k)) {
            problems.push(format!("{name}: key {key} is not in en"));
        }
    }
    assert!(
        locales >= 1,
        "no locale besides en found in {}",
        dir.display()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_notices_a_missing_placeholder() {
    assert_eq!(
        placeholders("Hello {{ name }}, {{count}}"),
        BTreeSet::from(["name".to_owned(), "count".to_owned()])
    );
    assert!(placeholders("Hello").is_empty());
}
