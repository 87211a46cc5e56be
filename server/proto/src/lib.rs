//! What the server and the browser exchange, compiled into both: the cheap
//! password rules ([`password_rules`]), the kinds of verification method
//! ([`method`]) and the views the pages render ([`views`]). Serde only: this
//! crate is part of the wasm bundle.

pub mod accept_language;
pub mod admin;
pub mod method;
pub mod password_rules;
pub mod plural;
pub mod views;

pub use method::{MethodKind, PhoneChannel};
pub use password_rules::{
    FLOOR, MAX, MIN_CONTEXT_WORD, Reason, Rules, SINGLE_FACTOR_MIN, check, context_words, unleet,
};
