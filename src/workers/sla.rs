//! The SLA worker: every tick it takes the timers that have fallen due (through the
//! partial index on unfired timers, so its cost follows the number due, not the number
//! open) and fires each in its own transaction, claiming it first, so that each warning,
//! breach, escalation and auto-close is recorded exactly once, also with several instances
//! on one PostgreSQL and across restarts.

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::db::{self, Db};
use crate::error::{AppError, ErrorCode};
use crate::workflow::timers;

/// Timers taken per query.
const BATCH: i64 = 100;
/// Queries per tick at most.
const MAX_BATCHES_PER_TICK: usize = 50;

/// Runs until the process stops. Each tick also forgets the `Idempotency-Key`s older than
/// `idempotency_ttl`.
pub async fn run(
    db: Db,
    tick: Duration,
    idempotency_ttl: Duration,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match tick_once(&db, db::now()).await {
            Ok(0) => {}
            Ok(fired) => {
                metrics
                    .sla_fired
                    .fetch_add(fired as u64, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(fired, "SLA timers fired")
            }
            Err(e) => {
                tracing::warn!(error = %e, "SLA tick failed; the timers stay due for the next one")
            }
        }
        if let Err(e) = purge_idempotency_keys(&db, idempotency_ttl).await {
            tracing::warn!(error = %e, "purging old idempotency keys failed; tried again next tick");
        }
    }
}

async fn purge_idempotency_keys(db: &Db, ttl: Duration) -> Result<(), AppError> {
    let ttl = chrono::Duration::from_std(ttl).map_err(AppError::internal)?;
    let purged = db
        .write(move |c| Ok(db::idempotency::purge(c, db::now() - ttl)?))
        .await?;
    if purged > 0 {
        tracing::debug!(purged, "idempotency keys past their retention forgotten");
    }
    Ok(())
}

/// Fires every timer due at `now`. Returns how many this call fired.
pub async fn tick_once(db: &Db, now: NaiveDateTime) -> Result<usize, AppError> {
    let mut fired = 0;
    // Firing may schedule further timers already due (an escalation after a long outage):
    // keep going while there is progress, within a bound so that one tick cannot run away.
    for _ in 0..MAX_BATCHES_PER_TICK {
        let due = db.read(move |c| Ok(db::sla::due(c, now, BATCH)?)).await?;
        if due.is_empty() {
            break;
        }
        let mut progressed = false;
        for timer in due {
            match db.write(move |c| timers::fire(c, timer.id, now)).await {
                Ok(true) => {
                    fired += 1;
                    progressed = true;
                }
                Ok(false) => {}
                // A transition changed the issue at the same moment: try again next tick.
                Err(e) if e.code == ErrorCode::Conflict => {}
                Err(e) => return Err(e),
            }
        }
        if !progressed {
            break;
        }
    }
    Ok(fired)
}
