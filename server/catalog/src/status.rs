//! Per-language completeness, as `sspr i18n status` prints it.

use crate::{Language, Locales};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub tag: String,
    pub complete: bool,
    /// Texts in English.
    pub total: usize,
    /// Translated (stale or not).
    pub translated: usize,
    pub missing: usize,
    /// Translated from an English text that has changed since.
    pub stale: usize,
    /// Translated by a machine, not yet reviewed by a native speaker.
    pub machine: usize,
}

impl Status {
    pub fn of(locales: &Locales, language: &Language) -> Status {
        let mut s = Status {
            tag: language.tag.clone(),
            complete: language.meta.complete,
            total: locales.english.len(),
            translated: 0,
            missing: 0,
            stale: 0,
            machine: 0,
        };
        for (key, english) in &locales.english {
            match language.messages.get(key) {
                Some(text) if !text.trim().is_empty() => {
                    s.translated += 1;
                    if !language.is_current(key, english) {
                        s.stale += 1;
                    }
                    if language.is_machine(key) {
                        s.machine += 1;
                    }
                }
                _ => s.missing += 1,
            }
        }
        s
    }

    /// The share translated and current, in whole percent.
    pub fn percent_current(&self) -> usize {
        (self.translated - self.stale) * 100 / self.total.max(1)
    }
}

/// Every language's status, then a table of them.
pub fn report(locales: &Locales) -> (Vec<Status>, String) {
    let all: Vec<Status> = locales
        .languages
        .iter()
        .map(|l| Status::of(locales, l))
        .collect();
    let mut table = format!(
        "{:<8} {:>8} {:>10} {:>7} {:>5} {:>13} {:>8}\n",
        "language", "complete", "translated", "missing", "stale", "machine-made", "current"
    );
    for s in &all {
        table.push_str(&format!(
            "{:<8} {:>8} {:>10} {:>7} {:>5} {:>13} {:>7}%\n",
            s.tag,
            if s.complete { "yes" } else { "no" },
            s.translated,
            s.missing,
            s.stale,
            s.machine,
            s.percent_current()
        ));
    }
    (all, table)
}
