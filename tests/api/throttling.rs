//! Failed logins are throttled per username and per client address.

use std::time::Duration;

use crate::helpers::{ADMIN_PASSWORD, Db, TestApp};
use crate::on_both_databases;

on_both_databases!(
    repeated_failures_lock_the_account_with_retry_after,
    a_locked_unknown_username_answers_exactly_like_a_locked_known_one,
    failures_from_one_address_lock_that_address_across_usernames,
    a_successful_login_forgives_earlier_failures,
    the_lock_lifts_after_the_lockout,
);

async fn strict(db: Db) -> TestApp {
    TestApp::spawn_with(db, |s| {
        s.throttle.max_failures_per_user = 3;
        s.throttle.max_failures_per_address = 100;
    })
    .await
}

async fn repeated_failures_lock_the_account_with_retry_after(db: Db) {
    let app = strict(db).await;
    for _ in 0..3 {
        app.login("admin", "wrong-password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    let locked = app.login("admin", ADMIN_PASSWORD).await;
    locked.assert_problem(429, "too_many_requests");
    let retry: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=15 * 60 + 1).contains(&retry), "Retry-After {retry}");
    // Another account from the same address is not affected.
    app.login("someone-else", "wrong-password")
        .await
        .assert_problem(401, "invalid_credentials");
}

async fn a_locked_unknown_username_answers_exactly_like_a_locked_known_one(db: Db) {
    let app = strict(db).await;
    for name in ["admin", "ghost-user"] {
        for _ in 0..3 {
            app.login(name, "wrong-password")
                .await
                .assert_problem(401, "invalid_credentials");
        }
    }
    let known = app.login("admin", "wrong-password").await;
    let unknown = app.login("ghost-user", "wrong-password").await;
    known.assert_problem(429, "too_many_requests");
    unknown.assert_problem(429, "too_many_requests");
    assert_eq!(known.text, unknown.text);
    assert!(known.header("retry-after").is_some() && unknown.header("retry-after").is_some());
}

async fn failures_from_one_address_lock_that_address_across_usernames(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        s.throttle.max_failures_per_user = 100;
        s.throttle.max_failures_per_address = 4;
    })
    .await;
    for i in 0..4 {
        app.login(&format!("guess-{i}"), "wrong-password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    // The right password for a real account is refused too, from this address.
    app.login("admin", ADMIN_PASSWORD)
        .await
        .assert_problem(429, "too_many_requests");
}

async fn a_successful_login_forgives_earlier_failures(db: Db) {
    let app = strict(db).await;
    for _ in 0..2 {
        app.login("admin", "wrong-password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    app.login("admin", ADMIN_PASSWORD).await.assert_status(200);
    for _ in 0..2 {
        app.login("admin", "wrong-password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    app.login("admin", ADMIN_PASSWORD).await.assert_status(200);
}

async fn the_lock_lifts_after_the_lockout(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        s.throttle.max_failures_per_user = 2;
        s.throttle.lockout = Duration::from_secs(1);
    })
    .await;
    for _ in 0..2 {
        app.login("admin", "wrong-password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    app.login("admin", ADMIN_PASSWORD)
        .await
        .assert_problem(429, "too_many_requests");
    actix_web::rt::time::sleep(Duration::from_millis(1200)).await;
    app.login("admin", ADMIN_PASSWORD).await.assert_status(200);
}
