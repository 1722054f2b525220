//! `column IN (these ids)` as a statement of one shape, whatever the number of ids, so that
//! each connection prepares it once. diesel writes `eq_any` over a list as a bind per id on
//! SQLite, a statement SQLite parses and plans again on every call; here SQLite reads the
//! ids from one JSON array (`IN (SELECT value FROM json_each(?))`) and PostgreSQL from one
//! array (`= ANY(?)`, as diesel's own `eq_any` does there).

use diesel::QueryResult;
use diesel::expression::is_aggregate;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Array, BigInt, Bool, Text};
use diesel::sqlite::Sqlite;

/// `column` is one of `ids`.
pub fn among<C>(column: C, ids: &[i64]) -> Among<C> {
    Among {
        column,
        ids: Ids(ids.to_vec()),
    }
}

#[derive(Debug, Clone, QueryId)]
pub struct Among<C> {
    column: C,
    ids: Ids,
}

/// The ids: bound as an array on PostgreSQL, and on SQLite as the JSON array `json_each`
/// reads, written when the statement is bound.
#[derive(Debug, Clone)]
struct Ids(Vec<i64>);

impl ToSql<Text, Sqlite> for Ids {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        use std::fmt::Write;
        let mut json = String::with_capacity(self.0.len() * 8 + 2);
        json.push('[');
        for (n, id) in self.0.iter().enumerate() {
            if n > 0 {
                json.push(',');
            }
            // Writing to a `String` cannot fail.
            let _ = write!(json, "{id}");
        }
        json.push(']');
        out.set_value(json);
        Ok(IsNull::No)
    }
}

impl<C: Expression<SqlType = BigInt>> Expression for Among<C> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for Among<C> where Among<C>: Expression {}

impl<C: SelectableExpression<QS>, QS> SelectableExpression<QS> for Among<C> where
    Among<C>: AppearsOnTable<QS>
{
}

impl<C> ValidGrouping<()> for Among<C> {
    type IsAggregate = is_aggregate::No;
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for Among<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.ids)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C: QueryFragment<Pg>> QueryFragment<Pg> for Among<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(");
        out.push_bind_param::<Array<BigInt>, _>(&self.ids.0)?;
        out.push_sql(")");
        Ok(())
    }
}
