//! The county demo (`observer-desk --demo`): on an empty database, the departments, parks,
//! chain groups, projects, milestones, observers, clerks, heads and supervisors of a county
//! like Pinglu, and a few dozen issues in every state, filed and moved through the same
//! workflow as real ones. All demo accounts share one password, from
//! `OBSERVER_DESK_DEMO_PASSWORD` or generated and printed.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use crate::auth::password;
use crate::auth::tokens::random_token;
use crate::config::Settings;
use crate::db::{self, Db, DbConn, run_blocking};
use crate::domain::issue::{Category, MilestoneKind, MilestoneStatus, Priority, Stage, Status};
use crate::domain::lifecycle::Action;
use crate::domain::role::{Actor, Role};
use crate::domain::user::NewPassword;
use crate::error::AppError;
use crate::workflow::filing::{self, Filing};
use crate::workflow::transitions::{self, TransitionRequest};

/// What the loader did, for the start-up message.
pub struct DemoLoaded {
    /// The shared password, when it was generated (print it once).
    pub generated_password: Option<String>,
    pub users: usize,
    pub projects: usize,
    pub issues: usize,
}

const DEPARTMENTS: &[(&str, &str)] = &[
    ("XZSP", "县行政审批服务管理局"),
    ("ZSCJ", "县投资促进中心"),
    ("FGJ", "县发展和改革局"),
    ("ZRZY", "县自然资源局"),
    ("ZJJ", "县住房和城乡建设局"),
    ("STHJ", "市生态环境局平陆分局"),
    ("GXJ", "县工业和信息化局"),
    ("GDGS", "国网平陆县供电公司"),
    ("SWJ", "县水务局"),
];

const PARK_AGRI: &str = "现代农业产业园";
const PARK_AUTO: &str = "汽车新材料产业园";
const PARK_SME: &str = "中小企业园";
const PARK_BIO: &str = "医药生物产业园";
const PARK_ALU: &str = "磨料磨具及铝产业集群";

struct DemoProject {
    code: &'static str,
    name: &'static str,
    park: Option<&'static str>,
    chain: &'static str,
    investment_wan: f64,
    enterprise: &'static str,
    lead: &'static str,
    stage: Stage,
    contact: &'static str,
}

/// Eleven projects signed for 737,700 万元 (7,377 million yuan), and one in production.
const PROJECTS: &[DemoProject] = &[
    DemoProject {
        code: "PL-2026-001",
        name: "年产10万吨铝精深加工项目",
        park: Some(PARK_ALU),
        chain: "铝精深加工",
        investment_wan: 125_000.0,
        enterprise: "山西平陆铝业新材料有限公司",
        lead: "ZSCJ",
        stage: Stage::PreConstruction,
        contact: "李志强",
    },
    DemoProject {
        code: "PL-2026-002",
        name: "汽车轻量化铝合金部件项目",
        park: Some(PARK_AUTO),
        chain: "汽车新材料",
        investment_wan: 98_000.0,
        enterprise: "平陆恒达汽车部件有限公司",
        lead: "GXJ",
        stage: Stage::UnderConstruction,
        contact: "赵文博",
    },
    DemoProject {
        code: "PL-2026-003",
        name: "高端磨料磨具智能制造项目",
        park: Some(PARK_ALU),
        chain: "工业消费品",
        investment_wan: 56_000.0,
        enterprise: "平陆金刚磨具股份有限公司",
        lead: "GXJ",
        stage: Stage::PreConstruction,
        contact: "王海燕",
    },
    DemoProject {
        code: "PL-2026-004",
        name: "苹果精深加工及冷链物流项目",
        park: Some(PARK_AGRI),
        chain: "现代农业",
        investment_wan: 42_000.0,
        enterprise: "平陆果业发展有限公司",
        lead: "FGJ",
        stage: Stage::UnderConstruction,
        contact: "张红梅",
    },
    DemoProject {
        code: "PL-2026-005",
        name: "设施农业智慧温室项目",
        park: Some(PARK_AGRI),
        chain: "现代农业",
        investment_wan: 23_000.0,
        enterprise: "黄河农业科技有限公司",
        lead: "FGJ",
        stage: Stage::Signed,
        contact: "刘建国",
    },
    DemoProject {
        code: "PL-2026-006",
        name: "100MW农光互补光伏发电项目",
        park: None,
        chain: "新能源",
        investment_wan: 48_000.0,
        enterprise: "平陆晶科新能源有限公司",
        lead: "FGJ",
        stage: Stage::PreConstruction,
        contact: "陈晓东",
    },
    DemoProject {
        code: "PL-2026-007",
        name: "分散式风电项目",
        park: None,
        chain: "新能源",
        investment_wan: 65_000.0,
        enterprise: "中条山风电有限公司",
        lead: "FGJ",
        stage: Stage::Signed,
        contact: "杨帆",
    },
    DemoProject {
        code: "PL-2026-008",
        name: "生物医药原料药项目",
        park: Some(PARK_BIO),
        chain: "工业消费品",
        investment_wan: 87_000.0,
        enterprise: "平陆康源生物制药有限公司",
        lead: "ZSCJ",
        stage: Stage::PreConstruction,
        contact: "孙丽华",
    },
    DemoProject {
        code: "PL-2026-009",
        name: "中小企业孵化园标准化厂房项目",
        park: Some(PARK_SME),
        chain: "工业消费品",
        investment_wan: 31_000.0,
        enterprise: "平陆县城市建设投资有限公司",
        lead: "ZJJ",
        stage: Stage::UnderConstruction,
        contact: "周明",
    },
    DemoProject {
        code: "PL-2026-010",
        name: "黄河文化旅游康养综合体",
        park: None,
        chain: "文化旅游康养",
        investment_wan: 112_000.0,
        enterprise: "平陆黄河文旅发展有限公司",
        lead: "ZSCJ",
        stage: Stage::Signed,
        contact: "吴静",
    },
    DemoProject {
        code: "PL-2026-011",
        name: "新能源汽车电池材料项目",
        park: Some(PARK_AUTO),
        chain: "汽车新材料",
        investment_wan: 50_700.0,
        enterprise: "平陆锂源新材料有限公司",
        lead: "GXJ",
        stage: Stage::PreConstruction,
        contact: "郑磊",
    },
    DemoProject {
        code: "PL-2025-012",
        name: "绿色食品包装材料项目",
        park: Some(PARK_SME),
        chain: "工业消费品",
        investment_wan: 18_000.0,
        enterprise: "平陆佳美包装有限公司",
        lead: "GXJ",
        stage: Stage::InProduction,
        contact: "冯雪",
    },
];

/// Milestone kinds, their titles and owners, in the order a project meets them.
const MILESTONES: &[(MilestoneKind, &str, &str)] = &[
    (MilestoneKind::ProjectApproval, "项目备案", "FGJ"),
    (MilestoneKind::LandPreReview, "用地预审与选址", "ZRZY"),
    (
        MilestoneKind::EnvironmentalAssessment,
        "环境影响评价批复",
        "STHJ",
    ),
    (MilestoneKind::PlanningPermit, "建设工程规划许可", "ZRZY"),
    (MilestoneKind::ConstructionPermit, "施工许可", "XZSP"),
    (MilestoneKind::PowerConnection, "10kV 供电接入", "GDGS"),
    (MilestoneKind::WaterConnection, "供水接入", "SWJ"),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马",
];
const GIVEN: &[&str] = &[
    "建军", "秀英", "志刚", "丽娟", "海涛", "春燕", "国庆", "晓明", "红霞", "伟", "静", "斌",
];

struct IssueTemplate {
    category: Category,
    priority: Priority,
    milestone: Option<MilestoneKind>,
    title: &'static str,
    description: &'static str,
}

const ISSUES: &[IssueTemplate] = &[
    IssueTemplate {
        category: Category::ApprovalDelay,
        priority: Priority::Urgent,
        milestone: Some(MilestoneKind::ConstructionPermit),
        title: "施工许可材料齐全但超期未批",
        description: "材料已于上月提交并受理，窗口答复仍在审核，已超过承诺时限。",
    },
    IssueTemplate {
        category: Category::UtilitySupply,
        priority: Priority::Urgent,
        milestone: Some(MilestoneKind::PowerConnection),
        title: "临时用电迟迟未接入",
        description: "设备已进场，临时用电方案报送两周无回复，影响调试。",
    },
    IssueTemplate {
        category: Category::LandSupply,
        priority: Priority::Normal,
        milestone: Some(MilestoneKind::LandPreReview),
        title: "用地红线与规划不一致",
        description: "用地预审红线与园区规划图存在偏差，需自然资源部门核实。",
    },
    IssueTemplate {
        category: Category::PolicyNotApplied,
        priority: Priority::Normal,
        milestone: None,
        title: "招商引资奖补政策未兑现",
        description: "签约时承诺的设备购置补贴至今未拨付，企业多次询问无果。",
    },
    IssueTemplate {
        category: Category::InspectionDisturbance,
        priority: Priority::Normal,
        milestone: None,
        title: "一周内三次检查未提前报备",
        description: "不同部门一周内三次到企业检查，均未出示报备手续，影响生产。",
    },
    IssueTemplate {
        category: Category::ServiceConduct,
        priority: Priority::Normal,
        milestone: None,
        title: "窗口人员一次性告知不到位",
        description: "同一事项往返三次，每次补充不同材料，未做到一次性告知。",
    },
    IssueTemplate {
        category: Category::UtilitySupply,
        priority: Priority::Normal,
        milestone: Some(MilestoneKind::WaterConnection),
        title: "供水管网接口位置未确定",
        description: "厂区供水接口位置尚未明确，影响管线施工。",
    },
    IssueTemplate {
        category: Category::ApprovalDelay,
        priority: Priority::Normal,
        milestone: Some(MilestoneKind::EnvironmentalAssessment),
        title: "环评批复进度不明",
        description: "环评报告书已报送，未告知审查进度和专家评审时间。",
    },
    IssueTemplate {
        category: Category::PaymentArrears,
        priority: Priority::Urgent,
        milestone: None,
        title: "配套工程款拖欠",
        description: "园区配套道路工程已完工验收，工程款拖欠半年未付。",
    },
    IssueTemplate {
        category: Category::ApprovalDelay,
        priority: Priority::Normal,
        milestone: Some(MilestoneKind::PlanningPermit),
        title: "规划方案审查意见反复",
        description: "规划方案两次修改后又提出新意见，希望明确最终标准。",
    },
    IssueTemplate {
        category: Category::Other,
        priority: Priority::Normal,
        milestone: None,
        title: "项目周边道路夜间照明缺失",
        description: "项目出入口道路无照明，夜间运输存在安全隐患。",
    },
    IssueTemplate {
        category: Category::ApprovalDelay,
        priority: Priority::Normal,
        milestone: Some(MilestoneKind::ProjectApproval),
        title: "项目备案信息变更办理慢",
        description: "投资额调整需变更备案，线上提交后一直显示待审核。",
    },
];

/// The state each demo issue is brought to, in turn.
const TARGETS: &[Status] = &[
    Status::Closed,
    Status::InProgress,
    Status::Assigned,
    Status::Resolved,
    Status::Closed,
    Status::AwaitingInfo,
    Status::InProgress,
    Status::Unassigned,
    Status::Closed,
    Status::Assigned,
    Status::Withdrawn,
    Status::Resolved,
];

const DEMO_ISSUES: usize = 36;

/// Loads the demo when the database holds no department and no project yet.
pub async fn load(db: &Db, settings: &Settings) -> anyhow::Result<Option<DemoLoaded>> {
    let (password, generated) = match &settings.demo_password {
        Some(p) => (p.expose().to_string(), false),
        None => (random_token(12), true),
    };
    NewPassword::parse("OBSERVER_DESK_DEMO_PASSWORD", &password)
        .map_err(|e| anyhow::anyhow!("OBSERVER_DESK_DEMO_PASSWORD {}", e.message))?;
    let to_hash = password.clone();
    let hash = run_blocking(move || password::hash(&to_hash))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let loaded = db
        .write(move |c| {
            if !is_empty(c)? {
                return Ok(None);
            }
            build(c, &hash).map(Some)
        })
        .await
        .map_err(|e| anyhow::anyhow!("loading the demo: {e}"))?;
    Ok(loaded.map(|(users, projects, issues)| DemoLoaded {
        generated_password: generated.then_some(password),
        users,
        projects,
        issues,
    }))
}

fn is_empty(c: &mut DbConn) -> Result<bool, AppError> {
    use crate::db::schema::{departments, projects};
    use diesel::prelude::*;
    let d: i64 = departments::table.count().get_result(c)?;
    let p: i64 = projects::table.count().get_result(c)?;
    Ok(d == 0 && p == 0)
}

fn actor(row: &db::users::UserRow) -> Result<Actor, AppError> {
    Ok(Actor {
        id: row.id,
        role: Role::parse(&row.role).ok_or_else(|| AppError::internal("demo role"))?,
        department_id: row.department_id,
    })
}

fn add_user(
    c: &mut DbConn,
    hash: &str,
    username: &str,
    display_name: &str,
    role: Role,
    department_id: Option<i64>,
    now: NaiveDateTime,
) -> Result<db::users::UserRow, AppError> {
    Ok(db::users::insert(
        c,
        &db::users::NewUser {
            username,
            password_hash: hash,
            display_name,
            role: role.as_str(),
            department_id,
            email: None,
            locale: "zh-CN",
            active: true,
            version: 1,
            password_changed_at: now,
            created_at: now,
            updated_at: now,
        },
    )?)
}

/// The demo county's people: its departments (code → id), each department's clerk and head,
/// the supervisors and the observers.
struct People {
    dept: BTreeMap<&'static str, i64>,
    staff: BTreeMap<i64, Actor>,
    heads: BTreeMap<i64, Actor>,
    supervisors: Vec<Actor>,
    observers: Vec<Actor>,
    users: usize,
}

impl People {
    /// The clerk and the head of the department that has an issue.
    fn desk(&self, department: Option<i64>) -> Result<(Actor, Actor), AppError> {
        let d = department.ok_or_else(|| AppError::internal("demo issue unrouted"))?;
        match (self.staff.get(&d), self.heads.get(&d)) {
            (Some(clerk), Some(head)) => Ok((*clerk, *head)),
            _ => Err(AppError::internal(
                "demo department without a clerk or a head",
            )),
        }
    }

    fn department(&self, code: &str) -> Result<i64, AppError> {
        self.dept
            .get(code)
            .copied()
            .ok_or_else(|| AppError::internal("demo department"))
    }
}

/// Everything, in one transaction. Returns the numbers of users, projects and issues.
fn build(c: &mut DbConn, hash: &str) -> Result<(usize, usize, usize), AppError> {
    let now = db::now();
    let start = now - TimeDelta::days(50);
    let people = people(c, hash, start)?;
    let (projects, followers) = projects(c, &people, now, start)?;
    routing_rules(c, &people, start)?;
    let mut filed = 0;
    for i in 0..DEMO_ISSUES {
        if demo_issue(c, &people, &projects, &followers, i, now)? {
            filed += 1;
        }
    }
    Ok((people.users, projects.len(), filed))
}

/// The departments, a clerk and a head in each, two supervisors and 25 observers.
fn people(c: &mut DbConn, hash: &str, start: NaiveDateTime) -> Result<People, AppError> {
    let mut dept = BTreeMap::new();
    let mut staff = BTreeMap::new();
    let mut heads = BTreeMap::new();
    let mut users = 0;
    for (code, name) in DEPARTMENTS {
        let (id, clerk, head) = department(c, hash, code, name, start)?;
        dept.insert(*code, id);
        staff.insert(id, clerk);
        heads.insert(id, head);
        users += 2;
    }
    let mut supervisors = Vec::new();
    for (i, name) in ["营商办 张督查", "营商办 李督查"].iter().enumerate() {
        let row = add_user(
            c,
            hash,
            &format!("supervisor{:02}", i + 1),
            name,
            Role::Supervisor,
            None,
            start,
        )?;
        supervisors.push(actor(&row)?);
        users += 1;
    }
    let mut observers = Vec::new();
    for i in 0..25 {
        let name = format!(
            "观察员 {}{}",
            SURNAMES[i % SURNAMES.len()],
            GIVEN[(i * 7) % GIVEN.len()]
        );
        let row = add_user(
            c,
            hash,
            &format!("observer{:02}", i + 1),
            &name,
            Role::Observer,
            None,
            start,
        )?;
        observers.push(actor(&row)?);
        users += 1;
    }

    Ok(People {
        dept,
        staff,
        heads,
        supervisors,
        observers,
        users,
    })
}

/// A department with its clerk and its head: its id and the two of them.
fn department(
    c: &mut DbConn,
    hash: &str,
    code: &str,
    name: &str,
    start: NaiveDateTime,
) -> Result<(i64, Actor, Actor), AppError> {
    let row = db::departments::insert(
        c,
        &db::departments::NewDepartment {
            code,
            name,
            webhook_url: None,
            webhook_secret: None,
            version: 1,
            created_at: start,
            updated_at: start,
        },
    )?;
    let short = name.trim_start_matches("县").trim_start_matches("市");
    let lower = code.to_ascii_lowercase();
    let s = add_user(
        c,
        hash,
        &format!("{lower}.staff"),
        &format!("{short}经办人"),
        Role::DepartmentStaff,
        Some(row.id),
        start,
    )?;
    let h = add_user(
        c,
        hash,
        &format!("{lower}.head"),
        &format!("{short}负责人"),
        Role::DepartmentHead,
        Some(row.id),
        start,
    )?;
    Ok((row.id, actor(&s)?, actor(&h)?))
}

/// The projects with their followers and milestones: each project's row, and the observers
/// (by index) who follow it.
fn projects(
    c: &mut DbConn,
    people: &People,
    now: NaiveDateTime,
    start: NaiveDateTime,
) -> Result<(Vec<db::projects::ProjectRow>, Vec<Vec<usize>>), AppError> {
    let observers = &people.observers;
    let id_of = |code: &str| people.department(code);
    let mut projects = Vec::new();
    let mut followers: Vec<Vec<usize>> = Vec::new();
    for (p, spec) in PROJECTS.iter().enumerate() {
        let row = db::projects::insert(
            c,
            &db::projects::NewProject {
                code: spec.code.into(),
                name: spec.name.into(),
                lead_department_id: Some(id_of(spec.lead)?),
                park: spec.park.map(Into::into),
                chain_group: Some(spec.chain.into()),
                investment_wan: Some(spec.investment_wan),
                enterprise: Some(spec.enterprise.into()),
                contact_person: Some(spec.contact.into()),
                contact_phone: Some(format!("0359-35{:05}", 10_000 + p * 37)),
                agent: Some(format!("代办员 {}", SURNAMES[(p + 3) % SURNAMES.len()])),
                stage: spec.stage.as_str().into(),
                version: 1,
                created_at: start,
                updated_at: start,
            },
        )?;
        // Each observer follows one project, and some a second: two or three per project.
        let mine: Vec<usize> = (0..observers.len())
            .filter(|o| o % PROJECTS.len() == p || (o + 5) % PROJECTS.len() == p && o % 2 == 0)
            .collect();
        let ids: Vec<i64> = mine.iter().map(|o| observers[*o].id).collect();
        db::projects::set_observers(c, row.id, &ids)?;
        // Milestones: earlier ones done, the current one under way, later ones planned.
        let done = match spec.stage {
            Stage::Signed => 0,
            Stage::PreConstruction => 2 + p % 2,
            Stage::UnderConstruction => 5,
            Stage::InProduction => MILESTONES.len(),
        };
        let today = now.date();
        for (m, (kind, title, owner)) in MILESTONES.iter().enumerate() {
            let planned = today + TimeDelta::days(30 * (m as i64 - done as i64) + 10);
            let (status, actual) = if m < done {
                (MilestoneStatus::Done, Some(planned - TimeDelta::days(3)))
            } else if m == done {
                (MilestoneStatus::InProgress, None)
            } else {
                (MilestoneStatus::Planned, None)
            };
            db::milestones::insert(
                c,
                &db::milestones::NewMilestone {
                    project_id: row.id,
                    kind: kind.as_str().into(),
                    title: (*title).into(),
                    responsible_department_id: Some(id_of(owner)?),
                    planned_date: Some(planned),
                    actual_date: actual.map(|d: NaiveDate| d.min(today)),
                    status: status.as_str().into(),
                    version: 1,
                    created_at: start,
                    updated_at: start,
                },
            )?;
        }
        projects.push(row);
        followers.push(mine);
    }

    Ok((projects, followers))
}

/// The routing rules of the county.
fn routing_rules(c: &mut DbConn, people: &People, start: NaiveDateTime) -> Result<(), AppError> {
    let id_of = |code: &str| people.department(code);
    for (category, park, kind, owner) in [
        (
            Category::UtilitySupply,
            None,
            Some(MilestoneKind::PowerConnection),
            "GDGS",
        ),
        (
            Category::UtilitySupply,
            None,
            Some(MilestoneKind::WaterConnection),
            "SWJ",
        ),
        (Category::LandSupply, None, None, "ZRZY"),
        (Category::ServiceConduct, None, None, "XZSP"),
        (Category::PolicyNotApplied, None, None, "FGJ"),
        (Category::PaymentArrears, Some(PARK_SME), None, "ZJJ"),
    ] {
        db::routing_rules::insert(
            c,
            &db::routing_rules::NewRoutingRule {
                category: category.as_str().into(),
                park: park.map(Into::<String>::into),
                milestone_kind: kind.map(|k: MilestoneKind| k.as_str().to_string()),
                department_id: id_of(owner)?,
                created_at: start,
            },
        )?;
    }

    Ok(())
}

/// The `i`th demo issue, filed by a follower of its project and taken to its target state
/// with the steps people would take. False when its project has no follower.
fn demo_issue(
    c: &mut DbConn,
    people: &People,
    projects: &[db::projects::ProjectRow],
    followers: &[Vec<usize>],
    i: usize,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let observers = &people.observers;
    let p = (i * 5) % projects.len();
    let project = &projects[p];
    let Some(&o) = followers[p].get(i % followers[p].len().max(1)) else {
        return Ok(false);
    };
    let reporter = &observers[o];
    let template = &ISSUES[i % ISSUES.len()];
    let milestone = match template.milestone {
        Some(kind) => db::milestones::for_project(c, project.id)?
            .into_iter()
            .find(|m| m.kind == kind.as_str())
            .map(|m| m.id),
        None => None,
    };
    // Filed over the last twelve days, so the demo has fresh and overdue issues alike.
    let at = std::cell::Cell::new(now - TimeDelta::days(12) + TimeDelta::hours(7 * i as i64));
    let (issue, _) = filing::file(
        c,
        &crate::workflow::rulebook::Rulebook::default(),
        reporter.id,
        Filing {
            project_id: project.id,
            milestone_id: milestone,
            category: template.category,
            priority: template.priority,
            title: template.title.into(),
            description: template.description.into(),
            location: Some((34.83 + (i as f64) * 0.002, 111.21 + (p as f64) * 0.003)),
            private: i % 9 == 4,
            // A reported inspection names the project's lead department as the one that came
            // (none is filed in the demo): an unfiled visit for that department to answer.
            visit: (template.category == Category::InspectionDisturbance).then(|| {
                crate::workflow::inspections::Visit {
                    visiting_department_id: project.lead_department_id,
                    visited_on: crate::workflow::inspections::county_day(db::truncate(at.get())),
                }
            }),
            match_days: 1,
        },
        db::truncate(at.get()),
    )?;
    walk_to(c, people, &issue, reporter, i, &at, now)?;
    Ok(true)
}

/// Takes a demo issue to its target state (`TARGETS`) with the steps its clerk, head,
/// supervisor or reporter would take, five hours apart from `at`.
fn walk_to(
    c: &mut DbConn,
    people: &People,
    issue: &db::issues::IssueRow,
    reporter: &Actor,
    i: usize,
    at: &std::cell::Cell<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let supervisors = &people.supervisors;
    let target = TARGETS[i % TARGETS.len()];
    let (clerk, head) = people.desk(issue.department_id)?;
    let mut step = |who: &Actor,
                    action: Action,
                    comment: Option<&str>,
                    rating: Option<i32>|
     -> Result<(), AppError> {
        at.set(at.get() + TimeDelta::hours(5));
        let request = TransitionRequest {
            action,
            comment: comment.map(Into::into),
            department_id: None,
            assignee_id: (action == Action::Assign).then_some(clerk.id),
            rating,
            extension_minutes: None,
        };
        transitions::step(
            c,
            who,
            issue.id,
            &request,
            None,
            db::truncate(at.get().min(now)),
        )?;
        Ok(())
    };
    match target {
        Status::Assigned => {}
        Status::Unassigned => step(
            &clerk,
            Action::Return,
            Some("经核实不属于本单位职责，请重新派单"),
            None,
        )?,
        Status::Withdrawn => step(reporter, Action::Withdraw, Some("企业已自行解决"), None)?,
        _ => {
            step(&clerk, Action::Acknowledge, Some("已受理，正在协调"), None)?;
            match target {
                Status::InProgress => {
                    if i.is_multiple_of(2) {
                        step(
                            &supervisors[i % 2],
                            Action::Chase,
                            Some("请加快办理进度"),
                            None,
                        )?;
                    } else {
                        step(&head, Action::Assign, Some("请经办人跟进"), None)?;
                    }
                }
                Status::AwaitingInfo => step(
                    &clerk,
                    Action::RequestInfo,
                    Some("请补充企业营业执照及授权委托书"),
                    None,
                )?,
                Status::Resolved => {
                    // Resolved lately: still waiting for the observer, not yet auto-closed.
                    at.set(at.get().max(now - TimeDelta::hours(7)));
                    step(&clerk, Action::Resolve, Some("已办结，请企业确认"), None)?
                }
                Status::Closed => {
                    step(&clerk, Action::Resolve, Some("已办结，请企业确认"), None)?;
                    step(reporter, Action::Confirm, None, Some(3 + (i % 3) as i32))?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}
