//! Every action from every state, and every action by every kind of caller who is not
//! its party: the HTTP answers must be exactly what the state machine table says.

use observer_desk::domain::issue::Status;
use observer_desk::domain::lifecycle::{Action, Party, TABLE, To, transition};
use serde_json::{Value, json};

use crate::county::County;
use crate::helpers::Db;
use crate::on_both_databases;

on_both_databases!(
    every_action_from_every_state_answers_as_the_table_says,
    every_action_refuses_callers_who_are_not_its_party
);

/// The states an issue can rest in (`submitted` lasts only inside the filing transaction).
const STATES: [Status; 7] = [
    Status::Unassigned,
    Status::Assigned,
    Status::InProgress,
    Status::AwaitingInfo,
    Status::Resolved,
    Status::Closed,
    Status::Withdrawn,
];

/// A fresh issue in `status`.
/// An unassigned one is returned by department A, which can therefore still see it.
async fn issue_in(c: &County, status: Status) -> i64 {
    let id = c.file("matrix").await;
    match status {
        Status::Assigned => {}
        Status::Unassigned => {
            c.step(
                &c.staff_a,
                id,
                json!({ "action": "return", "comment": "非本单位职责" }),
            )
            .await;
        }
        Status::Withdrawn => {
            c.step(&c.obs1, id, json!({ "action": "withdraw" })).await;
        }
        _ => {
            c.step(&c.staff_a, id, json!({ "action": "acknowledge" }))
                .await;
            match status {
                Status::InProgress => {}
                Status::AwaitingInfo => {
                    c.step(
                        &c.staff_a,
                        id,
                        json!({ "action": "request_info", "comment": "请补充材料" }),
                    )
                    .await;
                }
                Status::Resolved | Status::Closed => {
                    c.step(
                        &c.staff_a,
                        id,
                        json!({ "action": "resolve", "comment": "已办结" }),
                    )
                    .await;
                    if status == Status::Closed {
                        c.step(&c.obs1, id, json!({ "action": "confirm" })).await;
                    }
                }
                _ => unreachable!(),
            }
        }
    }
    id
}

/// A body that satisfies the action's own needs.
fn body(c: &County, action: Action) -> Value {
    let mut b = json!({ "action": action.as_str(), "comment": "理由" });
    match action {
        Action::Assign => b["assignee_id"] = json!(c.staff_a_id),
        Action::Confirm => b["rating"] = json!(4),
        Action::Dispatch | Action::Transfer => b["department_id"] = json!(c.dept_b),
        Action::RequestExtension => b["extension_minutes"] = json!(60),
        _ => {}
    }
    b
}

fn token_for(c: &County, party: Party) -> &str {
    match party {
        Party::Reporter => &c.obs1,
        Party::Department => &c.staff_a,
        Party::DepartmentHead => &c.head_a,
        Party::Supervisor => &c.sup,
    }
}

async fn every_action_from_every_state_answers_as_the_table_says(db: Db) {
    let c = County::new(db).await;
    let mut checked = 0;
    for t in TABLE {
        let party = t.by[0];
        for status in STATES {
            let id = issue_in(&c, status).await;
            let allowed_here = t.from.contains(&status);
            // Approving or denying needs a pending request first.
            if matches!(t.action, Action::ApproveExtension | Action::DenyExtension) && allowed_here
            {
                c.step(&c.staff_a, id, body(&c, Action::RequestExtension))
                    .await;
            }
            let r = c.act(token_for(&c, party), id, body(&c, t.action)).await;
            // Without a department, nobody is the issue's department.
            let is_party = !(status == Status::Unassigned
                && matches!(party, Party::Department | Party::DepartmentHead));
            let case = format!("{} from {status} by {}", t.action, party.as_str());
            if !is_party {
                assert_eq!(r.status, 403, "{case}: {}", r.text);
            } else if allowed_here {
                assert_eq!(r.status, 200, "{case}: {}", r.text);
                let expected = match t.to {
                    To::State(s) => s,
                    To::Same => status,
                };
                assert_eq!(r.body["status"], expected.as_str(), "{case}");
            } else {
                assert_eq!(r.status, 409, "{case}: {}", r.text);
                assert_eq!(r.body["code"], "invalid_transition", "{case}");
                // And nothing changed.
                assert_eq!(
                    c.issue(&c.sup, id).await.body["status"],
                    status.as_str(),
                    "{case}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, TABLE.len() * STATES.len());
}

async fn every_action_refuses_callers_who_are_not_its_party(db: Db) {
    let c = County::new(db).await;
    // Everyone here can see an issue obs1 files on project P; each is a different party.
    let callers: [(&str, &str, &[Party]); 6] = [
        ("reporter", &c.obs1, &[Party::Reporter]),
        ("another follower", &c.obs2, &[]),
        ("department clerk", &c.staff_a, &[Party::Department]),
        (
            "department head",
            &c.head_a,
            &[Party::Department, Party::DepartmentHead],
        ),
        ("supervisor", &c.sup, &[Party::Supervisor]),
        ("admin", &c.admin, &[]),
    ];
    for action in Action::ALL {
        let t = transition(*action).expect("every action has a row");
        // A state the action is allowed from, so that only the caller can be wrong.
        let status = STATES.into_iter().find(|s| t.from.contains(s)).unwrap();
        let id = issue_in(&c, status).await;
        for (who, token, parties) in callers {
            if t.by.iter().any(|p| parties.contains(p)) {
                continue;
            }
            let r = c.act(token, id, body(&c, *action)).await;
            r.assert_problem(403, "forbidden");
            assert_eq!(
                c.issue(&c.sup, id).await.body["status"],
                status.as_str(),
                "{action} by {who} changed the issue"
            );
        }
        // Callers who cannot see the issue are told it does not exist.
        for token in [&c.staff_b, &c.head_b, &c.obs3] {
            c.act(token, id, body(&c, *action))
                .await
                .assert_problem(404, "not_found");
        }
    }
}
