//! The black-box tests of the HTTP API, each on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod attachments;
mod auth;
mod authorization;
mod bad_input;
mod browser;
mod cluster;
mod contract;
mod county;
mod crash;
mod dashboard;
mod demo;
mod departments;
mod health;
mod hostile;
mod imports;
mod inspections;
mod issues;
mod lifecycle_doc;
mod lifecycle_matrix;
mod mail;
mod notifications;
mod openapi;
mod operations;
mod process;
mod reports;
mod screens;
mod sla;
mod smtp;
mod sync;
mod throttling;
mod users;
mod webapp;
mod webhooks;
