//! A county loaded from the spreadsheets its office keeps, over the API
//! (`POST /api/v1/admin/imports`) and with `observer-desk admin import`.

use serde_json::{Value, json};

use crate::attachments::BOUNDARY;
use crate::helpers::{ADMIN_PASSWORD, Db, PASSWORD, Resp, TestApp, TestDatabase, admin_command};
use crate::on_both_databases;

on_both_databases!(
    a_county_loads_its_lists_from_chinese_spreadsheets_and_a_second_import_changes_nothing,
    a_file_with_any_bad_row_imports_nothing_and_names_each_row_and_reason,
    a_dry_run_reports_what_would_change_and_writes_nothing,
    only_an_admin_imports_and_what_is_not_a_table_is_refused,
    two_admins_importing_the_same_users_at_once_make_each_user_once,
    the_admin_command_imports_files_and_manages_users,
);

/// A multipart import body.
fn import_form(kind: &str, file_name: &str, bytes: &[u8], dry_run: bool) -> Vec<u8> {
    let mut fields = vec![("kind", kind)];
    if dry_run {
        fields.push(("dry_run", "true"));
    }
    crate::attachments::form(file_name, "application/octet-stream", bytes, &fields)
}

async fn import(app: &TestApp, token: &str, kind: &str, bytes: &[u8], dry_run: bool) -> Resp {
    app.send_bytes(
        "POST",
        "/api/v1/admin/imports",
        Some(token),
        &[],
        Some((
            format!("multipart/form-data; boundary={BOUNDARY}"),
            import_form(kind, "list", bytes, dry_run),
        )),
    )
    .await
}

/// An XLSX workbook whose first sheet holds `rows`.
fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            sheet.write_string(r as u32, c as u16, *cell).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

/// CSV text as Excel in China saves it: GBK.
fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

fn with_bom(text: &str) -> Vec<u8> {
    [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()
}

const DEPARTMENTS: &str = "代码,名称\nFGJ,县发展和改革局\nZRZY,县自然资源局\nXZSP,县行政审批局\n";

fn users_xlsx() -> Vec<u8> {
    xlsx(&[
        &["用户名", "姓名", "角色", "单位代码", "邮箱", "初始密码"],
        &[
            "wang.li",
            "王丽",
            "观察员",
            "",
            "wangli@example.cn",
            PASSWORD,
        ],
        &["zhao.min", "赵敏", "观察员", "", "", ""],
        &["fgj.clerk", "李科员", "科员", "FGJ", "", PASSWORD],
        &["fgj.head", "周局长", "负责人", "fgj", "", PASSWORD],
        &["du.cha", "孙督查", "督查", "", "", PASSWORD],
    ])
}

const PROJECTS: &str = "序号,项目代码,项目名称,牵头单位代码,园区,产业链,投资额（万元）,企业,阶段,观察员,节点\n\
1,P-2026-001,年产十万吨新材料项目,FGJ,高新区,新材料,\"12,000\",某新材料有限公司,在建,wang.li、zhao.min,施工许可:2026-06-30；接电\n\
2,P-2026-002,智能装备产业园,ZRZY,经开区,装备制造,8000.5,,签约,wang.li,\n";

fn summary(r: &Value) -> (i64, i64, i64, i64) {
    (
        r["rows"].as_i64().unwrap(),
        r["created"].as_i64().unwrap(),
        r["updated"].as_i64().unwrap(),
        r["unchanged"].as_i64().unwrap(),
    )
}

async fn a_county_loads_its_lists_from_chinese_spreadsheets_and_a_second_import_changes_nothing(
    db: Db,
) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    // Departments from CSV in UTF-8 with a byte order mark.
    let r = import(&app, &admin, "departments", &with_bom(DEPARTMENTS), false).await;
    assert_eq!(summary(r.assert_status(200)), (3, 3, 0, 0));
    // Users from XLSX with Chinese headers; one row without a password gets one made.
    let r = import(&app, &admin, "users", &users_xlsx(), false).await;
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let body = r.assert_status(200).clone();
    assert_eq!(summary(&body), (5, 5, 0, 0));
    let generated = body["generated_passwords"].as_array().unwrap();
    assert_eq!(generated.len(), 1);
    assert_eq!(generated[0]["row"], 3);
    assert_eq!(generated[0]["username"], "zhao.min");
    let zhao_password = generated[0]["password"].as_str().unwrap().to_string();
    app.login("zhao.min", &zhao_password)
        .await
        .assert_status(200);
    let head = app.login("fgj.head", PASSWORD).await;
    let head = head.assert_status(200);
    assert_eq!(head["user"]["role"], "department_head");
    // Projects from CSV in GBK, with an index column the office keeps, observers and milestones.
    let r = import(&app, &admin, "projects", &gbk(PROJECTS), false).await;
    let body = r.assert_status(200).clone();
    assert_eq!(summary(&body), (2, 2, 0, 0));
    assert_eq!(body["ignored_columns"], json!(["序号"]));

    let projects = app.get("/api/v1/projects?limit=10", &admin).await;
    let items = projects.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 2);
    let first = &items[0];
    assert_eq!(first["code"], "P-2026-001");
    assert_eq!(first["name"], "年产十万吨新材料项目");
    assert_eq!(first["investment_wan"], 12000.0);
    assert_eq!(first["stage"], "under_construction");
    assert_eq!(first["park"], "高新区");
    assert_eq!(first["observer_ids"].as_array().unwrap().len(), 2);
    let id = first["id"].as_i64().unwrap();
    let etag = app
        .get(&format!("/api/v1/projects/{id}"), &admin)
        .await
        .header("etag");
    let milestones = app
        .get(&format!("/api/v1/projects/{id}/milestones"), &admin)
        .await;
    let kinds: Vec<(String, Value)> = milestones.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_string(),
                m["planned_date"].clone(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("construction_permit".to_string(), json!("2026-06-30")),
            ("power_connection".to_string(), Value::Null)
        ]
    );
    // The observer sees the projects they follow.
    let wang = app.token("wang.li", PASSWORD).await;
    let mine = app.get("/api/v1/projects?limit=10", &wang).await;
    assert_eq!(
        mine.assert_status(200)["items"].as_array().unwrap().len(),
        2
    );

    // The same files again: nothing changes, not even a version, and nobody gets a password.
    for (kind, bytes, rows) in [
        ("departments", with_bom(DEPARTMENTS), 3),
        ("users", users_xlsx(), 5),
        ("projects", gbk(PROJECTS), 2),
    ] {
        let r = import(&app, &admin, kind, &bytes, false).await;
        let body = r.assert_status(200);
        assert_eq!(summary(body), (rows, 0, 0, rows), "{kind}");
        assert!(body.get("generated_passwords").is_none());
    }
    let again = app.get(&format!("/api/v1/projects/{id}"), &admin).await;
    assert_eq!(again.header("etag"), etag);
    app.login("zhao.min", &zhao_password)
        .await
        .assert_status(200);

    // A changed row updates what changed, and only that row.
    let moved = PROJECTS
        .replace("在建", "投产")
        .replace("2026-06-30", "2026-07-15");
    let r = import(&app, &admin, "projects", &gbk(&moved), false).await;
    assert_eq!(summary(r.assert_status(200)), (2, 0, 1, 1));
    let p = app.get(&format!("/api/v1/projects/{id}"), &admin).await;
    assert_eq!(p.assert_status(200)["stage"], "in_production");
    let milestones = app
        .get(&format!("/api/v1/projects/{id}/milestones"), &admin)
        .await;
    assert_eq!(
        milestones.assert_status(200)["items"][0]["planned_date"],
        "2026-07-15"
    );
}

async fn a_file_with_any_bad_row_imports_nothing_and_names_each_row_and_reason(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    import(&app, &admin, "departments", DEPARTMENTS.as_bytes(), false)
        .await
        .assert_status(200);
    // Good rows around bad ones: a role nobody has, a department nobody has, a short
    // password, a name twice.
    let file = xlsx(&[
        &[
            "username",
            "display_name",
            "role",
            "department_code",
            "password",
        ],
        &["good.one", "好人", "observer", "", PASSWORD],
        &["bad.role", "某人", "领导", "", PASSWORD],
        &["bad.dept", "某人", "科员", "NOPE", PASSWORD],
        &["short.pw", "某人", "督查", "", "123"],
        &["good.one", "又一个", "observer", "", PASSWORD],
        &["good.two", "好人二", "observer", "", PASSWORD],
    ]);
    let r = import(&app, &admin, "users", &file, false).await;
    r.assert_problem(422, "import_rejected");
    let found: Vec<(i64, String, String)> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        (3, "role", "unknown_value"),
        (5, "password", "too_short"),
        (6, "username", "duplicate"),
    ];
    assert_eq!(
        found,
        expected
            .iter()
            .map(|(r, f, c)| (*r, f.to_string(), c.to_string()))
            .collect::<Vec<_>>(),
        "the file's own mistakes come first, all of them"
    );
    // Once the file itself is right, what the database says is wrong is reported as well.
    let file = xlsx(&[
        &[
            "username",
            "display_name",
            "role",
            "department_code",
            "password",
        ],
        &["good.one", "好人", "observer", "", PASSWORD],
        &["bad.dept", "某人", "科员", "NOPE", PASSWORD],
        &["good.two", "好人二", "observer", "", PASSWORD],
    ]);
    let r = import(&app, &admin, "users", &file, false).await;
    r.assert_problem(422, "import_rejected");
    assert_eq!(r.body["errors"][0]["row"], 3);
    assert_eq!(r.body["errors"][0]["field"], "department_code");
    assert_eq!(r.body["errors"][0]["code"], "unknown");
    // Nothing was imported.
    let users = app.get("/api/v1/users?limit=100", &admin).await;
    let names: Vec<&str> = users.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin"]);
    // A project naming an observer who is not one, and a lead department nobody has.
    let file = "项目代码,项目名称,牵头单位代码,观察员\nP-1,一号,FGJ,admin\nP-2,二号,XYZ,\n";
    let r = import(&app, &admin, "projects", file.as_bytes(), false).await;
    r.assert_problem(422, "import_rejected");
    let rows: Vec<(i64, &str)> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [(2, "observers"), (3, "lead_department_code")]);
    let projects = app.get("/api/v1/projects", &admin).await;
    assert_eq!(projects.assert_status(200)["items"], json!([]));
    // A missing column is named on the header row.
    let r = import(&app, &admin, "departments", "代码\nFGJ\n".as_bytes(), false).await;
    r.assert_problem(422, "import_rejected");
    assert_eq!(r.body["errors"][0]["row"], 1);
    assert_eq!(r.body["errors"][0]["code"], "missing_column");
}

async fn a_dry_run_reports_what_would_change_and_writes_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let r = import(&app, &admin, "departments", DEPARTMENTS.as_bytes(), true).await;
    let body = r.assert_status(200);
    assert_eq!(body["dry_run"], true);
    assert_eq!(summary(body), (3, 3, 0, 0));
    let list = app.get("/api/v1/departments", &admin).await;
    assert_eq!(list.assert_status(200)["items"], json!([]));
    // A dry run of bad rows reports them just the same.
    let r = import(
        &app,
        &admin,
        "departments",
        "代码,名称\nF,x\n".as_bytes(),
        true,
    )
    .await;
    r.assert_problem(422, "import_rejected");
    assert_eq!(r.body["errors"][0]["row"], 2);
    // A dry run of users makes no password.
    import(&app, &admin, "departments", DEPARTMENTS.as_bytes(), false)
        .await
        .assert_status(200);
    let r = import(&app, &admin, "users", &users_xlsx(), true).await;
    let body = r.assert_status(200);
    assert_eq!(summary(body), (5, 5, 0, 0));
    assert!(body.get("generated_passwords").is_none());
    app.login("zhao.min", PASSWORD).await.assert_status(401);
}

async fn only_an_admin_imports_and_what_is_not_a_table_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let supervisor = app.user_token(&admin, "sup", "supervisor", None).await;
    import(
        &app,
        &supervisor,
        "departments",
        DEPARTMENTS.as_bytes(),
        false,
    )
    .await
    .assert_problem(403, "forbidden");
    let r = app
        .send_bytes(
            "POST",
            "/api/v1/admin/imports",
            None,
            &[],
            Some((
                format!("multipart/form-data; boundary={BOUNDARY}"),
                import_form("departments", "x.csv", DEPARTMENTS.as_bytes(), false),
            )),
        )
        .await;
    r.assert_problem(401, "unauthenticated");
    import(&app, &admin, "budgets", DEPARTMENTS.as_bytes(), false)
        .await
        .assert_problem(422, "validation_failed");
    import(&app, &admin, "users", b"\xD0\xCF\x11\xE0 an old xls", false)
        .await
        .assert_problem(422, "unreadable_file");
    import(&app, &admin, "users", b"PK\x03\x04 not really a zip", false)
        .await
        .assert_problem(422, "unreadable_file");
    let no_kind = crate::attachments::form("x.csv", "text/csv", DEPARTMENTS.as_bytes(), &[]);
    app.send_bytes(
        "POST",
        "/api/v1/admin/imports",
        Some(&admin),
        &[],
        Some((format!("multipart/form-data; boundary={BOUNDARY}"), no_kind)),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post(
        "/api/v1/admin/imports",
        Some(&admin),
        json!({ "kind": "users" }),
    )
    .await
    .assert_problem(415, "unsupported_media_type");
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    import(&app, &admin, "users", &big, false)
        .await
        .assert_problem(413, "file_too_large");
}

async fn two_admins_importing_the_same_users_at_once_make_each_user_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    import(&app, &admin, "departments", DEPARTMENTS.as_bytes(), false)
        .await
        .assert_status(200);
    let file = users_xlsx();
    let (a, b) = futures_util::join!(
        import(&app, &admin, "users", &file, false),
        import(&app, &admin, "users", &file, false)
    );
    let mut created = 0;
    let mut generated = 0;
    for r in [&a, &b] {
        match r.status {
            200 => {
                created += r.body["created"].as_i64().unwrap();
                generated += r.body["generated_passwords"].as_array().map_or(0, Vec::len);
            }
            422 => assert_eq!(r.body["code"], "import_rejected", "{}", r.text),
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(created, 5, "{} / {}", a.text, b.text);
    // The one password made is the one that works.
    assert_eq!(generated, 1);
    let users = app.get("/api/v1/users?limit=100", &admin).await;
    assert_eq!(
        users.assert_status(200)["items"].as_array().unwrap().len(),
        6
    );
}

async fn the_admin_command_imports_files_and_manages_users(db: Db) {
    use std::os::unix::fs::PermissionsExt;
    let database = TestDatabase::new(db);
    let dir = database.dir().to_path_buf();
    std::fs::write(dir.join("departments.csv"), gbk(DEPARTMENTS)).unwrap();
    std::fs::write(dir.join("users.xlsx"), users_xlsx()).unwrap();
    std::fs::write(dir.join("projects.csv"), PROJECTS).unwrap();

    // A dry run on an empty database writes nothing and says so.
    let (ok, out, err) = admin_command(
        &database,
        &["import", "departments", "departments.csv", "--dry-run"],
        None,
    );
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("3 rows: 3 created") && out.contains("dry run"),
        "{out}"
    );
    let (ok, out, err) = admin_command(
        &database,
        &["import", "departments", "departments.csv"],
        None,
    );
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("3 rows: 3 created, 0 updated, 0 unchanged"),
        "{out}"
    );
    // Generated passwords go to a file only its owner may read, never to the terminal.
    let (ok, out, err) = admin_command(
        &database,
        &[
            "import",
            "users",
            "users.xlsx",
            "--passwords-file",
            "new-passwords.csv",
            "--json",
        ],
        None,
    );
    assert!(ok, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["created"], 5);
    assert!(report.get("generated_passwords").is_none());
    let passwords = dir.join("new-passwords.csv");
    let mode = std::fs::metadata(&passwords).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&passwords).unwrap();
    let line = text.lines().nth(1).unwrap();
    let zhao_password = line.strip_prefix("3,zhao.min,").unwrap().to_string();
    assert!(!out.contains(&zhao_password) && !err.contains(&zhao_password));
    // A bad file: each row named, exit status failure, nothing imported.
    std::fs::write(
        dir.join("bad.csv"),
        "项目代码,项目名称,阶段\nP-1,一号,在建\nP-2,,开工\n",
    )
    .unwrap();
    let (ok, out, err) = admin_command(&database, &["import", "projects", "bad.csv"], None);
    assert!(!ok);
    assert!(err.contains("第 3 行 row 3 · name"), "{err}");
    assert!(err.contains("第 3 行 row 3 · stage"), "{err}");
    assert!(!out.contains("created"), "{out}");
    let (ok, out, err) = admin_command(&database, &["import", "projects", "projects.csv"], None);
    assert!(ok, "{out}{err}");
    assert!(out.contains("columns ignored: 序号"), "{out}");

    // Users by hand: one made with a password from standard input, one reset, one deactivated.
    let (ok, out, err) = admin_command(
        &database,
        &[
            "create-user",
            "--username",
            "ZRZY.Clerk",
            "--display-name",
            "钱科员",
            "--role",
            "科员",
            "--department",
            "zrzy",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("created user zrzy.clerk") && !out.contains("password"),
        "{out}"
    );
    let (ok, out, _) = admin_command(&database, &["reset-password", "wang.li"], None);
    assert!(ok);
    let new_password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap()
        .to_string();
    let (ok, _, err) = admin_command(&database, &["deactivate", "fgj.head"], None);
    assert!(ok, "{err}");
    let (ok, _, err) = admin_command(&database, &["deactivate", "nobody"], None);
    assert!(!ok && err.contains("no user is called"), "{err}");
    let (ok, out, _) = admin_command(&database, &["check"], None);
    assert!(ok, "{out}");
    assert!(
        out.contains("ok    database") && out.contains("ok    storage"),
        "{out}"
    );

    // The service starts on what the commands made.
    let app = TestApp::spawn_with(db, |s| s.database_url = database.url.clone()).await;
    app.login("zrzy.clerk", PASSWORD).await.assert_status(200);
    app.login("zhao.min", &zhao_password)
        .await
        .assert_status(200);
    app.login("wang.li", PASSWORD).await.assert_status(401);
    app.login("wang.li", &new_password).await.assert_status(200);
    app.login("fgj.head", PASSWORD).await.assert_status(401);
    let admin = app.token("admin", ADMIN_PASSWORD).await;
    let projects = app.get("/api/v1/projects", &admin).await;
    assert_eq!(
        projects.assert_status(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
