//! The columns of each kind of county list, in English or Chinese, and each row read into a
//! record whose every field is valid — or the row's errors, each with its row number. Pure:
//! what refers to the database (a department code, an observer) is checked when applied.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::sheet::{Row, Sheet};
use crate::domain::department::parse_code;
use crate::domain::issue::{MilestoneKind, Stage};
use crate::domain::role::Role;
use crate::domain::user::{NewPassword, Username, parse_email, parse_text};
use crate::error::FieldError;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Departments,
    Users,
    Projects,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "departments" => Some(Kind::Departments),
            "users" => Some(Kind::Users),
            "projects" => Some(Kind::Projects),
            _ => None,
        }
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Departments => DEPARTMENT_COLUMNS,
            Kind::Users => USER_COLUMNS,
            Kind::Projects => PROJECT_COLUMNS,
        }
    }
}

/// A column: its key (the English name) and the other names a header may give it.
#[derive(Debug)]
pub struct Column {
    pub key: &'static str,
    pub names: &'static [&'static str],
    pub required: bool,
}

const fn col(key: &'static str, names: &'static [&'static str], required: bool) -> Column {
    Column {
        key,
        names,
        required,
    }
}

pub const DEPARTMENT_COLUMNS: &[Column] = &[
    col("code", &["代码", "单位代码"], true),
    col("name", &["名称", "单位名称"], true),
];

pub const USER_COLUMNS: &[Column] = &[
    col("username", &["用户名", "账号"], true),
    col("display_name", &["姓名"], true),
    col("role", &["角色"], true),
    col("department_code", &["单位代码"], false),
    col("email", &["邮箱", "电子邮箱"], false),
    col("password", &["初始密码", "密码"], false),
];

pub const PROJECT_COLUMNS: &[Column] = &[
    col("code", &["项目代码", "项目编码"], true),
    col("name", &["项目名称"], true),
    col("lead_department_code", &["牵头单位代码"], false),
    col("park", &["园区"], false),
    col("chain_group", &["产业链"], false),
    col("investment_wan", &["投资额(万元)", "投资额"], false),
    col("enterprise", &["企业", "企业名称"], false),
    col("stage", &["阶段"], false),
    col("observers", &["观察员"], false),
    col("contact_person", &["联系人"], false),
    col("contact_phone", &["联系电话"], false),
    col("agent", &["代办员"], false),
    col("milestones", &["节点", "里程碑"], false),
];

/// A header as compared: trimmed, lower-case, full-width brackets made ASCII, no spaces.
fn normalise_header(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c.to_ascii_lowercase(),
        })
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Where each known column is in a file; the columns it does not know are ignored and named.
#[derive(Debug)]
pub struct Layout {
    at: HashMap<&'static str, usize>,
    pub ignored: Vec<String>,
}

impl Layout {
    pub fn of(kind: Kind, sheet: &Sheet) -> Result<Layout, Vec<FieldError>> {
        let columns = kind.columns();
        let mut at = HashMap::new();
        let mut ignored = Vec::new();
        let mut errors = Vec::new();
        for (i, raw) in sheet.header.iter().enumerate() {
            let h = normalise_header(raw);
            if h.is_empty() {
                continue;
            }
            let found = columns
                .iter()
                .find(|c| c.key == h || c.names.iter().any(|n| normalise_header(n) == h));
            match found {
                Some(c) if at.contains_key(c.key) => errors.push(
                    FieldError::new(
                        c.key,
                        "duplicate_column",
                        format!("the column `{raw}` appears twice"),
                    )
                    .at_row(sheet.header_row),
                ),
                Some(c) => {
                    at.insert(c.key, i);
                }
                None => ignored.push(raw.clone()),
            }
        }
        for c in columns.iter().filter(|c| c.required) {
            if !at.contains_key(c.key) {
                errors.push(
                    FieldError::new(
                        c.key,
                        "missing_column",
                        format!("no column `{}` ({})", c.key, c.names.join(" / ")),
                    )
                    .at_row(sheet.header_row),
                );
            }
        }
        if errors.is_empty() {
            Ok(Layout { at, ignored })
        } else {
            Err(errors)
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.at.contains_key(key)
    }

    /// The trimmed cell of column `key`; `None` when the file has no such column.
    fn get<'r>(&self, row: &'r Row, key: &str) -> Option<&'r str> {
        self.at.get(key).map(|i| row.cell(*i))
    }
}

/// Collects a row's errors while its fields are read.
struct RowCheck {
    row: usize,
    errors: Vec<FieldError>,
}

impl RowCheck {
    fn check<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e.at_row(self.row));
                None
            }
        }
    }

    fn fail(&mut self, field: &str, code: &'static str, message: impl Into<String>) {
        self.errors
            .push(FieldError::new(field, code, message).at_row(self.row));
    }
}

/// A required cell.
fn required<'r>(rc: &mut RowCheck, layout: &Layout, row: &'r Row, key: &str) -> Option<&'r str> {
    match layout.get(row, key) {
        Some(v) if !v.is_empty() => Some(v),
        _ => {
            rc.fail(key, "required", "must not be empty");
            None
        }
    }
}

/// An optional cell: `None` when the column is absent (left as it is), `Some(None)` when the
/// cell is empty (cleared).
fn optional(
    rc: &mut RowCheck,
    layout: &Layout,
    row: &Row,
    key: &str,
    max: usize,
) -> Option<Option<String>> {
    let v = layout.get(row, key)?;
    if v.is_empty() {
        return Some(None);
    }
    Some(rc.check(parse_text(key, v, max)))
}

/// Reads every row with `read`, which returns the row's key (for `key_field`, each once in a
/// file) and its record when every field is valid; the records, or every row's errors.
fn each_row<T>(
    sheet: &Sheet,
    key_field: &str,
    mut read: impl FnMut(&mut RowCheck, &Row) -> (Option<String>, Option<T>),
) -> Result<Vec<T>, Vec<FieldError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in &sheet.rows {
        let mut rc = RowCheck {
            row: row.number,
            errors: Vec::new(),
        };
        let (key, record) = read(&mut rc, row);
        if let Some(key) = key {
            if let Some(first) = seen.get(&key) {
                rc.fail(
                    key_field,
                    "duplicate",
                    format!("`{key}` appears again; first in row {first}"),
                );
            } else {
                seen.insert(key, row.number);
            }
        }
        errors.append(&mut rc.errors);
        out.extend(record);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentRecord {
    pub row: usize,
    pub code: String,
    pub name: String,
}

pub fn departments(
    sheet: &Sheet,
    layout: &Layout,
) -> Result<Vec<DepartmentRecord>, Vec<FieldError>> {
    each_row(sheet, "code", |rc, row| {
        let code = required(rc, layout, row, "code").and_then(|v| rc.check(parse_code("code", v)));
        let name =
            required(rc, layout, row, "name").and_then(|v| rc.check(parse_text("name", v, 100)));
        let key = code.clone();
        let record = match (code, name) {
            (Some(code), Some(name)) => Some(DepartmentRecord {
                row: row.number,
                code,
                name,
            }),
            _ => None,
        };
        (key, record)
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub row: usize,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub department_code: Option<String>,
    /// `None`: the file has no email column (an existing user's email is kept).
    pub email: Option<Option<String>>,
    /// Used only for a new user; `None`: one is generated.
    pub password: Option<String>,
}

/// A role by its name or by the word a county office uses for it.
pub fn parse_role(raw: &str) -> Option<Role> {
    let s = raw.trim();
    Role::parse(&s.to_ascii_lowercase()).or(match s {
        "观察员" | "营商环境观察员" => Some(Role::Observer),
        "科员" | "经办人" | "部门经办人" => Some(Role::DepartmentStaff),
        "负责人" | "部门负责人" => Some(Role::DepartmentHead),
        "督查" | "督查人员" => Some(Role::Supervisor),
        "管理员" => Some(Role::Admin),
        _ => None,
    })
}

pub fn users(sheet: &Sheet, layout: &Layout) -> Result<Vec<UserRecord>, Vec<FieldError>> {
    each_row(sheet, "username", |rc, row| {
        let username = required(rc, layout, row, "username")
            .and_then(|v| rc.check(Username::parse("username", v)));
        let display_name = required(rc, layout, row, "display_name")
            .and_then(|v| rc.check(parse_text("display_name", v, 100)));
        let role = required(rc, layout, row, "role").and_then(|v| {
            let role = parse_role(v);
            if role.is_none() {
                rc.fail(
                    "role",
                    "unknown_value",
                    format!("`{v}` is not a role (观察员, 科员, 负责人, 督查, 管理员)"),
                );
            }
            role
        });
        let department_code = match layout.get(row, "department_code") {
            Some(v) if !v.is_empty() => rc.check(parse_code("department_code", v)),
            _ => None,
        };
        if let Some(role) = role {
            match (role.belongs_to_department(), &department_code) {
                (true, None) => rc.fail(
                    "department_code",
                    "required",
                    "department staff and heads belong to a department",
                ),
                (false, Some(_)) => rc.fail(
                    "department_code",
                    "not_allowed",
                    "only department staff and heads belong to a department",
                ),
                _ => {}
            }
        }
        let email = layout.get(row, "email").map(|v| {
            if v.is_empty() {
                None
            } else {
                rc.check(parse_email("email", v))
            }
        });
        let password = match layout.get(row, "password") {
            Some(v) if !v.is_empty() => {
                rc.check(NewPassword::parse("password", v).map(|p| p.expose().to_string()))
            }
            _ => None,
        };
        let key = username.as_ref().map(|u| u.as_str().to_string());
        let record = match (username, display_name, role) {
            (Some(username), Some(display_name), Some(role)) => Some(UserRecord {
                row: row.number,
                username: username.as_str().to_string(),
                display_name,
                role,
                department_code,
                email,
                password,
            }),
            _ => None,
        };
        (key, record)
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRecord {
    pub row: usize,
    pub code: String,
    pub name: String,
    /// For each optional column: `None` when the file has no such column (kept as it is).
    pub lead_department_code: Option<Option<String>>,
    pub park: Option<Option<String>>,
    pub chain_group: Option<Option<String>>,
    pub investment_wan: Option<Option<f64>>,
    pub enterprise: Option<Option<String>>,
    pub contact_person: Option<Option<String>>,
    pub contact_phone: Option<Option<String>>,
    pub agent: Option<Option<String>>,
    /// An empty cell keeps the stage (a new project starts as signed).
    pub stage: Option<Stage>,
    /// Usernames, when the file has the column.
    pub observers: Option<Vec<String>>,
    /// Milestones by kind with their planned date, when the file has the column.
    pub milestones: Option<Vec<(MilestoneKind, Option<NaiveDate>)>>,
}

/// A stage by its name or its Chinese word.
pub fn parse_stage(raw: &str) -> Option<Stage> {
    let s = raw.trim();
    Stage::parse(&s.to_ascii_lowercase()).or(match s {
        "签约" | "已签约" => Some(Stage::Signed),
        "前期" | "前期手续" => Some(Stage::PreConstruction),
        "在建" | "建设中" => Some(Stage::UnderConstruction),
        "投产" | "已投产" => Some(Stage::InProduction),
        _ => None,
    })
}

/// The Chinese word for each milestone kind (as the web app shows it).
pub const MILESTONE_WORDS: &[(MilestoneKind, &str)] = &[
    (MilestoneKind::ProjectApproval, "立项"),
    (MilestoneKind::LandPreReview, "用地预审"),
    (MilestoneKind::PlanningPermit, "规划许可"),
    (MilestoneKind::ConstructionPermit, "施工许可"),
    (MilestoneKind::EnvironmentalAssessment, "环评"),
    (MilestoneKind::EnergyAssessment, "能评"),
    (MilestoneKind::PowerConnection, "接电"),
    (MilestoneKind::WaterConnection, "接水"),
    (MilestoneKind::GasConnection, "接气"),
    (MilestoneKind::CompletionAcceptance, "竣工验收"),
    (MilestoneKind::Other, "其他"),
];

pub fn parse_milestone_kind(raw: &str) -> Option<MilestoneKind> {
    let s = raw.trim();
    MilestoneKind::parse(&s.to_ascii_lowercase()).or_else(|| {
        MILESTONE_WORDS
            .iter()
            .find(|(_, w)| *w == s)
            .map(|(k, _)| *k)
    })
}

/// The items of a list cell, separated by `、`, `;`, `；`, `,` or `，`.
pub fn split_list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(['、', ';', '；', ',', '，'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `施工许可:2026-06-30；接电` — a kind, and a planned date after `:` or `：` when known.
fn parse_milestones(rc: &mut RowCheck, cell: &str) -> Vec<(MilestoneKind, Option<NaiveDate>)> {
    let mut out: Vec<(MilestoneKind, Option<NaiveDate>)> = Vec::new();
    for item in split_list(cell) {
        let (kind, date) = match item.split_once([':', '：']) {
            Some((k, d)) => (k.trim(), Some(d.trim())),
            None => (item, None),
        };
        let Some(kind) = parse_milestone_kind(kind) else {
            rc.fail(
                "milestones",
                "unknown_value",
                format!("`{kind}` is not a milestone kind"),
            );
            continue;
        };
        let date = match date {
            Some(d) => match parse_date(d) {
                Some(d) => Some(d),
                None => {
                    rc.fail(
                        "milestones",
                        "format",
                        format!("`{d}` is not a date (YYYY-MM-DD)"),
                    );
                    continue;
                }
            },
            None => None,
        };
        if out.iter().any(|(k, _)| *k == kind) {
            rc.fail(
                "milestones",
                "duplicate",
                format!("`{}` is listed twice", kind.as_str()),
            );
            continue;
        }
        out.push((kind, date));
    }
    out
}

/// `2026-06-30`, `2026/6/30` or `2026.6.30`.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.replace(['/', '.'], "-");
    NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()
}

pub fn projects(sheet: &Sheet, layout: &Layout) -> Result<Vec<ProjectRecord>, Vec<FieldError>> {
    each_row(sheet, "code", |rc, row| {
        let code = required(rc, layout, row, "code").and_then(|v| rc.check(parse_code("code", v)));
        let name =
            required(rc, layout, row, "name").and_then(|v| rc.check(parse_text("name", v, 200)));
        let lead_department_code = layout.get(row, "lead_department_code").map(|v| {
            if v.is_empty() {
                None
            } else {
                rc.check(parse_code("lead_department_code", v))
            }
        });
        let park = optional(rc, layout, row, "park", 100);
        let chain_group = optional(rc, layout, row, "chain_group", 100);
        let enterprise = optional(rc, layout, row, "enterprise", 200);
        let contact_person = optional(rc, layout, row, "contact_person", 100);
        let contact_phone = optional(rc, layout, row, "contact_phone", 40);
        let agent = optional(rc, layout, row, "agent", 100);
        let investment_wan = layout.get(row, "investment_wan").map(|v| {
            if v.is_empty() {
                return None;
            }
            match v.replace([',', '，'], "").parse::<f64>() {
                Ok(n) if n.is_finite() && (0.0..1e12).contains(&n) => Some(n),
                _ => {
                    rc.fail(
                        "investment_wan",
                        "invalid",
                        format!("`{v}` is not a non-negative amount in 万元"),
                    );
                    None
                }
            }
        });
        let stage = match layout.get(row, "stage") {
            Some(v) if !v.is_empty() => {
                let stage = parse_stage(v);
                if stage.is_none() {
                    rc.fail(
                        "stage",
                        "unknown_value",
                        format!("`{v}` is not a stage (签约, 前期, 在建, 投产)"),
                    );
                }
                stage
            }
            _ => None,
        };
        let observers = layout.get(row, "observers").map(|v| {
            let mut names: Vec<String> = Vec::new();
            for item in split_list(v) {
                match Username::parse("observers", item) {
                    Ok(u) if !names.iter().any(|n| n == u.as_str()) => {
                        names.push(u.as_str().to_string())
                    }
                    Ok(_) => {}
                    Err(e) => rc.errors.push(
                        FieldError::new("observers", e.code, format!("`{item}`: {}", e.message))
                            .at_row(row.number),
                    ),
                }
            }
            names
        });
        let milestones = layout
            .get(row, "milestones")
            .map(|v| parse_milestones(rc, v));
        let key = code.clone();
        let record = match (code, name) {
            (Some(code), Some(name)) => Some(ProjectRecord {
                row: row.number,
                code,
                name,
                lead_department_code,
                park,
                chain_group,
                investment_wan,
                enterprise,
                contact_person,
                contact_phone,
                agent,
                stage,
                observers,
                milestones,
            }),
            _ => None,
        };
        (key, record)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::sheet::read;

    fn sheet(text: &str) -> Sheet {
        read(text.as_bytes()).unwrap()
    }

    #[test]
    fn headers_in_chinese_or_english_in_any_case_and_bracket_width_find_their_columns() {
        let s = sheet("序号,项目代码, NAME ,投资额（万元）\n1,P-1,一号项目,100\n");
        let layout = Layout::of(Kind::Projects, &s).unwrap();
        assert_eq!(layout.ignored, ["序号"]);
        let p = &projects(&s, &layout).unwrap()[0];
        assert_eq!(p.code, "P-1");
        assert_eq!(p.investment_wan, Some(Some(100.0)));
        // A column the file does not have is left alone; an empty cell clears.
        assert_eq!(p.park, None);
    }

    #[test]
    fn a_missing_or_repeated_column_is_reported_on_the_header_row() {
        let s = sheet("\n用户名,姓名,姓名\nwang,王,王\n");
        let errors = Layout::of(Kind::Users, &s).unwrap_err();
        let found: Vec<_> = errors
            .iter()
            .map(|e| (e.row, e.field.as_str(), e.code))
            .collect();
        assert_eq!(
            found,
            [
                (Some(2), "display_name", "duplicate_column"),
                (Some(2), "role", "missing_column")
            ]
        );
    }

    #[test]
    fn every_bad_row_is_reported_with_its_number_and_reason() {
        let s = sheet(
            "用户名,姓名,角色,单位代码,邮箱\n\
             wang.li,王丽,观察员,,\n\
             x,赵,科员,,\n\
             li.na,,督查,FGJ,li@\n\
             WANG.LI,王丽,负责人,FGJ,\n",
        );
        let layout = Layout::of(Kind::Users, &s).unwrap();
        let errors = users(&s, &layout).unwrap_err();
        let found: Vec<_> = errors
            .iter()
            .map(|e| (e.row, e.field.as_str(), e.code))
            .collect();
        assert_eq!(
            found,
            [
                (Some(3), "username", "length"),
                (Some(3), "department_code", "required"),
                (Some(4), "display_name", "required"),
                (Some(4), "department_code", "not_allowed"),
                (Some(4), "email", "format"),
                (Some(5), "username", "duplicate"),
            ]
        );
    }

    #[test]
    fn roles_stages_and_milestones_are_read_from_the_words_an_office_uses() {
        assert_eq!(parse_role("科员"), Some(Role::DepartmentStaff));
        assert_eq!(parse_role("Supervisor"), Some(Role::Supervisor));
        assert_eq!(parse_role("领导"), None);
        assert_eq!(parse_stage("在建"), Some(Stage::UnderConstruction));
        let s = sheet(
            "项目代码,项目名称,观察员,节点\n\
             P-1,一号,\"wang、li.na;wang , zhao\",施工许可:2026/6/30；接电\n\
             P-2,二号,,立项:明天\n",
        );
        let layout = Layout::of(Kind::Projects, &s).unwrap();
        let errors = projects(&s, &layout).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].row, errors[0].code), (Some(3), "format"));
        let s = sheet(
            "项目代码,项目名称,观察员,节点\nP-1,一号,\"wang、li.na;wang , zhao\",施工许可:2026/6/30；接电\n",
        );
        let p = &projects(&s, &Layout::of(Kind::Projects, &s).unwrap()).unwrap()[0];
        assert_eq!(
            p.observers.as_deref(),
            Some(&["wang".to_string(), "li.na".into(), "zhao".into()][..])
        );
        assert_eq!(
            p.milestones.as_deref(),
            Some(
                &[
                    (
                        MilestoneKind::ConstructionPermit,
                        NaiveDate::from_ymd_opt(2026, 6, 30)
                    ),
                    (MilestoneKind::PowerConnection, None)
                ][..]
            )
        );
    }
}
