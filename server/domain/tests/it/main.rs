//! Storage and domain tests. One binary (fast to link); every test runs on
//! a real SQLite file and on the real PostgreSQL server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod directory;
mod directory_accounts;
mod directory_ad;
mod import;
mod model;
mod outbox;
mod password;
mod policy_history;
mod purge;
mod registration;
mod reset;
mod second_factor;
mod sends;
mod sessions;
mod sign_in;
mod storage;
mod user_list;
