//! Operations with `observer-desk admin`: backups taken while the county works, restores,
//! exports of a period, and the move from SQLite to PostgreSQL.

use std::cell::Cell;
use std::rc::Rc;

use observer_desk::db::copy;
use observer_desk::db::{Db as Database, DbConn};
use serde_json::{Value, json};

use crate::attachments::{form, png, upload};
use crate::county::County;
use crate::helpers::{Db, PASSWORD, TestApp, TestDatabase, admin_command, admin_command_on};
use crate::on_both_databases;

on_both_databases!(
    a_backup_taken_under_write_load_restores_to_what_the_source_held_at_that_moment,
    an_export_of_a_period_holds_what_was_made_in_it,
    the_operations_know_every_table_the_migrations_make,
);

/// The export of the database at `url`, one line per row, sorted.
fn export_lines(url: &str) -> Vec<String> {
    let db = Database::connect(url, 1).unwrap();
    let mut out = Vec::new();
    observer_desk::operations::export_to(&mut db.connection().unwrap(), None, &mut out).unwrap();
    let mut lines: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

fn rows_of<'a>(lines: &'a [String], table: &str) -> Vec<&'a String> {
    let prefix = format!("{{\"table\":\"{table}\",");
    lines.iter().filter(|l| l.starts_with(&prefix)).collect()
}

fn issue_id(line: &str) -> i64 {
    let v: Value = serde_json::from_str(line).unwrap();
    v["row"]["id"].as_i64().unwrap()
}

async fn a_backup_taken_under_write_load_restores_to_what_the_source_held_at_that_moment(db: Db) {
    let c = County::new(db).await;
    let dir = c.app.data_dir().parent().unwrap().to_path_buf();
    let url = c.app.database_url().to_string();
    let backup = dir.join("backup-1");
    if db == Db::Postgres {
        let (ok, _, err) =
            admin_command_on(&url, &dir, &["backup", backup.to_str().unwrap()], None);
        assert!(!ok);
        assert!(err.contains("pg_dump"), "{err}");
        return;
    }
    let first = c.file("备份之前的问题").await;
    let photo = png();
    let r = upload(
        &c,
        &c.obs1,
        first,
        form("现场.png", "image/png", &photo, &[]),
        &[],
    )
    .await;
    let attachment = r.assert_status(201)["id"].as_i64().unwrap();

    // Observers keep filing while the backup is taken.
    let stop = Rc::new(Cell::new(false));
    let filed = Rc::new(Cell::new(1u64));
    let c = Rc::new(c);
    let load = {
        let (c, stop, filed) = (c.clone(), stop.clone(), filed.clone());
        actix_web::rt::spawn(async move {
            while !stop.get() {
                let r = c
                    .file_as(&c.obs1, json!({ "project_id": c.project_p, "category": "approval_delay", "title": "备份期间的问题", "description": "备份时提交" }))
                    .await;
                r.assert_status(201);
                filed.set(filed.get() + 1);
            }
        })
    };
    let started = std::time::Instant::now();
    while filed.get() < 10 {
        assert!(
            !load.is_finished() && started.elapsed().as_secs() < 60,
            "the filings stopped"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let before = filed.get();
    let (u, d, b) = (url.clone(), dir.clone(), backup.clone());
    let (ok, out, err) = actix_web::rt::task::spawn_blocking(move || {
        admin_command_on(&u, &d, &["backup", b.to_str().unwrap()], None)
    })
    .await
    .unwrap();
    let after = filed.get();
    stop.set(true);
    load.await.unwrap();
    assert!(ok, "{out}{err}");
    assert!(out.contains("1 attachment files"), "{out}");
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(backup.join("manifest.json"))
            .unwrap()
            .permissions()
            .mode()
    };
    assert_eq!(mode & 0o077, 0);

    // The backup holds one moment: every issue filed before it, none half-written.
    let copy_url = format!("sqlite://{}", backup.join("database.sqlite3").display());
    let in_backup = export_lines(&copy_url);
    let backed_issues = rows_of(&in_backup, "issues");
    let n = backed_issues.len() as u64;
    assert!(
        (before..=after).contains(&n),
        "{before} ≤ {n} ≤ {after} (filed before, in, after the backup)"
    );
    assert_eq!(rows_of(&in_backup, "issue_clocks").len() as u64, n);
    // And exactly what the source held then: its first issues, as they were.
    let source = export_lines(&url);
    let max_id = backed_issues.iter().map(|l| issue_id(l)).max().unwrap();
    let source_then: Vec<&String> = rows_of(&source, "issues")
        .into_iter()
        .filter(|l| issue_id(l) <= max_id)
        .collect();
    assert_eq!(source_then, backed_issues);
    assert!(rows_of(&source, "issues").len() as u64 > n || after == n);

    // Restored into a new installation, the database equals the backup and the photo is there.
    let target = TestDatabase::new(Db::Sqlite);
    let (ok, out, err) = admin_command(&target, &["restore", backup.to_str().unwrap()], None);
    assert!(ok, "{out}{err}");
    assert!(out.contains("1 attachment files"), "{out}");
    assert_eq!(export_lines(&target.url), in_backup);
    let restored = TestApp::spawn_with(Db::Sqlite, |s| {
        s.database_url = target.url.clone();
        s.data_dir = target.dir().join("data");
    })
    .await;
    let token = restored.token("obs1", PASSWORD).await;
    let r = restored
        .get(&format!("/api/v1/attachments/{attachment}"), &token)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.bytes.len(), photo.len());
    // A restore over a working database puts the backup back and keeps nothing newer.
    let (ok, _, err) = admin_command_on(&url, &dir, &["restore", backup.to_str().unwrap()], None);
    assert!(ok, "{err}");
    assert_eq!(export_lines(&url), in_backup);
    // A damaged backup is refused and changes nothing.
    std::fs::write(
        backup.join("manifest.json"),
        std::fs::read_to_string(backup.join("manifest.json"))
            .unwrap()
            .replacen("\"rows\": ", "\"rows\": 1", 1),
    )
    .unwrap();
    let (ok, _, err) = admin_command(&target, &["restore", backup.to_str().unwrap()], None);
    assert!(!ok && err.contains("damaged"), "{err}");
    // A backup never overwrites a folder.
    let (ok, _, err) = admin_command_on(&url, &dir, &["backup", backup.to_str().unwrap()], None);
    assert!(!ok && err.contains("exists already"), "{err}");
}

async fn an_export_of_a_period_holds_what_was_made_in_it(db: Db) {
    let c = County::new(db).await;
    for i in 0..3 {
        c.file(&format!("导出的问题 {i}")).await;
    }
    let dir = c.app.data_dir().parent().unwrap().to_path_buf();
    let url = c.app.database_url().to_string();
    let today = (chrono::Utc::now() + chrono::TimeDelta::hours(8))
        .date_naive()
        .to_string();
    let run = |name: &str, args: &[&str]| -> Vec<Value> {
        let path = dir.join(name);
        let mut all = vec!["export", path.to_str().unwrap()];
        all.extend_from_slice(args);
        let (ok, out, err) = admin_command_on(&url, &dir, &all, None);
        assert!(ok, "{out}{err}");
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&path).unwrap().permissions().mode()
        };
        assert_eq!(mode & 0o777, 0o600);
        std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let count = |lines: &[Value], table: &str| lines.iter().filter(|l| l["table"] == table).count();
    let everything = run("all.jsonl", &[]);
    assert_eq!(count(&everything, "issues"), 3);
    assert_eq!(count(&everything, "departments"), 2);
    let this_day = run("today.jsonl", &["--from", &today, "--until", &today]);
    assert_eq!(count(&this_day, "issues"), 3);
    let long_ago = run(
        "2020.jsonl",
        &["--from", "2020-01-01", "--until", "2020-12-31"],
    );
    assert_eq!(count(&long_ago, "issues"), 0);
    assert_eq!(count(&long_ago, "departments"), 0);
    // Lists that do not record when a row was made come whole.
    assert_eq!(
        count(&long_ago, "project_observers"),
        count(&everything, "project_observers")
    );
    // Never over an existing file.
    let (ok, _, _) = admin_command_on(
        &url,
        &dir,
        &["export", dir.join("all.jsonl").to_str().unwrap()],
        None,
    );
    assert!(!ok);
}

async fn the_operations_know_every_table_the_migrations_make(db: Db) {
    let database = TestDatabase::new(db);
    let handle = Database::connect(&database.url, 1).unwrap();
    handle.migrate().unwrap();
    let mut conn = handle.connection().unwrap();
    copy::check_tables(&mut conn).unwrap();
    assert!(matches!(
        (db, &conn),
        (Db::Sqlite, DbConn::Sqlite(_)) | (Db::Postgres, DbConn::Pg(_))
    ));
}

#[actix_web::test]
async fn a_county_moves_from_sqlite_to_postgresql_with_every_issue_clock_and_notification() {
    if !crate::helpers::postgres_available() {
        return;
    }
    let c = County::new(Db::Sqlite).await;
    let dir = c.app.data_dir().parent().unwrap().to_path_buf();
    let url = c.app.database_url().to_string();
    let mut last = 0;
    for i in 0..5 {
        last = c.file(&format!("迁移前的问题 {i}")).await;
    }
    c.step(&c.staff_a, last, json!({ "action": "acknowledge" }))
        .await;
    let before = c.issue(&c.obs1, last).await;
    let number = before.body["number"].as_str().unwrap().to_string();
    let source = export_lines(&url);

    let target = TestDatabase::new(Db::Postgres);
    let (ok, out, err) = admin_command_on(&url, &dir, &["migrate-to", &target.url], None);
    assert!(ok, "{out}{err}");
    assert!(out.contains("every table's rows and digest match"), "{out}");
    assert_eq!(export_lines(&target.url), source);
    // A second move into the same database is refused: it is no longer empty.
    let (ok, _, err) = admin_command_on(&url, &dir, &["migrate-to", &target.url], None);
    assert!(!ok && err.contains("not empty"), "{err}");

    // The service starts on PostgreSQL where SQLite left off.
    let moved = TestApp::spawn_with(Db::Postgres, |s| {
        s.database_url = target.url.clone();
        s.data_dir = dir.join("data");
    })
    .await;
    let obs1 = moved.token("obs1", PASSWORD).await;
    let same = moved.get(&format!("/api/v1/issues/{last}"), &obs1).await;
    assert_eq!(same.assert_status(200)["number"], number.as_str());
    assert_eq!(same.body["status"], before.body["status"]);
    for clock in ["acknowledge", "resolve"] {
        for field in ["due_at", "state"] {
            assert_eq!(
                same.body["sla"][clock][field],
                before.body["sla"][clock][field]
            );
        }
    }
    let feed = moved.get("/api/v1/notifications", &obs1).await;
    assert!(
        !feed.assert_status(200)["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = moved
        .post(
            "/api/v1/issues",
            Some(&obs1),
            json!({ "project_id": c.project_p, "category": "approval_delay", "title": "迁移之后的问题", "description": "迁移后提交" }),
        )
        .await;
    let new = r.assert_status(201);
    assert_eq!(new["id"].as_i64().unwrap(), last + 1);
    let (year, seq) = number.split_once('-').unwrap();
    let next = format!("{year}-{:06}", seq.parse::<i64>().unwrap() + 1);
    assert_eq!(new["number"], next.as_str());
}
