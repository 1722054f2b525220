//! A county list imported from a spreadsheet: every row checked (in the file, then against the
//! database), then all of it written in one transaction — or nothing, when any row is bad. A
//! row whose key (a department or project code, a username) exists updates it; one that
//! matches what is stored changes nothing, so importing the same file twice changes nothing.
//! A dry run checks everything and writes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::auth::password::HashingPool;
use crate::db::{self, Db, DbConn, departments, milestones, projects, users};
use crate::domain::issue::{MilestoneStatus, Stage};
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode, FieldError};
use crate::import::records::{
    self, DepartmentRecord, Kind, Layout, MILESTONE_WORDS, ProjectRecord, UserRecord,
};
use crate::import::sheet;
use crate::workflow::users::Edit;

/// What an import did (or, dry, would do).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub kind: Kind,
    pub dry_run: bool,
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Headers the file has that no column of this kind answers to.
    pub ignored_columns: Vec<String>,
    /// The passwords made for new users whose row gave none: shown once, never stored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub generated_passwords: Vec<GeneratedPassword>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GeneratedPassword {
    pub row: usize,
    pub username: String,
    pub password: String,
}

#[derive(Debug, Default, Clone)]
struct Counts {
    created: usize,
    updated: usize,
    unchanged: usize,
    /// The rows that made something new.
    created_rows: std::collections::HashSet<usize>,
}

impl Counts {
    fn count(&mut self, row: usize, change: Change) {
        match change {
            Change::Created => {
                self.created += 1;
                self.created_rows.insert(row);
            }
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Created,
    Updated,
    Unchanged,
}

/// Whether a pass only looks (a check, a dry run) or writes; writing users needs the hash of
/// each new user's password, by row.
enum Pass<'a> {
    Check,
    Write(&'a HashMap<usize, String>),
}

impl Pass<'_> {
    fn writes(&self) -> bool {
        matches!(self, Pass::Write(_))
    }
}

/// The rows of a file, read into records.
enum Records {
    Departments(Vec<DepartmentRecord>),
    Users(Vec<UserRecord>),
    Projects(Vec<ProjectRecord>),
}

fn rejected(errors: Vec<FieldError>) -> AppError {
    let mut e = AppError::new(ErrorCode::ImportRejected);
    e.errors = errors;
    e
}

/// Imports `bytes` (CSV or XLSX) as `kind`.
pub async fn import(
    db: &Db,
    hashing: &HashingPool,
    kind: Kind,
    bytes: Vec<u8>,
    dry_run: bool,
) -> Result<Report, AppError> {
    let (records, ignored, rows) = tokio::task::spawn_blocking(move || read(kind, &bytes))
        .await
        .map_err(AppError::internal)??;
    let records = Arc::new(records);
    let checked = {
        let records = records.clone();
        db.read(move |c| apply(c, &records, &Pass::Check)).await?
    };
    let mut report = Report {
        kind,
        dry_run,
        rows,
        created: checked.created,
        updated: checked.updated,
        unchanged: checked.unchanged,
        ignored_columns: ignored,
        generated_passwords: Vec::new(),
    };
    if dry_run {
        return Ok(report);
    }
    let (hashes, generated) = hash_new_passwords(hashing, &records, &checked.created_rows).await?;
    let written = db
        .write(move |c| apply(c, &records, &Pass::Write(&hashes)))
        .await?;
    report.created = written.created;
    report.updated = written.updated;
    report.unchanged = written.unchanged;
    // Only for the users this import made (another may have made some meanwhile).
    report.generated_passwords = generated
        .into_iter()
        .filter(|g| written.created_rows.contains(&g.row))
        .collect();
    Ok(report)
}

/// The file read and each row checked on its own.
fn read(kind: Kind, bytes: &[u8]) -> Result<(Records, Vec<String>, usize), AppError> {
    let sheet = sheet::read(bytes)?;
    let layout = Layout::of(kind, &sheet).map_err(rejected)?;
    let records = match kind {
        Kind::Departments => {
            Records::Departments(records::departments(&sheet, &layout).map_err(rejected)?)
        }
        Kind::Users => Records::Users(records::users(&sheet, &layout).map_err(rejected)?),
        Kind::Projects => Records::Projects(records::projects(&sheet, &layout).map_err(rejected)?),
    };
    Ok((records, layout.ignored, sheet.rows.len()))
}

/// The hashes of the passwords of the users the check found new (`creating`, by row; made up
/// where the row has none), hashed on the hashing pool a batch at a time.
async fn hash_new_passwords(
    hashing: &HashingPool,
    records: &Arc<Records>,
    creating: &std::collections::HashSet<usize>,
) -> Result<(HashMap<usize, String>, Vec<GeneratedPassword>), AppError> {
    let Records::Users(users) = records.as_ref() else {
        return Ok((HashMap::new(), Vec::new()));
    };
    let mut passwords = Vec::new();
    let mut generated = Vec::new();
    for u in users.iter().filter(|u| creating.contains(&u.row)) {
        let password = match &u.password {
            Some(p) => p.clone(),
            None => {
                let p = crate::secret::random_token(12);
                generated.push(GeneratedPassword {
                    row: u.row,
                    username: u.username.clone(),
                    password: p.clone(),
                });
                p
            }
        };
        passwords.push((u.row, password));
    }
    let mut hashes = HashMap::new();
    for batch in passwords.chunks(32) {
        let hashed =
            futures_util::future::join_all(batch.iter().map(|(_, p)| hashing.hash(p.clone())))
                .await;
        for ((row, _), hash) in batch.iter().zip(hashed) {
            hashes.insert(*row, hash?);
        }
    }
    Ok((hashes, generated))
}

/// Every row checked against the database and, in a writing pass, applied; any bad row
/// rejects the whole file.
fn apply(c: &mut DbConn, records: &Records, pass: &Pass<'_>) -> Result<Counts, AppError> {
    let mut counts = Counts::default();
    let mut errors = Vec::new();
    let now = db::now();
    match records {
        Records::Departments(rows) => {
            for r in rows {
                match department(c, r, pass, now) {
                    Ok(change) => counts.count(r.row, change),
                    Err(e) => stop_or_collect(pass, &mut errors, e, r.row)?,
                }
            }
        }
        Records::Users(rows) => {
            let codes = department_codes(c)?;
            for r in rows {
                match user(c, r, &codes, pass, now) {
                    Ok(change) => counts.count(r.row, change),
                    Err(e) => stop_or_collect(pass, &mut errors, e, r.row)?,
                }
            }
        }
        Records::Projects(rows) => {
            let codes = department_codes(c)?;
            for r in rows {
                match project(c, r, &codes, pass, now) {
                    Ok(change) => counts.count(r.row, change),
                    Err(e) => stop_or_collect(pass, &mut errors, e, r.row)?,
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(counts)
    } else {
        Err(rejected(errors))
    }
}

/// A checking pass collects every row's errors; a writing pass stops at the first (after a
/// failed statement, PostgreSQL refuses the rest of the transaction anyway).
fn stop_or_collect(
    pass: &Pass<'_>,
    errors: &mut Vec<FieldError>,
    e: AppError,
    row: usize,
) -> Result<(), AppError> {
    let found = row_errors(e, row)?;
    if pass.writes() {
        return Err(rejected(found));
    }
    errors.extend(found);
    Ok(())
}

/// A row's failure as field errors in that row; a failure that is not the row's fault (the
/// database) stops the import as it is.
fn row_errors(e: AppError, row: usize) -> Result<Vec<FieldError>, AppError> {
    let in_row = |f: FieldError| f.at_row(row);
    Ok(match e.code {
        ErrorCode::ValidationFailed | ErrorCode::ImportRejected => {
            e.errors.into_iter().map(in_row).collect()
        }
        ErrorCode::LastAdmin => vec![in_row(FieldError::new(
            "role",
            "last_admin",
            "the last active admin cannot be demoted",
        ))],
        ErrorCode::Conflict | ErrorCode::PreconditionFailed | ErrorCode::UsernameTaken => {
            vec![in_row(FieldError::new(
                "row",
                "changed",
                "changed by someone else during the import; run it again",
            ))]
        }
        _ => return Err(e),
    })
}

fn department_codes(c: &mut DbConn) -> Result<HashMap<String, i64>, AppError> {
    Ok(departments::codes(c)?.into_iter().collect())
}

fn resolve_department(
    codes: &HashMap<String, i64>,
    field: &str,
    code: &str,
) -> Result<i64, AppError> {
    codes.get(code).copied().ok_or_else(|| {
        AppError::field(
            field,
            "unknown",
            format!("no department has the code `{code}`"),
        )
    })
}

fn department(
    c: &mut DbConn,
    r: &DepartmentRecord,
    pass: &Pass<'_>,
    now: chrono::NaiveDateTime,
) -> Result<Change, AppError> {
    let Some(current) = departments::find_by_code(c, &r.code)? else {
        if pass.writes() {
            departments::insert(
                c,
                &departments::NewDepartment {
                    code: &r.code,
                    name: &r.name,
                    webhook_url: None,
                    webhook_secret: None,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
            )?;
        }
        return Ok(Change::Created);
    };
    if current.name == r.name {
        return Ok(Change::Unchanged);
    }
    if pass.writes() {
        let changes = departments::DepartmentChanges {
            name: Some(r.name.clone()),
            ..Default::default()
        };
        if departments::update_if_version(c, current.id, current.version, &changes, now)? == 0 {
            return Err(AppError::new(ErrorCode::Conflict));
        }
    }
    Ok(Change::Updated)
}

fn user(
    c: &mut DbConn,
    r: &UserRecord,
    codes: &HashMap<String, i64>,
    pass: &Pass<'_>,
    now: chrono::NaiveDateTime,
) -> Result<Change, AppError> {
    let department_id = r
        .department_code
        .as_deref()
        .map(|code| resolve_department(codes, "department_code", code))
        .transpose()?;
    let Some(current) = users::find_by_username(c, &r.username)? else {
        if let Pass::Write(hashes) = pass {
            let hash = hashes
                .get(&r.row)
                .ok_or_else(|| AppError::new(ErrorCode::Conflict))?;
            users::insert(
                c,
                &users::NewUser {
                    username: &r.username,
                    password_hash: hash,
                    display_name: &r.display_name,
                    role: r.role.as_str(),
                    department_id,
                    email: r.email.as_ref().and_then(|e| e.as_deref()),
                    locale: "zh-CN",
                    active: true,
                    version: 1,
                    password_changed_at: now,
                    created_at: now,
                    updated_at: now,
                },
            )?;
        }
        return Ok(Change::Created);
    };
    let mut changes = users::UserChanges::default();
    if current.display_name != r.display_name {
        changes.display_name = Some(r.display_name.clone());
    }
    if let Some(email) = &r.email
        && current.email != *email
    {
        changes.email = Some(email.clone());
    }
    let new_role = (current.role != r.role.as_str()).then_some(r.role);
    let new_department = (current.department_id != department_id).then_some(department_id);
    let same = new_role.is_none()
        && new_department.is_none()
        && changes.display_name.is_none()
        && changes.email.is_none();
    if same {
        return Ok(Change::Unchanged);
    }
    if pass.writes() {
        let edit = Edit {
            role: new_role.or(new_department.map(|_| r.role)),
            department_id: new_department.or(new_role.map(|_| department_id)),
            active: None,
            changes,
        };
        crate::workflow::users::update(c, current.id, edit, None, now)?;
    }
    Ok(Change::Updated)
}

fn project(
    c: &mut DbConn,
    r: &ProjectRecord,
    codes: &HashMap<String, i64>,
    pass: &Pass<'_>,
    now: chrono::NaiveDateTime,
) -> Result<Change, AppError> {
    let mut errors = Vec::new();
    let lead = match &r.lead_department_code {
        Some(Some(code)) => match resolve_department(codes, "lead_department_code", code) {
            Ok(id) => Some(Some(id)),
            Err(e) => {
                errors.extend(e.errors);
                None
            }
        },
        Some(None) => Some(None),
        None => None,
    };
    let observers = match &r.observers {
        Some(names) => {
            let mut ids = Vec::new();
            for name in names {
                match users::find_by_username(c, name)? {
                    Some(u) if u.active && u.role == Role::Observer.as_str() => ids.push(u.id),
                    _ => errors.push(FieldError::new(
                        "observers",
                        "unknown",
                        format!("`{name}` is not an active observer"),
                    )),
                }
            }
            ids.sort_unstable();
            Some(ids)
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let Some(current) = projects::find_by_code(c, &r.code)? else {
        if pass.writes() {
            let row = projects::insert(
                c,
                &projects::NewProject {
                    code: r.code.clone(),
                    name: r.name.clone(),
                    lead_department_id: lead.flatten(),
                    park: r.park.clone().flatten(),
                    chain_group: r.chain_group.clone().flatten(),
                    investment_wan: r.investment_wan.flatten(),
                    enterprise: r.enterprise.clone().flatten(),
                    contact_person: r.contact_person.clone().flatten(),
                    contact_phone: r.contact_phone.clone().flatten(),
                    agent: r.agent.clone().flatten(),
                    stage: r.stage.unwrap_or(Stage::Signed).as_str().to_string(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            projects::set_observers(c, row.id, observers.as_deref().unwrap_or_default())?;
            project_milestones(c, row.id, r, now)?;
        }
        return Ok(Change::Created);
    };
    // Only what differs is changed, so that an equal row leaves the version alone.
    fn differs<T: PartialEq + Clone>(new: &Option<T>, old: &T) -> Option<T> {
        new.as_ref().filter(|n| *n != old).cloned()
    }
    let changes = projects::ProjectChanges {
        code: None,
        name: differs(&Some(r.name.clone()), &current.name),
        lead_department_id: differs(&lead, &current.lead_department_id),
        park: differs(&r.park, &current.park),
        chain_group: differs(&r.chain_group, &current.chain_group),
        investment_wan: differs(&r.investment_wan, &current.investment_wan),
        enterprise: differs(&r.enterprise, &current.enterprise),
        contact_person: differs(&r.contact_person, &current.contact_person),
        contact_phone: differs(&r.contact_phone, &current.contact_phone),
        agent: differs(&r.agent, &current.agent),
        stage: differs(&r.stage.map(|s| s.as_str().to_string()), &current.stage),
    };
    let fields_changed = changes.name.is_some()
        || changes.lead_department_id.is_some()
        || changes.park.is_some()
        || changes.chain_group.is_some()
        || changes.investment_wan.is_some()
        || changes.enterprise.is_some()
        || changes.contact_person.is_some()
        || changes.contact_phone.is_some()
        || changes.agent.is_some()
        || changes.stage.is_some();
    let before = projects::observers(c, current.id)?;
    let new_observers = observers.filter(|ids| *ids != before);
    let milestones_change = milestone_changes(c, current.id, r)?;
    if !fields_changed && new_observers.is_none() && milestones_change.is_empty() {
        return Ok(Change::Unchanged);
    }
    if pass.writes() {
        if fields_changed {
            if projects::update_if_version(c, current.id, current.version, &changes, now)? == 0 {
                return Err(AppError::new(ErrorCode::Conflict));
            }
        } else {
            projects::touch(c, current.id, now)?;
        }
        if let Some(ids) = &new_observers {
            projects::set_observers(c, current.id, ids)?;
            // Delta sync: their issues enter or leave these observers' view.
            for u in before.iter().filter(|u| !ids.contains(u)) {
                db::visibility::record_following(c, current.id, *u, false, now)?;
            }
            for u in ids.iter().filter(|u| !before.contains(u)) {
                db::visibility::record_following(c, current.id, *u, true, now)?;
            }
        }
        project_milestones(c, current.id, r, now)?;
    }
    Ok(Change::Updated)
}

/// The milestones of a row a project does not have yet, or whose planned date differs.
fn milestone_changes(
    c: &mut DbConn,
    project_id: i64,
    r: &ProjectRecord,
) -> Result<Vec<MilestoneChange>, AppError> {
    let Some(listed) = &r.milestones else {
        return Ok(Vec::new());
    };
    let existing = milestones::for_project(c, project_id)?;
    let mut out = Vec::new();
    for (kind, date) in listed {
        match existing.iter().find(|m| m.kind == kind.as_str()) {
            None => out.push(MilestoneChange::Create(*kind, *date)),
            Some(m) if date.is_some() && m.planned_date != *date => {
                out.push(MilestoneChange::Replan(m.id, m.version, *date))
            }
            Some(_) => {}
        }
    }
    Ok(out)
}

enum MilestoneChange {
    Create(
        crate::domain::issue::MilestoneKind,
        Option<chrono::NaiveDate>,
    ),
    Replan(i64, i64, Option<chrono::NaiveDate>),
}

/// Adds the milestones a row lists and the project lacks, and moves planned dates; a
/// milestone the row does not list is kept (issues may refer to it).
fn project_milestones(
    c: &mut DbConn,
    project_id: i64,
    r: &ProjectRecord,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    for change in milestone_changes(c, project_id, r)? {
        match change {
            MilestoneChange::Create(kind, planned_date) => {
                let title = MILESTONE_WORDS
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map_or(kind.as_str(), |(_, w)| w)
                    .to_string();
                milestones::insert(
                    c,
                    &milestones::NewMilestone {
                        project_id,
                        kind: kind.as_str().to_string(),
                        title,
                        responsible_department_id: None,
                        planned_date,
                        actual_date: None,
                        status: MilestoneStatus::Planned.as_str().to_string(),
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
            }
            MilestoneChange::Replan(id, version, planned_date) => {
                let changes = milestones::MilestoneChanges {
                    planned_date: Some(planned_date),
                    ..Default::default()
                };
                if milestones::update_if_version(c, id, version, &changes, now)? == 0 {
                    return Err(AppError::new(ErrorCode::Conflict));
                }
            }
        }
    }
    Ok(())
}
