//! Writes notifications in the caller's transaction (a transactional outbox): a change
//! that commits has its notifications, one that rolls back has none. Texts are rendered in
//! each recipient's language.

use chrono::{FixedOffset, NaiveDateTime};
use serde_json::json;

use crate::db::issues::IssueRow;
use crate::db::notifications::{self, NewNotification};
use crate::db::users::UserRow;
use crate::db::{DbConn, now};
use crate::error::{ApiError, Lang};

/// What someone is told about.
#[derive(Debug, Clone, Copy)]
pub enum Notice {
    /// The yellow card: a clock is nearly due.
    SlaWarning {
        clock: &'static str,
        due_at: Option<NaiveDateTime>,
    },
    /// The red card: a clock is overdue.
    SlaBreach {
        clock: &'static str,
        due_at: NaiveDateTime,
    },
    /// Another full period overdue.
    SlaEscalation { level: i32 },
}

impl Notice {
    pub fn kind(self) -> &'static str {
        match self {
            Notice::SlaWarning { .. } => "sla_warning",
            Notice::SlaBreach { .. } => "sla_breach",
            Notice::SlaEscalation { .. } => "sla_escalation",
        }
    }
}

/// County time for texts people read.
fn local(t: NaiveDateTime) -> String {
    match FixedOffset::east_opt(8 * 3600) {
        Some(offset) => t
            .and_utc()
            .with_timezone(&offset)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        None => t.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn clock_name(clock: &str, lang: Lang) -> &'static str {
    match (clock, lang) {
        ("acknowledge", Lang::Zh) => "受理",
        ("acknowledge", Lang::En) => "acknowledge",
        (_, Lang::Zh) => "办结",
        (_, Lang::En) => "resolve",
    }
}

/// The title and body of a notice in a language.
pub fn render(notice: Notice, issue: &IssueRow, lang: Lang) -> (String, String) {
    let n = &issue.number;
    let t = &issue.title;
    match (notice, lang) {
        (Notice::SlaWarning { clock, due_at }, Lang::Zh) => (
            format!("黄牌预警：问题 {n} 即将超时"),
            format!(
                "「{t}」{}时限将于 {} 到期，请抓紧办理。",
                clock_name(clock, lang),
                due_at.map(local).unwrap_or_default()
            ),
        ),
        (Notice::SlaWarning { clock, due_at }, Lang::En) => (
            format!("Yellow card: issue {n} is nearly due"),
            format!(
                "\"{t}\": the {} deadline is {} (Beijing time).",
                clock_name(clock, lang),
                due_at.map(local).unwrap_or_default()
            ),
        ),
        (Notice::SlaBreach { clock, due_at }, Lang::Zh) => (
            format!("红牌：问题 {n} 已超时"),
            format!(
                "「{t}」{}时限已于 {} 届满，已标记超时。",
                clock_name(clock, lang),
                local(due_at)
            ),
        ),
        (Notice::SlaBreach { clock, due_at }, Lang::En) => (
            format!("Red card: issue {n} is overdue"),
            format!(
                "\"{t}\": the {} deadline passed at {} (Beijing time).",
                clock_name(clock, lang),
                local(due_at)
            ),
        ),
        (Notice::SlaEscalation { level }, Lang::Zh) => (
            format!("督办升级：问题 {n} 升至 {level} 级"),
            format!("「{t}」超时未办结，督办等级升至 {level} 级。"),
        ),
        (Notice::SlaEscalation { level }, Lang::En) => (
            format!("Escalated: issue {n} is at level {level}"),
            format!("\"{t}\" is still overdue; escalation level {level}."),
        ),
    }
}

/// Tells each recipient (once each, whatever the list repeats).
pub fn notify(
    c: &mut DbConn,
    recipients: &[UserRow],
    notice: Notice,
    issue: &IssueRow,
) -> Result<(), ApiError> {
    let at = now();
    let mut told = std::collections::BTreeSet::new();
    for user in recipients.iter().filter(|u| u.active) {
        if !told.insert(user.id) {
            continue;
        }
        let (title, body) = render(notice, issue, Lang::from_locale(&user.locale));
        let data = json!({ "issue_id": issue.id, "number": issue.number, "status": issue.status })
            .to_string();
        notifications::insert(
            c,
            &NewNotification {
                user_id: user.id,
                issue_id: Some(issue.id),
                kind: notice.kind(),
                title: &title,
                body: &body,
                data: &data,
                created_at: at,
            },
        )?;
    }
    Ok(())
}

/// The department's heads and every supervisor: who hears of breaches and escalations.
pub fn heads_and_supervisors(c: &mut DbConn, issue: &IssueRow) -> Result<Vec<UserRow>, ApiError> {
    let mut out = match issue.department_id {
        Some(d) => notifications::department_users(c, d, &["department_head"])?,
        None => Vec::new(),
    };
    out.extend(notifications::supervisors(c)?);
    Ok(out)
}

/// Everyone in the issue's department: who hears the yellow card.
pub fn department(c: &mut DbConn, issue: &IssueRow) -> Result<Vec<UserRow>, ApiError> {
    Ok(match issue.department_id {
        Some(d) => notifications::department_users(c, d, &["department_staff", "department_head"])?,
        None => Vec::new(),
    })
}
