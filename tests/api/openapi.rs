//! `openapi.yaml` and the server cannot drift: every route is described, every described
//! route exists, and the shapes the server answers match the schemas.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{ADMIN_PASSWORD, Db, TestApp};
use crate::on_both_databases;

pub(crate) fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .expect("openapi.yaml");
    serde_yaml::from_str(&text).expect("openapi.yaml parses")
}

fn spec_routes(spec: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn every_route_is_in_the_spec_and_every_spec_route_is_served() {
    let served: BTreeSet<(String, String)> = observer_desk::api::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let described = spec_routes(&spec());
    let undocumented: Vec<_> = served.difference(&described).collect();
    let unserved: Vec<_> = described.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.yaml: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "openapi.yaml describes routes the server lacks: {unserved:?}"
    );
}

#[test]
fn the_spec_is_openapi_3_1_and_every_reference_resolves() {
    let spec = spec();
    assert_eq!(
        spec["openapi"].as_str().map(|v| v.starts_with("3.1")),
        Some(true)
    );
    let text = serde_json::to_string(&spec).unwrap();
    for piece in text.split("\"$ref\":\"").skip(1) {
        let target = piece.split('"').next().unwrap();
        let pointer = target.strip_prefix('#').expect("local reference");
        assert!(spec.pointer(pointer).is_some(), "unresolved $ref {target}");
    }
    // Every operation says what it answers, and every error answer is a problem document.
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let responses = op["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path} has no responses"));
            assert!(!responses.is_empty());
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let r = response["$ref"]
                        .as_str()
                        .map(|r| spec.pointer(r.trim_start_matches('#')).unwrap())
                        .unwrap_or(response);
                    assert!(
                        r["content"].get("application/problem+json").is_some(),
                        "{method} {path} {status} is not problem+json"
                    );
                }
            }
        }
    }
    // Every error code the server can send is listed.
    let codes: BTreeSet<String> =
        spec["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
            .as_array()
            .expect("Problem.code enum")
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
    for code in observer_desk::error::ErrorCode::ALL {
        assert!(
            codes.contains(code.as_str()),
            "Problem.code lacks {}",
            code.as_str()
        );
    }
}

/// The keys a real answer has must be exactly the schema's properties, and include its
/// required ones.
pub(crate) fn assert_matches_schema(spec: &Value, schema: &str, value: &Value) {
    let s = &spec["components"]["schemas"][schema];
    let props: BTreeSet<&str> = s["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {schema}"))
        .keys()
        .map(String::as_str)
        .collect();
    let keys: BTreeSet<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let extra: Vec<_> = keys.difference(&props).collect();
    assert!(
        extra.is_empty(),
        "{schema}: the server sends fields the spec lacks: {extra:?}"
    );
    for req in s["required"].as_array().into_iter().flatten() {
        assert!(
            keys.contains(req.as_str().unwrap()),
            "{schema}: required {req} missing in {value}"
        );
    }
}

on_both_databases!(the_server_serves_the_spec_and_answers_in_its_shapes);

async fn the_server_serves_the_spec_and_answers_in_its_shapes(db: Db) {
    let app = TestApp::spawn(db).await;
    let served = app.request("GET", "/openapi.yaml", None, None).await;
    assert_eq!(served.status, 200);
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    assert_eq!(served.text, file);

    let spec = spec();
    let login = app.login("admin", ADMIN_PASSWORD).await;
    assert_matches_schema(&spec, "TokenResponse", &login.body);
    assert_matches_schema(&spec, "User", &login.body["user"]);
    let admin = login.body["access_token"].as_str().unwrap().to_string();
    let d = app
        .post(
            "/api/v1/departments",
            Some(&admin),
            serde_json::json!({ "code": "FGJ", "name": "发改局", "webhook_url": "https://x.example/h", "webhook_secret": "0123456789abcdef" }),
        )
        .await;
    assert_matches_schema(&spec, "Department", &d.body);
    let users = app.get("/api/v1/users", &admin).await;
    assert_matches_schema(&spec, "UserPage", &users.body);
    let depts = app.get("/api/v1/departments", &admin).await;
    assert_matches_schema(&spec, "DepartmentPage", &depts.body);
    let problem = app
        .post(
            "/api/v1/users",
            Some(&admin),
            serde_json::json!({ "username": "x" }),
        )
        .await;
    assert_matches_schema(&spec, "Problem", &problem.body);
    assert_matches_schema(&spec, "FieldError", &problem.body["errors"][0]);
}

/// The text rules are stated twice: as patterns in `openapi.yaml` (for clients and the
/// contract fuzzer) and as code. They must agree on every tricky string.
#[test]
fn the_text_patterns_in_the_spec_agree_with_the_server() {
    use observer_desk::domain::user::{parse_paragraph, parse_text};
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let pattern = |schema: &str, field: &str| {
        let p = schemas[schema]["properties"][field]["pattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{schema}.{field} has no pattern"));
        regex_lite::Regex::new(p).unwrap_or_else(|e| panic!("{schema}.{field}: {e}"))
    };
    let samples = [
        "",
        " ",
        "a",
        " a ",
        "\ta\t",
        "\na\n",
        "a\nb",
        "a\tb",
        "a\rb",
        "a\u{0}b",
        "\u{0}",
        "a\u{7}",
        "\u{1c}a",
        "a\u{85}b",
        "\u{85}a\u{85}",
        "\u{a0}a",
        "\u{3000}",
        "\u{3000}平陆\u{3000}",
        "观察员 王建军",
        "a\u{7f}",
        "\u{9f}",
        "\u{200b}",
        "\u{2028}a",
        "=1+2",
        "\u{feff}x",
    ];
    let line_fields = [
        ("CreateIssueRequest", "title"),
        ("CreateUserRequest", "display_name"),
        ("UpdateDepartmentRequest", "name"),
        ("CreateProjectRequest", "name"),
        ("UpdateMilestoneRequest", "title"),
        ("CreateRoutingRuleRequest", "park"),
    ];
    for (schema, field) in line_fields {
        let re = pattern(schema, field);
        for s in samples {
            assert_eq!(
                re.is_match(s),
                parse_text(field, s, 10_000).is_ok(),
                "{schema}.{field} and the server disagree on {s:?}"
            );
        }
    }
    for (schema, field) in [
        ("CreateIssueRequest", "description"),
        ("CreateCommentRequest", "body"),
    ] {
        let re = pattern(schema, field);
        for s in samples {
            assert_eq!(
                re.is_match(s),
                parse_paragraph(field, s, 10_000).is_ok(),
                "{schema}.{field} and the server disagree on {s:?}"
            );
        }
    }
    // Optional project texts: blank means none, the rest as one line.
    let re = pattern("CreateProjectRequest", "park");
    for s in samples {
        let server = s.trim().is_empty() || parse_text("park", s, 10_000).is_ok();
        assert_eq!(
            re.is_match(s),
            server,
            "park and the server disagree on {s:?}"
        );
    }
    let re = pattern("TransitionRequest", "comment");
    for s in samples {
        let server = !s
            .chars()
            .any(observer_desk::domain::user::is_control_in_paragraph);
        assert_eq!(
            re.is_match(s),
            server,
            "comment and the server disagree on {s:?}"
        );
    }
}
