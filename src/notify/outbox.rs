//! Writes notifications in the caller's transaction (a transactional outbox): a change
//! that commits has its notifications, one that rolls back has none. Texts are rendered in
//! each recipient's language.

use chrono::{FixedOffset, NaiveDateTime};
use serde_json::json;

use crate::db::issues::IssueRow;
use crate::db::notifications::{self, NewNotification};
use crate::db::users::UserRow;
use crate::db::{DbConn, now};
use crate::domain::delivery::Channel;
use crate::domain::issue::Status;
use crate::domain::lifecycle::Action;
use crate::error::AppError;
use crate::text::Lang;

/// What someone is told about.
#[derive(Debug, Clone, Copy)]
pub enum Notice<'a> {
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
    /// To the reporter: their issue moved to another status.
    StatusChanged {
        to: Status,
        comment: Option<&'a str>,
    },
    /// To the reporter: a public comment by someone else.
    Commented { comment: &'a str },
    /// To a department: an issue reached it.
    Assigned,
    /// To the department: the observer reopened it.
    Reopened { comment: Option<&'a str> },
    /// To the department: the observer answered or wrote.
    ObserverReplied { comment: Option<&'a str> },
    /// To heads and supervisors: a department sent it back.
    Returned { comment: Option<&'a str> },
    /// To heads and supervisors: a supervisor escalated it (督办).
    Escalated { level: i32 },
    /// To the department: a supervisor chased it (催办).
    Chased { comment: Option<&'a str> },
    /// To the supervisors: an issue no rule or owner could route.
    Unrouted,
    /// To the supervisors: an observer reported an inspection no filing matches.
    UnfiledInspection,
}

impl Notice<'_> {
    pub fn kind(self) -> &'static str {
        match self {
            Notice::SlaWarning { .. } => "sla_warning",
            Notice::SlaBreach { .. } => "sla_breach",
            Notice::SlaEscalation { .. } => "sla_escalation",
            Notice::StatusChanged { .. } => "status_changed",
            Notice::Commented { .. } => "comment",
            Notice::Assigned => "assigned",
            Notice::Reopened { .. } => "reopened",
            Notice::ObserverReplied { .. } => "observer_replied",
            Notice::Returned { .. } => "returned",
            Notice::Escalated { .. } => "escalated",
            Notice::Chased { .. } => "chased",
            Notice::Unrouted => "unrouted",
            Notice::UnfiledInspection => "unfiled_inspection",
        }
    }
}

fn status_name(status: Status, lang: Lang) -> &'static str {
    match (status, lang) {
        (Status::Submitted, Lang::Zh) => "已提交",
        (Status::Unassigned, Lang::Zh) => "待派单",
        (Status::Assigned, Lang::Zh) => "已派单",
        (Status::InProgress, Lang::Zh) => "办理中",
        (Status::AwaitingInfo, Lang::Zh) => "待补充材料",
        (Status::Resolved, Lang::Zh) => "已办结待确认",
        (Status::Closed, Lang::Zh) => "已关闭",
        (Status::Withdrawn, Lang::Zh) => "已撤回",
        (Status::AwaitingInfo, Lang::En) => "awaiting information",
        (Status::InProgress, Lang::En) => "in progress",
        (other, Lang::En) => other.as_str(),
    }
}

fn with_comment(text: String, comment: Option<&str>, lang: Lang) -> String {
    match (comment, lang) {
        (Some(c), Lang::Zh) => format!("{text}\n意见：{c}"),
        (Some(c), Lang::En) => format!("{text}\nComment: {c}"),
        (None, _) => text,
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

/// The title and body of a notice in a language. Long on purpose: one arm per notice and
/// language, a table of texts that reads best in one place.
pub fn render(notice: Notice<'_>, issue: &IssueRow, lang: Lang) -> (String, String) {
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
        (Notice::StatusChanged { to, comment }, Lang::Zh) => (
            format!("您反映的问题 {n} {}", status_name(to, lang)),
            with_comment(
                format!("「{t}」当前状态：{}。", status_name(to, lang)),
                comment,
                lang,
            ),
        ),
        (Notice::StatusChanged { to, comment }, Lang::En) => (
            format!("Your issue {n} is {}", status_name(to, lang)),
            with_comment(
                format!("\"{t}\" is now {}.", status_name(to, lang)),
                comment,
                lang,
            ),
        ),
        (Notice::Commented { comment }, Lang::Zh) => {
            (format!("问题 {n} 有新回复"), format!("「{t}」：{comment}"))
        }
        (Notice::Commented { comment }, Lang::En) => (
            format!("New reply on issue {n}"),
            format!("\"{t}\": {comment}"),
        ),
        (Notice::Assigned, Lang::Zh) => (
            format!("新派单：问题 {n}"),
            format!("「{t}」已派至本单位，请及时受理。"),
        ),
        (Notice::Assigned, Lang::En) => (
            format!("New issue {n} for your department"),
            format!("\"{t}\" is now with your department; please acknowledge it."),
        ),
        (Notice::Reopened { comment }, Lang::Zh) => (
            format!("问题 {n} 被观察员重新打开"),
            with_comment(format!("「{t}」观察员认为尚未解决。"), comment, lang),
        ),
        (Notice::Reopened { comment }, Lang::En) => (
            format!("Issue {n} was reopened"),
            with_comment(
                format!("The observer says \"{t}\" is not solved."),
                comment,
                lang,
            ),
        ),
        (Notice::ObserverReplied { comment }, Lang::Zh) => (
            format!("问题 {n} 观察员已回复"),
            with_comment(format!("「{t}」"), comment, lang),
        ),
        (Notice::ObserverReplied { comment }, Lang::En) => (
            format!("The observer replied on issue {n}"),
            with_comment(format!("\"{t}\""), comment, lang),
        ),
        (Notice::Returned { comment }, Lang::Zh) => (
            format!("退单：问题 {n} 待重新派单"),
            with_comment(format!("「{t}」被责任单位退回。"), comment, lang),
        ),
        (Notice::Returned { comment }, Lang::En) => (
            format!("Returned: issue {n} needs dispatching"),
            with_comment(
                format!("\"{t}\" was sent back by its department."),
                comment,
                lang,
            ),
        ),
        (Notice::Escalated { level }, Lang::Zh) => (
            format!("督办：问题 {n}"),
            format!("「{t}」已被督办，督办等级 {level}。"),
        ),
        (Notice::Escalated { level }, Lang::En) => (
            format!("Escalated by a supervisor: issue {n}"),
            format!("\"{t}\" is under supervision, level {level}."),
        ),
        (Notice::Chased { comment }, Lang::Zh) => (
            format!("催办：问题 {n}"),
            with_comment(format!("「{t}」请加快办理。"), comment, lang),
        ),
        (Notice::Chased { comment }, Lang::En) => (
            format!("Reminder: issue {n}"),
            with_comment(format!("Please speed up \"{t}\"."), comment, lang),
        ),
        (Notice::Unrouted, Lang::Zh) => (
            format!("待派单：问题 {n}"),
            format!("「{t}」未能自动派单，请督查人员派单。"),
        ),
        (Notice::Unrouted, Lang::En) => (
            format!("To dispatch: issue {n}"),
            format!("\"{t}\" could not be routed; please dispatch it."),
        ),
        (Notice::UnfiledInspection, Lang::Zh) => (
            format!("未报备的检查：问题 {n}"),
            format!("观察员反映的检查「{t}」没有对应的报备，请核查。"),
        ),
        (Notice::UnfiledInspection, Lang::En) => (
            format!("Unfiled inspection: issue {n}"),
            format!(
                "An observer reported an inspection no filing matches: \"{t}\". Please look into it."
            ),
        ),
    }
}

/// To the supervisors: an observer reported an inspection that no filing matches.
pub fn unfiled_inspection(c: &mut DbConn, issue: &IssueRow) -> Result<(), AppError> {
    let to = notifications::supervisors(c)?;
    notify(c, &to, Notice::UnfiledInspection, issue)
}

/// To the supervisors: a project unit had more inspections in a period than allowed.
pub fn inspection_alert(
    c: &mut DbConn,
    alert: &crate::db::inspections::AlertRow,
) -> Result<(), AppError> {
    let project = crate::db::projects::find(c, alert.project_id)?
        .map(|p| p.name)
        .unwrap_or_default();
    let at = now();
    let data = json!({
        "alert_id": alert.id, "project_id": alert.project_id, "period": alert.period,
        "period_start": alert.period_start, "inspections": alert.inspections,
        "threshold": alert.threshold,
    })
    .to_string();
    let supervisors = notifications::supervisors(c)?;
    let to: Vec<&UserRow> = supervisors.iter().filter(|u| u.active).collect();
    let texts: Vec<(String, String)> = to
        .iter()
        .map(|user| match Lang::from_locale(&user.locale) {
            Lang::Zh => {
                let period = match alert.period.as_str() {
                    "day" => "当日",
                    "week" => "本周",
                    _ => "本月",
                };
                (
                    format!("检查过频：{project}"),
                    format!(
                        "「{project}」自 {} 起{period}已有 {} 次检查，超过上限 {} 次。",
                        alert.period_start, alert.inspections, alert.threshold
                    ),
                )
            }
            Lang::En => (
                format!("Too many inspections: {project}"),
                format!(
                    "\"{project}\" has had {} inspections in the {} from {}, more than the {} allowed.",
                    alert.inspections, alert.period, alert.period_start, alert.threshold
                ),
            ),
        })
        .collect();
    write_all(c, &to, &texts, None, "inspection_alert", &data, at)
}

/// Tells each recipient (once each, whatever the list repeats).
pub fn notify(
    c: &mut DbConn,
    recipients: &[UserRow],
    notice: Notice,
    issue: &IssueRow,
) -> Result<(), AppError> {
    let at = now();
    let mut told = std::collections::BTreeSet::new();
    let to: Vec<&UserRow> = recipients
        .iter()
        .filter(|u| u.active && told.insert(u.id))
        .collect();
    let data =
        json!({ "issue_id": issue.id, "number": issue.number, "status": issue.status }).to_string();
    let texts: Vec<(String, String)> = to
        .iter()
        .map(|user| render(notice, issue, Lang::from_locale(&user.locale)))
        .collect();
    write_all(c, &to, &texts, Some(issue.id), notice.kind(), &data, at)
}

/// A notification for each of `to` with its (title, body) from `texts`, written together,
/// and an email for each recipient who has an address and wants it.
fn write_all(
    c: &mut DbConn,
    to: &[&UserRow],
    texts: &[(String, String)],
    issue_id: Option<i64>,
    kind: &str,
    data: &str,
    at: NaiveDateTime,
) -> Result<(), AppError> {
    let rows: Vec<NewNotification<'_>> = to
        .iter()
        .zip(texts)
        .map(|(user, (title, body))| NewNotification {
            user_id: user.id,
            issue_id,
            kind,
            title,
            body,
            data,
            created_at: at,
        })
        .collect();
    let ids = notifications::insert_all(c, &rows)?;
    for user in to {
        let Some(email) = user.email.as_deref().filter(|_| user.notify_email) else {
            continue;
        };
        let id = ids
            .iter()
            .find(|(_, u)| *u == user.id)
            .map(|(id, _)| *id)
            .ok_or_else(|| AppError::internal("a notification was not written"))?;
        crate::db::deliveries::enqueue(c, id, Channel::Mail, email, at)?;
    }
    Ok(())
}

/// The department's heads and every supervisor: who hears of breaches and escalations.
pub fn heads_and_supervisors(c: &mut DbConn, issue: &IssueRow) -> Result<Vec<UserRow>, AppError> {
    let mut out = heads_of(c, issue.department_id)?;
    out.extend(notifications::supervisors(c)?);
    Ok(out)
}

fn user(c: &mut DbConn, id: i64) -> Result<Vec<UserRow>, AppError> {
    Ok(crate::db::users::find(c, id)?.into_iter().collect())
}

fn heads_of(c: &mut DbConn, department_id: Option<i64>) -> Result<Vec<UserRow>, AppError> {
    Ok(match department_id {
        Some(d) => notifications::department_users(c, d, &["department_head"])?,
        None => Vec::new(),
    })
}

/// Who hears of a newly filed issue: its department, or the supervisors when unrouted.
pub fn after_filing(c: &mut DbConn, issue: &IssueRow) -> Result<(), AppError> {
    if issue.department_id.is_some() {
        tell_department(c, issue.department_id, Notice::Assigned, issue)
    } else {
        let to = notifications::supervisors(c)?;
        notify(c, &to, Notice::Unrouted, issue)
    }
}

/// Who hears of a step (DESIGN §6). `comment` is `None` when the step's comment is internal,
/// so that it never reaches the observer.
pub fn after_transition(
    c: &mut DbConn,
    before: &IssueRow,
    after: &IssueRow,
    step: &Step<'_>,
) -> Result<(), AppError> {
    // The observer, on every status change they did not make themselves.
    if before.status != after.status && step.actor_id != after.reporter_id {
        let to = user(c, after.reporter_id)?;
        let notice = Notice::StatusChanged {
            to: after.status,
            comment: step.public_comment,
        };
        notify(c, &to, notice, after)?;
    }
    // A department that just received the issue.
    if after.department_id.is_some() && after.department_id != before.department_id {
        tell_department(c, after.department_id, Notice::Assigned, after)?;
    }
    tell_of_step(c, before, after, step)
}

/// A step as the outbox hears of it: which, by whom, and its comment — `public` when the
/// observer may read it, `internal` otherwise.
pub struct Step<'a> {
    pub action: Action,
    pub actor_id: i64,
    pub public_comment: Option<&'a str>,
    pub internal_comment: Option<&'a str>,
}

/// Who hears of the step itself: the department of a reopening, an answer or a chase; the
/// heads and supervisors of a return or an escalation (not the supervisor who escalated).
fn tell_of_step(
    c: &mut DbConn,
    before: &IssueRow,
    after: &IssueRow,
    step: &Step<'_>,
) -> Result<(), AppError> {
    let (public, internal) = (step.public_comment, step.internal_comment);
    let department = after.department_id;
    match step.action {
        Action::Reopen => {
            tell_department(c, department, Notice::Reopened { comment: public }, after)
        }
        Action::ProvideInfo => {
            let notice = Notice::ObserverReplied { comment: public };
            tell_department(c, department, notice, after)
        }
        Action::Chase => {
            tell_department(c, department, Notice::Chased { comment: internal }, after)
        }
        Action::Return => {
            let mut to = heads_of(c, before.department_id)?;
            to.extend(notifications::supervisors(c)?);
            notify(c, &to, Notice::Returned { comment: internal }, after)
        }
        Action::Escalate => {
            let mut to = heads_of(c, department)?;
            let others = notifications::supervisors(c)?
                .into_iter()
                .filter(|u| u.id != step.actor_id);
            to.extend(others);
            notify(
                c,
                &to,
                Notice::Escalated {
                    level: after.escalation_level,
                },
                after,
            )
        }
        _ => Ok(()),
    }
}

/// Who hears of a comment: a public one reaches the observer (unless they wrote it); one
/// the observer wrote reaches the department. Internal comments reach no observer.
pub fn after_comment(
    c: &mut DbConn,
    issue: &IssueRow,
    author_id: i64,
    body: &str,
    internal: bool,
) -> Result<(), AppError> {
    if internal {
        return Ok(());
    }
    if author_id == issue.reporter_id {
        tell_department(
            c,
            issue.department_id,
            Notice::ObserverReplied {
                comment: Some(body),
            },
            issue,
        )
    } else {
        let to = user(c, issue.reporter_id)?;
        notify(c, &to, Notice::Commented { comment: body }, issue)
    }
}

/// Tells a department: its members in the feed (and by email), and its webhook, if it has one.
pub fn tell_department(
    c: &mut DbConn,
    department_id: Option<i64>,
    notice: Notice<'_>,
    issue: &IssueRow,
) -> Result<(), AppError> {
    let Some(id) = department_id else {
        return Ok(());
    };
    let roles = ["department_staff", "department_head"];
    let Some((webhook, to)) = notifications::department_audience(c, id, &roles)? else {
        return Ok(());
    };
    notify(c, &to, notice, issue)?;
    if let Some(url) = webhook {
        let at = now();
        let stamp = |t: Option<NaiveDateTime>| t.as_ref().map(crate::text::rfc3339);
        let payload = json!({
            "event": notice.kind(),
            "at": crate::text::rfc3339(&at),
            "issue": {
                "id": issue.id,
                "number": issue.number,
                "title": issue.title,
                "status": issue.status,
                "category": issue.category,
                "priority": issue.priority,
                "department_id": issue.department_id,
                "ack_due_at": stamp(issue.ack_due_at),
                "resolve_due_at": stamp(issue.resolve_due_at),
            },
        });
        crate::db::deliveries::enqueue_webhook(c, id, &url, &payload.to_string(), at)?;
    }
    Ok(())
}

/// The lines under an email: number, title, status, deadline and a link.
pub fn email_footer(issue: &IssueRow, lang: Lang, public_url: &str) -> String {
    let link = format!(
        "{}/api/v1/issues/{}",
        public_url.trim_end_matches('/'),
        issue.id
    );
    let due = issue
        .resolve_due_at
        .map(local)
        .unwrap_or_else(|| "—".into());
    let status = status_name(issue.status, lang);
    match lang {
        Lang::Zh => format!(
            "问题编号：{}\n标题：{}\n当前状态：{status}\n办结时限：{due}（北京时间）\n查看：{link}",
            issue.number, issue.title
        ),
        Lang::En => format!(
            "Issue: {}\nTitle: {}\nStatus: {status}\nResolve by: {due} (Beijing time)\nOpen: {link}",
            issue.number, issue.title
        ),
    }
}
