pub mod account;
pub mod dev_outbox;
pub mod home;
pub mod not_found;
pub mod placeholders;
pub mod security_info;
pub mod setup;
pub mod sign_in;
