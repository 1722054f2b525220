//! What every handler can reach: the database, the token service, the settings, the
//! bounded pools and the outboxes' transports. Its own module, so that the handlers and the
//! start-up that builds it both import it without importing each other.

use std::sync::Arc;

use crate::auth::tokens::TokenService;
use crate::config::Settings;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::notify::mail::Mailer;

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub tokens: TokenService,
    /// The callers seen in the last seconds, for reads (`auth::callers`).
    pub callers: crate::auth::callers::Callers,
    /// The rules a filing follows (calendar, SLA policies, routing) as last read.
    pub rulebook: crate::workflow::rulebook::Rulebook,
    pub settings: Settings,
    /// A real argon2 hash of a random password, checked for unknown usernames so that they
    /// cost the same time as known ones.
    pub dummy_hash: String,
    /// The key observers' inspection ratings are kept under (`workflow::inspections::rater_key`),
    /// made from the token key so that every instance has the same.
    pub rater_secret: Vec<u8>,
    /// Every password hash and check goes through it (bounded concurrency).
    pub hashing: crate::auth::password::HashingPool,
    /// Thumbnails being drawn at once (each decode may hold up to 256 MiB).
    pub thumbnailing: tokio::sync::Semaphore,
    pub metrics: Arc<Metrics>,
    pub mailer: Arc<Mailer>,
    pub storage: crate::storage::Storage,
}
