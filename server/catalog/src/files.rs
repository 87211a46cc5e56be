//! Reading and writing the catalog directory: `<tag>.json` (messages) and
//! `meta/<tag>.json` (the side files), written back byte for byte in the
//! shape they are read (two-space JSON, keys in their order, a final
//! newline), so a tool's pass leaves no diff where nothing changed.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::{SOURCE_LANGUAGE, source_hash};

/// A language's messages: key → text, in the file's order.
pub type Messages = IndexMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("no catalog for language {0}")]
    NoSuchLanguage(String),
    #[error("{0} has no key {1}")]
    NoSuchKey(String, String),
    #[error("XLIFF: {0}")]
    Xliff(String),
}

/// What the side file records of one translated text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryMeta {
    /// [`source_hash`] of the English text this translation was made from.
    pub source: String,
    /// Machine-made (by a translation engine or a language model) and not
    /// yet reviewed by a native speaker.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub machine: bool,
}

/// A translation's side file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageMeta {
    /// Declared complete: a stale translation then fails the gates (an
    /// incomplete language only reports it).
    #[serde(default)]
    pub complete: bool,
    /// Keys whose translation is rightly the English text (the language
    /// uses the same word: "Status" in German).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub same_as_english: Vec<String>,
    #[serde(default)]
    pub entries: IndexMap<String, EntryMeta>,
}

/// English's side file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceMeta {
    descriptions: IndexMap<String, String>,
}

/// One translation: its messages and its side file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Language {
    pub tag: String,
    pub messages: Messages,
    pub meta: LanguageMeta,
}

impl Language {
    /// Whether the translation of `key` was made from `english` (false
    /// when the side file does not know it).
    pub fn is_current(&self, key: &str, english: &str) -> bool {
        self.meta
            .entries
            .get(key)
            .is_some_and(|m| m.source == source_hash(english))
    }

    /// Marks `key`'s translation machine-made.
    pub fn mark_machine(&mut self, key: &str) {
        if let Some(entry) = self.meta.entries.get_mut(key) {
            entry.machine = true;
        }
    }

    /// Whether `key`'s translation is machine-made.
    pub fn is_machine(&self, key: &str) -> bool {
        self.meta.entries.get(key).is_some_and(|m| m.machine)
    }

    /// Records that the translation of `key` matches `english` now;
    /// `reviewed` also clears the machine mark.
    pub fn touch(&mut self, key: &str, english: &str, reviewed: bool) {
        let entry = self.meta.entries.entry(key.to_owned()).or_default();
        entry.source = source_hash(english);
        if reviewed {
            entry.machine = false;
        }
    }
}

/// The whole directory.
#[derive(Clone, Debug)]
pub struct Locales {
    pub dir: PathBuf,
    pub english: Messages,
    /// For the keys that need context: where the text appears, what each
    /// placeholder holds.
    pub descriptions: IndexMap<String, String>,
    /// Every other language, by tag.
    pub languages: Vec<Language>,
}

impl Locales {
    pub fn load(dir: &Path) -> Result<Locales, CatalogError> {
        let english = read_json(&dir.join(format!("{SOURCE_LANGUAGE}.json")))?;
        let source_meta = dir.join("meta").join(format!("{SOURCE_LANGUAGE}.json"));
        let descriptions = if source_meta.exists() {
            read_json::<SourceMeta>(&source_meta)?.descriptions
        } else {
            IndexMap::new()
        };
        let mut languages = Vec::new();
        for tag in tags(dir)? {
            let meta_path = meta_path(dir, &tag);
            let meta = if meta_path.exists() {
                read_json(&meta_path)?
            } else {
                LanguageMeta::default()
            };
            languages.push(Language {
                messages: read_json(&messages_path(dir, &tag))?,
                tag,
                meta,
            });
        }
        Ok(Locales {
            dir: dir.to_owned(),
            english,
            descriptions,
            languages,
        })
    }

    pub fn language(&self, tag: &str) -> Result<&Language, CatalogError> {
        self.languages
            .iter()
            .find(|l| l.tag == tag)
            .ok_or_else(|| CatalogError::NoSuchLanguage(tag.to_owned()))
    }

    /// Writes a language's messages and side file back.
    pub fn save(&self, language: &Language) -> Result<(), CatalogError> {
        write_json(&messages_path(&self.dir, &language.tag), &language.messages)?;
        write_json(&meta_path(&self.dir, &language.tag), &language.meta)
    }

    /// Writes English's side file back (the descriptions).
    pub fn save_descriptions(&self) -> Result<(), CatalogError> {
        let meta = SourceMeta {
            descriptions: self.descriptions.clone(),
        };
        write_json(
            &self
                .dir
                .join("meta")
                .join(format!("{SOURCE_LANGUAGE}.json")),
            &meta,
        )
    }
}

fn messages_path(dir: &Path, tag: &str) -> PathBuf {
    dir.join(format!("{tag}.json"))
}

fn meta_path(dir: &Path, tag: &str) -> PathBuf {
    dir.join("meta").join(format!("{tag}.json"))
}

/// The translations' tags, sorted: every `<tag>.json` but English.
fn tags(dir: &Path) -> Result<Vec<String>, CatalogError> {
    let io = |source| CatalogError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut tags = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        if let Some(tag) = path.file_stem().and_then(|s| s.to_str())
            && tag != SOURCE_LANGUAGE
        {
            tags.push(tag.to_owned());
        }
    }
    tags.sort();
    Ok(tags)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, CatalogError> {
    let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| CatalogError::Json {
        path: path.to_owned(),
        source,
    })
}

/// Two-space JSON with a final newline, written only when it differs.
fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), CatalogError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|source| CatalogError::Json {
        path: path.to_owned(),
        source,
    })?;
    text.push('\n');
    let io = |source| CatalogError::Io {
        path: path.to_owned(),
        source,
    };
    if std::fs::read_to_string(path).ok().as_deref() == Some(text.as_str()) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

/// Every `.rs` file below `dir` as one text, for the unused-key gate
/// (links are not followed: a loop would never end).
pub fn rust_sources(dir: &Path) -> Result<String, CatalogError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| CatalogError::Io { path, source }
    };
    let mut text = String::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d)
            .map_err(io(&d))?
            .collect::<Result<_, _>>()
            .map_err(io(&d))?;
        entries.sort_by_key(std::fs::DirEntry::path);
        for entry in entries {
            let path = entry.path();
            let kind = entry.file_type().map_err(io(&path))?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "rs") {
                text.push_str(&std::fs::read_to_string(&path).map_err(io(&path))?);
                text.push('\n');
            }
        }
    }
    Ok(text)
}
