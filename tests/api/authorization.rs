//! Object-level authorisation on every issue and project route: each role against an
//! object it may and may not touch. Lists obey the same rule as single reads.

use serde_json::json;

use crate::county::County;
use crate::helpers::Db;
use crate::on_both_databases;

on_both_databases!(
    who_sees_which_issue_on_every_read_and_write_route,
    a_department_keeps_sight_of_an_issue_it_once_held,
    internal_comments_never_reach_an_observer,
    who_sees_and_manages_projects_milestones_and_rules,
);

async fn who_sees_which_issue_on_every_read_and_write_route(db: Db) {
    let c = County::new(db).await;
    let open = c.file("open issue").await;
    let private = c
        .file_as(
            &c.obs1,
            json!({ "project_id": c.project_p, "category": "service_conduct", "title": "窗口人员态度", "description": "d", "private": true }),
        )
        .await;
    let private = private.assert_status(201)["id"].as_i64().unwrap();
    //                          obs1  obs2   obs3   stA   hdA   stB    hdB    sup   admin
    let sees_open = [true, true, false, true, true, false, false, true, true];
    let sees_private = [true, false, false, true, true, false, false, true, true];
    let mut cells = 0;
    for (issue, expected) in [(open, sees_open), (private, sees_private)] {
        for ((who, token), visible) in c.callers().into_iter().zip(expected) {
            let want = if visible { 200 } else { 404 };
            for path in [
                format!("/api/v1/issues/{issue}"),
                format!("/api/v1/issues/{issue}/comments"),
                format!("/api/v1/issues/{issue}/events"),
            ] {
                let r = c.app.get(&path, token).await;
                assert_eq!(r.status, want, "{who} GET {path}: {}", r.text);
                cells += 1;
            }
            let listed = c.app.get("/api/v1/issues", token).await;
            let ids: Vec<i64> = listed.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap())
                .collect();
            assert_eq!(ids.contains(&issue), visible, "{who} list");
            cells += 1;
            let comment = c
                .app
                .post(
                    &format!("/api/v1/issues/{issue}/comments"),
                    Some(token),
                    json!({ "body": "关注" }),
                )
                .await;
            assert_eq!(
                comment.status,
                if visible { 201 } else { 404 },
                "{who} comment: {}",
                comment.text
            );
            cells += 1;
            // A chase is a supervisor's: others who can see get 403, those who cannot get 404.
            let chase = c.act(token, issue, json!({ "action": "chase" })).await;
            let want = match (visible, who) {
                (false, _) => 404,
                (true, "supervisor") => 200,
                (true, _) => 403,
            };
            assert_eq!(chase.status, want, "{who} chase: {}", chase.text);
            cells += 1;
        }
    }
    // An issue that does not exist is 404 for everyone, like one that may not be seen.
    for (who, token) in c.callers() {
        assert_eq!(c.issue(token, 999_999).await.status, 404, "{who}");
    }
    assert_eq!(cells, 2 * 9 * 6);
}

async fn a_department_keeps_sight_of_an_issue_it_once_held(db: Db) {
    let c = County::new(db).await;
    let id = c.file("transferred").await;
    c.issue(&c.staff_b, id)
        .await
        .assert_problem(404, "not_found");
    c.step(
        &c.sup,
        id,
        json!({ "action": "transfer", "department_id": c.dept_b }),
    )
    .await;
    c.issue(&c.staff_b, id).await.assert_status(200);
    c.issue(&c.staff_a, id).await.assert_status(200);
    // Only the current department acts.
    c.act(&c.staff_a, id, json!({ "action": "acknowledge" }))
        .await
        .assert_problem(403, "forbidden");
    c.step(&c.staff_b, id, json!({ "action": "acknowledge" }))
        .await;
    let listed_a = c
        .app
        .get(
            &format!("/api/v1/issues?department_id={}", c.dept_b),
            &c.staff_a,
        )
        .await;
    assert_eq!(listed_a.body["items"].as_array().unwrap().len(), 1);
}

async fn internal_comments_never_reach_an_observer(db: Db) {
    let c = County::new(db).await;
    let id = c.file("internal").await;
    let secret = "内部意见：该企业材料有瑕疵";
    let r = c
        .app
        .post(
            &format!("/api/v1/issues/{id}/comments"),
            Some(&c.staff_a),
            json!({ "body": secret, "internal": true }),
        )
        .await;
    assert_eq!(r.assert_status(201)["internal"], true);
    c.app
        .post(
            &format!("/api/v1/issues/{id}/comments"),
            Some(&c.staff_a),
            json!({ "body": "已受理，正在办理", "internal": false }),
        )
        .await
        .assert_status(201);
    c.step(
        &c.staff_a,
        id,
        json!({ "action": "return", "comment": "退单理由：非本单位" }),
    )
    .await;
    // Observers cannot write internal comments either.
    c.app
        .post(
            &format!("/api/v1/issues/{id}/comments"),
            Some(&c.obs1),
            json!({ "body": "x", "internal": true }),
        )
        .await
        .assert_problem(403, "forbidden");
    for token in [&c.obs1, &c.obs2] {
        for path in [
            format!("/api/v1/issues/{id}"),
            format!("/api/v1/issues/{id}/comments"),
            format!("/api/v1/issues/{id}/events"),
            "/api/v1/issues".to_string(),
            format!("/api/v1/issues?project_id={}", c.project_p),
        ] {
            let r = c.app.get(&path, token).await;
            assert_eq!(r.status, 200);
            assert!(
                !r.text.contains("内部意见"),
                "internal comment leaked on {path}"
            );
            assert!(
                !r.text.contains("退单理由"),
                "return reason leaked on {path}"
            );
        }
        let comments = c
            .app
            .get(&format!("/api/v1/issues/{id}/comments"), token)
            .await;
        assert_eq!(comments.body["items"].as_array().unwrap().len(), 1);
    }
    for token in [&c.staff_a, &c.sup] {
        let comments = c
            .app
            .get(&format!("/api/v1/issues/{id}/comments"), token)
            .await;
        assert_eq!(comments.body["items"].as_array().unwrap().len(), 2);
        assert!(
            c.app
                .get(&format!("/api/v1/issues/{id}/events"), token)
                .await
                .text
                .contains("退单理由")
        );
    }
}

async fn who_sees_and_manages_projects_milestones_and_rules(db: Db) {
    let c = County::new(db).await;
    let p = format!("/api/v1/projects/{}", c.project_p);
    let ms = format!("/api/v1/projects/{}/milestones", c.project_p);
    //                 obs1  obs2  obs3   stA   hdA   stB   hdB   sup   admin
    let sees_p = [true, true, false, true, true, true, true, true, true];
    for ((who, token), visible) in c.callers().into_iter().zip(sees_p) {
        let want = if visible { 200 } else { 404 };
        assert_eq!(c.app.get(&p, token).await.status, want, "{who} GET project");
        assert_eq!(
            c.app.get(&ms, token).await.status,
            want,
            "{who} GET milestones"
        );
        let listed = c.app.get("/api/v1/projects", token).await;
        let ids: Vec<i64> = listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.contains(&c.project_p), visible, "{who} project list");
        let manages = who == "supervisor" || who == "admin";
        let create = c
            .app
            .post(
                "/api/v1/projects",
                Some(token),
                json!({ "code": format!("X{}", who.len()), "name": "x" }),
            )
            .await;
        assert_eq!(
            create.status,
            if manages { 201 } else { 403 },
            "{who} create project: {}",
            create.text
        );
        let patch = c
            .app
            .patch(&p, token, json!({ "stage": "under_construction" }))
            .await;
        assert_eq!(
            patch.status,
            if manages { 200 } else { 403 },
            "{who} patch project"
        );
        let milestone = c
            .app
            .post(
                &ms,
                Some(token),
                json!({ "kind": "planning_permit", "title": "规划许可" }),
            )
            .await;
        assert_eq!(
            milestone.status,
            if manages { 201 } else { 403 },
            "{who} create milestone"
        );
        let patch_m = c
            .app
            .patch(
                &format!("/api/v1/milestones/{}", c.milestone_m),
                token,
                json!({ "status": "in_progress" }),
            )
            .await;
        assert_eq!(
            patch_m.status,
            if manages { 200 } else { 403 },
            "{who} patch milestone"
        );
        assert_eq!(
            c.app.get("/api/v1/routing-rules", token).await.status,
            if manages { 200 } else { 403 },
            "{who} rules"
        );
        let rule = c
            .app
            .post(
                "/api/v1/routing-rules",
                Some(token),
                json!({ "category": "other", "department_id": c.dept_a }),
            )
            .await;
        assert_eq!(
            rule.status,
            if manages { 201 } else { 403 },
            "{who} create rule"
        );
        let del = c
            .app
            .request("DELETE", "/api/v1/routing-rules/999999", Some(token), None)
            .await;
        assert_eq!(
            del.status,
            if manages { 404 } else { 403 },
            "{who} delete rule"
        );
    }
    // Followers are real observers.
    let r = c
        .app
        .patch(&p, &c.sup, json!({ "observer_ids": [c.obs1_id, 999_999] }))
        .await;
    r.assert_problem(422, "validation_failed");
    let r = c
        .app
        .patch(&p, &c.sup, json!({ "observer_ids": [c.obs1_id] }))
        .await;
    assert_eq!(r.assert_status(200)["observer_ids"], json!([c.obs1_id]));
    c.app
        .get(&p, &c.obs2)
        .await
        .assert_problem(404, "not_found");
}
