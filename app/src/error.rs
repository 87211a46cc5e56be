//! The errors a user can see, each with a stable code. Server functions
//! map domain failures to these; the UI turns them into a sentence in the
//! user's language. Internal causes never travel: only a correlation id,
//! which is also in the server log next to the cause.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

use crate::i18n::*;
use crate::plural::plural;
use sspr_proto::Reason;

/// Each variant's code is its name in snake_case: serde writes it as the
/// `code` tag, [`AppError::code`] returns it, and `Display` shows it — one
/// spelling, pinned for every variant by `every_code_and_status_is_pinned`.
/// Reading it back goes through [`Wire`] (see there why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    InvalidCredentials,
    PasswordTooLong,
    Busy {
        retry_after_secs: u64,
    },
    BadRequest,
    NotSignedIn,
    NotFound,
    Network,
    Internal {
        correlation_id: String,
    },
    FlowExpired,
    MethodNotAllowed,
    InvalidEmail,
    InvalidPhone,
    PhoneRegionNotAllowed,
    PhoneTypeNotSupported,
    AlreadyRegistered,
    Throttled {
        retry_after_secs: u64,
    },
    ResendTooSoon {
        retry_after_secs: u64,
    },
    NoPendingCode,
    CodeFormat {
        digits: u64,
    },
    WrongCode {
        attempts_left: u64,
    },
    CodeExpired,
    TooManyAttempts,
    NotEnoughMethods {
        have: u64,
        need: u64,
    },
    ReauthenticationRequired,
    LastMethod,
    QuestionsCount {
        need: u64,
    },
    QuestionUnknown {
        index: u64,
    },
    QuestionLength {
        index: u64,
        min: u64,
        max: u64,
    },
    AnswerLength {
        index: u64,
        min: u64,
        max: u64,
    },
    QuestionRepeated {
        index: u64,
    },
    AnswerRepeated {
        index: u64,
    },
    CaptchaInvalid,
    CaptchaExpired,
    InvalidLogin,
    MethodBlocked {
        retry_after_secs: u64,
    },
    ResetNotEnabled,
    AccountDisabled,
    GatesIncomplete,
    PasswordRejected {
        reasons: Vec<Reason>,
        min_length: u64,
        max_length: u64,
    },
    AnswerInQuestion {
        index: u64,
    },
    AnswersIncomplete {
        need: u64,
    },
    WrongAnswers {
        attempts_left: u64,
    },
    AdminOnly,
    /// A settings field the policy's rules refuse: `field` is its name,
    /// `label` its label in the request's language (the server fills it in,
    /// so the labels stay in the admin part of the wasm).
    InvalidSetting {
        field: String,
        label: String,
    },
    /// Someone else saved the settings since this form was loaded.
    SettingsChanged,
    /// An admin named an account that does not exist.
    NoSuchAccount,
    /// The account's groups come from the organisation's directory.
    DirectoryManaged,
    /// An admin tried to disable, or clear the security info of, their own
    /// account.
    OwnAccount,
    /// A destructive action was posted without its confirmation box ticked.
    ConfirmationRequired,
    /// The account has no email address to write to.
    NoEmailAddress,
    /// A group with that name exists already.
    GroupExists,
    /// The password reset settings name the group.
    GroupInUse,
    /// A new account's display name is empty, too long or has control
    /// characters.
    InvalidDisplayName,
    /// An account with that user ID exists already.
    AccountExists,
    /// An uploaded CSV has no header row naming the required columns.
    CsvColumns,
    /// An uploaded file is larger than the portal takes.
    FileTooLarge,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for AppError {}

/// The wire form of an [`AppError`], flat: the code and every field any
/// variant has. The browser reads errors with this; serde's derived reader
/// for an internally tagged enum buffers the object and has a reader per
/// variant, which made it one of the largest functions in the wasm that
/// every first visit downloads (issue 12). A field a variant lacks is
/// ignored; one it needs but the wire lacks reads as its default.
#[derive(Default, Deserialize)]
struct Wire {
    code: String,
    #[serde(default)]
    retry_after_secs: u64,
    #[serde(default)]
    correlation_id: String,
    #[serde(default)]
    digits: u64,
    #[serde(default)]
    attempts_left: u64,
    #[serde(default)]
    have: u64,
    #[serde(default)]
    need: u64,
    #[serde(default)]
    index: u64,
    #[serde(default)]
    min: u64,
    #[serde(default)]
    max: u64,
    #[serde(default)]
    reasons: Vec<Reason>,
    #[serde(default)]
    min_length: u64,
    #[serde(default)]
    max_length: u64,
    #[serde(default)]
    field: String,
    #[serde(default)]
    label: String,
}

impl Wire {
    fn into_error(self) -> Option<AppError> {
        use AppError as E;
        let Wire {
            retry_after_secs,
            digits,
            attempts_left,
            have,
            need,
            index,
            min,
            max,
            ..
        } = self;
        Some(match self.code.as_str() {
            "invalid_credentials" => E::InvalidCredentials,
            "password_too_long" => E::PasswordTooLong,
            "busy" => E::Busy { retry_after_secs },
            "bad_request" => E::BadRequest,
            "not_signed_in" => E::NotSignedIn,
            "not_found" => E::NotFound,
            "network" => E::Network,
            "internal" => E::Internal {
                correlation_id: self.correlation_id,
            },
            "flow_expired" => E::FlowExpired,
            "method_not_allowed" => E::MethodNotAllowed,
            "invalid_email" => E::InvalidEmail,
            "invalid_phone" => E::InvalidPhone,
            "phone_region_not_allowed" => E::PhoneRegionNotAllowed,
            "phone_type_not_supported" => E::PhoneTypeNotSupported,
            "already_registered" => E::AlreadyRegistered,
            "throttled" => E::Throttled { retry_after_secs },
            "resend_too_soon" => E::ResendTooSoon { retry_after_secs },
            "no_pending_code" => E::NoPendingCode,
            "code_format" => E::CodeFormat { digits },
            "wrong_code" => E::WrongCode { attempts_left },
            "code_expired" => E::CodeExpired,
            "too_many_attempts" => E::TooManyAttempts,
            "not_enough_methods" => E::NotEnoughMethods { have, need },
            "reauthentication_required" => E::ReauthenticationRequired,
            "last_method" => E::LastMethod,
            "questions_count" => E::QuestionsCount { need },
            "question_unknown" => E::QuestionUnknown { index },
            "question_length" => E::QuestionLength { index, min, max },
            "answer_length" => E::AnswerLength { index, min, max },
            "question_repeated" => E::QuestionRepeated { index },
            "answer_repeated" => E::AnswerRepeated { index },
            "captcha_invalid" => E::CaptchaInvalid,
            "captcha_expired" => E::CaptchaExpired,
            "invalid_login" => E::InvalidLogin,
            "method_blocked" => E::MethodBlocked { retry_after_secs },
            "reset_not_enabled" => E::ResetNotEnabled,
            "account_disabled" => E::AccountDisabled,
            "gates_incomplete" => E::GatesIncomplete,
            "password_rejected" => E::PasswordRejected {
                reasons: self.reasons,
                min_length: self.min_length,
                max_length: self.max_length,
            },
            "answer_in_question" => E::AnswerInQuestion { index },
            "answers_incomplete" => E::AnswersIncomplete { need },
            "wrong_answers" => E::WrongAnswers { attempts_left },
            "admin_only" => E::AdminOnly,
            "invalid_setting" => E::InvalidSetting {
                field: self.field,
                label: self.label,
            },
            "settings_changed" => E::SettingsChanged,
            "no_such_account" => E::NoSuchAccount,
            "directory_managed" => E::DirectoryManaged,
            "own_account" => E::OwnAccount,
            "confirmation_required" => E::ConfirmationRequired,
            "no_email_address" => E::NoEmailAddress,
            "group_exists" => E::GroupExists,
            "invalid_display_name" => E::InvalidDisplayName,
            "account_exists" => E::AccountExists,
            "csv_columns" => E::CsvColumns,
            "file_too_large" => E::FileTooLarge,
            "group_in_use" => E::GroupInUse,
            _ => return None,
        })
    }
}

impl<'de> Deserialize<'de> for AppError {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Wire::deserialize(d)?
            .into_error()
            .ok_or_else(|| serde::de::Error::custom("unknown error code"))
    }
}

impl AppError {
    /// The error `code` names, alone: a page told by its URL why a plain
    /// form was refused (codes that carry values read them as zero).
    pub fn from_code(code: &str) -> Option<AppError> {
        Wire {
            code: code.to_owned(),
            ..Wire::default()
        }
        .into_error()
    }

    /// The stable code clients and tests match on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::PasswordTooLong => "password_too_long",
            AppError::Busy { .. } => "busy",
            AppError::BadRequest => "bad_request",
            AppError::NotSignedIn => "not_signed_in",
            AppError::NotFound => "not_found",
            AppError::Network => "network",
            AppError::Internal { .. } => "internal",
            AppError::FlowExpired => "flow_expired",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::InvalidEmail => "invalid_email",
            AppError::InvalidPhone => "invalid_phone",
            AppError::PhoneRegionNotAllowed => "phone_region_not_allowed",
            AppError::PhoneTypeNotSupported => "phone_type_not_supported",
            AppError::AlreadyRegistered => "already_registered",
            AppError::Throttled { .. } => "throttled",
            AppError::ResendTooSoon { .. } => "resend_too_soon",
            AppError::NoPendingCode => "no_pending_code",
            AppError::CodeFormat { .. } => "code_format",
            AppError::WrongCode { .. } => "wrong_code",
            AppError::AnswersIncomplete { .. } => "answers_incomplete",
            AppError::WrongAnswers { .. } => "wrong_answers",
            AppError::CodeExpired => "code_expired",
            AppError::TooManyAttempts => "too_many_attempts",
            AppError::NotEnoughMethods { .. } => "not_enough_methods",
            AppError::ReauthenticationRequired => "reauthentication_required",
            AppError::LastMethod => "last_method",
            AppError::QuestionsCount { .. } => "questions_count",
            AppError::QuestionUnknown { .. } => "question_unknown",
            AppError::QuestionLength { .. } => "question_length",
            AppError::AnswerLength { .. } => "answer_length",
            AppError::QuestionRepeated { .. } => "question_repeated",
            AppError::AnswerRepeated { .. } => "answer_repeated",
            AppError::AnswerInQuestion { .. } => "answer_in_question",
            AppError::PasswordRejected { .. } => "password_rejected",
            AppError::CaptchaInvalid => "captcha_invalid",
            AppError::CaptchaExpired => "captcha_expired",
            AppError::InvalidLogin => "invalid_login",
            AppError::MethodBlocked { .. } => "method_blocked",
            AppError::ResetNotEnabled => "reset_not_enabled",
            AppError::AccountDisabled => "account_disabled",
            AppError::GatesIncomplete => "gates_incomplete",
            AppError::AdminOnly => "admin_only",
            AppError::InvalidSetting { .. } => "invalid_setting",
            AppError::SettingsChanged => "settings_changed",
            AppError::NoSuchAccount => "no_such_account",
            AppError::DirectoryManaged => "directory_managed",
            AppError::OwnAccount => "own_account",
            AppError::ConfirmationRequired => "confirmation_required",
            AppError::NoEmailAddress => "no_email_address",
            AppError::GroupExists => "group_exists",
            AppError::InvalidDisplayName => "invalid_display_name",
            AppError::AccountExists => "account_exists",
            AppError::CsvColumns => "csv_columns",
            AppError::FileTooLarge => "file_too_large",
            AppError::GroupInUse => "group_in_use",
        }
    }

    /// The HTTP status a script client receives. (A plain HTML form post is
    /// answered 302 back to the form, with the code in the URL, instead.)
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::BadRequest | AppError::Network => 400,
            AppError::InvalidCredentials
            | AppError::NotSignedIn
            | AppError::ReauthenticationRequired => 401,
            AppError::MethodNotAllowed
            | AppError::ResetNotEnabled
            | AppError::AccountDisabled
            | AppError::AdminOnly => 403,
            AppError::CaptchaInvalid => 400,
            AppError::NotFound => 404,
            AppError::FlowExpired
            | AppError::NoPendingCode
            | AppError::AlreadyRegistered
            | AppError::LastMethod
            | AppError::GatesIncomplete
            | AppError::SettingsChanged
            | AppError::DirectoryManaged
            | AppError::OwnAccount
            | AppError::GroupExists
            | AppError::GroupInUse
            | AppError::AccountExists => 409,
            AppError::CodeExpired | AppError::CaptchaExpired => 410,
            AppError::PasswordTooLong
            | AppError::InvalidEmail
            | AppError::InvalidPhone
            | AppError::PhoneRegionNotAllowed
            | AppError::PhoneTypeNotSupported
            | AppError::CodeFormat { .. }
            | AppError::WrongCode { .. }
            | AppError::AnswersIncomplete { .. }
            | AppError::WrongAnswers { .. }
            | AppError::NotEnoughMethods { .. }
            | AppError::QuestionsCount { .. }
            | AppError::QuestionUnknown { .. }
            | AppError::QuestionLength { .. }
            | AppError::AnswerLength { .. }
            | AppError::QuestionRepeated { .. }
            | AppError::AnswerRepeated { .. }
            | AppError::AnswerInQuestion { .. }
            | AppError::PasswordRejected { .. }
            | AppError::InvalidLogin
            | AppError::InvalidSetting { .. }
            | AppError::NoSuchAccount
            | AppError::ConfirmationRequired
            | AppError::NoEmailAddress
            | AppError::InvalidDisplayName
            | AppError::CsvColumns => 422,
            AppError::FileTooLarge => 413,
            AppError::Throttled { .. }
            | AppError::ResendTooSoon { .. }
            | AppError::TooManyAttempts
            | AppError::MethodBlocked { .. } => 429,
            AppError::Internal { .. } => 500,
            AppError::Busy { .. } => 503,
        }
    }

    /// The sentence shown to the user, in `locale`.
    pub fn message(&self, locale: Locale) -> String {
        match self {
            AppError::InvalidCredentials => td_str!(locale, error_invalid_credentials).to_string(),
            AppError::PasswordTooLong => td_str!(locale, error_password_too_long).to_string(),
            AppError::Busy { .. } => td_str!(locale, error_busy).to_string(),
            AppError::BadRequest => td_str!(locale, error_bad_request).to_string(),
            AppError::NotSignedIn => td_str!(locale, error_not_signed_in).to_string(),
            AppError::NotFound => td_str!(locale, error_not_found).to_string(),
            AppError::Network => td_str!(locale, error_network).to_string(),
            AppError::Internal { correlation_id } => {
                td_str!(locale, error_internal, id = correlation_id)
            }
            AppError::FlowExpired => td_str!(locale, error_flow_expired).to_string(),
            AppError::MethodNotAllowed => td_str!(locale, error_method_not_allowed).to_string(),
            AppError::InvalidEmail => td_str!(locale, error_invalid_email).to_string(),
            AppError::InvalidPhone => td_str!(locale, error_invalid_phone).to_string(),
            AppError::PhoneRegionNotAllowed => {
                td_str!(locale, error_phone_region_not_allowed).to_string()
            }
            AppError::PhoneTypeNotSupported => {
                td_str!(locale, error_phone_type_not_supported).to_string()
            }
            AppError::AlreadyRegistered => td_str!(locale, error_already_registered).to_string(),
            AppError::Throttled { retry_after_secs } => plural(
                td_str!(locale, error_throttled),
                locale,
                "minutes",
                retry_after_secs.div_ceil(60),
            ),
            AppError::ResendTooSoon { retry_after_secs } => plural(
                td_str!(locale, error_resend_too_soon),
                locale,
                "seconds",
                *retry_after_secs,
            ),
            AppError::NoPendingCode => td_str!(locale, error_no_pending_code).to_string(),
            AppError::CodeFormat { digits } => {
                td_str!(locale, error_code_format, digits = digits)
            }
            AppError::WrongCode { attempts_left } => plural(
                td_str!(locale, error_wrong_code),
                locale,
                "attempts_left",
                *attempts_left,
            ),
            AppError::AnswersIncomplete { need } => plural(
                td_str!(locale, error_answers_incomplete),
                locale,
                "need",
                *need,
            ),
            AppError::WrongAnswers { attempts_left } => plural(
                td_str!(locale, error_wrong_answers),
                locale,
                "attempts_left",
                *attempts_left,
            ),
            AppError::CodeExpired => td_str!(locale, error_code_expired).to_string(),
            AppError::TooManyAttempts => td_str!(locale, error_too_many_attempts).to_string(),
            AppError::NotEnoughMethods { have, need } => plural(
                &td_str!(locale, error_not_enough_methods, have = have),
                locale,
                "need",
                *need,
            ),
            AppError::ReauthenticationRequired => {
                td_str!(locale, error_reauthentication_required).to_string()
            }
            AppError::LastMethod => td_str!(locale, error_last_method).to_string(),
            AppError::QuestionsCount { need } => plural(
                td_str!(locale, error_questions_count),
                locale,
                "need",
                *need,
            ),
            AppError::QuestionUnknown { index } => {
                td_str!(locale, error_question_unknown, index = index)
            }
            AppError::QuestionLength { index, min, max } => {
                td_str!(
                    locale,
                    error_question_length,
                    index = index,
                    min = min,
                    max = max
                )
            }
            AppError::AnswerLength { index, min, max } => {
                td_str!(
                    locale,
                    error_answer_length,
                    index = index,
                    min = min,
                    max = max
                )
            }
            AppError::QuestionRepeated { index } => {
                td_str!(locale, error_question_repeated, index = index)
            }
            AppError::AnswerRepeated { index } => {
                td_str!(locale, error_answer_repeated, index = index)
            }
            AppError::AnswerInQuestion { index } => {
                td_str!(locale, error_answer_in_question, index = index)
            }
            AppError::CaptchaInvalid => td_str!(locale, error_captcha_invalid).to_string(),
            AppError::CaptchaExpired => td_str!(locale, error_captcha_expired).to_string(),
            AppError::InvalidLogin => td_str!(locale, error_invalid_login).to_string(),
            AppError::MethodBlocked { retry_after_secs } => plural(
                td_str!(locale, error_method_blocked),
                locale,
                "hours",
                retry_after_secs.div_ceil(3600),
            ),
            AppError::ResetNotEnabled => td_str!(locale, error_reset_not_enabled).to_string(),
            AppError::AccountDisabled => td_str!(locale, error_account_disabled).to_string(),
            AppError::GatesIncomplete => td_str!(locale, error_gates_incomplete).to_string(),
            AppError::AdminOnly => td_str!(locale, error_admin_only).to_string(),
            AppError::InvalidSetting { label, .. } => {
                td_str!(locale, error_invalid_setting, field = label)
            }
            AppError::SettingsChanged => td_str!(locale, error_settings_changed).to_string(),
            AppError::NoSuchAccount => td_str!(locale, error_no_such_account).to_string(),
            AppError::DirectoryManaged => td_str!(locale, error_directory_managed).to_string(),
            AppError::OwnAccount => td_str!(locale, error_own_account).to_string(),
            AppError::ConfirmationRequired => {
                td_str!(locale, error_confirmation_required).to_string()
            }
            AppError::NoEmailAddress => td_str!(locale, error_no_email_address).to_string(),
            AppError::GroupExists => td_str!(locale, error_group_exists).to_string(),
            AppError::InvalidDisplayName => td_str!(locale, error_invalid_display_name).to_string(),
            AppError::AccountExists => td_str!(locale, error_account_exists).to_string(),
            AppError::CsvColumns => td_str!(locale, error_csv_columns).to_string(),
            AppError::FileTooLarge => td_str!(locale, error_file_too_large).to_string(),
            AppError::GroupInUse => td_str!(locale, error_group_in_use).to_string(),
            AppError::PasswordRejected {
                reasons,
                min_length,
                max_length,
            } => {
                let list = reasons
                    .iter()
                    .map(|r| reason_text(locale, *r, *min_length, *max_length))
                    .collect::<Vec<_>>()
                    .join("; ");
                td_str!(locale, error_password_rejected, reasons = list)
            }
        }
    }
}

/// One password rule as a sentence, for the checklist and for errors.
pub fn reason_text(locale: Locale, reason: Reason, min: u64, max: u64) -> String {
    match reason {
        Reason::TooShort => plural(td_str!(locale, password_rule_too_short), locale, "min", min),
        Reason::TooLong => plural(td_str!(locale, password_rule_too_long), locale, "max", max),
        Reason::ControlCharacter => td_str!(locale, password_rule_control_character).to_string(),
        Reason::PersonalInfo => td_str!(locale, password_rule_personal_info).to_string(),
        Reason::Common => td_str!(locale, password_rule_common).to_string(),
        Reason::Banned => td_str!(locale, password_rule_banned).to_string(),
        Reason::SameAsCurrent => td_str!(locale, password_rule_same_as_current).to_string(),
        Reason::Mismatch => td_str!(locale, password_rule_mismatch).to_string(),
        Reason::DirectoryTooShort => td_str!(locale, password_rule_directory_too_short).to_string(),
        Reason::DirectoryQuality => td_str!(locale, password_rule_directory_quality).to_string(),
        Reason::DirectoryHistory => td_str!(locale, password_rule_directory_history).to_string(),
        Reason::DirectoryTooYoung => td_str!(locale, password_rule_directory_too_young).to_string(),
        Reason::DirectoryRefused => td_str!(locale, password_rule_directory_refused).to_string(),
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Malformed or missing form fields, wrong encoding: the client's fault.
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::UnsupportedRequestMethod(_) => AppError::BadRequest,
            // The request never got an answer.
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Network,
            other => AppError::Internal {
                correlation_id: format!("sf-{}", short_hash(&other.to_string())),
            },
        }
    }
}

/// A short, non-reversible tag for framework errors that carry no id of
/// their own, so two reports of the same failure can be matched.
fn short_hash(s: &str) -> String {
    let h = s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    format!("{:08x}", h as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error the product can show, with the code clients match on
    /// and the status a script client gets. A rename or a status change
    /// must show up here (and in the catalogs' `error_<code>` keys).
    fn every_error() -> Vec<(AppError, &'static str, u16)> {
        use AppError as E;
        vec![
            (E::InvalidCredentials, "invalid_credentials", 401),
            (E::PasswordTooLong, "password_too_long", 422),
            (
                E::Busy {
                    retry_after_secs: 1,
                },
                "busy",
                503,
            ),
            (E::BadRequest, "bad_request", 400),
            (E::NotSignedIn, "not_signed_in", 401),
            (E::NotFound, "not_found", 404),
            (E::Network, "network", 400),
            (
                E::Internal {
                    correlation_id: "x".into(),
                },
                "internal",
                500,
            ),
            (E::FlowExpired, "flow_expired", 409),
            (E::MethodNotAllowed, "method_not_allowed", 403),
            (E::InvalidEmail, "invalid_email", 422),
            (E::InvalidPhone, "invalid_phone", 422),
            (E::PhoneRegionNotAllowed, "phone_region_not_allowed", 422),
            (E::PhoneTypeNotSupported, "phone_type_not_supported", 422),
            (E::AlreadyRegistered, "already_registered", 409),
            (
                E::Throttled {
                    retry_after_secs: 60,
                },
                "throttled",
                429,
            ),
            (
                E::ResendTooSoon {
                    retry_after_secs: 5,
                },
                "resend_too_soon",
                429,
            ),
            (E::NoPendingCode, "no_pending_code", 409),
            (E::CodeFormat { digits: 6 }, "code_format", 422),
            (E::WrongCode { attempts_left: 2 }, "wrong_code", 422),
            (E::CodeExpired, "code_expired", 410),
            (E::TooManyAttempts, "too_many_attempts", 429),
            (
                E::NotEnoughMethods { have: 1, need: 2 },
                "not_enough_methods",
                422,
            ),
            (
                E::ReauthenticationRequired,
                "reauthentication_required",
                401,
            ),
            (E::LastMethod, "last_method", 409),
            (E::QuestionsCount { need: 3 }, "questions_count", 422),
            (E::QuestionUnknown { index: 1 }, "question_unknown", 422),
            (
                E::QuestionLength {
                    index: 1,
                    min: 10,
                    max: 200,
                },
                "question_length",
                422,
            ),
            (
                E::AnswerLength {
                    index: 1,
                    min: 3,
                    max: 40,
                },
                "answer_length",
                422,
            ),
            (E::QuestionRepeated { index: 1 }, "question_repeated", 422),
            (E::AnswerRepeated { index: 1 }, "answer_repeated", 422),
            (E::CaptchaInvalid, "captcha_invalid", 400),
            (E::CaptchaExpired, "captcha_expired", 410),
            (E::InvalidLogin, "invalid_login", 422),
            (
                E::MethodBlocked {
                    retry_after_secs: 86_400,
                },
                "method_blocked",
                429,
            ),
            (E::ResetNotEnabled, "reset_not_enabled", 403),
            (E::AccountDisabled, "account_disabled", 403),
            (E::GatesIncomplete, "gates_incomplete", 409),
            (
                E::PasswordRejected {
                    reasons: vec![Reason::TooShort],
                    min_length: 8,
                    max_length: 128,
                },
                "password_rejected",
                422,
            ),
            (E::AnswerInQuestion { index: 1 }, "answer_in_question", 422),
            (E::AnswersIncomplete { need: 2 }, "answers_incomplete", 422),
            (E::WrongAnswers { attempts_left: 3 }, "wrong_answers", 422),
            (E::AdminOnly, "admin_only", 403),
            (
                E::InvalidSetting {
                    field: "reconfirm_days".into(),
                    label: "Days before users are asked to reconfirm".into(),
                },
                "invalid_setting",
                422,
            ),
            (E::SettingsChanged, "settings_changed", 409),
            (E::NoSuchAccount, "no_such_account", 422),
            (E::DirectoryManaged, "directory_managed", 409),
            (E::OwnAccount, "own_account", 409),
            (E::ConfirmationRequired, "confirmation_required", 422),
            (E::NoEmailAddress, "no_email_address", 422),
            (E::GroupExists, "group_exists", 409),
            (E::GroupInUse, "group_in_use", 409),
            (E::InvalidDisplayName, "invalid_display_name", 422),
            (E::AccountExists, "account_exists", 409),
            (E::CsvColumns, "csv_columns", 422),
            (E::FileTooLarge, "file_too_large", 413),
        ]
    }

    #[test]
    fn every_code_and_status_is_pinned() {
        let all = every_error();
        assert_eq!(all.len(), 56, "a new error needs its row here");
        for (error, code, status) in &all {
            assert_eq!(error.code(), *code);
            assert_eq!(error.to_string(), *code);
            assert_eq!(error.status_code(), *status, "{code}");
            // The wire form carries the same code, and reads back equal.
            let json = serde_json::to_value(error).unwrap();
            assert_eq!(json["code"], *code);
            let back: AppError = serde_json::from_value(json).unwrap();
            assert_eq!(&back, error);
            // Every code has a sentence in both catalogs.
            assert!(!error.message(Locale::en).is_empty(), "{code}");
            assert!(!error.message(Locale::he_IL).is_empty(), "{code}");
        }
        let mut codes: Vec<_> = all.iter().map(|(_, c, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "codes are unique");
    }

    #[test]
    fn an_unknown_code_is_refused_and_missing_fields_read_as_zero() {
        assert!(serde_json::from_str::<AppError>(r#"{"code":"no_such_code"}"#).is_err());
        assert!(serde_json::from_str::<AppError>(r#"{"retry_after_secs":1}"#).is_err());
        let busy: AppError = serde_json::from_str(r#"{"code":"busy","extra":true}"#).unwrap();
        assert_eq!(
            busy,
            AppError::Busy {
                retry_after_secs: 0
            }
        );
    }

    #[test]
    fn codes_are_stable_on_the_wire() {
        let json = serde_json::to_string(&AppError::InvalidCredentials).unwrap();
        assert_eq!(json, r#"{"code":"invalid_credentials"}"#);
        let json = serde_json::to_string(&AppError::Busy {
            retry_after_secs: 1,
        })
        .unwrap();
        assert_eq!(json, r#"{"code":"busy","retry_after_secs":1}"#);
        assert_eq!(
            AppError::Internal {
                correlation_id: "x".into()
            }
            .code(),
            "internal"
        );
    }

    #[test]
    fn messages_are_localized() {
        let en = AppError::InvalidCredentials.message(Locale::en);
        let he = AppError::InvalidCredentials.message(Locale::he_IL);
        assert!(en.contains("incorrect"));
        assert_ne!(en, he);
        let internal = AppError::Internal {
            correlation_id: "abc123".into(),
        }
        .message(Locale::he_IL);
        assert!(internal.contains("abc123"));
    }
}
