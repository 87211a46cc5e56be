//! Everything a registration step can answer besides success.

use crate::DomainError;
use crate::flow::FlowError;
use crate::password::HashError;
use crate::phone::PhoneError;
use crate::questions::QuestionError;

#[derive(Debug, thiserror::Error)]
pub enum RegError {
    #[error("the registration session expired")]
    FlowExpired,
    #[error("this method is not allowed by the policy")]
    MethodNotAllowed,
    #[error("not an email address")]
    InvalidEmail,
    #[error("phone: {0}")]
    InvalidPhone(#[from] PhoneError),
    #[error("already registered")]
    AlreadyRegistered,
    #[error("too many codes sent; retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    #[error("wait {retry_after_secs} s before asking for another code")]
    ResendTooSoon { retry_after_secs: i64 },
    #[error("no code is waiting to be entered")]
    NoPendingCode,
    #[error("the code must be {digits} digits")]
    CodeFormat { digits: usize },
    #[error("wrong code")]
    WrongCode { attempts_left: i64 },
    #[error("the code expired")]
    CodeExpired,
    #[error("too many wrong codes")]
    TooManyAttempts,
    #[error("need {need} methods, have {have}")]
    NotEnoughMethods { have: usize, need: usize },
    #[error("the policy needs this method")]
    LastMethod,
    #[error("no such method")]
    NoSuchMethod,
    #[error("security questions: {0}")]
    Questions(#[from] QuestionError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl From<sqlx::Error> for RegError {
    fn from(e: sqlx::Error) -> Self {
        RegError::Internal(e.into())
    }
}

impl From<FlowError> for RegError {
    fn from(e: FlowError) -> Self {
        match e {
            FlowError::Expired => RegError::FlowExpired,
            FlowError::Internal(e) => RegError::Internal(e),
        }
    }
}
