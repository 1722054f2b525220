//! First-start work: on an empty database, the `admin` account.

use crate::auth::password;
use crate::auth::tokens::random_token;
use crate::config::Settings;
use crate::db::{self, Db, run_blocking, users};
use crate::domain::role::Role;
use crate::domain::user::NewPassword;
use crate::error::AppError;

/// Creates user `admin` when no admin exists yet (on an empty database, or one whose lists
/// were imported before the first start). Returns the password when it was
/// generated, so that the caller can print it once.
pub async fn ensure_admin(db: &Db, settings: &Settings) -> anyhow::Result<Option<String>> {
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.expose().to_string(), false),
        None => (random_token(15), true),
    };
    if db
        .read(|c| Ok(users::count_active_admins(c)?))
        .await
        .map_err(anyhow_err)?
        > 0
    {
        return Ok(None);
    }
    NewPassword::parse("OBSERVER_DESK_ADMIN_PASSWORD", &password)
        .map_err(|e| anyhow::anyhow!("OBSERVER_DESK_ADMIN_PASSWORD {}", e.message))?;
    let to_hash = password.clone();
    let hash = run_blocking(move || password::hash(&to_hash))
        .await
        .map_err(anyhow_err)?;
    let created = db
        .write(move |c| {
            // Checked again inside the write transaction: two instances starting at once
            // on one PostgreSQL create one admin.
            if users::count_active_admins(c)? > 0 {
                return Ok(false);
            }
            let now = db::now();
            let inserted = users::insert(
                c,
                &users::NewUser {
                    username: "admin",
                    password_hash: &hash,
                    display_name: "Administrator",
                    role: Role::Admin.as_str(),
                    department_id: None,
                    email: None,
                    locale: "zh-CN",
                    active: true,
                    version: 1,
                    password_changed_at: now,
                    created_at: now,
                    updated_at: now,
                },
            );
            match inserted {
                Ok(_) => Ok(true),
                // Another instance made it, or an imported user holds the name (nothing more
                // may run in this transaction on PostgreSQL after the failed insert).
                Err(e) if crate::error::is_unique_violation(&e) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
        .await
        .map_err(anyhow_err)?;
    if created {
        tracing::info!("created user admin on the empty database");
    } else if db
        .read(|c| Ok(users::count_active_admins(c)?))
        .await
        .map_err(anyhow_err)?
        == 0
    {
        tracing::warn!(
            "no admin exists and the username `admin` is taken: make one with `observer-desk admin create-user --role admin`"
        );
    }
    Ok((created && generated).then_some(password))
}

fn anyhow_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}
