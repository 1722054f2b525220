//! The `devices` table: phones registered for push, one row per push token.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::devices as d;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = d)]
pub struct DeviceRow {
    pub id: i64,
    pub user_id: i64,
    pub platform: String,
    pub push_token: String,
    pub app_version: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Registers a push token for a user. A token already known (the app registered again, or
/// the phone changed hands) is moved to this user and refreshed, never duplicated.
pub fn upsert(
    conn: &mut DbConn,
    user_id: i64,
    platform: &str,
    push_token: &str,
    app_version: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<(DeviceRow, bool)> {
    let existing: Option<DeviceRow> = d::table
        .filter(d::push_token.eq(push_token))
        .select(DeviceRow::as_select())
        .first(conn)
        .optional()?;
    match existing {
        Some(row) => {
            diesel::update(d::table.find(row.id))
                .set((
                    d::user_id.eq(user_id),
                    d::platform.eq(platform),
                    d::app_version.eq(app_version),
                    d::updated_at.eq(now),
                ))
                .execute(conn)?;
            Ok((find(conn, row.id)?, false))
        }
        None => {
            let id: i64 = diesel::insert_into(d::table)
                .values((
                    d::user_id.eq(user_id),
                    d::platform.eq(platform),
                    d::push_token.eq(push_token),
                    d::app_version.eq(app_version),
                    d::created_at.eq(now),
                    d::updated_at.eq(now),
                ))
                .returning(d::id)
                .get_result(conn)?;
            Ok((find(conn, id)?, true))
        }
    }
}

fn find(conn: &mut DbConn, id: i64) -> QueryResult<DeviceRow> {
    d::table.find(id).select(DeviceRow::as_select()).first(conn)
}

pub fn of_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<DeviceRow>> {
    d::table
        .filter(d::user_id.eq(user_id))
        .select(DeviceRow::as_select())
        .order(d::id.asc())
        .load(conn)
}

/// Removes one of the user's devices; 0 when it is not theirs.
pub fn delete(conn: &mut DbConn, user_id: i64, id: i64) -> QueryResult<usize> {
    diesel::delete(d::table.filter(d::id.eq(id)).filter(d::user_id.eq(user_id))).execute(conn)
}

/// Removes the user's device with this push token, if any.
pub fn delete_token(conn: &mut DbConn, user_id: i64, push_token: &str) -> QueryResult<usize> {
    diesel::delete(
        d::table
            .filter(d::push_token.eq(push_token))
            .filter(d::user_id.eq(user_id)),
    )
    .execute(conn)
}
