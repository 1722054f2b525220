//! The delivery worker: sends what the outbox holds, at least once, oldest first for each
//! recipient. A failed try is retried after an exponential back-off with jitter; after the
//! last try the delivery is dead-lettered. A lease keeps two instances from sending the same
//! message; a crash after sending and before recording can send it again (at least once).

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{NaiveDateTime, TimeDelta};

use crate::db::{self, Db};
use crate::domain::delivery::Channel;
use crate::error::AppError;
use crate::notify::mail::Mailer;
use crate::notify::outbox::email_footer;
use crate::text::Lang;

/// What the worker needs besides the database.
#[derive(Clone)]
pub struct Delivery {
    pub mailer: Arc<Mailer>,
    pub from: String,
    pub backoff: Duration,
    pub max_attempts: u32,
    /// Where links in messages point.
    pub public_url: String,
    /// Whether webhooks may call this machine or a private network.
    pub webhook_allow_private: bool,
    /// How long an instance holds a delivery it is sending: if it dies, another instance
    /// sends the delivery once this has passed.
    pub lease: Duration,
}

const BATCH: i64 = 50;
/// The failure of a queued webhook call whose department no longer has a webhook: it is
/// dropped (dead-lettered at once), not retried.
const WEBHOOK_GONE: &str = "the department has no webhook any more";
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

pub async fn run(db: Db, delivery: Delivery, tick: Duration) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match tick_once(&db, &delivery).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "messages delivered"),
            Err(e) => tracing::warn!(error = %e, "delivery tick failed; messages stay queued"),
        }
    }
}

/// The wait before try `attempt + 1`: `base × 2^(attempt−1)`, at most an hour, ±20 %.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
        .min(MAX_BACKOFF);
    let jitter = 0.8 + f64::from(OsRng.next_u32() % 4001) / 10_000.0;
    exp.mul_f64(jitter)
}

/// One try at one delivery.
async fn send(
    db: &Db,
    d: &Delivery,
    delivery: &db::deliveries::DeliveryRow,
) -> Result<Result<(), String>, AppError> {
    match delivery.channel {
        Channel::Mail => {
            let Some(id) = delivery.notification_id else {
                return Ok(Err("an email without a notification".into()));
            };
            let found = db
                .read(move |c| {
                    let Some(n) = db::notifications::find(c, id)? else {
                        return Ok(None);
                    };
                    let issue = match n.issue_id {
                        Some(i) => db::issues::find(c, i)?,
                        None => None,
                    };
                    let lang = db::users::find(c, n.user_id)?
                        .map(|u| Lang::from_locale(&u.locale))
                        .unwrap_or(Lang::Zh);
                    Ok(Some((n, issue, lang)))
                })
                .await?;
            Ok(match found {
                Some((n, issue, lang)) => {
                    let (body, thread) = match issue {
                        Some(issue) => (
                            format!(
                                "{}\n\n{}",
                                n.body,
                                email_footer(&issue, lang, &d.public_url)
                            ),
                            Some(format!("issue-{}.{}", issue.id, issue.number)),
                        ),
                        None => (n.body.clone(), None),
                    };
                    d.mailer
                        .send(
                            &d.from,
                            &delivery.target,
                            &n.title,
                            &body,
                            thread.as_deref(),
                            &format!(
                                "delivery-{}.{}",
                                delivery.id,
                                delivery.created_at.and_utc().timestamp_micros()
                            ),
                        )
                        .await
                }
                None => Err("the notification is gone".into()),
            })
        }
        Channel::Webhook => {
            // URL and secret are read at sending time, so that a changed or removed webhook
            // applies at once to what is still queued.
            let department = delivery.department_id;
            let target = db
                .read(move |c| {
                    Ok(match department {
                        Some(id) => db::departments::find(c, id)?
                            .and_then(|d| d.webhook_url.map(|url| (url, d.webhook_secret))),
                        None => None,
                    })
                })
                .await?;
            let Some((url, secret)) = target else {
                return Ok(Err(WEBHOOK_GONE.into()));
            };
            let body = delivery.payload.clone().unwrap_or_default();
            Ok(crate::notify::webhook::post(
                &url,
                secret.as_deref(),
                &body,
                d.webhook_allow_private,
            )
            .await)
        }
    }
}

/// Leases, sends and records one delivery. `true` when it was sent.
async fn attempt(
    db: &Db,
    d: &Delivery,
    delivery: db::deliveries::DeliveryRow,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let id = delivery.id;
    let lease = TimeDelta::from_std(d.lease).unwrap_or(TimeDelta::minutes(5));
    let leased = db
        .write(move |c| Ok(db::deliveries::lease(c, id, now, now + lease)?))
        .await?;
    if !leased {
        return Ok(false);
    }
    let outcome = send(db, d, &delivery).await?;
    let at = db::now();
    match outcome {
        Ok(()) => {
            db.write(move |c| Ok(db::deliveries::mark_sent(c, id, at)?))
                .await?;
            Ok(true)
        }
        Err(error) => {
            let attempt = delivery.attempts as u32 + 1;
            let dead = attempt >= d.max_attempts || error == WEBHOOK_GONE;
            let wait =
                TimeDelta::from_std(backoff(d.backoff, attempt)).unwrap_or(TimeDelta::hours(1));
            let next: NaiveDateTime = db::truncate(at + wait);
            tracing::warn!(delivery = id, attempt, dead, %error, "delivery failed");
            db.write(move |c| Ok(db::deliveries::mark_failed(c, id, &error, next, dead)?))
                .await?;
            Ok(false)
        }
    }
}

/// Sends what is due now. Returns how many were sent.
pub async fn tick_once(db: &Db, d: &Delivery) -> Result<usize, AppError> {
    let mut sent = 0;
    for _ in 0..20 {
        let now = db::now();
        let due = db
            .read(move |c| Ok(db::deliveries::due(c, now, BATCH)?))
            .await?;
        if due.is_empty() {
            break;
        }
        let mut progressed = false;
        // One delivery per recipient in a batch (see `due`): they may go out side by side
        // without breaking any recipient's order.
        let results = futures_util::future::join_all(
            due.into_iter()
                .map(|delivery| attempt(db, d, delivery, now)),
        )
        .await;
        for result in results {
            if result? {
                sent += 1;
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_with_jitter_and_stops_at_an_hour() {
        let base = Duration::from_secs(30);
        for _ in 0..100 {
            let first = backoff(base, 1).as_secs_f64();
            assert!((24.0..=36.0).contains(&first), "{first}");
            let fourth = backoff(base, 4).as_secs_f64();
            assert!((192.0..=288.0).contains(&fourth), "{fourth}");
            assert!(backoff(base, 30).as_secs_f64() <= 3600.0 * 1.2);
        }
    }
}
