//! The `routing_rules` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::routing_rules;
use super::{DbConn, native};

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

pub fn insert(conn: &mut DbConn, new: &NewRoutingRule) -> QueryResult<RoutingRuleRow> {
    diesel::insert_into(routing_rules::table)
        .values(new)
        .returning(routing_rules::all_columns)
        .get_result(conn)
}

pub fn all(conn: &mut DbConn) -> QueryResult<Vec<RoutingRuleRow>> {
    routing_rules::table
        .select(RoutingRuleRow::as_select())
        .order(routing_rules::id.asc())
        .load(conn)
}

/// The rules that could apply to an issue of this category.
pub fn for_category(conn: &mut DbConn, category: &str) -> QueryResult<Vec<RoutingRuleRow>> {
    native!(conn, c => routing_rules::table
        .filter(routing_rules::category.eq(category))
        .select(RoutingRuleRow::as_select())
        .order(routing_rules::id.asc())
        .load(c))
}

pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::delete(routing_rules::table.find(id)).execute(conn)
}
