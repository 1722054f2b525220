//! The web app in headless Chromium: an observer on a phone-sized screen signs in, sees their
//! issues with the time left, opens one, reads the department's public reply (never its
//! internal note), replies, and stays signed in across a reload (the cookie session).
use serde_json::json;

use crate::browser::{Driver, browser};
use crate::county::County;
use crate::helpers::{Db, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    an_observer_signs_in_on_a_phone_reads_the_reply_and_answers_it,
    the_closed_loop_runs_through_the_screens_alone,
    offline_a_filing_with_a_photo_and_a_reply_wait_and_land_exactly_once_after_reopening,
);

/// Switches the browser's network off or on (Chrome DevTools Protocol network emulation).
async fn network(d: &Driver, online: bool) {
    d.cdp(
        "Network.emulateNetworkConditions",
        json!({ "offline": !online, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
    )
    .await;
}

async fn offline_a_filing_with_a_photo_and_a_reply_wait_and_land_exactly_once_after_reopening(
    db: Db,
) {
    if browser().is_none() {
        return;
    }
    let c = County::new(db).await;
    let earlier = c.file("已反映的问题").await;
    let (phone, _a) = signed_in(&c, "obs1", 375, 812).await;
    // The shell is kept by the service worker once it controls the page.
    phone
        .until(
            "the service worker",
            "return navigator.serviceWorker.controller !== null || (location.reload(), false)",
        )
        .await;
    // Seen online once: the filing form (it keeps the project list) and the earlier issue.
    let app = c.app.address.clone();
    let go = |hash: String| {
        let (phone, app) = (&phone, app.clone());
        async move { phone.open(&format!("{app}/{hash}")).await }
    };
    go("#/new".into()).await;
    phone
        .until(
            "the filing form",
            "return document.getElementById('file-form')",
        )
        .await;
    go(format!("#/issues/{earlier}")).await;
    phone
        .until(
            "the reply box",
            "return document.getElementById('reply-form')",
        )
        .await;

    // No signal: a reply, then a filing with a photo.
    network(&phone, false).await;
    phone.type_into("#reply", "现场仍未通电").await;
    phone.click("#reply-form button[type=submit]").await;
    phone
        .until(
            "the reply waiting",
            "return document.querySelector('#comments li.waiting')",
        )
        .await;
    go("#/new".into()).await;
    phone
        .until(
            "the filing form offline",
            "return document.getElementById('file-form')",
        )
        .await;
    let photo_dir = tempfile::tempdir().unwrap();
    let photo = photo_dir.path().join("site.jpg");
    image::RgbImage::from_fn(800, 600, |x, y| image::Rgb([x as u8, y as u8, 40]))
        .save(&photo)
        .unwrap();
    phone
        .script(&format!(
            "document.getElementById('project').value = '{}'; document.getElementById('category').value = 'utility_supply';",
            c.project_p
        ))
        .await;
    phone.type_into("#photos", &photo.to_string_lossy()).await;
    phone.type_into("#title", "离线反映：变压器未安装").await;
    phone.type_into("#description", "在工地，没有信号").await;
    phone.click("#file-form button[type=submit]").await;
    phone
        .until(
            "two actions waiting",
            "return document.getElementById('outbox').textContent.endsWith(' 2')",
        )
        .await;

    // The app is closed (its page closed while still offline) and opened again in a new
    // one, still without a signal.
    phone.close_and_open_a_tab().await;
    network(&phone, false).await;
    go("".into()).await;
    phone
        .until(
            "the waiting list",
            "return document.querySelectorAll('#offline li.waiting').length === 2",
        )
        .await;
    phone
        .until(
            "the count in the bar",
            "return document.getElementById('outbox').textContent.endsWith(' 2')",
        )
        .await;

    // The signal returns: both go, in order, once.
    network(&phone, true).await;
    phone
        .until("nothing waiting", "return document.getElementById('outbox').hidden && document.querySelector('#issue-list')")
        .await;
    let mine = c.app.get("/api/v1/issues?limit=200", &c.sup).await.body["items"].clone();
    let filed: Vec<_> = mine
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["title"] == "离线反映：变压器未安装")
        .collect();
    assert_eq!(filed.len(), 1, "exactly one issue");
    let new_id = filed[0]["id"].as_i64().unwrap();
    let files = c
        .app
        .get(&format!("/api/v1/issues/{new_id}/attachments"), &c.sup)
        .await;
    assert_eq!(
        files.body["items"].as_array().unwrap().len(),
        1,
        "exactly one photo"
    );
    let replies = c
        .app
        .get(&format!("/api/v1/issues/{earlier}/comments"), &c.sup)
        .await;
    let same: Vec<_> = replies.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["body"] == "现场仍未通电")
        .collect();
    assert_eq!(same.len(), 1, "exactly one reply");
    phone.quit().await;
}

/// A browser at `width`×`height`, signed in to the app as `username`.
async fn signed_in(
    c: &County,
    username: &str,
    width: u32,
    height: u32,
) -> (Driver, tempfile::TempDir) {
    signed_in_with(c, username, PASSWORD, width, height).await
}

/// A browser of `width` × `height`, on the app, signed in as `username`.
pub(crate) async fn signed_in_with(
    c: &County,
    username: &str,
    password: &str,
    width: u32,
    height: u32,
) -> (Driver, tempfile::TempDir) {
    let (driver, browser) = browser().expect("a browser");
    let downloads = tempfile::tempdir().unwrap();
    let d = Driver::start(&driver, &browser, downloads.path()).await;
    d.window_size(width, height).await;
    d.open(&format!("{}/", c.app.address)).await;
    d.until(
        "the sign-in form",
        "return document.getElementById('signin')",
    )
    .await;
    d.type_into("#username", username).await;
    d.type_into("#password", password).await;
    d.click("#signin").await;
    d.until(
        "the list",
        "return document.querySelector('main section h1')",
    )
    .await;
    (d, downloads)
}

async fn the_closed_loop_runs_through_the_screens_alone(db: Db) {
    if browser().is_none() {
        return;
    }
    let c = County::new(db).await;
    // The observer, on a phone, files.
    let (phone, _a) = signed_in(&c, "obs1", 375, 812).await;
    phone.click("#new-issue").await;
    phone
        .until(
            "the filing form",
            "return document.getElementById('file-form')",
        )
        .await;
    assert_eq!(
        phone.accessibility_violations().await,
        Vec::<String>::new(),
        "the filing form"
    );
    phone
        .script(&format!(
            "const s = document.getElementById('project'); s.value = '{}'; s.dispatchEvent(new Event('change')); \
             document.getElementById('category').value = 'utility_supply';",
            c.project_p
        ))
        .await;
    // The milestone the trouble is about, and where the observer stands (they allow it).
    phone
        .until(
            "the project's milestones",
            &format!(
                "return document.querySelector('#milestone option[value=\"{}\"]')",
                c.milestone_m
            ),
        )
        .await;
    phone
        .script(&format!(
            "document.getElementById('milestone').value = '{}'",
            c.milestone_m
        ))
        .await;
    phone
        .cdp(
            "Browser.grantPermissions",
            json!({ "permissions": ["geolocation"], "origin": c.app.address }),
        )
        .await;
    phone
        .cdp(
            "Emulation.setGeolocationOverride",
            json!({ "latitude": 35.1, "longitude": 111.2, "accuracy": 10 }),
        )
        .await;
    phone.click("#position").await;
    phone
        .until(
            "the position taken",
            "return document.getElementById('position-note').textContent",
        )
        .await;
    // A photo straight from a camera: 3000×2000, to be made smaller on the phone.
    let photo_dir = tempfile::tempdir().unwrap();
    let photo = photo_dir.path().join("IMG_3001.jpg");
    image::RgbImage::from_fn(3000, 2000, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 80])
    })
    .save(&photo)
    .unwrap();
    phone.type_into("#photos", &photo.to_string_lossy()).await;
    phone.type_into("#title", "临时用电迟迟未接通").await;
    phone
        .type_into("#description", "设备已进场两周\n供电公司未回复")
        .await;
    phone.click("#file-form button[type=submit]").await;
    let id = phone
        .until(
            "the new issue's page",
            "return (location.hash.match(/^#\\/issues\\/(\\d+)$/) || [])[1]",
        )
        .await
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    phone
        .until("its title", "return document.getElementById('issue-title')")
        .await;
    let filed = c.issue(&c.sup, id).await.body;
    assert_eq!(filed["milestone_id"], c.milestone_m);
    assert_eq!(filed["location"], json!({ "lat": 35.1, "lng": 111.2 }));
    let files = c
        .app
        .get(&format!("/api/v1/issues/{id}/attachments"), &c.sup)
        .await
        .body["items"]
        .clone();
    assert_eq!(files.as_array().unwrap().len(), 1, "{files}");
    assert_eq!(files[0]["content_type"], "image/jpeg");
    assert_eq!(
        (files[0]["width"].as_i64(), files[0]["height"].as_i64()),
        (Some(2048), Some(1365)),
        "made smaller on the phone"
    );

    // The clerk, at a desk, acknowledges and resolves it with a reply, and writes an
    // internal note that is marked as one.
    // The milestone is the power connection: its department, B, has the issue.
    let (desk, _b) = signed_in(&c, "staff-b", 1280, 900).await;
    desk.until(
        "the issue in the queue",
        &format!("return document.querySelector('#issue-list li[data-id=\"{id}\"]')"),
    )
    .await;
    desk.open(&format!("{}/#/issues/{id}", c.app.address)).await;
    desk.until(
        "the acknowledge step",
        "return document.getElementById('step-acknowledge')",
    )
    .await;
    desk.until(
        "the photo's thumbnail",
        "const i = document.querySelector('#gallery img'); return i && i.complete && i.naturalWidth > 0",
    )
    .await;
    desk.click("#step-acknowledge button").await;
    desk.until(
        "the resolve step",
        "return document.getElementById('step-resolve')",
    )
    .await;
    desk.click("#internal").await;
    assert_eq!(
        desk.script("return document.getElementById('reply-form').classList.contains('internal') && !document.getElementById('internal-hint').hidden").await,
        true,
        "an internal note must look like one"
    );
    desk.type_into("#reply", "内部：已与供电公司协调").await;
    desk.click("#reply-form button[type=submit]").await;
    desk.until(
        "the note",
        "return document.querySelectorAll('#comments li.internal').length === 1",
    )
    .await;
    desk.type_into("#note-resolve", "已协调供电公司，明日通电")
        .await;
    desk.click("#step-resolve button").await;
    desk.until(
        "resolved",
        "return document.getElementById('issue-status') && document.getElementById('issue-status').textContent === '已办结'",
    )
    .await;
    desk.screenshot("app-clerk.png").await;

    // Editing the address does not reach what is not yours: an issue routed to department
    // A (the project's lead) is "not found" for department B's clerk.
    let elsewhere = c
        .file_as(
            &c.obs1,
            json!({ "project_id": c.project_p, "category": "utility_supply", "title": "甲局的问题", "description": "x" }),
        )
        .await
        .assert_status(201)["id"]
        .as_i64()
        .unwrap();
    desk.open(&format!("{}/#/issues/{elsewhere}", c.app.address))
        .await;
    let refused = desk
        .until(
            "the refusal",
            "return document.querySelector('main .error')?.textContent",
        )
        .await;
    assert_eq!(refused, "找不到该问题");
    assert!(
        !desk
            .script("return document.body.textContent")
            .await
            .as_str()
            .unwrap()
            .contains("甲局的问题")
    );

    // The observer sees the reply (not the note) and confirms with a rating.
    phone.reload().await;
    phone
        .until(
            "the confirm step",
            "return document.getElementById('step-confirm')",
        )
        .await;
    let page = phone.script("return document.body.textContent").await;
    let page = page.as_str().unwrap();
    assert!(
        page.contains("已协调供电公司，明日通电"),
        "the reply is shown"
    );
    assert!(
        !page.contains("内部：已与供电公司协调"),
        "an internal note reached the observer"
    );
    phone.click("#step-confirm input[value='4']").await;
    phone.click("#step-confirm button").await;
    phone
        .until(
            "closed",
            "return document.getElementById('issue-status') && document.getElementById('issue-status').textContent === '已闭环'",
        )
        .await;
    // The final state, through the API.
    let issue = c.issue(&c.sup, id).await.body;
    assert_eq!(issue["status"], "closed");
    assert_eq!(issue["rating"], 4);
    assert_eq!(issue["category"], "utility_supply");
    assert_eq!(issue["description"], "设备已进场两周\n供电公司未回复");

    // Nor does the observer reach, by the address, another observer's private issue on their
    // own project or an issue of a project they do not follow.
    let private = c
        .file_as(
            &c.obs2,
            json!({ "project_id": c.project_p, "category": "other", "title": "别人的私密问题", "description": "x", "private": true }),
        )
        .await
        .assert_status(201)["id"]
        .as_i64()
        .unwrap();
    let r = c
        .app
        .post(
            "/api/v1/projects",
            Some(&c.admin),
            json!({ "code": "R-01", "name": "别的项目", "observer_ids": [c.obs2_id] }),
        )
        .await;
    let unfollowed = c
        .file_as(
            &c.obs2,
            json!({ "project_id": r.assert_status(201)["id"], "category": "other", "title": "别的项目的问题", "description": "x" }),
        )
        .await
        .assert_status(201)["id"]
        .as_i64()
        .unwrap();
    let elsewhere = [private, unfollowed];
    for other in elsewhere {
        phone
            .open(&format!("{}/#/issues/{other}", c.app.address))
            .await;
        let refused = phone
            .until(
                "the refusal",
                "return document.querySelector('main .error') && document.querySelector('main .error').textContent",
            )
            .await;
        assert_eq!(refused, "找不到该问题");
        let text = phone.script("return document.body.textContent").await;
        assert!(!text.as_str().unwrap().contains("别"), "{text}");
    }
    phone.quit().await;
    desk.quit().await;
}

const HOSTILE: &str = "<img src=x onerror=alert(1)>";

async fn an_observer_signs_in_on_a_phone_reads_the_reply_and_answers_it(db: Db) {
    if browser().is_none() {
        return;
    }
    let c = County::new(db).await;
    let id = c
        .file_as(
            &c.obs1,
            json!({ "project_id": c.project_p, "category": "approval_delay", "title": HOSTILE, "description": "施工许可证迟迟未批\n已催两次" }),
        )
        .await
        .assert_status(201)["id"]
        .as_i64()
        .unwrap();
    c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await;
    for (body, internal) in [
        ("已受理，正在协调住建局", false),
        ("内部：请科长签字", true),
    ] {
        c.app
            .post(
                &format!("/api/v1/issues/{id}/comments"),
                Some(&c.staff_a),
                json!({ "body": body, "internal": internal }),
            )
            .await
            .assert_status(201);
    }

    let (d, _downloads) = signed_in(&c, "obs1", 375, 812).await;
    assert_eq!(
        d.script("return document.documentElement.lang").await,
        "zh-CN"
    );
    d.until(
        "the list",
        "return document.querySelectorAll('#issue-list li').length",
    )
    .await;
    // The title is text: shown as written, no element made of it.
    let shown = d
        .script(&format!(
            "return document.querySelector('#issue-list li[data-id=\"{id}\"] .title').textContent"
        ))
        .await;
    assert_eq!(shown, HOSTILE);
    assert_eq!(
        d.script("return document.querySelectorAll('main img').length")
            .await,
        0
    );
    let left = d
        .script(&format!(
            "return document.querySelector('#issue-list li[data-id=\"{id}\"] .left').textContent"
        ))
        .await;
    assert!(
        left.as_str()
            .is_some_and(|l| l.contains("小时") || l.contains("分钟")),
        "{left}"
    );
    // Fits a phone: nothing wider than the screen.
    let overflow = d
        .script("return document.documentElement.scrollWidth > window.innerWidth")
        .await;
    assert_eq!(overflow, false);
    d.screenshot("app-observer.png").await;
    // (axe does find what it should: an unlabelled field is serious.)
    d.script("const i = document.createElement('input'); i.id = 'probe'; document.body.append(i); return true;")
        .await;
    assert!(
        d.accessibility_violations()
            .await
            .iter()
            .any(|v| v.starts_with("label"))
    );
    d.script("document.getElementById('probe').remove(); return true;")
        .await;
    assert_eq!(
        d.accessibility_violations().await,
        Vec::<String>::new(),
        "the list"
    );

    // The issue: the public reply, never the internal note.
    d.open(&format!("{}/#/issues/{id}", c.app.address)).await;
    d.until("the replies", "return document.getElementById('comments')")
        .await;
    assert_eq!(
        d.script("return document.getElementById('issue-title').textContent")
            .await,
        HOSTILE
    );
    let replies = d
        .script("return [...document.querySelectorAll('#comments .body')].map(b => b.textContent)")
        .await;
    assert_eq!(replies, json!(["已受理，正在协调住建局"]));
    let page = d.script("return document.body.textContent").await;
    assert!(
        !page.as_str().unwrap().contains("请科长签字"),
        "an internal note reached the observer"
    );
    assert_eq!(
        d.accessibility_violations().await,
        Vec::<String>::new(),
        "the issue page"
    );
    // A reply, with a line break.
    d.type_into("#reply", "好的，谢谢\n明天再去现场").await;
    d.click("#reply-form button[type=submit]").await;
    d.until(
        "the reply on the page",
        "return document.querySelectorAll('#comments li').length === 2",
    )
    .await;
    let stored = c
        .app
        .get(&format!("/api/v1/issues/{id}/comments"), &c.staff_a)
        .await;
    let bodies: Vec<&str> = stored.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert!(bodies.contains(&"好的，谢谢\n明天再去现场"), "{bodies:?}");

    // Reloaded: still signed in, by the cookie alone; page script never saw a refresh token.
    d.reload().await;
    d.until(
        "the issue again",
        "return document.getElementById('comments')",
    )
    .await;
    let readable = d.script("return document.cookie").await;
    assert!(
        !readable.as_str().unwrap_or("").contains("od_refresh"),
        "{readable}"
    );
    let stored_secrets = d
        .script("return JSON.stringify(Object.assign({}, localStorage, sessionStorage))")
        .await;
    assert!(
        !stored_secrets.as_str().unwrap_or("").contains("ey"),
        "{stored_secrets}"
    );
    // The feed: the department's reply told the observer; the badge counts it.
    let badge = d.until("the unread badge", "return !document.getElementById('unread').hidden && document.getElementById('unread').textContent").await;
    assert!(
        badge.as_str().unwrap().parse::<u32>().unwrap() >= 1,
        "{badge}"
    );
    d.click("#nav-feed").await;
    d.until(
        "the feed",
        "return document.querySelectorAll('#feed li').length",
    )
    .await;
    d.click("#feed button.unread").await;
    d.until(
        "the issue from the feed",
        "return document.getElementById('issue-title')",
    )
    .await;
    // The followed project with its milestones.
    d.click("#nav-projects").await;
    let milestones = d
        .until(
            "the milestones",
            "return document.querySelectorAll('#projects .milestone').length",
        )
        .await;
    assert!(milestones.as_u64().unwrap() >= 1);
    // English on the switch, remembered.
    d.click("#lang").await;
    assert_eq!(d.script("return document.documentElement.lang").await, "en");
    // The shell is cached by its service worker, for opening without a signal.
    d.until(
        "the service worker",
        "return navigator.serviceWorker && navigator.serviceWorker.controller !== null || (location.reload(), false)",
    )
    .await;
    // Signing out ends the session on the server.
    d.click("#logout").await;
    d.until(
        "the sign-in form again",
        "return document.getElementById('signin')",
    )
    .await;
    d.reload().await;
    d.until(
        "still signed out",
        "return document.getElementById('signin')",
    )
    .await;
    d.quit().await;
}
