//! Generates the typed `i18n` module from `locales/*.json` (leptos_i18n),
//! and the language picker's list of names. A key used in code but missing
//! from `en.json` fails the build; keys and placeholders missing from other
//! locales fail the catalog gates (`server/catalog/tests/catalogs.rs`,
//! `sspr i18n check`).

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};
use serde_json::{Map, Value};

/// Every language the product serves, English first (the default and the
/// source of the others). TRANSLATING.md: adding one starts here.
const LOCALES: [&str; 11] = [
    "en", "zh-TW", "ja-JP", "he-IL", "ar", "de", "fr", "es", "pt-BR", "ko", "zh-CN",
];

/// The pseudo-locales, made here from `en.json` (TRANSLATING.md): chosen
/// only by `?lang=` and the cookie it leaves (never saved on an account or
/// taken from a browser's languages; listed in the picker only on their own
/// pages), for finding text that is not from a catalog, cut short or not
/// mirrored.
/// `en-XA`: every text accented, about 40 % longer and between `⟦` `⟧`.
/// `ar-XB`: every text written right to left, on a right-to-left page.
const PSEUDO_LOCALES: [&str; 2] = ["en-XA", "ar-XB"];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=Cargo.toml");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    // leptos_i18n reads one folder: the catalogs as written, and the
    // pseudo-locales made from English.
    let catalogs = out.join("locales");
    std::fs::create_dir_all(&catalogs)?;
    for tag in LOCALES {
        let source = Path::new("locales").join(format!("{tag}.json"));
        println!("cargo::rerun-if-changed={}", source.display());
        write_if_changed(
            &catalogs.join(format!("{tag}.json")),
            &std::fs::read_to_string(&source)?,
        )?;
    }
    let english: Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string("locales/en.json")?)?;
    // Server builds only: a page in a pseudo-locale is served without the
    // wasm (it works without JavaScript, as every page does), so they cost
    // the browser's download nothing (`shell` in lib.rs).
    let pseudo_locales: &[&str] = if std::env::var_os("CARGO_FEATURE_SSR").is_some() {
        &PSEUDO_LOCALES
    } else {
        &[]
    };
    for (tag, pseudo) in pseudo_locales
        .iter()
        .zip([long_pseudo as fn(&str) -> String, rtl_pseudo])
    {
        let catalog: Map<String, Value> = english
            .iter()
            .map(|(key, text)| {
                (
                    key.clone(),
                    Value::String(pseudo(text.as_str().unwrap_or_default())),
                )
            })
            .collect();
        write_if_changed(
            &catalogs.join(format!("{tag}.json")),
            &serde_json::to_string_pretty(&catalog)?,
        )?;
    }
    // `interpolate_display` lets server code render plain strings with
    // arguments (mail bodies, error messages) through `td_string!`.
    let options = ParseOptions::default().interpolate_display(true);
    let mut cfg = Config::new(LOCALES[0])?.locales_path(catalogs.to_string_lossy().into_owned());
    for tag in LOCALES[1..].iter().chain(pseudo_locales) {
        cfg = cfg.add_locale(tag)?;
    }
    let infos = TranslationsInfos::parse(cfg.parse_options(options))?;
    infos.emit_diagnostics();
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

/// Leaves an unchanged file alone, so that its time does not rebuild the
/// crate.
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text)
}

/// Applies `literal` to each literal run of a catalog text, keeping its
/// `{{ placeholder }}`s and plural blocks' syntax as they are
/// (`sspr_proto::plural`); a text that does not parse is changed whole (the
/// catalog gates refuse it anyway).
fn map_literals(text: &str, literal: &mut dyn FnMut(&str) -> String) -> String {
    use sspr_proto::plural::{Piece, pieces};
    let Ok(pieces) = pieces(text) else {
        return literal(text);
    };
    pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(run) => literal(run),
            Piece::Placeholder(p) => p.to_owned(),
            Piece::Plural(block) => {
                let forms: String = block
                    .forms
                    .iter()
                    .map(|(selector, form)| {
                        format!(" {selector} {{{}}}", map_literals(form, literal))
                    })
                    .collect();
                format!("{{{}, plural,{forms}}}", block.var)
            }
        })
        .collect()
}

/// `Sign in` → `⟦Šîîĝñ îîñ ·⟧`: accented (text that skips the catalogs
/// stays plain and is found), vowels doubled and a tail added until it is
/// at least 40 % longer (German and Finnish run that much longer than
/// English), between markers (a text cut short loses its `⟧`).
fn long_pseudo(text: &str) -> String {
    const ACCENTED: [(char, &str); 12] = [
        ('a', "åå"),
        ('e', "éé"),
        ('i', "îî"),
        ('o', "öö"),
        ('u', "üü"),
        ('y', "ýý"),
        ('A', "Å"),
        ('E', "É"),
        ('I', "Î"),
        ('O', "Ö"),
        ('U', "Ü"),
        ('Y', "Ý"),
    ];
    const CONSONANTS: [(char, char); 14] = [
        ('c', 'ç'),
        ('d', 'ð'),
        ('g', 'ĝ'),
        ('h', 'ĥ'),
        ('k', 'ķ'),
        ('l', 'ļ'),
        ('n', 'ñ'),
        ('r', 'ŕ'),
        ('s', 'š'),
        ('t', 'ţ'),
        ('w', 'ŵ'),
        ('z', 'ž'),
        ('C', 'Ç'),
        ('S', 'Š'),
    ];
    let (mut plain, mut grown) = (0usize, 0usize);
    let mut accent = |run: &str| {
        let mut out = String::new();
        for c in run.chars() {
            plain += 1;
            if let Some((_, a)) = ACCENTED.iter().find(|(p, _)| *p == c) {
                out.push_str(a);
            } else if let Some((_, a)) = CONSONANTS.iter().find(|(p, _)| *p == c) {
                out.push(*a);
            } else {
                out.push(c);
            }
        }
        grown += out.chars().count();
        out
    };
    let mut out = format!("⟦{}", map_literals(text, &mut accent));
    let wanted = plain + plain.div_ceil(5) * 2;
    if grown < wanted {
        out.push(' ');
        out.extend(std::iter::repeat_n('·', wanted - grown));
    }
    out.push('⟧');
    out
}

/// `Sign in` → `U+202E Sign in U+202C` on a right-to-left page: each literal run is
/// laid out right to left (U+202E … U+202C), placeholders are not, so the
/// page shows how mirrored layout, left-to-right values and punctuation
/// meet without reading Arabic or Hebrew.
fn rtl_pseudo(text: &str) -> String {
    // A plural form's `#` (the number) stays outside too: overridden, 12
    // would read 21.
    map_literals(text, &mut |run: &str| {
        run.split('#')
            .map(|piece| {
                if piece.trim().is_empty() {
                    piece.to_owned()
                } else {
                    format!("\u{202E}{piece}\u{202C}")
                }
            })
            .collect::<Vec<_>>()
            .join("#")
    })
}
