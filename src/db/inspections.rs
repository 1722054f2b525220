//! The inspection tables: filings and the departments that join them, what an
//! `inspection_disturbance` issue reports of a visit, ratings, alerts and their thresholds.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::among::among;
use super::schema::{
    inspection_alerts, inspection_departments, inspection_limits, inspection_ratings, inspections,
    issue_inspections, issues, project_observers,
};
use super::{DbConn, native};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inspections)]
pub struct InspectionRow {
    pub id: i64,
    pub department_id: i64,
    pub project_id: i64,
    pub planned_on: NaiveDate,
    pub window_from: Option<String>,
    pub window_until: Option<String>,
    pub purpose: String,
    pub basis: String,
    /// A JSON array of names.
    pub inspectors: String,
    pub status: String,
    pub took_place_on: Option<NaiveDate>,
    pub outcome: Option<String>,
    pub filed_by: i64,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = inspections)]
pub struct NewInspection {
    pub department_id: i64,
    pub project_id: i64,
    pub planned_on: NaiveDate,
    pub window_from: Option<String>,
    pub window_until: Option<String>,
    pub purpose: String,
    pub basis: String,
    pub inspectors: String,
    pub status: String,
    pub filed_by: i64,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = inspections)]
pub struct InspectionChanges {
    pub planned_on: Option<NaiveDate>,
    pub window_from: Option<Option<String>>,
    pub window_until: Option<Option<String>>,
    pub purpose: Option<String>,
    pub basis: Option<String>,
    pub inspectors: Option<String>,
    pub status: Option<String>,
    pub took_place_on: Option<Option<NaiveDate>>,
    pub outcome: Option<Option<String>>,
}

pub fn insert(conn: &mut DbConn, new: &NewInspection) -> QueryResult<InspectionRow> {
    diesel::insert_into(inspections::table)
        .values(new)
        .returning(inspections::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<InspectionRow>> {
    inspections::table
        .find(id)
        .select(InspectionRow::as_select())
        .first(conn)
        .optional()
}

/// Compare-and-set; 0 rows means the version moved on.
pub fn update_if_version(
    conn: &mut DbConn,
    id: i64,
    expected_version: i64,
    changes: &InspectionChanges,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        inspections::table
            .filter(inspections::id.eq(id))
            .filter(inspections::version.eq(expected_version)),
    )
    .set((
        changes,
        inspections::version.eq(inspections::version + 1),
        inspections::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Serialises the inspection writes of one project (their counts against the thresholds) on
/// PostgreSQL; SQLite's single writer does so already.
pub fn lock_project(conn: &mut DbConn, project_id: i64) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        // A key space of its own: the project's id in the upper half.
        diesel::sql_query("SELECT pg_advisory_xact_lock(7340032, $1::int4)")
            .bind::<diesel::sql_types::Integer, _>((project_id % i64::from(i32::MAX)) as i32)
            .execute(pg)?;
    }
    Ok(())
}

/// The departments that join an inspection.
pub fn joint(conn: &mut DbConn, id: i64) -> QueryResult<Vec<i64>> {
    inspection_departments::table
        .filter(inspection_departments::inspection_id.eq(id))
        .select(inspection_departments::department_id)
        .order(inspection_departments::department_id.asc())
        .load(conn)
}

/// The joining departments of many inspections, as (inspection, department) pairs.
pub fn joint_of(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<(i64, i64)>> {
    inspection_departments::table
        .filter(inspection_departments::inspection_id.eq_any(ids))
        .select((
            inspection_departments::inspection_id,
            inspection_departments::department_id,
        ))
        .order((
            inspection_departments::inspection_id.asc(),
            inspection_departments::department_id.asc(),
        ))
        .load(conn)
}

pub fn set_joint(conn: &mut DbConn, id: i64, departments: &[i64]) -> QueryResult<()> {
    diesel::delete(
        inspection_departments::table.filter(inspection_departments::inspection_id.eq(id)),
    )
    .execute(conn)?;
    for d in departments {
        diesel::insert_into(inspection_departments::table)
            .values((
                inspection_departments::inspection_id.eq(id),
                inspection_departments::department_id.eq(d),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Who a list is for, which narrows what it holds.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Everything,
    /// A department's own filings and those it joins.
    Department(i64),
    /// The filings on the projects a user follows.
    Follower(i64),
}

#[derive(Debug, Clone, Copy)]
pub struct Filter {
    pub scope: Scope,
    pub project_id: Option<i64>,
    pub department_id: Option<i64>,
    pub status: Option<&'static str>,
    pub planned_from: Option<NaiveDate>,
    pub planned_until: Option<NaiveDate>,
    pub updated_since: Option<NaiveDateTime>,
    pub after_id: Option<i64>,
    pub limit: i64,
}

pub fn list(conn: &mut DbConn, f: &Filter) -> QueryResult<Vec<InspectionRow>> {
    let joined_by = |d: i64| {
        inspection_departments::table
            .filter(inspection_departments::department_id.eq(d))
            .select(inspection_departments::inspection_id)
    };
    let mut q = inspections::table
        .select(InspectionRow::as_select())
        .into_boxed();
    match f.scope {
        Scope::Everything => {}
        Scope::Department(d) => {
            q = q.filter(
                inspections::department_id
                    .eq(d)
                    .or(inspections::id.eq_any(joined_by(d))),
            )
        }
        Scope::Follower(u) => {
            q = q.filter(
                inspections::project_id.eq_any(
                    project_observers::table
                        .filter(project_observers::user_id.eq(u))
                        .select(project_observers::project_id),
                ),
            )
        }
    }
    if let Some(p) = f.project_id {
        q = q.filter(inspections::project_id.eq(p));
    }
    if let Some(d) = f.department_id {
        q = q.filter(
            inspections::department_id
                .eq(d)
                .or(inspections::id.eq_any(joined_by(d))),
        );
    }
    if let Some(s) = f.status {
        q = q.filter(inspections::status.eq(s));
    }
    if let Some(from) = f.planned_from {
        q = q.filter(inspections::planned_on.ge(from));
    }
    if let Some(until) = f.planned_until {
        q = q.filter(inspections::planned_on.le(until));
    }
    if let Some(since) = f.updated_since {
        q = q.filter(inspections::updated_at.ge(since));
    }
    if let Some(after) = f.after_id {
        q = q.filter(inspections::id.gt(after));
    }
    q.order(inspections::id.asc()).limit(f.limit).load(conn)
}

/// The filings of a project planned from `from` to `until` (both days included) that are
/// not cancelled.
pub fn on_project_between(
    conn: &mut DbConn,
    project_id: i64,
    from: NaiveDate,
    until: NaiveDate,
) -> QueryResult<Vec<InspectionRow>> {
    inspections::table
        .filter(inspections::project_id.eq(project_id))
        .filter(inspections::planned_on.ge(from))
        .filter(inspections::planned_on.le(until))
        .filter(inspections::status.ne("cancelled"))
        .select(InspectionRow::as_select())
        .order(inspections::id.asc())
        .load(conn)
}

/// Filings of a project, not cancelled, planned on a day in `[from, until)`: a joint
/// inspection is one filing, so it counts once.
pub fn count_filed(
    conn: &mut DbConn,
    project_id: i64,
    from: NaiveDate,
    until: NaiveDate,
) -> QueryResult<i64> {
    inspections::table
        .filter(inspections::project_id.eq(project_id))
        .filter(inspections::planned_on.ge(from))
        .filter(inspections::planned_on.lt(until))
        .filter(inspections::status.ne("cancelled"))
        .count()
        .get_result(conn)
}

/// The unfiled visits reported on a project with a day in `[from, until)`, by issues not
/// withdrawn: (day, visiting department, issue).
pub fn unfiled_visits(
    conn: &mut DbConn,
    project_id: i64,
    from: NaiveDate,
    until: NaiveDate,
) -> QueryResult<Vec<(NaiveDate, Option<i64>, i64)>> {
    issue_inspections::table
        .inner_join(issues::table)
        .filter(issue_inspections::project_id.eq(project_id))
        .filter(issue_inspections::unfiled.eq(true))
        .filter(issue_inspections::visited_on.ge(from))
        .filter(issue_inspections::visited_on.lt(until))
        .filter(issues::status.ne("withdrawn"))
        .select((
            issue_inspections::visited_on,
            issue_inspections::visiting_department_id,
            issue_inspections::issue_id,
        ))
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = issue_inspections)]
pub struct IssueInspectionRow {
    pub issue_id: i64,
    pub project_id: i64,
    pub visiting_department_id: Option<i64>,
    pub visited_on: NaiveDate,
    pub inspection_id: Option<i64>,
    pub unfiled: bool,
}

pub fn insert_issue_visit(conn: &mut DbConn, row: &IssueInspectionRow) -> QueryResult<()> {
    diesel::insert_into(issue_inspections::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn visits_of(conn: &mut DbConn, issue_ids: &[i64]) -> QueryResult<Vec<IssueInspectionRow>> {
    native!(conn, c => issue_inspections::table
        .filter(among(issue_inspections::issue_id, issue_ids))
        .select(IssueInspectionRow::as_select())
        .load(c))
}

/// A rating; false when this rater has rated the inspection already.
pub fn rate(
    conn: &mut DbConn,
    inspection_id: i64,
    rater_key: &str,
    score: i32,
    comment: Option<&str>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(inspection_ratings::table)
        .values((
            inspection_ratings::inspection_id.eq(inspection_id),
            inspection_ratings::rater_key.eq(rater_key),
            inspection_ratings::score.eq(score),
            inspection_ratings::comment.eq(comment),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if crate::error::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The ratings of inspections, as (inspection, score, comment), in the order of the raters'
/// keys (which says nothing of who or when).
pub fn ratings_of(
    conn: &mut DbConn,
    inspection_ids: &[i64],
) -> QueryResult<Vec<(i64, i32, Option<String>)>> {
    inspection_ratings::table
        .filter(inspection_ratings::inspection_id.eq_any(inspection_ids))
        .select((
            inspection_ratings::inspection_id,
            inspection_ratings::score,
            inspection_ratings::comment,
        ))
        .order((
            inspection_ratings::inspection_id.asc(),
            inspection_ratings::rater_key.asc(),
        ))
        .load(conn)
}

pub fn limits(conn: &mut DbConn) -> QueryResult<(crate::domain::inspection::Limits, i64)> {
    let (per_day, per_week, per_month, version) = inspection_limits::table
        .find(1_i64)
        .select((
            inspection_limits::per_day,
            inspection_limits::per_week,
            inspection_limits::per_month,
            inspection_limits::version,
        ))
        .first::<(i64, i64, i64, i64)>(conn)?;
    Ok((
        crate::domain::inspection::Limits {
            per_day,
            per_week,
            per_month,
        },
        version,
    ))
}

pub fn set_limits(
    conn: &mut DbConn,
    limits: &crate::domain::inspection::Limits,
    expected_version: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut q = diesel::update(inspection_limits::table.filter(inspection_limits::id.eq(1_i64)))
        .into_boxed();
    if let Some(v) = expected_version {
        q = q.filter(inspection_limits::version.eq(v));
    }
    q.set((
        inspection_limits::per_day.eq(limits.per_day),
        inspection_limits::per_week.eq(limits.per_week),
        inspection_limits::per_month.eq(limits.per_month),
        inspection_limits::version.eq(inspection_limits::version + 1),
        inspection_limits::updated_at.eq(now),
    ))
    .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inspection_alerts)]
pub struct AlertRow {
    pub id: i64,
    pub project_id: i64,
    pub period: String,
    pub period_start: NaiveDate,
    pub inspections: i64,
    pub threshold: i64,
    pub created_at: NaiveDateTime,
}

/// Records an alert unless the project's period has one: true when it is new.
pub fn raise_alert(
    conn: &mut DbConn,
    project_id: i64,
    period: &str,
    period_start: NaiveDate,
    count: i64,
    threshold: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<AlertRow>> {
    let exists = diesel::select(diesel::dsl::exists(
        inspection_alerts::table
            .filter(inspection_alerts::project_id.eq(project_id))
            .filter(inspection_alerts::period.eq(period))
            .filter(inspection_alerts::period_start.eq(period_start)),
    ))
    .get_result::<bool>(conn)?;
    if exists {
        return Ok(None);
    }
    diesel::insert_into(inspection_alerts::table)
        .values((
            inspection_alerts::project_id.eq(project_id),
            inspection_alerts::period.eq(period),
            inspection_alerts::period_start.eq(period_start),
            inspection_alerts::inspections.eq(count),
            inspection_alerts::threshold.eq(threshold),
            inspection_alerts::created_at.eq(now),
        ))
        .returning(inspection_alerts::all_columns)
        .get_result(conn)
        .map(Some)
}

pub fn alerts(
    conn: &mut DbConn,
    project_id: Option<i64>,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AlertRow>> {
    let mut q = inspection_alerts::table
        .select(AlertRow::as_select())
        .into_boxed();
    if let Some(p) = project_id {
        q = q.filter(inspection_alerts::project_id.eq(p));
    }
    if let Some(after) = after_id {
        q = q.filter(inspection_alerts::id.gt(after));
    }
    q.order(inspection_alerts::id.asc()).limit(limit).load(conn)
}

/// What the reports of the days `from`..=`to` (stored times `start`..`end`) count: the
/// filings around the period (alerts look a month either side) with their joining departments
/// and scores, the unfiled visits in it, the alerts raised in it.
pub fn report_facts(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<(
    Vec<crate::domain::inspection::FiledFact>,
    Vec<crate::domain::inspection::VisitFact>,
    Vec<crate::domain::inspection::AlertFact>,
)> {
    use crate::domain::inspection::{AlertPeriod, FiledFact};
    let month = chrono::TimeDelta::days(31);
    let rows: Vec<InspectionRow> = inspections::table
        .filter(
            inspections::planned_on
                .between(from - month, to + month)
                .or(inspections::took_place_on.between(from, to)),
        )
        .select(InspectionRow::as_select())
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut joint: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
    let mut scores: std::collections::BTreeMap<i64, Vec<i32>> = Default::default();
    for batch in ids.chunks(500) {
        for (i, d) in joint_of(conn, batch)? {
            joint.entry(i).or_default().push(d);
        }
        for (i, score, _) in ratings_of(conn, batch)? {
            scores.entry(i).or_default().push(score);
        }
    }
    let filings = rows
        .into_iter()
        .map(|r| FiledFact {
            department_id: r.department_id,
            joint_department_ids: joint.remove(&r.id).unwrap_or_default(),
            project_id: r.project_id,
            planned_on: r.planned_on,
            cancelled: r.status == "cancelled",
            took_place_on: r.took_place_on,
            scores: scores.remove(&r.id).unwrap_or_default(),
        })
        .collect();
    let visits = issue_inspections::table
        .inner_join(issues::table)
        .filter(issue_inspections::unfiled.eq(true))
        .filter(issue_inspections::visited_on.between(from, to))
        .filter(issues::status.ne("withdrawn"))
        .select((
            issue_inspections::visited_on,
            issue_inspections::visiting_department_id,
            issue_inspections::issue_id,
        ))
        .load(conn)?;
    let alerts = inspection_alerts::table
        .filter(inspection_alerts::created_at.ge(start))
        .filter(inspection_alerts::created_at.lt(end))
        .select((
            inspection_alerts::project_id,
            inspection_alerts::period,
            inspection_alerts::period_start,
        ))
        .load::<(i64, String, NaiveDate)>(conn)?
        .into_iter()
        .filter_map(|(p, period, s)| AlertPeriod::parse(&period).map(|period| (p, period, s)))
        .collect();
    Ok((filings, visits, alerts))
}
