//! The `visibility_changes` table: issues that entered or left a user's view without
//! themselves changing, read by delta sync (`GET /issues?updated_since=`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{issues, visibility_changes as v};

/// Records that `user_id` started (`visible`) or stopped following `project_id`: its
/// non-private issues filed by others entered or left their view.
pub fn record_following(
    conn: &mut DbConn,
    project_id: i64,
    user_id: i64,
    visible: bool,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let ids: Vec<i64> = issues::table
        .filter(issues::project_id.eq(project_id))
        .filter(issues::private.eq(false))
        .filter(issues::reporter_id.ne(user_id))
        .select(issues::id)
        .load(conn)?;
    for id in &ids {
        diesel::insert_into(v::table)
            .values((
                v::user_id.eq(user_id),
                v::issue_id.eq(Some(*id)),
                v::visible.eq(visible),
                v::at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(ids.len())
}

/// Records that the user's whole view changed (a new role or department).
pub fn record_whole_view(conn: &mut DbConn, user_id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(v::table)
        .values((
            v::user_id.eq(user_id),
            v::issue_id.eq(None::<i64>),
            v::visible.eq(false),
            v::at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// What changed in the user's view at or after `since`.
#[derive(Debug, Default)]
pub struct ViewChanges {
    /// The issue ids whose last change was leaving the view.
    pub left: Vec<i64>,
    /// The whole view changed: the client must sync from scratch.
    pub resync: bool,
}

pub fn since(conn: &mut DbConn, user_id: i64, since: NaiveDateTime) -> QueryResult<ViewChanges> {
    let rows: Vec<(Option<i64>, bool)> = v::table
        .filter(v::user_id.eq(user_id))
        .filter(v::at.ge(since))
        .order(v::id.asc())
        .select((v::issue_id, v::visible))
        .load(conn)?;
    let mut out = ViewChanges::default();
    let mut last = std::collections::BTreeMap::new();
    for (issue, visible) in rows {
        match issue {
            None => out.resync = true,
            Some(id) => {
                last.insert(id, visible);
            }
        }
    }
    out.left = last
        .into_iter()
        .filter(|(_, visible)| !visible)
        .map(|(id, _)| id)
        .collect();
    Ok(out)
}
