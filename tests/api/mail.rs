//! Email through a real SMTP server started by the test: the right people, the right
//! language, and nothing lost or doubled while the mail server is down.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use observer_desk::config::Secret;
use serde_json::json;

use crate::county::County;
use crate::helpers::Db;
use crate::on_both_databases;
use crate::smtp::SmtpSink;

on_both_databases!(
    mail_reaches_the_right_people_and_survives_a_mail_server_outage,
    a_message_nobody_can_take_is_dead_lettered,
    without_an_smtp_server_mail_is_written_to_the_data_folder,
    a_hanging_mail_server_never_holds_up_a_request,
    two_instances_send_each_message_once,
    every_mail_has_its_own_message_id_and_mail_about_one_issue_is_one_thread,
);

async fn two_instances_send_each_message_once(db: Db) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = SmtpSink::start(0, received.clone()).await;
    let c = county_with_mail(db, &sink, 12).await;
    let other = c.app.sibling().await;
    set_email(&c, &c.staff_a, "staff-a@pinglu.gov.cn", "zh-CN", true).await;
    set_email(&c, &c.head_a, "head-a@pinglu.gov.cn", "zh-CN", true).await;
    for i in 0..8 {
        c.file(&format!("twice? {i}")).await;
    }
    wait_for_mail(&sink, 16).await;
    actix_web::rt::time::sleep(Duration::from_millis(600)).await;
    let mails = sink.messages();
    assert_eq!(
        mails.len(),
        16,
        "two workers, each message once: {}",
        mails.len()
    );
    let mut subjects: Vec<(Vec<String>, String)> =
        mails.iter().map(|m| (m.to.clone(), m.subject())).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 16, "no message arrived twice");
    other.stop(true).await;
    sink.stop();
}

async fn a_hanging_mail_server_never_holds_up_a_request(db: Db) {
    // A "mail server" that accepts connections and never says a word.
    let listener = actix_web::rt::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let hang = actix_web::rt::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let c = County::new_with(db, move |s| {
        s.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{port}")));
        s.delivery_tick = Duration::from_millis(50);
    })
    .await;
    set_email(&c, &c.staff_a, "staff-a@pinglu.gov.cn", "zh-CN", true).await;
    c.file("first, while the worker connects").await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    // The worker is stuck on the silent server; filing and reading go on regardless.
    for i in 0..5 {
        let id = c.file(&format!("filed {i}")).await;
        c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
            .await;
    }
    let queued = observer_desk::db::Db::connect(c.app.database_url(), 1)
        .unwrap()
        .read(|conn| {
            Ok(observer_desk::db::deliveries::for_target(
                conn,
                "staff-a@pinglu.gov.cn",
            )?)
        })
        .await
        .unwrap();
    assert_eq!(queued.len(), 6, "each filing queued its mail");
    assert!(
        queued.iter().all(|d| d.state == "pending"),
        "nothing could be sent"
    );
    hang.abort();
}

async fn without_an_smtp_server_mail_is_written_to_the_data_folder(db: Db) {
    let c = County::new_with(db, |s| s.delivery_tick = Duration::from_millis(100)).await;
    set_email(&c, &c.staff_a, "staff-a@pinglu.gov.cn", "zh-CN", true).await;
    c.file("to a file").await;
    let dir = c.app.data_dir().join("mail");
    // Watched closely, and read the moment it appears: the file is whole by then (it is
    // written elsewhere and renamed in), so whatever picks up the folder never reads half.
    let mut files = Vec::new();
    let mut eml = String::new();
    for _ in 0..10_000 {
        files = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if let Some(file) = files.first() {
            eml = std::fs::read_to_string(file).unwrap();
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(files.len(), 1, "one .eml in {}", dir.display());
    assert!(
        decoded_text(&eml).contains("</html>"),
        "read half-written: {eml:?}"
    );
    assert!(files[0].extension().is_some_and(|e| e == "eml"));
    assert!(eml.contains("To: staff-a@pinglu.gov.cn"), "{eml}");
    assert!(eml.contains("text/html") && eml.contains("text/plain"));
}

/// The value of a header in a raw message.
fn header_of(eml: &str, name: &str) -> Option<String> {
    eml.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::to_string)
}

async fn every_mail_has_its_own_message_id_and_mail_about_one_issue_is_one_thread(db: Db) {
    let c = County::new_with(db, |s| s.delivery_tick = Duration::from_millis(100)).await;
    set_email(&c, &c.staff_a, "staff-a@pinglu.gov.cn", "zh-CN", true).await;
    let first = c.file("first thread").await;
    c.step(
        &c.sup,
        first,
        json!({ "action": "chase", "comment": "请尽快" }),
    )
    .await;
    c.file("second thread").await;
    let dir = c.app.data_dir().join("mail");
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        if mails.len() >= 3 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(mails.len(), 3);
    let ids: BTreeSet<String> = mails
        .iter()
        .map(|m| header_of(m, "Message-ID").expect("a Message-ID"))
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(
        ids.iter()
            .all(|id| id.starts_with('<') && id.ends_with("@observer-desk.local>"))
    );
    let threads: Vec<(String, String)> = mails
        .iter()
        .map(|m| {
            (
                header_of(m, "In-Reply-To").unwrap(),
                header_of(m, "References").unwrap(),
            )
        })
        .collect();
    assert!(threads.iter().all(|(r, refs)| r == refs));
    let distinct: BTreeSet<&String> = threads.iter().map(|(r, _)| r).collect();
    assert_eq!(distinct.len(), 2, "two issues, two threads: {threads:?}");
    assert!(distinct.iter().all(|t| !ids.contains(*t)));
}

async fn county_with_mail(db: Db, sink: &SmtpSink, max_attempts: u32) -> County {
    let port = sink.port;
    County::new_with(db, move |s| {
        s.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{port}")));
        s.delivery_tick = Duration::from_millis(100);
        s.delivery_backoff = Duration::from_millis(200);
        s.delivery_max_attempts = max_attempts;
    })
    .await
}

async fn set_email(c: &County, token: &str, email: &str, locale: &str, notify: bool) {
    let id = c.app.get("/api/v1/me", token).await.body["id"]
        .as_i64()
        .unwrap();
    c.app
        .patch(
            &format!("/api/v1/users/{id}"),
            &c.admin,
            json!({ "email": email, "locale": locale, "notify_email": notify }),
        )
        .await
        .assert_status(200);
}

async fn wait_for_mail(sink: &SmtpSink, n: usize) {
    for _ in 0..150 {
        if sink.messages().len() >= n {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn mail_reaches_the_right_people_and_survives_a_mail_server_outage(db: Db) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = SmtpSink::start(0, received.clone()).await;
    let c = county_with_mail(db, &sink, 12).await;
    set_email(&c, &c.staff_a, "staff-a@pinglu.gov.cn", "zh-CN", true).await;
    set_email(&c, &c.head_a, "head-a@pinglu.gov.cn", "en", true).await;
    set_email(&c, &c.staff_b, "staff-b@pinglu.gov.cn", "zh-CN", false).await;

    c.file("first").await;
    wait_for_mail(&sink, 2).await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 2, "{mails:?}");
    let to_staff = mails
        .iter()
        .find(|m| m.to == ["staff-a@pinglu.gov.cn"])
        .expect("mail to the clerk");
    let to_head = mails
        .iter()
        .find(|m| m.to == ["head-a@pinglu.gov.cn"])
        .expect("mail to the head");
    assert!(
        to_staff.subject().contains("新派单"),
        "{}",
        to_staff.subject()
    );
    assert!(
        to_head.subject().starts_with("New issue"),
        "{}",
        to_head.subject()
    );
    // The body names the issue, its status and deadline, and links to it.
    let plain = decoded_text(&to_head.data);
    assert!(
        plain.contains("Status: assigned")
            && plain.contains("Resolve by: 20")
            && plain.contains("/api/v1/issues/"),
        "{plain}"
    );

    // The mail server goes down; work goes on.
    sink.stop();
    c.file("second").await;
    let third = c.file("third").await;
    actix_web::rt::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        sink.messages().len(),
        2,
        "nothing can arrive while it is down"
    );
    // It comes back on the same address: everything arrives, once, in order.
    let sink = SmtpSink::start(sink.port, received.clone()).await;
    wait_for_mail(&sink, 6).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let mails = sink.messages();
    assert_eq!(
        mails.len(),
        6,
        "{:?}",
        mails.iter().map(|m| m.subject()).collect::<Vec<_>>()
    );
    for who in ["staff-a@pinglu.gov.cn", "head-a@pinglu.gov.cn"] {
        let subjects: Vec<String> = mails
            .iter()
            .filter(|m| m.to == [who])
            .map(|m| m.subject())
            .collect();
        assert_eq!(subjects.len(), 3, "{who}: {subjects:?}");
        // The issue number, `YYYY-NNNNNN`, is in every subject.
        let seq: Vec<u32> = subjects
            .iter()
            .map(|s| {
                let word = s
                    .split(|c: char| !(c.is_ascii_digit() || c == '-'))
                    .find(|w| w.len() == 11 && w.as_bytes()[4] == b'-')
                    .unwrap();
                word[5..].parse().unwrap()
            })
            .collect();
        assert_eq!(seq, vec![1, 2, 3], "{who} gets them in order, once each");
    }
    // staff B turned email off: the feed only.
    c.step(
        &c.sup,
        third,
        json!({ "action": "transfer", "department_id": c.dept_b }),
    )
    .await;
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    assert!(
        sink.messages()
            .iter()
            .all(|m| m.to != ["staff-b@pinglu.gov.cn"])
    );
    assert!(
        c.app.get("/api/v1/notifications", &c.staff_b).await.body["unread_count"]
            .as_i64()
            .unwrap()
            >= 1
    );
    sink.stop();
}

async fn a_message_nobody_can_take_is_dead_lettered(db: Db) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = SmtpSink::start(0, received.clone()).await;
    let c = county_with_mail(db, &sink, 3).await;
    set_email(&c, &c.staff_a, "staff-a@pinglu.gov.cn", "zh-CN", true).await;
    sink.stop();
    c.file("undeliverable").await;
    let store = observer_desk::db::Db::connect(c.app.database_url(), 1).unwrap();
    let mut state = String::new();
    for _ in 0..100 {
        let rows = store
            .read(|conn| {
                Ok(observer_desk::db::deliveries::for_target(
                    conn,
                    "staff-a@pinglu.gov.cn",
                )?)
            })
            .await
            .unwrap();
        let row = rows.first().expect("a delivery was queued");
        state = row.state.clone();
        if state == "dead" {
            assert_eq!(row.attempts, 3);
            assert!(row.last_error.as_deref().is_some_and(|e| !e.is_empty()));
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "dead");
}

/// The text parts of a message, with base64 parts decoded (enough for these assertions).
pub(crate) fn decoded_text(data: &str) -> String {
    use base64::Engine;
    let mut out = data.to_string();
    let mut block = String::new();
    for line in data.lines() {
        if !line.is_empty()
            && line.len() % 4 == 0
            && line
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=')
        {
            block.push_str(line);
        } else if !block.is_empty() {
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&block) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
            block.clear();
        }
    }
    out.replace("=\n", "")
}
