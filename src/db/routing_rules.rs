//! The `routing_rules` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::routing_rules;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = routing_rules)]
pub struct RoutingRuleRow {
    pub id: i64,
    pub category: String,
    pub park: Option<String>,
    pub milestone_kind: Option<String>,
    pub department_id: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = routing_rules)]
pub struct NewRoutingRule {
    pub category: String,
    pub park: Option<String>,
    pub milestone_kind: Option<String>,
    pub department_id: i64,
    pub created_at: NaiveDateTime,
}

/// Adds a rule, inside the caller's write transaction (which renews the rules' token).
pub fn insert(conn: &mut DbConn, new: &NewRoutingRule) -> QueryResult<RoutingRuleRow> {
    let row = diesel::insert_into(routing_rules::table)
        .values(new)
        .returning(routing_rules::all_columns)
        .get_result(conn)?;
    super::rules_token::renew(conn)?;
    Ok(row)
}

pub fn all(conn: &mut DbConn) -> QueryResult<Vec<RoutingRuleRow>> {
    routing_rules::table
        .select(RoutingRuleRow::as_select())
        .order(routing_rules::id.asc())
        .load(conn)
}

/// Removes a rule, inside the caller's write transaction (which renews the rules' token).
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    let deleted = diesel::delete(routing_rules::table.find(id)).execute(conn)?;
    if deleted > 0 {
        super::rules_token::renew(conn)?;
    }
    Ok(deleted)
}
