//! Login, access tokens, refresh rotation, reuse detection, logout, password change.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header, encode};
use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Db, JWT_SECRET, PASSWORD, TestApp};
use crate::on_both_databases;

on_both_databases!(
    another_instance_refuses_a_deactivated_users_writes_at_once_and_reads_within_seconds,
    login_with_the_right_password_returns_a_token_pair,
    login_with_a_wrong_password_is_refused,
    an_unknown_username_is_refused_like_a_wrong_password,
    me_without_a_token_is_refused,
    an_expired_token_is_refused,
    a_tampered_token_is_refused,
    a_token_for_another_audience_or_issuer_is_refused,
    an_alg_none_token_is_refused,
    refresh_rotates_the_refresh_token,
    reusing_a_spent_refresh_token_revokes_the_whole_family,
    concurrent_refreshes_with_one_token_spend_it_once_and_share_its_successor,
    a_refresh_retried_soon_after_its_answer_was_lost_gets_the_same_pair_again,
    a_reuse_after_the_grace_window_revokes_the_session,
    guesses_at_the_current_password_are_throttled,
    a_browser_session_keeps_its_refresh_token_in_an_http_only_cookie,
    logout_ends_the_session,
    changing_the_password_ends_every_session,
    a_deactivated_user_is_locked_out_at_once,
    problem_titles_follow_the_callers_language,
);

async fn login_with_the_right_password_returns_a_token_pair(db: Db) {
    let app = TestApp::spawn(db).await;
    let r = app.login("admin", ADMIN_PASSWORD).await;
    let body = r.assert_status(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(
        body["access_token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 40)
    );
    assert_eq!(body["user"]["username"], "admin");
    assert_eq!(body["user"]["role"], "admin");
    assert!(body["user"].get("password_hash").is_none());

    let me = app
        .get("/api/v1/me", body["access_token"].as_str().unwrap())
        .await;
    let me = me.assert_status(200);
    for field in [
        "id",
        "username",
        "display_name",
        "role",
        "department_id",
        "email",
        "locale",
    ] {
        assert!(me.get(field).is_some(), "GET /me lacks {field}");
    }
    // Usernames are not case-sensitive at login.
    app.login("ADMIN", ADMIN_PASSWORD).await.assert_status(200);
}

async fn login_with_a_wrong_password_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let r = app.login("admin", "not-the-password").await;
    r.assert_problem(401, "invalid_credentials");
    assert!(r.body.get("access_token").is_none());
}

async fn an_unknown_username_is_refused_like_a_wrong_password(db: Db) {
    let app = TestApp::spawn(db).await;
    let unknown = app.login("nobody-here", "whatever-password").await;
    let wrong = app.login("admin", "whatever-password").await;
    unknown.assert_problem(401, "invalid_credentials");
    wrong.assert_problem(401, "invalid_credentials");
    assert_eq!(
        unknown.text, wrong.text,
        "the answers must not tell which usernames exist"
    );
}

async fn me_without_a_token_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let r = app.request("GET", "/api/v1/me", None, None).await;
    r.assert_problem(401, "unauthenticated");
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
    let r = app
        .send(
            "GET",
            "/api/v1/me",
            None,
            &[("Authorization", "Basic YWRtaW46eA==")],
            None,
        )
        .await;
    r.assert_problem(401, "invalid_token");
    app.get("/api/v1/me", "garbage")
        .await
        .assert_problem(401, "invalid_token");
}

fn claims(app_user_id: i64, pwd: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": app_user_id.to_string(),
        "iss": "observer-desk",
        "aud": "observer-desk-api",
        "iat": now,
        "exp": now + 600,
        "role": "admin",
        "pwd": pwd,
        "jti": "test-token",
    })
}

/// The `pwd` claim of a real token, so a forged one differs only where the test says.
fn real_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn an_expired_token_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let real = app.admin_token().await;
    let pwd = real_claims(&real)["pwd"].as_i64().unwrap();
    // The forged token is accepted when current, so the refusal below is for expiry alone.
    let mut c = claims(1, pwd);
    c["sid"] = real_claims(&real)["sid"].clone();
    app.get("/api/v1/me", &sign(&c, JWT_SECRET))
        .await
        .assert_status(200);
    let now = chrono::Utc::now().timestamp();
    c["iat"] = json!(now - 3600);
    c["exp"] = json!(now - 60);
    app.get("/api/v1/me", &sign(&c, JWT_SECRET))
        .await
        .assert_problem(401, "invalid_token");
}

async fn a_tampered_token_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let observer = app
        .user_token(&app.admin_token().await, "obs1", "observer", None)
        .await;
    let mut parts: Vec<String> = observer.split('.').map(str::to_string).collect();
    let mut payload = real_claims(&observer);
    payload["role"] = json!("admin");
    payload["sub"] = json!("1");
    parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    let tampered = parts.join(".");
    app.get("/api/v1/me", &tampered)
        .await
        .assert_problem(401, "invalid_token");
    // Signed with another key: refused too.
    let forged = sign(&payload, "another-secret-another-secret-another-secret");
    app.get("/api/v1/me", &forged)
        .await
        .assert_problem(401, "invalid_token");
}

async fn a_token_for_another_audience_or_issuer_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let pwd = real_claims(&app.admin_token().await)["pwd"]
        .as_i64()
        .unwrap();
    let mut c = claims(1, pwd);
    c["aud"] = json!("some-other-api");
    app.get("/api/v1/me", &sign(&c, JWT_SECRET))
        .await
        .assert_problem(401, "invalid_token");
    let mut c = claims(1, pwd);
    c["iss"] = json!("someone-else");
    app.get("/api/v1/me", &sign(&c, JWT_SECRET))
        .await
        .assert_problem(401, "invalid_token");
    let mut c = claims(1, pwd);
    c.as_object_mut().unwrap().remove("aud");
    app.get("/api/v1/me", &sign(&c, JWT_SECRET))
        .await
        .assert_problem(401, "invalid_token");
}

async fn an_alg_none_token_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let pwd = real_claims(&app.admin_token().await)["pwd"]
        .as_i64()
        .unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(1, pwd).to_string());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        app.get("/api/v1/me", &token)
            .await
            .assert_problem(401, "invalid_token");
    }
    // HS512 with the right key is still refused: the algorithm is pinned.
    let t = encode(
        &Header::new(jsonwebtoken::Algorithm::HS512),
        &claims(1, pwd),
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    app.get("/api/v1/me", &t)
        .await
        .assert_problem(401, "invalid_token");
}

async fn refresh(app: &TestApp, token: &str) -> crate::helpers::Resp {
    app.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": token }),
    )
    .await
}

async fn refresh_rotates_the_refresh_token(db: Db) {
    let app = TestApp::spawn(db).await;
    let first = app.login("admin", ADMIN_PASSWORD).await.body;
    let r1 = first["refresh_token"].as_str().unwrap();
    let second = refresh(&app, r1).await;
    let second = second.assert_status(200);
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    assert_ne!(first["access_token"], second["access_token"]);
    assert_eq!(second["token_type"], "Bearer");
    assert_eq!(second["user"]["username"], "admin");
    app.get("/api/v1/me", second["access_token"].as_str().unwrap())
        .await
        .assert_status(200);
    // And the new one rotates again.
    refresh(&app, r2).await.assert_status(200);
    refresh(&app, "never-issued")
        .await
        .assert_problem(401, "invalid_refresh_token");
}

async fn reusing_a_spent_refresh_token_revokes_the_whole_family(db: Db) {
    let app = TestApp::spawn(db).await;
    let r1 = refresh_token_of(&app.login("admin", ADMIN_PASSWORD).await);
    let other_session = refresh_token_of(&app.login("admin", ADMIN_PASSWORD).await);
    let r2 = refresh_token_of(&refresh(&app, &r1).await);
    let second = refresh(&app, &r2).await;
    let access = second.body["access_token"].as_str().unwrap().to_string();
    let r3 = second.body["refresh_token"].as_str().unwrap().to_string();
    // An attacker replays the spent token, whose successor was used already...
    refresh(&app, &r1)
        .await
        .assert_problem(401, "invalid_refresh_token");
    // ...and the legitimate holder's current tokens are dead too, access token included.
    refresh(&app, &r3)
        .await
        .assert_problem(401, "invalid_refresh_token");
    app.get("/api/v1/me", &access)
        .await
        .assert_problem(401, "invalid_token");
    // A separate login (another device) is another family and lives on.
    refresh(&app, &other_session).await.assert_status(200);
}

async fn a_refresh_retried_soon_after_its_answer_was_lost_gets_the_same_pair_again(db: Db) {
    let app = TestApp::spawn(db).await;
    let r1 = refresh_token_of(&app.login("admin", ADMIN_PASSWORD).await);
    // The phone sent the refresh, the answer never arrived; it tries again at once.
    let lost = refresh(&app, &r1).await;
    let retried = refresh(&app, &r1).await;
    let r2 = lost.assert_status(200)["refresh_token"].as_str().unwrap();
    assert_eq!(
        retried.assert_status(200)["refresh_token"].as_str(),
        Some(r2)
    );
    let access = retried.body["access_token"].as_str().unwrap();
    app.get("/api/v1/me", access).await.assert_status(200);
    // The session goes on from the successor.
    refresh(&app, r2).await.assert_status(200);
}

async fn a_reuse_after_the_grace_window_revokes_the_session(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        s.refresh_reuse_grace = std::time::Duration::from_secs(1);
    })
    .await;
    let r1 = refresh_token_of(&app.login("admin", ADMIN_PASSWORD).await);
    let r2 = refresh_token_of(&refresh(&app, &r1).await);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1500)).await;
    refresh(&app, &r1)
        .await
        .assert_problem(401, "invalid_refresh_token");
    refresh(&app, &r2)
        .await
        .assert_problem(401, "invalid_refresh_token");
}

async fn concurrent_refreshes_with_one_token_spend_it_once_and_share_its_successor(db: Db) {
    let app = TestApp::spawn(db).await;
    let r1 = refresh_token_of(&app.login("admin", ADMIN_PASSWORD).await);
    let attempts = (0..6).map(|_| refresh(&app, &r1));
    let results = futures_util::future::join_all(attempts).await;
    let successors: BTreeSet<String> = results
        .iter()
        .map(|r| {
            r.assert_status(200)["refresh_token"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(successors.len(), 1, "{successors:?}");
    let next = successors.into_iter().next().unwrap();
    let after = refresh(&app, &next).await;
    after.assert_status(200);
    // Spent once: a reuse of the successor after its own successor is out revokes all.
    refresh(&app, &next).await.assert_status(200);
    refresh(&app, after.body["refresh_token"].as_str().unwrap())
        .await
        .assert_status(200);
    refresh(&app, &next)
        .await
        .assert_problem(401, "invalid_refresh_token");
}

/// The refresh token an answer carries in its body.
fn refresh_token_of(r: &crate::helpers::Resp) -> String {
    r.body["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string()
}

/// The `od_refresh` value a `Set-Cookie` answer carries.
fn cookie_of(r: &crate::helpers::Resp) -> String {
    let set = r.header("set-cookie").expect("a Set-Cookie header");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/v1/auth"] {
        assert!(set.contains(attribute), "{attribute} missing in {set}");
    }
    set.split(';')
        .next()
        .unwrap()
        .trim_start_matches("od_refresh=")
        .to_string()
}

async fn a_browser_session_keeps_its_refresh_token_in_an_http_only_cookie(db: Db) {
    let app = TestApp::spawn(db).await;
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "username": "admin", "password": ADMIN_PASSWORD, "cookie": true }),
        )
        .await;
    assert_eq!(login.assert_status(200)["refresh_token"], Value::Null);
    let first = cookie_of(&login);
    assert!(first.len() > 20);
    let with_cookie = |cookie: String, session_header: bool, path: &'static str| {
        let app = &app;
        async move {
            let mut headers = vec![("Cookie", format!("od_refresh={cookie}"))];
            if session_header {
                headers.push(("X-Observer-Desk-Session", "cookie".into()));
            }
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.send(
                "POST",
                path,
                None,
                &headers,
                Some(("application/json", "{}".into())),
            )
            .await
        }
    };
    // Without the session header the cookie is not honoured (a forged cross-site request).
    with_cookie(first.clone(), false, "/api/v1/auth/refresh")
        .await
        .assert_problem(401, "invalid_refresh_token");
    let refreshed = with_cookie(first.clone(), true, "/api/v1/auth/refresh").await;
    assert_eq!(refreshed.assert_status(200)["refresh_token"], Value::Null);
    let second = cookie_of(&refreshed);
    assert_ne!(first, second);
    let access = refreshed.body["access_token"].as_str().unwrap().to_string();
    app.get("/api/v1/me", &access).await.assert_status(200);
    // Logging out ends the session and clears the cookie.
    let out = with_cookie(second.clone(), true, "/api/v1/auth/logout").await;
    assert_eq!(out.status, 204);
    let cleared = out.header("set-cookie").unwrap();
    assert!(
        cleared.starts_with("od_refresh=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    app.get("/api/v1/me", &access)
        .await
        .assert_problem(401, "invalid_token");
    with_cookie(second, true, "/api/v1/auth/refresh")
        .await
        .assert_problem(401, "invalid_refresh_token");
    // A native app's login is unchanged: the token in the body, no cookie.
    let native = app.login("admin", ADMIN_PASSWORD).await;
    assert!(native.body["refresh_token"].as_str().is_some());
    assert!(native.header("set-cookie").is_none());
}

async fn guesses_at_the_current_password_are_throttled(db: Db) {
    let app = TestApp::spawn_with(db, |s| s.throttle.max_failures_per_user = 3).await;
    let admin = app.admin_token().await;
    let change = |current: &'static str| {
        let (app, admin) = (&app, admin.clone());
        async move {
            app.post(
                "/api/v1/me/password",
                Some(&admin),
                json!({ "current_password": current, "new_password": "another-long-password" }),
            )
            .await
        }
    };
    for _ in 0..3 {
        change("a-wrong-guess")
            .await
            .assert_problem(422, "validation_failed");
    }
    // Locked: even the right password is not checked now.
    let locked = change(ADMIN_PASSWORD).await;
    locked.assert_problem(429, "too_many_requests");
    assert!(locked.header("retry-after").is_some());
}

async fn logout_ends_the_session(db: Db) {
    let app = TestApp::spawn(db).await;
    let login = app.login("admin", ADMIN_PASSWORD).await.body;
    let r1 = login["refresh_token"].as_str().unwrap().to_string();
    let access = login["access_token"].as_str().unwrap();
    let other_device = app.admin_token().await;
    app.get("/api/v1/me", access).await.assert_status(200);
    let r = app
        .post("/api/v1/auth/logout", None, json!({ "refresh_token": r1 }))
        .await;
    assert_eq!(r.status, 204);
    refresh(&app, &r1)
        .await
        .assert_problem(401, "invalid_refresh_token");
    // The session's access token ends with it; another session's does not.
    app.get("/api/v1/me", access)
        .await
        .assert_problem(401, "invalid_token");
    app.get("/api/v1/me", &other_device)
        .await
        .assert_status(200);
    // Logging out again, or with a token never issued, is not an error.
    assert_eq!(
        app.post("/api/v1/auth/logout", None, json!({ "refresh_token": r1 }))
            .await
            .status,
        204
    );
    assert_eq!(
        app.post(
            "/api/v1/auth/logout",
            None,
            json!({ "refresh_token": "nope" })
        )
        .await
        .status,
        204
    );
}

async fn changing_the_password_ends_every_session(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "clerk", "observer", None).await;
    let session = app.login("clerk", PASSWORD).await.body;
    let access = session["access_token"].as_str().unwrap();
    let r1 = session["refresh_token"].as_str().unwrap();

    let wrong = app
        .post(
            "/api/v1/me/password",
            Some(access),
            json!({ "current_password": "not-it-at-all", "new_password": "brand-new-password" }),
        )
        .await;
    wrong.assert_problem(422, "validation_failed");
    assert_eq!(wrong.body["errors"][0]["field"], "current_password");
    let short = app
        .post(
            "/api/v1/me/password",
            Some(access),
            json!({ "current_password": PASSWORD, "new_password": "short" }),
        )
        .await;
    short.assert_problem(422, "validation_failed");
    assert_eq!(short.body["errors"][0]["code"], "too_short");

    let ok = app
        .post(
            "/api/v1/me/password",
            Some(access),
            json!({ "current_password": PASSWORD, "new_password": "brand-new-password" }),
        )
        .await;
    assert_eq!(ok.status, 204, "{}", ok.text);
    app.get("/api/v1/me", access)
        .await
        .assert_problem(401, "invalid_token");
    refresh(&app, r1)
        .await
        .assert_problem(401, "invalid_refresh_token");
    app.login("clerk", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    app.token("clerk", "brand-new-password").await;
}

async fn deactivate(app: &TestApp, admin: &str, id: i64) {
    app.patch(
        &format!("/api/v1/users/{id}"),
        admin,
        json!({ "active": false }),
    )
    .await
    .assert_status(200);
}

async fn a_deactivated_user_is_locked_out_at_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.admin_token().await;
    let id = app.create_user(&admin, "leaver", "observer", None).await;
    let session = app.login("leaver", PASSWORD).await.body;
    let access = session["access_token"].as_str().unwrap();
    // Read once, so that the instance holds the caller for its next reads.
    app.get("/api/v1/me", access).await.assert_status(200);
    deactivate(&app, &admin, id).await;
    app.get("/api/v1/me", access)
        .await
        .assert_problem(401, "invalid_token");
    refresh(&app, session["refresh_token"].as_str().unwrap())
        .await
        .assert_problem(401, "invalid_refresh_token");
    app.login("leaver", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
}

/// Another instance trusts what it loaded for reads only, and for a few seconds.
async fn another_instance_refuses_a_deactivated_users_writes_at_once_and_reads_within_seconds(
    db: Db,
) {
    let app = TestApp::spawn(db).await;
    let (other, at) = app.sibling_at().await;
    let admin = app.admin_token().await;
    let id = app.create_user(&admin, "leaver", "observer", None).await;
    let access = app.token("leaver", PASSWORD).await;
    let status = |method: &'static str, path: &'static str| {
        let (client, url, access) = (app.client.clone(), format!("{at}{path}"), access.clone());
        async move {
            let req = match method {
                "GET" => client.get(url),
                _ => client.post(url),
            };
            req.bearer_auth(access)
                .send()
                .await
                .expect("the other instance answers")
                .status()
                .as_u16()
        }
    };
    assert_eq!(status("GET", "/api/v1/me").await, 200);
    deactivate(&app, &admin, id).await;
    assert_eq!(
        status("POST", "/api/v1/notifications/read-all").await,
        401,
        "a write loads the caller afresh"
    );
    let started = std::time::Instant::now();
    while status("GET", "/api/v1/me").await != 401 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(7),
            "the other instance still reads for a deactivated user after 7 s"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    other.stop(true).await;
}

async fn problem_titles_follow_the_callers_language(db: Db) {
    let app = TestApp::spawn(db).await;
    let zh = app.send("GET", "/api/v1/me", None, &[], None).await;
    let en = app
        .send(
            "GET",
            "/api/v1/me",
            None,
            &[("Accept-Language", "en-US,en;q=0.9")],
            None,
        )
        .await;
    zh.assert_problem(401, "unauthenticated");
    en.assert_problem(401, "unauthenticated");
    assert_eq!(en.body["title"], "Authentication is required");
    assert_eq!(zh.body["title"], "需要登录");
}
