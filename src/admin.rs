//! `observer-desk admin …`: the county's administration from a terminal on the server, on
//! the same settings as the service (the environment) and the same rules as the API.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::auth::password::HashingPool;
use crate::config::Settings;
use crate::db::{self, Db};
use crate::domain::user::{NewPassword, Username, parse_email, parse_text};
use crate::error::{AppError, FieldError};
use crate::import::records::{Kind, parse_role};
use crate::workflow::import::Report;

/// The command line: the service by default, or an administration command.
#[derive(Debug, Parser)]
#[command(
    name = "observer-desk",
    version,
    about = "营商环境观察员问题闭环平台 · Observer Desk. Settings come from the environment (see README)."
)]
pub struct Cli {
    /// Load the county demo data on an empty database.
    #[arg(long)]
    pub demo: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Administration: users, imports, checks.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user; the password is read from standard input with --password-stdin, or
    /// generated and printed once.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// observer, department_staff, department_head, supervisor, admin (or 观察员, 科员,
        /// 负责人, 督查, 管理员).
        #[arg(long)]
        role: String,
        /// The department's code, for department staff and heads.
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Give a user a new password (read from standard input with --password-stdin, or
    /// generated and printed once); their sessions end.
    ResetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Deactivate a user: they can no longer sign in, and their sessions end.
    Deactivate { username: String },
    /// Import departments, users or projects from a CSV or XLSX file (headers in English or
    /// Chinese). Nothing is imported when any row is bad.
    Import {
        #[arg(value_parser = ["departments", "users", "projects"])]
        kind: String,
        file: PathBuf,
        /// Check every row and report, without writing.
        #[arg(long)]
        dry_run: bool,
        /// Where generated passwords of new users are written (a file only its owner may
        /// read); default `passwords-<time>.csv` in the current folder.
        #[arg(long)]
        passwords_file: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the settings, the database and its migrations, mail and storage.
    Check,
    /// Take a consistent copy of the SQLite database and the attachments into the new folder
    /// PATH, while the service runs.
    Backup { path: PathBuf },
    /// Put a backup taken with `backup` back: the database's content is replaced in one
    /// transaction, and missing attachments are copied back.
    Restore { path: PathBuf },
    /// Write every row as JSON lines into the new file PATH; with --from/--until (dates in
    /// China time), only what was made in that period (lists without dates are written whole).
    Export {
        path: PathBuf,
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        #[arg(long)]
        until: Option<chrono::NaiveDate>,
    },
    /// Copy this SQLite database into the empty PostgreSQL database at URL, keeping ids,
    /// numbers and sequences, and check every table's rows and digest before committing.
    MigrateTo { url: String },
}

/// Runs an administration command; the error's message is for the terminal.
pub async fn run(command: AdminCommand, settings: Settings) -> anyhow::Result<()> {
    if let AdminCommand::Check = command {
        return check(&settings).await;
    }
    let db = open(&settings).await?;
    let hashing = HashingPool::per_core();
    match command {
        AdminCommand::CreateUser {
            username,
            display_name,
            role,
            department,
            email,
            password_stdin,
        } => {
            create_user(
                &db,
                &hashing,
                NewUserArgs {
                    username,
                    display_name,
                    role,
                    department,
                    email,
                },
                password_stdin,
            )
            .await
        }
        AdminCommand::ResetPassword {
            username,
            password_stdin,
        } => reset_password(&db, &hashing, &username, password_stdin).await,
        AdminCommand::Deactivate { username } => deactivate(&db, &username).await,
        AdminCommand::Import {
            kind,
            file,
            dry_run,
            passwords_file,
            json,
        } => {
            let kind = Kind::parse(&kind).context("the kind is departments, users or projects")?;
            import(&db, &hashing, kind, &file, dry_run, passwords_file, json).await
        }
        AdminCommand::Backup { path } => backup(db, &settings, path).await,
        AdminCommand::Restore { path } => restore(db, &settings, path).await,
        AdminCommand::Export { path, from, until } => export(db, path, from, until).await,
        AdminCommand::MigrateTo { url } => migrate_to(db, url).await,
        AdminCommand::Check => Ok(()),
    }
}

/// Runs blocking operations work off the runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .context("operations task")?
}

async fn backup(db: Db, settings: &Settings, path: PathBuf) -> anyhow::Result<()> {
    let attachments = local_attachments(settings)?;
    let done =
        blocking(move || crate::operations::backup(&db, attachments.as_deref(), &path)).await?;
    println!(
        "backup written to {}: {} rows in {} tables, {} attachment files",
        done.path.display(),
        done.tables.iter().map(|t| t.rows).sum::<u64>(),
        done.tables.len(),
        done.attachment_files
    );
    Ok(())
}

async fn restore(db: Db, settings: &Settings, path: PathBuf) -> anyhow::Result<()> {
    let attachments = local_attachments(settings)?;
    let tmp = settings.data_dir.join("tmp");
    let done =
        blocking(move || crate::operations::restore(&db, attachments.as_deref(), &path, &tmp))
            .await?;
    println!(
        "restored {} rows in {} tables and {} attachment files",
        done.tables.iter().map(|t| t.rows).sum::<u64>(),
        done.tables.len(),
        done.attachment_files
    );
    Ok(())
}

/// The attachments folder, when attachments are files under the data folder.
fn local_attachments(settings: &Settings) -> anyhow::Result<Option<PathBuf>> {
    if settings.storage_url.is_some() {
        eprintln!("attachments are in object storage: back them up with its own tools");
        return Ok(None);
    }
    Ok(Some(settings.data_dir.join("attachments")))
}

async fn export(
    db: Db,
    path: PathBuf,
    from: Option<chrono::NaiveDate>,
    until: Option<chrono::NaiveDate>,
) -> anyhow::Result<()> {
    let period = crate::operations::period(from, until)?;
    let written = blocking(move || crate::operations::export(&db, period, &path)).await?;
    println!("{written} rows written");
    Ok(())
}

async fn migrate_to(db: Db, url: String) -> anyhow::Result<()> {
    let tables = blocking(move || crate::operations::migrate_to(&db, &url)).await?;
    println!(
        "copied {} rows in {} tables; every table's rows and digest match",
        tables.iter().map(|t| t.rows).sum::<u64>(),
        tables.len()
    );
    println!("now set DATABASE_URL to the PostgreSQL database and start the service");
    Ok(())
}

async fn open(settings: &Settings) -> anyhow::Result<Db> {
    let url = settings.database_url.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
        let db = Db::connect(&url, 2).context("connecting to the database")?;
        db.migrate()?;
        Ok(db)
    })
    .await
    .context("database start-up task")?
}

/// An error of the service, as a terminal shows it: the code, the detail, each field (and
/// row) that failed.
fn explain(e: AppError) -> anyhow::Error {
    let mut text = e.to_string();
    for f in &e.errors {
        text.push('\n');
        text.push_str(&explain_field(f));
    }
    anyhow::anyhow!(text)
}

fn explain_field(f: &FieldError) -> String {
    match f.row {
        Some(row) => format!(
            "  第 {row} 行 row {row} · {}: {} ({})",
            f.field, f.message, f.code
        ),
        None => format!("  {}: {} ({})", f.field, f.message, f.code),
    }
}

fn field(e: FieldError) -> anyhow::Error {
    anyhow::anyhow!(explain_field(&e).trim().to_string())
}

/// A password from one line of standard input, or a generated one (to be printed).
fn password_from(stdin: bool) -> anyhow::Result<(String, bool)> {
    if !stdin {
        return Ok((crate::secret::random_token(12), true));
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    NewPassword::parse("password", &password).map_err(field)?;
    Ok((password, false))
}

struct NewUserArgs {
    username: String,
    display_name: String,
    role: String,
    department: Option<String>,
    email: Option<String>,
}

async fn create_user(
    db: &Db,
    hashing: &HashingPool,
    args: NewUserArgs,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let username = Username::parse("username", &args.username).map_err(field)?;
    let display_name = parse_text("display_name", &args.display_name, 100).map_err(field)?;
    let role = parse_role(&args.role).with_context(|| format!("{:?} is not a role", args.role))?;
    let email = args
        .email
        .as_deref()
        .map(|e| parse_email("email", e))
        .transpose()
        .map_err(field)?;
    let (password, generated) = password_from(password_stdin)?;
    let hash = hashing.hash(password.clone()).await.map_err(explain)?;
    let code = args.department.clone();
    let name = username.as_str().to_string();
    let row = db
        .write(move |c| {
            let department_id = match &code {
                Some(code) => Some(
                    db::departments::find_by_code(c, &code.trim().to_ascii_uppercase())?
                        .ok_or_else(|| {
                            AppError::field("department", "unknown", "no department has this code")
                        })?
                        .id,
                ),
                None => None,
            };
            crate::workflow::users::check_membership(c, role, department_id)?;
            let now = db::now();
            db::users::insert(
                c,
                &db::users::NewUser {
                    username: &name,
                    password_hash: &hash,
                    display_name: &display_name,
                    role: role.as_str(),
                    department_id,
                    email: email.as_deref(),
                    locale: "zh-CN",
                    active: true,
                    version: 1,
                    password_changed_at: now,
                    created_at: now,
                    updated_at: now,
                },
            )
            .map_err(|e| {
                if crate::error::is_unique_violation(&e) {
                    AppError::new(crate::error::ErrorCode::UsernameTaken)
                } else {
                    e.into()
                }
            })
        })
        .await
        .map_err(explain)?;
    println!(
        "created user {} (id {}, {})",
        row.username, row.id, row.role
    );
    if generated {
        println!("password: {password}");
    }
    Ok(())
}

async fn find_user(db: &Db, username: &str) -> anyhow::Result<db::users::UserRow> {
    let name = Username::normalise(username);
    db.read(move |c| Ok(db::users::find_by_username(c, &name)?))
        .await
        .map_err(explain)?
        .with_context(|| format!("no user is called {username:?}"))
}

async fn reset_password(
    db: &Db,
    hashing: &HashingPool,
    username: &str,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let user = find_user(db, username).await?;
    let (password, generated) = password_from(password_stdin)?;
    let hash = hashing.hash(password.clone()).await.map_err(explain)?;
    db.write(move |c| {
        let now = db::now();
        let edit = crate::workflow::users::Edit {
            role: None,
            department_id: None,
            active: None,
            changes: db::users::UserChanges {
                password_hash: Some(hash),
                password_changed_at: Some(now),
                ..Default::default()
            },
        };
        crate::workflow::users::update(c, user.id, edit, None, now)
    })
    .await
    .map_err(explain)?;
    println!("new password set for {username}; their sessions have ended");
    if generated {
        println!("password: {password}");
    }
    Ok(())
}

async fn deactivate(db: &Db, username: &str) -> anyhow::Result<()> {
    let user = find_user(db, username).await?;
    db.write(move |c| {
        let edit = crate::workflow::users::Edit {
            role: None,
            department_id: None,
            active: Some(false),
            changes: Default::default(),
        };
        crate::workflow::users::update(c, user.id, edit, None, db::now())
    })
    .await
    .map_err(explain)?;
    println!("deactivated {username}; their sessions have ended");
    Ok(())
}

async fn import(
    db: &Db,
    hashing: &HashingPool,
    kind: Kind,
    file: &Path,
    dry_run: bool,
    passwords_file: Option<PathBuf>,
    json: bool,
) -> anyhow::Result<()> {
    let len = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if len > crate::import::sheet::MAX_FILE_BYTES as u64 {
        bail!(
            "{} is larger than {} bytes; split it",
            file.display(),
            crate::import::sheet::MAX_FILE_BYTES
        );
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mut report = crate::workflow::import::import(db, hashing, kind, bytes, dry_run)
        .await
        .map_err(explain)?;
    if !report.generated_passwords.is_empty() {
        let path = passwords_file.unwrap_or_else(|| {
            PathBuf::from(format!(
                "passwords-{}.csv",
                chrono::Local::now().format("%Y%m%d-%H%M%S")
            ))
        });
        let mut text = String::from("row,username,password\n");
        for g in &report.generated_passwords {
            text.push_str(&format!("{},{},{}\n", g.row, g.username, g.password));
        }
        crate::config::write_private_file(&path, &text)?;
        eprintln!(
            "{} generated passwords written to {} (only you may read it; hand them out and delete it)",
            report.generated_passwords.len(),
            path.display()
        );
        // Not printed again below.
        report.generated_passwords.clear();
    }
    print_report(&report, json)
}

fn print_report(report: &Report, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(report)?)?;
        return Ok(());
    }
    let what = if report.dry_run {
        "dry run, nothing written:"
    } else {
        "imported"
    };
    writeln!(
        out,
        "{what} {} rows: {} created, {} updated, {} unchanged",
        report.rows, report.created, report.updated, report.unchanged
    )?;
    if !report.ignored_columns.is_empty() {
        writeln!(
            out,
            "columns ignored: {}",
            report.ignored_columns.join(", ")
        )?;
    }
    Ok(())
}

/// Each part the service needs, reported on its own line; fails when any fails.
async fn check(settings: &Settings) -> anyhow::Result<()> {
    let mut failed = false;
    let mut report = |what: &str, outcome: Result<String, String>| match outcome {
        Ok(detail) => println!("ok    {what}: {detail}"),
        Err(e) => {
            failed = true;
            println!("FAIL  {what}: {e}");
        }
    };
    report(
        "settings",
        Ok(format!("data folder {}", settings.data_dir.display())),
    );
    let jwt = settings
        .resolve_jwt_secret()
        .map(|_| "the token key is set".to_string())
        .map_err(|e| e.to_string());
    report("token key", jwt);
    let url = settings.database_url.clone();
    let database = tokio::task::spawn_blocking(move || -> Result<String, String> {
        let db = Db::connect(&url, 1).map_err(|e| format!("{e:#}"))?;
        let pending = db.has_pending_migrations().map_err(|e| format!("{e:#}"))?;
        Ok(format!(
            "{:?}; {}",
            db.backend(),
            if pending {
                "migrations to apply at the next start"
            } else {
                "every migration applied"
            }
        ))
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    report("database", database);
    let mail = match crate::notify::mail::Mailer::from_settings(settings) {
        Ok(mailer) => mailer.check().await,
        Err(e) => Err(format!("{e:#}")),
    };
    report("mail", mail);
    let storage = match crate::storage::Storage::from_settings(settings) {
        Ok(storage) => storage.check().await,
        Err(e) => Err(format!("{e:#}")),
    };
    report("storage", storage);
    if failed {
        bail!("some checks failed");
    }
    Ok(())
}
