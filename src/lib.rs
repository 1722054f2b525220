//! Observer Desk: a closed-loop issue desk for a county's business-environment observers.

pub mod admin;
pub mod api;
pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod encoding;
pub mod error;
pub mod import;
pub mod media;
pub mod metrics;
pub mod notify;
pub mod operations;
pub mod secret;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod text;
pub mod workers;
pub mod workflow;
