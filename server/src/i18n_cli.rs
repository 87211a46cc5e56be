//! `sspr i18n`: the translators' tools over the message catalogs
//! (`sspr-catalog`; the workflow is TRANSLATING.md). They work on the
//! source tree, not on a running server, so they need no configuration.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use sspr_catalog::{Locales, gates, status, xliff};

#[derive(Debug, Subcommand)]
pub enum I18nCommand {
    /// Per language: translated, missing, stale (the English changed since),
    /// machine-made (not yet reviewed by a native speaker).
    Status(CatalogDir),
    /// The catalog gates of the test command; fails on any problem.
    Check {
        #[command(flatten)]
        dir: CatalogDir,
        /// The code that uses the keys, build script included (a key none of
        /// it names is unused).
        #[arg(long, default_value = "app")]
        src: PathBuf,
    },
    /// Write language LANG as XLIFF 2.0 for a translator or a platform.
    Export {
        lang: String,
        /// The file to write (standard output without it).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        dir: CatalogDir,
    },
    /// Read language LANG's translations back from an XLIFF 2.0 file.
    Import {
        lang: String,
        file: PathBuf,
        /// The file comes from a translation engine or a model: mark what it
        /// brings as machine-made.
        #[arg(long)]
        machine: bool,
        #[command(flatten)]
        dir: CatalogDir,
    },
    /// Record that LANG's translations of KEYs (every key with --all) were
    /// made from the English text as it is now, after editing the JSON by hand.
    Touch {
        lang: String,
        keys: Vec<String>,
        #[arg(long)]
        all: bool,
        /// A native speaker reviewed them: they are no longer machine-made.
        #[arg(long, conflicts_with = "machine")]
        reviewed: bool,
        /// They were made by a translation engine or a model.
        #[arg(long)]
        machine: bool,
        #[command(flatten)]
        dir: CatalogDir,
    },
}

#[derive(Debug, Args)]
pub struct CatalogDir {
    /// The catalog directory.
    #[arg(long, default_value = "app/locales")]
    pub dir: PathBuf,
}

/// Runs the command; false when `check` found problems.
pub fn run(command: I18nCommand) -> anyhow::Result<bool> {
    match command {
        I18nCommand::Status(d) => {
            let (_, table) = status::report(&load(&d.dir)?);
            print!("{table}");
            Ok(true)
        }
        I18nCommand::Check { dir, src } => {
            let locales = load(&dir.dir)?;
            let code = sspr_catalog::files::rust_sources(&src)?;
            let found = gates::check(&locales, Some(&code));
            for f in &found {
                println!("{f}");
            }
            println!("{} problem(s)", found.len());
            Ok(found.is_empty())
        }
        I18nCommand::Export { lang, out, dir } => {
            let xml = xliff::export(&load(&dir.dir)?, &lang)?;
            match out {
                Some(path) => std::fs::write(&path, xml)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{xml}"),
            }
            Ok(true)
        }
        I18nCommand::Import {
            lang,
            file,
            machine,
            dir,
        } => {
            let locales = load(&dir.dir)?;
            let xml = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let language = xliff::import(&locales, &lang, &xml, machine)?;
            locales.save(&language)?;
            let now = status::Status::of(&locales, &language);
            println!(
                "{lang}: {} translated, {} missing, {} stale, {} machine-made",
                now.translated, now.missing, now.stale, now.machine
            );
            Ok(true)
        }
        I18nCommand::Touch {
            lang,
            keys,
            all,
            reviewed,
            machine,
            dir,
        } => {
            if keys.is_empty() && !all {
                bail!("name the keys, or --all");
            }
            let locales = load(&dir.dir)?;
            let mut language = locales.language(&lang)?.clone();
            let chosen: Vec<String> = if all {
                let translated = |k: &&String| {
                    language
                        .messages
                        .get(*k)
                        .is_some_and(|t| !t.trim().is_empty())
                };
                locales.english.keys().filter(translated).cloned().collect()
            } else {
                keys
            };
            for key in &chosen {
                let Some(english) = locales.english.get(key) else {
                    bail!("{key} is not a key of the English catalog");
                };
                if !language.messages.contains_key(key) {
                    bail!("{lang} has no translation of {key}");
                }
                language.touch(key, english, reviewed);
                if machine {
                    language.mark_machine(key);
                }
            }
            locales.save(&language)?;
            println!("{lang}: {} recorded", chosen.len());
            Ok(true)
        }
    }
}

fn load(dir: &Path) -> anyhow::Result<Locales> {
    Locales::load(dir).with_context(|| format!("reading the catalogs in {}", dir.display()))
}
