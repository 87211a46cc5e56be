//! Security questions: the weakest method, so the most fenced in. Off by
//! default, never offered to admins, and never counted on its own
//! (`methods::counted`). Answers are normalized (NFKC, case fold, trimmed,
//! inner whitespace collapsed) so "  Tel  Aviv" and "tel aviv" match, then
//! hashed with argon2id like passwords; only the hashes are stored.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::password::{HashError, Hasher, Normalized};

/// The predefined questions, by stable id. Their wording lives in the UI's
/// locale catalogs (`question_<id>`), so each user reads them in their
/// language; a stored answer refers to the id, not to a translation.
pub const PREDEFINED: &[&str] = &[
    "birth_city",
    "first_pet",
    "first_school",
    "childhood_friend",
    "first_job",
    "favorite_teacher",
    "first_concert",
    "parents_met",
];

pub const MIN_ANSWER_CHARS: usize = 3;
pub const MAX_ANSWER_CHARS: usize = 40;
pub const MIN_CUSTOM_QUESTION_CHARS: usize = 10;
pub const MAX_CUSTOM_QUESTION_CHARS: usize = 200;
/// The policy may ask for at most this many.
pub const MAX_QUESTIONS: usize = 5;

/// A question as stored: a predefined one by id, or the user's own text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum Question {
    Predefined(String),
    Custom(String),
}

/// One question with its answer as typed.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    pub question: Question,
    pub answer: String,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Answers are secrets: never in logs or panics.
        f.debug_struct("Entry")
            .field("question", &self.question)
            .field("answer", &"***")
            .finish()
    }
}

/// What is stored in `security_methods.answers` (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub question: Question,
    pub answer_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuestionError {
    #[error("{need} questions are needed, {got} were given")]
    WrongCount { got: usize, need: usize },
    #[error("question {index} is not one of the predefined questions")]
    UnknownQuestion { index: usize },
    #[error("question {index} must be {min}–{max} characters")]
    QuestionLength {
        index: usize,
        min: usize,
        max: usize,
    },
    #[error("answer {index} must be {min}–{max} characters")]
    AnswerLength {
        index: usize,
        min: usize,
        max: usize,
    },
    #[error("question {index} repeats an earlier question")]
    RepeatedQuestion { index: usize },
    #[error("answer {index} repeats an earlier answer")]
    RepeatedAnswer { index: usize },
    #[error("answer {index} gives away the answer in the question")]
    AnswerInQuestion { index: usize },
}

/// The comparable form of an answer or a custom question.
pub fn normalize(s: &str) -> String {
    let nfkc: String = s.nfkc().collect();
    let folded = caseless::default_case_fold_str(&nfkc);
    let composed: String = folded.nfkc().collect();
    composed.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != ' ')
}

/// Checks a set of entries against the rules, in order, naming the first
/// broken one (1-based `index`, as the user counts). Cheap: nothing is
/// hashed until everything is valid.
pub fn validate(entries: &[Entry], need: usize) -> Result<(), QuestionError> {
    if entries.len() != need {
        return Err(QuestionError::WrongCount {
            got: entries.len(),
            need,
        });
    }
    let mut seen_questions: Vec<String> = Vec::new();
    let mut seen_answers: Vec<String> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let index = i + 1;
        let question_key = match &e.question {
            Question::Predefined(id) => {
                if !PREDEFINED.contains(&id.as_str()) {
                    return Err(QuestionError::UnknownQuestion { index });
                }
                format!("predefined:{id}")
            }
            Question::Custom(text) => {
                let n = normalize(text);
                let len = n.chars().count();
                if has_control(text)
                    || !(MIN_CUSTOM_QUESTION_CHARS..=MAX_CUSTOM_QUESTION_CHARS).contains(&len)
                {
                    return Err(QuestionError::QuestionLength {
                        index,
                        min: MIN_CUSTOM_QUESTION_CHARS,
                        max: MAX_CUSTOM_QUESTION_CHARS,
                    });
                }
                format!("custom:{n}")
            }
        };
        if seen_questions.contains(&question_key) {
            return Err(QuestionError::RepeatedQuestion { index });
        }
        seen_questions.push(question_key);
        // Refuse over-long input before normalizing it (it is user-sized).
        if e.answer.len() > MAX_ANSWER_CHARS * 8 || has_control(&e.answer) {
            return Err(QuestionError::AnswerLength {
                index,
                min: MIN_ANSWER_CHARS,
                max: MAX_ANSWER_CHARS,
            });
        }
        let answer = normalize(&e.answer);
        let len = answer.chars().count();
        if !(MIN_ANSWER_CHARS..=MAX_ANSWER_CHARS).contains(&len) {
            return Err(QuestionError::AnswerLength {
                index,
                min: MIN_ANSWER_CHARS,
                max: MAX_ANSWER_CHARS,
            });
        }
        if let Question::Custom(text) = &e.question
            && normalize(text).contains(&answer)
        {
            return Err(QuestionError::AnswerInQuestion { index });
        }
        if seen_answers.contains(&answer) {
            return Err(QuestionError::RepeatedAnswer { index });
        }
        seen_answers.push(answer);
    }
    Ok(())
}

/// Hashes valid entries (argon2id, off the async runtime) into the stored
/// JSON.
pub async fn seal(hasher: &Hasher, entries: &[Entry]) -> Result<String, HashError> {
    let mut stored = Vec::with_capacity(entries.len());
    for e in entries {
        let answer = Normalized::new(&normalize(&e.answer))?;
        stored.push(StoredAnswer {
            question: e.question.clone(),
            answer_hash: hasher.hash(&answer).await?,
        });
    }
    serde_json::to_string(&stored).map_err(|e| HashError::Internal(e.to_string()))
}

/// The questions of a stored set, in order, to ask them back.
pub fn questions_of(stored_json: &str) -> Option<Vec<Question>> {
    let stored: Vec<StoredAnswer> = serde_json::from_str(stored_json).ok()?;
    Some(stored.into_iter().map(|s| s.question).collect())
}

/// Whether every answer matches its stored question, in order. All of them
/// are checked, right or wrong, so the time taken does not tell which one
/// failed.
pub async fn check(
    hasher: &Hasher,
    stored_json: &str,
    answers: &[String],
) -> Result<bool, HashError> {
    let stored: Vec<StoredAnswer> =
        serde_json::from_str(stored_json).map_err(|e| HashError::Internal(e.to_string()))?;
    if stored.len() != answers.len() {
        return Ok(false);
    }
    let mut all = true;
    for (s, given) in stored.iter().zip(answers) {
        let ok = match Normalized::new(&normalize(given)) {
            Ok(n) => hasher.verify(&n, Some(&s.answer_hash)).await?.ok,
            Err(_) => false,
        };
        all &= ok;
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(q: Question, a: &str) -> Entry {
        Entry {
            question: q,
            answer: a.into(),
        }
    }
    fn pre(id: &str) -> Question {
        Question::Predefined(id.into())
    }

    #[test]
    fn normalization_folds_case_width_and_spaces() {
        assert_eq!(normalize("  Tel   Aviv "), "tel aviv");
        assert_eq!(normalize("ＴＥＬ\u{3000}ＡＶＩＶ"), "tel aviv");
        assert_eq!(normalize("STRASSE"), normalize("straße"));
    }

    #[test]
    fn a_valid_set_passes() {
        let set = [
            entry(pre("first_pet"), "Rex"),
            entry(pre("birth_city"), "Haifa"),
            entry(
                Question::Custom("What was my grandmother's maiden name?".into()),
                "Cohen",
            ),
        ];
        assert_eq!(validate(&set, 3), Ok(()));
    }

    #[test]
    fn each_rule_names_the_entry_that_breaks_it() {
        let ok = entry(pre("first_pet"), "Rex");
        assert_eq!(
            validate(std::slice::from_ref(&ok), 3),
            Err(QuestionError::WrongCount { got: 1, need: 3 })
        );
        assert_eq!(
            validate(&[ok.clone(), entry(pre("first_pet"), "Haifa")], 2),
            Err(QuestionError::RepeatedQuestion { index: 2 })
        );
        assert_eq!(
            validate(&[ok.clone(), entry(pre("birth_city"), " rEx ")], 2),
            Err(QuestionError::RepeatedAnswer { index: 2 })
        );
        assert!(matches!(
            validate(&[ok.clone(), entry(pre("birth_city"), "ab")], 2),
            Err(QuestionError::AnswerLength { index: 2, .. })
        ));
        assert!(matches!(
            validate(&[ok.clone(), entry(pre("birth_city"), &"x".repeat(41))], 2),
            Err(QuestionError::AnswerLength { index: 2, .. })
        ));
        assert!(matches!(
            validate(
                &[ok.clone(), entry(pre("birth_city"), &"x".repeat(100_000))],
                2
            ),
            Err(QuestionError::AnswerLength { index: 2, .. })
        ));
        assert_eq!(
            validate(&[ok.clone(), entry(pre("mother_maiden_name"), "Haifa")], 2),
            Err(QuestionError::UnknownQuestion { index: 2 })
        );
        assert!(matches!(
            validate(
                &[ok.clone(), entry(Question::Custom("Why?".into()), "Haifa")],
                2
            ),
            Err(QuestionError::QuestionLength { index: 2, .. })
        ));
        assert_eq!(
            validate(
                &[
                    ok.clone(),
                    entry(
                        Question::Custom("Is my answer Haifa or not?".into()),
                        "haifa"
                    )
                ],
                2
            ),
            Err(QuestionError::AnswerInQuestion { index: 2 })
        );
        assert!(matches!(
            validate(&[ok, entry(pre("birth_city"), "Hai\u{0}fa")], 2),
            Err(QuestionError::AnswerLength { index: 2, .. })
        ));
    }

    #[test]
    fn answers_are_debug_redacted() {
        let e = entry(pre("first_pet"), "Rex");
        assert!(!format!("{e:?}").contains("Rex"));
    }
}
