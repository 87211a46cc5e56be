//! HTTP tests: the whole axum application in process (no socket), over a
//! real SQLite file and the real PostgreSQL server; and `instances`: two
//! real `sspr serve` processes on one PostgreSQL database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod add_users;
mod admin;
mod assets;
mod delivery;
mod directory;
mod faults;
mod harness;
mod instances;
mod listener;
mod locale;
mod logs;
mod pages;
mod password;
mod pseudo;
mod reset;
mod security;
mod setup;
mod sign_in;
mod smtp;
