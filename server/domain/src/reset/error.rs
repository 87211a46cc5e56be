//! Everything a reset step can answer besides success.

use crate::DomainError;
use crate::flow::FlowError;
use crate::password::HashError;
use crate::password_policy::{Reason, Rules};
use crate::phone::PhoneError;

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("the reset session expired")]
    FlowExpired,
    #[error("captcha: {0}")]
    Captcha(#[from] crate::captcha::CaptchaError),
    #[error("the user ID is not valid")]
    InvalidLogin,
    #[error("too many attempts; retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    #[error("this method is blocked for {retry_after_secs} s")]
    MethodBlocked { retry_after_secs: i64 },
    #[error("this method is not offered")]
    MethodNotAllowed,
    #[error("not an email address")]
    InvalidEmail,
    #[error("phone: {0}")]
    InvalidPhone(#[from] PhoneError),
    #[error("no code is waiting")]
    NoPendingCode,
    #[error("the code must be {digits} digits")]
    CodeFormat { digits: usize },
    #[error("wrong code")]
    WrongCode { attempts_left: i64 },
    #[error("all {need} questions must be answered")]
    AnswersIncomplete { need: usize },
    #[error("wrong answers")]
    WrongAnswers { attempts_left: i64 },
    #[error("the code expired")]
    CodeExpired,
    #[error("too many wrong codes")]
    TooManyAttempts,
    #[error("wait {retry_after_secs} s before asking for another code")]
    ResendTooSoon { retry_after_secs: i64 },
    #[error("SSPR is not enabled for this account")]
    NotEnabled,
    #[error("not enough methods registered: {have} of {need}")]
    NotEnoughMethods { have: usize, need: usize },
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("the verification steps are not complete")]
    GatesIncomplete,
    #[error("the new password is refused: {0:?}")]
    Rejected(Vec<Reason>, Rules),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl From<sqlx::Error> for ResetError {
    fn from(e: sqlx::Error) -> Self {
        ResetError::Internal(e.into())
    }
}

impl From<FlowError> for ResetError {
    fn from(e: FlowError) -> Self {
        match e {
            FlowError::Expired => ResetError::FlowExpired,
            FlowError::Internal(e) => ResetError::Internal(e),
        }
    }
}
