//! The errors a user can see, each with a stable code. Server functions
//! map domain failures to these; the UI turns them into a sentence in the
//! user's language. Internal causes never travel: only a correlation id,
//! which is also in the server log next to the cause.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

use crate::i18n::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    #[error("invalid_credentials")]
    InvalidCredentials,
    #[error("password_too_long")]
    PasswordTooLong,
    #[error("busy")]
    Busy { retry_after_secs: u64 },
    #[error("bad_request")]
    BadRequest,
    #[error("not_signed_in")]
    NotSignedIn,
    #[error("not_found")]
    NotFound,
    #[error("network")]
    Network,
    #[error("internal")]
    Internal { correlation_id: String },
}

impl AppError {
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
        }
    }

    /// The HTTP status a script client receives. (A plain HTML form post is
    /// answered 302 back to the form, with the code in the URL, instead.)
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::BadRequest | AppError::Network => 400,
            AppError::InvalidCredentials | AppError::NotSignedIn => 401,
            AppError::NotFound => 404,
            AppError::PasswordTooLong => 422,
            AppError::Internal { .. } => 500,
            AppError::Busy { .. } => 503,
        }
    }

    /// The sentence shown to the user, in `locale`.
    pub fn message(&self, locale: Locale) -> String {
        match self {
            AppError::InvalidCredentials => {
                td_string!(locale, error_invalid_credentials).to_string()
            }
            AppError::PasswordTooLong => td_string!(locale, error_password_too_long).to_string(),
            AppError::Busy { .. } => td_string!(locale, error_busy).to_string(),
            AppError::BadRequest => td_string!(locale, error_bad_request).to_string(),
            AppError::NotSignedIn => td_string!(locale, error_not_signed_in).to_string(),
            AppError::NotFound => td_string!(locale, error_not_found).to_string(),
            AppError::Network => td_string!(locale, error_network).to_string(),
            AppError::Internal { correlation_id } => {
                td_string!(locale, error_internal, id = correlation_id)
            }
        }
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
