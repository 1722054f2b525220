//! A small county for the closed-loop tests: two departments with a clerk and a head each,
//! a supervisor, three observers, a project that two of them follow (with a milestone owned
//! by the second department) and a project with no lead department.

use serde_json::{Value, json};

use crate::helpers::{Db, Resp, TestApp};

pub struct County {
    pub app: TestApp,
    pub admin: String,
    pub sup: String,
    pub dept_a: i64,
    pub dept_b: i64,
    pub staff_a: String,
    pub head_a: String,
    pub staff_a_id: i64,
    pub staff_b: String,
    pub head_b: String,
    pub obs1: String,
    pub obs2: String,
    pub obs3: String,
    pub obs1_id: i64,
    pub obs2_id: i64,
    /// Lead department A, park "SME park", followed by obs1 and obs2.
    pub project_p: i64,
    /// Of project P: power connection, owned by department B.
    pub milestone_m: i64,
    /// No lead department, followed by obs1.
    pub project_q: i64,
}

impl County {
    /// (name, token) of every kind of caller in the county.
    pub fn callers(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("obs1 (reporter)", &self.obs1),
            ("obs2 (follows the project)", &self.obs2),
            ("obs3 (follows nothing)", &self.obs3),
            ("staff A (routed)", &self.staff_a),
            ("head A (routed)", &self.head_a),
            ("staff B (not routed)", &self.staff_b),
            ("head B (not routed)", &self.head_b),
            ("supervisor", &self.sup),
            ("admin", &self.admin),
        ]
    }

    pub async fn new(db: Db) -> County {
        County::new_with(db, |_| {}).await
    }

    /// Stops the service and starts it again on the same database (tokens stay valid).
    pub async fn restart_after(self, pause: std::time::Duration) -> County {
        let County {
            app,
            admin,
            sup,
            dept_a,
            dept_b,
            staff_a,
            head_a,
            staff_a_id,
            staff_b,
            head_b,
            obs1,
            obs2,
            obs3,
            obs1_id,
            obs2_id,
            project_p,
            milestone_m,
            project_q,
        } = self;
        let app = app.restart_after(pause).await;
        County {
            app,
            admin,
            sup,
            dept_a,
            dept_b,
            staff_a,
            head_a,
            staff_a_id,
            staff_b,
            head_b,
            obs1,
            obs2,
            obs3,
            obs1_id,
            obs2_id,
            project_p,
            milestone_m,
            project_q,
        }
    }

    pub async fn new_with(
        db: Db,
        tweak: impl FnOnce(&mut observer_desk::config::Settings),
    ) -> County {
        let app = TestApp::spawn_with(db, tweak).await;
        let admin = app.admin_token().await;
        let dept_a = app.create_department(&admin, "AAA").await;
        let dept_b = app.create_department(&admin, "BBB").await;
        let staff_a_id = app
            .create_user(&admin, "staff-a", "department_staff", Some(dept_a))
            .await;
        let staff_a = app.token("staff-a", crate::helpers::PASSWORD).await;
        let head_a = app
            .user_token(&admin, "head-a", "department_head", Some(dept_a))
            .await;
        let staff_b = app
            .user_token(&admin, "staff-b", "department_staff", Some(dept_b))
            .await;
        let head_b = app
            .user_token(&admin, "head-b", "department_head", Some(dept_b))
            .await;
        let sup = app.user_token(&admin, "sup", "supervisor", None).await;
        let obs1_id = app.create_user(&admin, "obs1", "observer", None).await;
        let obs1 = app.token("obs1", crate::helpers::PASSWORD).await;
        let obs2_id = app.create_user(&admin, "obs2", "observer", None).await;
        let obs2 = app.token("obs2", crate::helpers::PASSWORD).await;
        let obs3 = app.user_token(&admin, "obs3", "observer", None).await;
        let p = app
            .post(
                "/api/v1/projects",
                Some(&sup),
                json!({
                    "code": "P-ALU-01", "name": "铝精深加工项目", "lead_department_id": dept_a,
                    "park": "SME park", "chain_group": "aluminium deep processing", "investment_wan": 52000.0,
                    "enterprise": "平陆铝业", "stage": "pre_construction", "observer_ids": [obs1_id, obs2_id],
                }),
            )
            .await;
        let project_p = p.assert_status(201)["id"].as_i64().unwrap();
        let m = app
            .post(
                &format!("/api/v1/projects/{project_p}/milestones"),
                Some(&sup),
                json!({ "kind": "power_connection", "title": "10kV 供电接入", "responsible_department_id": dept_b, "planned_date": "2026-12-20" }),
            )
            .await;
        let milestone_m = m.assert_status(201)["id"].as_i64().unwrap();
        let q = app
            .post(
                "/api/v1/projects",
                Some(&sup),
                json!({ "code": "Q-AGR-02", "name": "现代农业园项目", "observer_ids": [obs1_id] }),
            )
            .await;
        let project_q = q.assert_status(201)["id"].as_i64().unwrap();
        County {
            app,
            admin,
            sup,
            dept_a,
            dept_b,
            staff_a,
            head_a,
            staff_a_id,
            staff_b,
            head_b,
            obs1,
            obs2,
            obs3,
            obs1_id,
            obs2_id,
            project_p,
            milestone_m,
            project_q,
        }
    }

    /// Files an issue as `observer` and returns the answer.
    pub async fn file_as(&self, observer: &str, body: Value) -> Resp {
        self.app.post("/api/v1/issues", Some(observer), body).await
    }

    /// obs1 files an issue on project P (routed to department A) and returns its id.
    pub async fn file(&self, title: &str) -> i64 {
        let r = self
            .file_as(&self.obs1, json!({ "project_id": self.project_p, "category": "approval_delay", "title": title, "description": "施工许可证迟迟未批" }))
            .await;
        r.assert_status(201)["id"].as_i64().unwrap()
    }

    pub async fn act(&self, token: &str, issue: i64, body: Value) -> Resp {
        self.app
            .post(
                &format!("/api/v1/issues/{issue}/transitions"),
                Some(token),
                body,
            )
            .await
    }

    /// Takes an action that must succeed.
    pub async fn step(&self, token: &str, issue: i64, body: Value) -> Value {
        let r = self.act(token, issue, body.clone()).await;
        assert_eq!(r.status, 200, "{body} failed: {}", r.text);
        r.body
    }

    /// The kinds of an issue's timeline events the caller can see, oldest first.
    pub async fn event_kinds(&self, token: &str, issue: i64) -> Vec<String> {
        let r = self
            .app
            .get(&format!("/api/v1/issues/{issue}/events"), token)
            .await;
        r.assert_status(200)["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| e["kind"].as_str().unwrap_or("").to_string())
            .collect()
    }

    pub async fn issue(&self, token: &str, issue: i64) -> Resp {
        self.app
            .get(&format!("/api/v1/issues/{issue}"), token)
            .await
    }
}
