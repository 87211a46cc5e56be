//! Generates the typed `i18n` module from `locales/*.json` (leptos_i18n).
//! A key used in code but missing from `en.json` fails the build; keys and
//! placeholders missing from other locales fail the catalog gates
//! (`server/catalog/tests/catalogs.rs`, `sspr i18n check`).

use std::error::Error;
use std::path::PathBuf;

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=Cargo.toml");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?).join("i18n");
    // `interpolate_display` lets server code render plain strings with
    // arguments (mail bodies, error messages) through `td_string!`.
    let options = ParseOptions::default().interpolate_display(true);
    let cfg = Config::new("en")?
        .add_locale("he-IL")?
        .parse_options(options);
    let infos = TranslationsInfos::parse(cfg)?;
    infos.emit_diagnostics();
    infos.rerun_if_locales_changed();
    infos.generate_i18n_module(out)?;
    Ok(())
}
