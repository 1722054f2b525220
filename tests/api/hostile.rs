//! Hostile input, each answered with a clear 4xx and nothing stored (a body over the cap is
//! refused on its declared length, before any of it is read):
//! huge and deep bodies, bytes that are not text, numbers past i64, control bytes, SQL and
//! script fragments, path tricks and bombs as uploads, and a flood of forged tokens.

use std::io::Read;
use std::time::Duration;

use serde_json::{Value, json};

use crate::attachments::{early_answer, form, jpeg, png, stored_files, upload};
use crate::county::County;
use crate::helpers::Db;
use crate::on_both_databases;

on_both_databases!(
    a_hundred_megabyte_body_is_refused_on_every_write_route_before_it_is_read,
    deep_broken_and_out_of_range_json_is_a_clear_4xx_and_writes_nothing,
    sql_and_script_fragments_are_stored_verbatim_and_escaped_in_mail,
    control_bytes_in_a_header_are_refused_before_any_handler,
    hostile_uploads_are_refused_and_leave_nothing_behind,
    ten_thousand_forged_or_expired_tokens_are_all_refused,
);

/// What a county's lists and one issue's timeline hold, to prove nothing was written.
async fn snapshot(c: &County, issue: i64) -> String {
    let mut all = String::new();
    for path in [
        "/api/v1/users?limit=200",
        "/api/v1/departments?limit=200",
        "/api/v1/projects?limit=200",
        "/api/v1/issues?limit=200",
        "/api/v1/routing-rules",
        "/api/v1/sla-policies",
    ] {
        let mut list = c.app.get(path, &c.admin).await.body.clone();
        if let Some(o) = list.as_object_mut() {
            o.remove("next_updated_since");
        }
        all.push_str(&list.to_string());
    }
    all.push_str(
        &c.app
            .get(&format!("/api/v1/issues/{issue}/events"), &c.admin)
            .await
            .text,
    );
    all
}

fn routes(c: &County, issue: i64) -> Vec<(&'static str, String, Value)> {
    let mut all =
        crate::bad_input::write_routes(c.dept_a, c.obs1_id, c.project_p, c.milestone_m, issue);
    all.push((
        "PUT",
        "/api/v1/sla-policies".into(),
        json!([{ "category": "other", "priority": "normal", "ack_minutes": 60, "resolve_minutes": 600, "warn_percent": 80, "auto_close_days": 5 }]),
    ));
    all.push((
        "POST",
        "/api/v1/auth/login".into(),
        json!({ "username": "a", "password": "b" }),
    ));
    all
}

async fn a_hundred_megabyte_body_is_refused_on_every_write_route_before_it_is_read(db: Db) {
    let c = County::new(db).await;
    let issue = c.file("huge").await;
    let before = snapshot(&c, issue).await;
    let addr = c.app.address.trim_start_matches("http://").to_string();
    let first_megabyte = vec![b' '; 1024 * 1024];
    for (method, path, _) in routes(&c, issue) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            c.admin,
            100 * 1024 * 1024
        );
        let (a, h, body) = (addr.clone(), head, first_megabyte.clone());
        let answer = actix_web::rt::task::spawn_blocking(move || early_answer(&a, h, &body))
            .await
            .unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "{method} {path}: {}",
            answer.lines().next().unwrap_or("")
        );
    }
    assert_eq!(snapshot(&c, issue).await, before);
}

async fn deep_broken_and_out_of_range_json_is_a_clear_4xx_and_writes_nothing(db: Db) {
    let c = County::new(db).await;
    let issue = c.file("deep").await;
    let before = snapshot(&c, issue).await;
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    for (method, path, valid) in routes(&c, issue) {
        let send = |raw: Vec<u8>| {
            let (c, path) = (&c, path.clone());
            async move {
                c.app
                    .send_bytes(
                        method,
                        &path,
                        Some(&c.admin),
                        &[],
                        Some(("application/json".into(), raw)),
                    )
                    .await
            }
        };
        for raw in [deep_array.clone(), deep_object.clone()] {
            send(raw.into_bytes())
                .await
                .assert_problem(400, "malformed_json");
        }
        // Bytes that are not UTF-8, inside a string and bare.
        send(b"{\"name\": \"\xff\xfe\"}".to_vec())
            .await
            .assert_problem(400, "malformed_json");
        send(b"\xc3\x28".to_vec())
            .await
            .assert_problem(400, "malformed_json");
        // Every field: a number past i64, and a string with a NUL.
        if let Some(fields) = valid.as_object() {
            for key in fields.keys() {
                for bad in [
                    json!(99999999999999999999999u128 as f64),
                    json!("nul\u{0}byte"),
                ] {
                    let mut body = valid.clone();
                    body[key] = bad.clone();
                    let r = send(body.to_string().into_bytes()).await;
                    assert!(
                        (400..500).contains(&r.status) && r.status != 404,
                        "{method} {path} {key}={bad}: {} {}",
                        r.status,
                        r.text
                    );
                    assert_eq!(
                        r.header("content-type").as_deref(),
                        Some("application/problem+json")
                    );
                }
            }
        }
    }
    assert_eq!(snapshot(&c, issue).await, before);
}

async fn sql_and_script_fragments_are_stored_verbatim_and_escaped_in_mail(db: Db) {
    let c = County::new_with(db, |s| s.delivery_tick = Duration::from_millis(100)).await;
    c.app
        .patch(
            &format!("/api/v1/users/{}", c.staff_a_id),
            &c.admin,
            json!({ "email": "staff-a@pinglu.gov.cn" }),
        )
        .await
        .assert_status(200);
    let title = "'; DROP TABLE issues; -- <script>alert(1)</script>";
    let description = "\" OR 1=1 --\n<img src=x onerror=alert(1)>\n${7*7} {{7*7}} %s %n";
    let r = c
        .file_as(
            &c.obs1,
            json!({ "project_id": c.project_p, "category": "other", "title": title, "description": description }),
        )
        .await;
    let id = r.assert_status(201)["id"].as_i64().unwrap();
    let back = c.issue(&c.staff_a, id).await.body;
    assert_eq!(back["title"], title);
    assert_eq!(back["description"], description);
    let listed = c.app.get("/api/v1/issues?limit=200", &c.staff_a).await.body;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["title"] == title)
    );
    // The mail to the department: the HTML part carries the title escaped, never as markup.
    let dir = c.app.data_dir().join("mail");
    // A message appears in the mail folder whole (written elsewhere, renamed in): read it
    // the moment it is there.
    let mut decoded = String::new();
    for _ in 0..100 {
        if let Some(f) = std::fs::read_dir(&dir)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok)
        {
            decoded = crate::mail::decoded_text(&std::fs::read_to_string(f.path()).unwrap());
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let html = decoded
        .split_once("<!doctype html>")
        .map(|(_, h)| h)
        .unwrap_or_else(|| panic!("no HTML part: {decoded}"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    // The plain part carries the title as written.
    assert!(decoded.contains(title), "{decoded}");
}

async fn control_bytes_in_a_header_are_refused_before_any_handler(db: Db) {
    let c = County::new(db).await;
    let addr = c.app.address.trim_start_matches("http://").to_string();
    for header in [
        "X-Note: a\0b",
        "Authorization: Bearer a\0b",
        "Idempotency-Key: \x7f\x01",
    ] {
        let head = format!("GET /api/v1/me HTTP/1.1\r\nHost: {addr}\r\n{header}\r\n\r\n");
        let a = addr.clone();
        let answer = actix_web::rt::task::spawn_blocking(move || early_answer(&a, head, b""))
            .await
            .unwrap();
        let status: u16 = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        assert!((400..500).contains(&status), "{header:?}: {answer}");
    }
    // The server is still up.
    c.app.get("/api/v1/me", &c.obs1).await.assert_status(200);
}

/// A zip archive whose one entry inflates 1 MiB of zeros from a thousand bytes.
fn zip_bomb() -> Vec<u8> {
    let mut z = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
    z.extend(std::iter::repeat_n(0u8, 16));
    z.extend(b"\x05\x00\x00\x00zeros");
    z.extend(std::iter::repeat_n(0x00, 1000));
    z.extend(b"PK\x05\x06");
    z.extend(std::iter::repeat_n(0u8, 18));
    z
}

async fn hostile_uploads_are_refused_and_leave_nothing_behind(db: Db) {
    let c = County::new(db).await;
    let issue = c.file("uploads").await;
    let truncated_png = png()[..200].to_vec();
    let truncated_jpeg = jpeg()[..300].to_vec();
    for (name, bytes, status) in [
        ("bomb.zip", zip_bomb(), 415),
        ("bomb.jpg", zip_bomb(), 415),
        ("cut.png", truncated_png, 415),
        ("cut.jpg", truncated_jpeg, 415),
    ] {
        let r = upload(
            &c,
            &c.obs1,
            issue,
            form(name, "image/png", &bytes, &[]),
            &[],
        )
        .await;
        assert_eq!(r.status, status, "{name}: {}", r.text);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json")
        );
    }
    assert_eq!(stored_files(&c).await, 0, "something was kept");
    // A name that climbs out of the folder is only a name.
    let r = upload(
        &c,
        &c.obs1,
        issue,
        form("../../../../etc/passwd.png", "image/png", &png(), &[]),
        &[],
    )
    .await;
    let a = r.assert_status(201).clone();
    assert_eq!(a["file_name"], "passwd.png");
    let outside = c.app.data_dir().parent().unwrap().join("etc");
    assert!(!outside.exists());
    let mut kept = String::new();
    let _ = std::fs::File::open("/etc/passwd").and_then(|mut f| f.read_to_string(&mut kept));
    assert!(!kept.contains("observer-desk"), "/etc/passwd was written");
}

async fn ten_thousand_forged_or_expired_tokens_are_all_refused(db: Db) {
    let c = County::new(db).await;
    let real = c.obs1.clone();
    let mut refused = 0;
    for batch in 0..200 {
        let tries = (0..50).map(|i| {
            let n = batch * 50 + i;
            let token = match n % 4 {
                // Forged signature on real claims.
                0 => format!("{}.{}", real.rsplit_once('.').unwrap().0, "A".repeat(43)),
                // Garbage of growing length.
                1 => "x".repeat(n % 4000 + 1),
                // alg none.
                2 => format!(
                    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
                    real.split('.').nth(1).unwrap()
                ),
                // Three parts of nonsense.
                _ => format!("{n}.{n}.{n}"),
            };
            let c = &c;
            async move { c.app.get("/api/v1/me", &token).await }
        });
        for r in futures_util::future::join_all(tries).await {
            assert_eq!(r.status, 401, "{}", r.text);
            refused += 1;
        }
    }
    assert_eq!(refused, 10_000);
    c.app.get("/api/v1/me", &c.obs1).await.assert_status(200);
}
