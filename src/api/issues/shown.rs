//! Issues as the pages of `GET /api/v1/issues` have shown them lately, kept as JSON.
//!
//! A page reads of each issue only its key (id, version, `updated_at`), and the clock marks
//! of the few issues whose view shows them (paused or resolved). An issue's row, and so its
//! facts' JSON, is the same for as long as its key is: every change to an issue moves its
//! version, and a comment moves its `updated_at`. So a page writes the facts it holds for an
//! issue's current key, and reads in full and serializes only the issues it does not hold.
//! What changes with time alone (the SLA clocks) and what lives in other tables (the visit
//! an issue reports) is computed for every answer, as for a single read.
//!
//! The key is read from the database on every page, so another instance's changes show at
//! once, as this instance's own do. The facts are kept once per reader kind (internal,
//! public), and the whole within a byte budget: past it, about a quarter of the issues held
//! are forgotten.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use serde::Serialize;

use super::Reader;
use super::view::{ClockView, IssueFacts, SlaFacts, SlaView, VisitView};
use crate::db::inspections::IssueInspectionRow;
use crate::db::issues::{IssueKey, IssueRow};
use crate::db::sla::ClockMarks;
use crate::db::{self, DbConn};
use crate::domain::calendar::Calendar;
use crate::error::AppError;
use crate::text::Rfc3339;

/// One issue's facts as a page shows them, for one key.
#[derive(Debug)]
pub struct Shown {
    key: IssueKey,
    sla: SlaFacts,
    disturbance: bool,
    /// The facts' JSON fields, without the object's braces: as department users and
    /// supervisors see them, and as observers do.
    internal: Box<[u8]>,
    public: Box<[u8]>,
}

impl Shown {
    fn new(row: IssueRow) -> Result<Shown, AppError> {
        let key = IssueKey::of(&row);
        let sla = SlaFacts::of(&row);
        let disturbance = super::is_disturbance(&row.category);
        let facts = IssueFacts::from(row);
        let internal = fields(&facts)?;
        let public = fields(&facts.for_reader(Reader::Public))?;
        Ok(Shown {
            key,
            sla,
            disturbance,
            internal,
            public,
        })
    }

    /// What holding it costs, about.
    fn size(&self) -> usize {
        std::mem::size_of::<Shown>() + self.internal.len() + self.public.len() + 64
    }
}

/// A JSON object's fields: the object serialized, without its braces.
fn fields(value: &impl Serialize) -> Result<Box<[u8]>, AppError> {
    let json = serde_json::to_vec(value).map_err(AppError::internal)?;
    match json.as_slice() {
        [b'{', inner @ .., b'}'] => Ok(inner.into()),
        _ => Err(AppError::internal("a view that is not a JSON object")),
    }
}

/// An issue of a page: its facts as held and its clock marks as read.
pub type Listed = (Arc<Shown>, Option<ClockMarks>);

/// The issues shown lately, within a byte budget.
pub struct ShownIssues {
    budget: usize,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    issues: HashMap<i64, Arc<Shown>>,
    bytes: usize,
    /// Varies which quarter is forgotten, from one time to the next.
    rounds: u64,
}

impl Default for ShownIssues {
    fn default() -> Self {
        ShownIssues::new(ShownIssues::BUDGET)
    }
}

impl ShownIssues {
    /// The default budget: some 20,000 issues of ordinary length.
    pub const BUDGET: usize = 32 * 1024 * 1024;

    pub fn new(budget: usize) -> ShownIssues {
        ShownIssues {
            budget,
            held: Mutex::new(Held::default()),
        }
    }

    /// Each listed issue's facts for its key, with its clock marks, in the page's order:
    /// those held, and the others read now (in one query) and held from now on; then the
    /// marks of the issues whose view shows them. An issue changed between the queries
    /// shows as read now, as a page read a moment later would show it, and is held under
    /// its new key.
    pub fn page(&self, c: &mut DbConn, keys: Vec<IssueKey>) -> Result<Vec<Listed>, AppError> {
        let mut found: Vec<Option<Arc<Shown>>> = match self.held.lock() {
            Ok(held) => keys
                .iter()
                .map(|key| held.issues.get(&key.id).filter(|s| s.key == *key).cloned())
                .collect(),
            Err(_) => vec![None; keys.len()],
        };
        let missing: Vec<i64> = keys
            .iter()
            .zip(&found)
            .filter(|(_, s)| s.is_none())
            .map(|(key, _)| key.id)
            .collect();
        if !missing.is_empty() {
            let mut read: Vec<Arc<Shown>> = db::issues::by_ids(c, &missing)?
                .into_iter()
                .map(|row| Shown::new(row).map(Arc::new))
                .collect::<Result<_, _>>()?;
            self.keep(&read);
            read.sort_unstable_by_key(|s| s.key.id);
            for (key, slot) in keys.iter().zip(found.iter_mut()) {
                if slot.is_none()
                    && let Ok(at) = read.binary_search_by_key(&key.id, |s| s.key.id)
                {
                    *slot = read.get(at).cloned();
                }
            }
        }
        // An issue whose row is gone (issues are never deleted) is left out.
        let shown: Vec<Arc<Shown>> = found.into_iter().flatten().collect();
        let marked: Vec<i64> = shown
            .iter()
            .filter(|s| s.sla.shows_marks())
            .map(|s| s.key.id)
            .collect();
        let marks = if marked.is_empty() {
            Vec::new()
        } else {
            db::sla::marks_of(c, &marked)?
        };
        Ok(shown
            .into_iter()
            .map(|s| {
                let clock = marks
                    .iter()
                    .find(|(id, _)| *id == s.key.id)
                    .map(|(_, m)| *m);
                (s, clock)
            })
            .collect())
    }

    fn keep(&self, read: &[Arc<Shown>]) {
        let Ok(mut held) = self.held.lock() else {
            return;
        };
        for shown in read {
            let size = shown.size();
            if size > self.budget / 4 {
                continue;
            }
            if let Some(old) = held.issues.remove(&shown.key.id) {
                held.bytes -= old.size();
            }
            if held.bytes + size > self.budget {
                held.forget_a_quarter();
            }
            held.bytes += size;
            held.issues.insert(shown.key.id, shown.clone());
        }
    }

    /// How many issues and bytes are held.
    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        self.held
            .lock()
            .map(|h| (h.issues.len(), h.bytes))
            .unwrap_or((0, 0))
    }
}

impl Held {
    fn forget_a_quarter(&mut self) {
        self.rounds = self.rounds.wrapping_add(1);
        let round = self.rounds;
        let mut freed = 0;
        self.issues.retain(|id, shown| {
            // A multiplicative hash of the id and the round: a different quarter each time.
            let h = (*id as u64 ^ round).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 62;
            let keep = h != 0;
            if !keep {
                freed += shown.size();
            }
            keep
        });
        self.bytes -= freed;
    }
}

/// What follows a page's items: its cursors and, on the first page of a sync, what left the
/// caller's view.
#[derive(Debug, Serialize)]
pub struct PageTail {
    pub next_cursor: Option<String>,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub next_updated_since: NaiveDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_ids: Option<Vec<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resync: Option<bool>,
}

/// Writes a page of issues as JSON, the bytes serde writes for the page of `IssueView`s
/// (`{"items":[…],"next_cursor":…,…}`): each issue's facts as held, its clocks at `now` on
/// `cal`, and the visit it reports.
pub(crate) fn write_page(
    out: &mut Vec<u8>,
    items: &[Listed],
    reader: Reader,
    cal: &Calendar,
    now: NaiveDateTime,
    visits: &[IssueInspectionRow],
    tail: &PageTail,
) -> Result<(), AppError> {
    out.extend_from_slice(b"{\"items\":[");
    let mut counted = cal.from_instant(now);
    for (n, (shown, clock)) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        let visit = if shown.disturbance {
            visits.iter().find(|v| v.issue_id == shown.key.id)
        } else {
            None
        };
        let sla = SlaView::new(&shown.sla, clock.as_ref(), &mut counted);
        write_item(
            out,
            shown,
            reader,
            &sla,
            visit.map(VisitView::from).as_ref(),
        )?;
    }
    out.extend_from_slice(b"],");
    out.extend_from_slice(&fields(tail)?);
    out.push(b'}');
    Ok(())
}

/// One issue: `{` the facts `,"sla":` the clocks `,` the visit's fields `}`, in the order of
/// `IssueView`'s fields.
fn write_item(
    out: &mut Vec<u8>,
    shown: &Shown,
    reader: Reader,
    sla: &SlaView,
    visit: Option<&VisitView>,
) -> Result<(), AppError> {
    out.push(b'{');
    out.extend_from_slice(match reader {
        Reader::Internal => &shown.internal,
        Reader::Public => &shown.public,
    });
    out.extend_from_slice(b",\"sla\":");
    write_sla(out, sla);
    if let Some(visit) = visit {
        out.push(b',');
        out.extend_from_slice(&fields(visit)?);
    }
    out.push(b'}');
    Ok(())
}

/// The clocks: the bytes serde writes for `SlaView`, written directly (a page writes a
/// hundred clocks; their keys are constants, and their values need no escaping).
fn write_sla(out: &mut Vec<u8>, sla: &SlaView) {
    out.extend_from_slice(b"{\"acknowledge\":");
    write_clock(out, sla.acknowledge.as_ref());
    out.extend_from_slice(b",\"resolve\":");
    write_clock(out, sla.resolve.as_ref());
    out.extend_from_slice(b",\"auto_close_at\":");
    match &sla.auto_close_at {
        Some(t) => write_time(out, t),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

fn write_clock(out: &mut Vec<u8>, clock: Option<&ClockView>) {
    let Some(clock) = clock else {
        out.extend_from_slice(b"null");
        return;
    };
    out.extend_from_slice(b"{\"due_at\":");
    write_time(out, &clock.due_at);
    // One of four fixed words.
    out.extend_from_slice(b",\"state\":\"");
    out.extend_from_slice(clock.state.as_bytes());
    out.extend_from_slice(b"\",\"remaining_seconds\":");
    match clock.remaining_seconds {
        // Writing to a `Vec` cannot fail.
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

/// A timestamp as `api::time` writes it: RFC 3339 digits and separators, nothing to escape.
fn write_time(out: &mut Vec<u8>, t: &NaiveDateTime) {
    out.push(b'"');
    out.extend_from_slice(Rfc3339::of(t).as_str().as_bytes());
    out.push(b'"');
}

/// The visits reported by the issues of a page that report one.
pub fn visits(c: &mut DbConn, items: &[Listed]) -> Result<Vec<IssueInspectionRow>, AppError> {
    super::visits_of(c, items.iter().map(|(s, _)| (s.key.id, s.disturbance)))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDate};

    use super::*;
    use crate::api::issues::view::IssueView;
    use crate::api::pagination::{Page, SyncPage};
    use crate::domain::issue::Status;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    fn row(id: i64, status: Status, category: &str, title: &str) -> IssueRow {
        let filed = at("2026-12-01 02:00:00.123456");
        let done = matches!(status, Status::Resolved | Status::Closed);
        IssueRow {
            id,
            number: format!("2026-{id:06}"),
            project_id: 3,
            milestone_id: (id % 2 == 0).then_some(7),
            reporter_id: 11,
            category: category.into(),
            priority: "urgent".into(),
            title: title.into(),
            description: "第一行\n第二行 \"引号\" \\ 反斜杠 \u{1} 控制符".into(),
            lat: (id % 3 == 0).then_some(30.25),
            lng: (id % 3 == 0).then_some(120.5),
            private: id % 2 == 1,
            status,
            department_id: Some(2),
            assignee_id: None,
            ack_due_at: Some(filed + Duration::hours(30)),
            resolve_due_at: Some(filed + Duration::days(6)),
            acknowledged_at: (status != Status::Assigned).then_some(filed + Duration::hours(2)),
            resolved_at: done.then_some(filed + Duration::days(8)),
            closed_at: None,
            overdue: done,
            escalation_level: (id % 4) as i32,
            rating: None,
            reopen_count: 1,
            extension_requested_minutes: (id % 2 == 0).then_some(600),
            version: 3,
            created_at: filed,
            updated_at: filed + Duration::minutes(id),
        }
    }

    /// The page serde writes for the same issues (the list's answer before it was written
    /// by hand).
    #[derive(Serialize)]
    struct SerdePage {
        #[serde(flatten)]
        page: SyncPage<IssueView>,
        #[serde(skip_serializing_if = "Option::is_none")]
        removed_ids: Option<Vec<i64>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        resync: Option<bool>,
    }

    #[test]
    fn a_page_written_from_held_facts_is_the_page_serde_writes_byte_for_byte() {
        let cal = Calendar::shipped();
        let now = at("2026-12-02 03:04:05.678901");
        let rows = [
            row(1, Status::Assigned, "approval_delay", "审批超时"),
            row(
                2,
                Status::InProgress,
                "inspection_disturbance",
                "检查\"打扰\"</script>",
            ),
            row(3, Status::AwaitingInfo, "other", ""),
            row(4, Status::Resolved, "inspection_disturbance", "无对应备案"),
            row(5, Status::Closed, "fees", "收费"),
            IssueRow {
                resolve_due_at: Some(at("2026-12-01 09:30:00")),
                ..row(6, Status::InProgress, "other", "已超期")
            },
        ];
        let clocks = [
            None,
            Some(ClockMarks {
                resolve_paused_at: None,
                auto_close_at: None,
            }),
            Some(ClockMarks {
                resolve_paused_at: Some(now - Duration::hours(5)),
                auto_close_at: None,
            }),
            Some(ClockMarks {
                resolve_paused_at: None,
                auto_close_at: Some(now + Duration::days(7)),
            }),
            None,
            None,
        ];
        // Issue 2 reports a matched visit; issue 4 reports one no filing matched.
        let visits = [
            IssueInspectionRow {
                issue_id: 2,
                project_id: 3,
                visiting_department_id: Some(5),
                visited_on: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
                inspection_id: Some(9),
                unfiled: false,
            },
            IssueInspectionRow {
                issue_id: 4,
                project_id: 3,
                visiting_department_id: None,
                visited_on: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
                inspection_id: None,
                unfiled: true,
            },
        ];
        let items: Vec<Listed> = rows
            .iter()
            .zip(clocks)
            .map(|(r, c)| (Arc::new(Shown::new(r.clone()).unwrap()), c))
            .collect();
        for reader in [Reader::Internal, Reader::Public] {
            for (cursor, removed, resync) in [
                (Some("NQ".to_string()), None, None),
                (None, Some(vec![8, 9]), Some(false)),
                (None, Some(vec![]), Some(true)),
            ] {
                for n in [0, 1, rows.len()] {
                    let views: Vec<IssueView> = rows[..n]
                        .iter()
                        .zip(clocks)
                        .map(|(r, c)| IssueView {
                            facts: IssueFacts::from(r.clone()).for_reader(reader),
                            sla: SlaView::new(
                                &SlaFacts::of(r),
                                c.as_ref(),
                                &mut cal.from_instant(now),
                            ),
                            visit: visits
                                .iter()
                                .find(|v| v.issue_id == r.id)
                                .map(VisitView::from),
                        })
                        .collect();
                    let expected = serde_json::to_vec(&SerdePage {
                        page: SyncPage::new(
                            Page {
                                items: views,
                                next_cursor: cursor.clone(),
                            },
                            now,
                        ),
                        removed_ids: removed.clone(),
                        resync,
                    })
                    .unwrap();
                    let tail = PageTail {
                        next_cursor: cursor.clone(),
                        next_updated_since: crate::api::pagination::next_updated_since(now),
                        removed_ids: removed.clone(),
                        resync,
                    };
                    let mut written = Vec::new();
                    write_page(&mut written, &items[..n], reader, &cal, now, &visits, &tail)
                        .unwrap();
                    assert_eq!(
                        String::from_utf8_lossy(&written),
                        String::from_utf8_lossy(&expected),
                        "{reader:?}, {n} issues"
                    );
                }
            }
        }
    }

    #[test]
    fn what_is_held_stays_within_its_budget_and_is_replaced_by_a_newer_version() {
        let one = Shown::new(row(1, Status::Assigned, "other", "x"))
            .unwrap()
            .size();
        let shown = ShownIssues::new(one * 40);
        let keep = |id: i64, version: i64| {
            let mut r = row(id, Status::Assigned, "other", "x");
            r.version = version;
            shown.keep(&[Arc::new(Shown::new(r).unwrap())]);
        };
        for id in 0..1000 {
            keep(id, 1);
            let (_, bytes) = shown.held();
            assert!(bytes <= one * 40, "{bytes} bytes after {id}");
        }
        let (issues, _) = shown.held();
        assert!((20..=40).contains(&issues), "{issues} issues held");
        // A newer version replaces the older, and counts once.
        keep(999, 1);
        let (_, before) = shown.held();
        keep(999, 2);
        assert_eq!(shown.held().1, before);
        let held = shown.held.lock().unwrap();
        assert_eq!(held.issues.get(&999).map(|s| s.key.version), Some(2));
        // An issue too big for a quarter of the budget is not held at all.
        drop(held);
        let tiny = ShownIssues::new(one);
        tiny.keep(&[Arc::new(
            Shown::new(row(1, Status::Assigned, "o", "x")).unwrap(),
        )]);
        assert_eq!(tiny.held(), (0, 0));
    }
}
