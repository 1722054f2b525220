//! The black-box tests of the HTTP API, each on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod auth;
mod bad_input;
mod departments;
mod health;
mod openapi;
mod process;
mod throttling;
mod users;
