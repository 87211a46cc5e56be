//! Every domain error the web layer meets becomes the user-visible
//! [`AppError`] here, with `From`, so the adapters just use `?`.
//!
//! Infrastructure causes (database, hashing pool, corrupt rows) cannot
//! travel in `AppError` — it goes to the browser — so their conversion
//! logs the cause once, next to the correlation id the user is shown.

use sspr_domain::DomainError;
use sspr_domain::auth::SignInError;
use sspr_domain::captcha::CaptchaError;
use sspr_domain::password::HashError;
use sspr_domain::password_change::ChangeError;
use sspr_domain::password_policy::{Reason, Rules};
use sspr_domain::phone::PhoneError;
use sspr_domain::questions::QuestionError;
use sspr_domain::registration::RegError;
use sspr_domain::reset::ResetError;

use crate::error::AppError;

/// An internal failure: logged with a short correlation id, which is all
/// the user sees.
pub fn internal(cause: impl std::fmt::Display) -> AppError {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let short = id.get(..12).unwrap_or(&id).to_owned();
    tracing::error!(correlation_id = %short, error = %cause, "internal error");
    AppError::Internal {
        correlation_id: short,
    }
}

/// Counts and seconds are never negative on the wire.
fn n(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn count(v: usize) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

pub fn rejected(reasons: Vec<Reason>, rules: &Rules) -> AppError {
    AppError::PasswordRejected {
        reasons,
        min_length: count(rules.min_length),
        max_length: count(rules.max_length),
    }
}

/// Seconds a client is asked to wait after a transient storage fault.
const RETRY_AFTER_FAULT_SECS: u64 = 5;

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        if e.is_transient() {
            // Nothing was written (the transaction rolled back); say so
            // with 503 + Retry-After rather than an internal error.
            tracing::warn!(error = %e, "storage unavailable; answered 503");
            return AppError::Busy {
                retry_after_secs: RETRY_AFTER_FAULT_SECS,
            };
        }
        internal(e)
    }
}

impl From<HashError> for AppError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::TooLong => AppError::PasswordTooLong,
            HashError::Busy { retry_after_secs } => AppError::Busy { retry_after_secs },
            e @ HashError::Internal(_) => internal(e),
        }
    }
}

impl From<PhoneError> for AppError {
    fn from(e: PhoneError) -> Self {
        match e {
            PhoneError::Invalid => AppError::InvalidPhone,
            PhoneError::RegionNotAllowed => AppError::PhoneRegionNotAllowed,
            PhoneError::UnsupportedType => AppError::PhoneTypeNotSupported,
        }
    }
}

impl From<CaptchaError> for AppError {
    fn from(e: CaptchaError) -> Self {
        match e {
            CaptchaError::Expired => AppError::CaptchaExpired,
            _ => AppError::CaptchaInvalid,
        }
    }
}

impl From<QuestionError> for AppError {
    fn from(e: QuestionError) -> Self {
        match e {
            QuestionError::WrongCount { need, .. } => {
                AppError::QuestionsCount { need: count(need) }
            }
            QuestionError::UnknownQuestion { index } => AppError::QuestionUnknown {
                index: count(index),
            },
            QuestionError::QuestionLength { index, min, max } => AppError::QuestionLength {
                index: count(index),
                min: count(min),
                max: count(max),
            },
            QuestionError::AnswerLength { index, min, max } => AppError::AnswerLength {
                index: count(index),
                min: count(min),
                max: count(max),
            },
            QuestionError::RepeatedQuestion { index } => AppError::QuestionRepeated {
                index: count(index),
            },
            QuestionError::RepeatedAnswer { index } => AppError::AnswerRepeated {
                index: count(index),
            },
            QuestionError::AnswerInQuestion { index } => AppError::AnswerInQuestion {
                index: count(index),
            },
        }
    }
}

impl From<SignInError> for AppError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::InvalidCredentials => AppError::InvalidCredentials,
            SignInError::PasswordTooLong => AppError::PasswordTooLong,
            SignInError::Busy { retry_after_secs } => AppError::Busy { retry_after_secs },
            SignInError::Throttled { retry_after_secs } => AppError::Throttled { retry_after_secs },
            SignInError::Internal(e) => e.into(),
        }
    }
}

impl From<ChangeError> for AppError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::NotSignedIn => AppError::NotSignedIn,
            ChangeError::InvalidCredentials => AppError::InvalidCredentials,
            ChangeError::Rejected(reasons, rules) => rejected(reasons, &rules),
            ChangeError::PasswordTooLong => AppError::PasswordTooLong,
            ChangeError::Busy { retry_after_secs } => AppError::Busy { retry_after_secs },
            ChangeError::Throttled { retry_after_secs } => AppError::Throttled { retry_after_secs },
            // Someone changed it a moment ago: the current password typed
            // is no longer current.
            ChangeError::Conflict => AppError::InvalidCredentials,
            ChangeError::Internal(e) => e.into(),
        }
    }
}

/// The variants both wizards share (same names, same meaning), written
/// once; each wizard adds its own arms.
macro_rules! wizard_error {
    ($e:expr, $E:ident, { $($own:tt)* }) => {
        match $e {
            $E::FlowExpired => AppError::FlowExpired,
            $E::MethodNotAllowed => AppError::MethodNotAllowed,
            $E::InvalidEmail => AppError::InvalidEmail,
            $E::InvalidPhone(p) => p.into(),
            $E::Throttled { retry_after_secs } => AppError::Throttled {
                retry_after_secs: n(retry_after_secs),
            },
            $E::ResendTooSoon { retry_after_secs } => AppError::ResendTooSoon {
                retry_after_secs: n(retry_after_secs),
            },
            $E::NoPendingCode => AppError::NoPendingCode,
            $E::CodeFormat { digits } => AppError::CodeFormat { digits: count(digits) },
            $E::WrongCode { attempts_left } => AppError::WrongCode {
                attempts_left: n(attempts_left),
            },
            $E::CodeExpired => AppError::CodeExpired,
            $E::TooManyAttempts => AppError::TooManyAttempts,
            $E::NotEnoughMethods { have, need } => AppError::NotEnoughMethods {
                have: count(have),
                need: count(need),
            },
            $E::Hash(h) => h.into(),
            $E::Internal(d) => d.into(),
            $($own)*
        }
    };
}

impl From<ResetError> for AppError {
    fn from(e: ResetError) -> Self {
        wizard_error!(e, ResetError, {
            ResetError::Captcha(c) => c.into(),
            ResetError::InvalidLogin => AppError::InvalidLogin,
            ResetError::MethodBlocked { retry_after_secs } => AppError::MethodBlocked {
                retry_after_secs: n(retry_after_secs),
            },
            ResetError::AnswersIncomplete { need } => AppError::AnswersIncomplete { need: count(need) },
            ResetError::WrongAnswers { attempts_left } => AppError::WrongAnswers {
                attempts_left: n(attempts_left),
            },
            ResetError::NotEnabled => AppError::ResetNotEnabled,
            ResetError::AccountDisabled => AppError::AccountDisabled,
            ResetError::GatesIncomplete => AppError::GatesIncomplete,
            ResetError::Rejected(reasons, rules) => rejected(reasons, &rules),
        })
    }
}

impl From<RegError> for AppError {
    fn from(e: RegError) -> Self {
        wizard_error!(e, RegError, {
            RegError::AlreadyRegistered => AppError::AlreadyRegistered,
            RegError::LastMethod => AppError::LastMethod,
            RegError::NoSuchMethod => AppError::NotFound,
            RegError::Questions(q) => q.into(),
        })
    }
}
