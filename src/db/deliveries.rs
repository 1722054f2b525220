//! The `deliveries` table: the outbox of outgoing messages.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::deliveries;
use super::{DbConn, native};
use crate::domain::delivery::Channel;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRow {
    pub id: i64,
    pub notification_id: Option<i64>,
    pub department_id: Option<i64>,
    pub payload: Option<String>,
    pub channel: Channel,
    pub target: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub leased_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

pub fn enqueue(
    conn: &mut DbConn,
    notification_id: i64,
    channel: Channel,
    target: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(deliveries::table)
        .values((
            deliveries::notification_id.eq(notification_id),
            deliveries::channel.eq(channel),
            deliveries::target.eq(target),
            deliveries::state.eq("pending"),
            deliveries::attempts.eq(0),
            deliveries::next_attempt_at.eq(now),
            deliveries::created_at.eq(now),
        ))
        .execute(c))?;
    Ok(())
}

/// A webhook call for a department: `payload` is the JSON body.
pub fn enqueue_webhook(
    conn: &mut DbConn,
    department_id: i64,
    url: &str,
    payload: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(deliveries::table)
        .values((
            deliveries::department_id.eq(Some(department_id)),
            deliveries::payload.eq(Some(payload)),
            deliveries::channel.eq(Channel::Webhook),
            deliveries::target.eq(url),
            deliveries::state.eq("pending"),
            deliveries::attempts.eq(0),
            deliveries::next_attempt_at.eq(now),
            deliveries::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Failed or dead-lettered deliveries (or all, for `None`), newest first.
pub fn list(
    conn: &mut DbConn,
    state: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut q = deliveries::table
        .select(DeliveryRow::as_select())
        .into_boxed();
    match state {
        Some("failed") => {
            q = q
                .filter(deliveries::state.eq("pending"))
                .filter(deliveries::attempts.gt(0))
        }
        Some(s) => q = q.filter(deliveries::state.eq(s.to_string())),
        None => {}
    }
    if let Some(before) = before_id {
        q = q.filter(deliveries::id.lt(before));
    }
    q.order(deliveries::id.desc()).limit(limit).load(conn)
}

/// Puts a delivery back in the queue for an immediate try.
pub fn retry(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        deliveries::table
            .find(id)
            .filter(deliveries::state.ne("sent")),
    )
    .set((
        deliveries::state.eq("pending"),
        deliveries::attempts.eq(0),
        deliveries::next_attempt_at.eq(now),
        deliveries::leased_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Deliveries ready to go: pending, due, not leased by another worker, and the oldest
/// pending one of their recipient (so that each recipient gets messages in order).
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<DeliveryRow>> {
    let earlier = diesel::alias!(deliveries as earlier);
    deliveries::table
        .filter(deliveries::state.eq("pending"))
        .filter(deliveries::next_attempt_at.le(now))
        .filter(
            deliveries::leased_until
                .is_null()
                .or(deliveries::leased_until.lt(now)),
        )
        .filter(diesel::dsl::not(diesel::dsl::exists(
            earlier
                .filter(earlier.field(deliveries::target).eq(deliveries::target))
                .filter(earlier.field(deliveries::state).eq("pending"))
                .filter(earlier.field(deliveries::id).lt(deliveries::id)),
        )))
        .select(DeliveryRow::as_select())
        .order(deliveries::id.asc())
        .limit(limit)
        .load(conn)
}

/// Takes a delivery for `until`: exactly one worker of any instance gets `true`.
pub fn lease(
    conn: &mut DbConn,
    id: i64,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        deliveries::table
            .filter(deliveries::id.eq(id))
            .filter(deliveries::state.eq("pending"))
            .filter(
                deliveries::leased_until
                    .is_null()
                    .or(deliveries::leased_until.lt(now)),
            ),
    )
    .set(deliveries::leased_until.eq(until))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn mark_sent(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(deliveries::table.find(id))
        .set((
            deliveries::state.eq("sent"),
            deliveries::sent_at.eq(now),
            deliveries::leased_until.eq(None::<NaiveDateTime>),
            deliveries::attempts.eq(deliveries::attempts + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// A failed try: again at `next`, or dead-lettered when `dead`.
pub fn mark_failed(
    conn: &mut DbConn,
    id: i64,
    error: &str,
    next: NaiveDateTime,
    dead: bool,
) -> QueryResult<()> {
    diesel::update(deliveries::table.find(id))
        .set((
            deliveries::state.eq(if dead { "dead" } else { "pending" }),
            deliveries::next_attempt_at.eq(next),
            deliveries::leased_until.eq(None::<NaiveDateTime>),
            deliveries::last_error.eq(error),
            deliveries::attempts.eq(deliveries::attempts + 1),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<DeliveryRow>> {
    deliveries::table
        .find(id)
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
}

pub fn for_target(conn: &mut DbConn, target: &str) -> QueryResult<Vec<DeliveryRow>> {
    deliveries::table
        .filter(deliveries::target.eq(target))
        .select(DeliveryRow::as_select())
        .order(deliveries::id.asc())
        .load(conn)
}

/// The outbox now: deliveries pending and the creation of the oldest, and those given up.
pub fn backlog(conn: &mut DbConn) -> QueryResult<(i64, Option<NaiveDateTime>, i64)> {
    let (pending, oldest) = deliveries::table
        .filter(deliveries::state.eq("pending"))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(deliveries::created_at),
        ))
        .get_result::<(i64, Option<NaiveDateTime>)>(conn)?;
    let dead = deliveries::table
        .filter(deliveries::state.eq("dead"))
        .count()
        .get_result(conn)?;
    Ok((pending, oldest, dead))
}
