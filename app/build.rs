//! Generates the typed `i18n` module from `locales/*.json` (leptos_i18n),
//! and the language picker's list of names. A key used in code but missing
//! from `en.json` fails the build; keys and placeholders missing from other
//! locales fail the catalog gates (`server/catalog/tests/catalogs.rs`,
//! `sspr i18n check`).

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};

/// Every language the product serves, English first (the default and the
/// source of the others). TRANSLATING.md: adding one starts here.
const LOCALES: [&str; 11] = [
    "en", "zh-TW", "ja-JP", "he-IL", "ar", "de", "fr", "es", "pt-BR", "ko", "zh-CN",
];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=Cargo.toml");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    // `interpolate_display` lets server code render plain strings with
    // arguments (mail bodies, error messages) through `td_string!`.
    let options = ParseOptions::default().interpolate_display(true);
    let mut cfg = Config::new(LOCALES[0])?;
    for tag in &LOCALES[1..] {
        cfg = cfg.add_locale(tag)?;
    }
    let infos = TranslationsInfos::parse(cfg.parse_options(options))?;
    infos.emit_diagnostics();
    infos.rerun_if_locales_changed();
    infos.generate_i18n_module(out.join("i18n"))?;
    std::fs::write(out.join("language_names.rs"), language_names()?)?;
    Ok(())
}

/// Each language's own name (its `language_name` key), for the picker:
/// read at run time through the catalogs, the picker would put all eleven
/// in every page, since each page carries the catalogs it reads.
fn language_names() -> Result<String, Box<dyn Error>> {
    let mut code = String::from("&[\n");
    for tag in LOCALES {
        let path = Path::new("locales").join(format!("{tag}.json"));
        let text = std::fs::read_to_string(&path)?;
        let catalog: serde_json::Value = serde_json::from_str(&text)?;
        let name = catalog
            .get("language_name")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| format!("{} has no language_name", path.display()))?;
        writeln!(code, "    ({tag:?}, {name:?}),")?;
    }
    code.push(']');
    Ok(code)
}
