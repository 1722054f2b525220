//! `observer-desk`: reads the settings, then serves until stopped, or runs an `admin` command.

use clap::Parser;
use observer_desk::{config::Settings, startup::Application, telemetry};

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    // Everything the service writes in its data folder (database, secrets, attachments,
    // mail) is for its own user only.
    observer_desk::startup::keep_new_files_private();
    let cli = observer_desk::admin::Cli::parse();
    let flags = if cli.demo {
        vec!["--demo".to_string()]
    } else {
        Vec::new()
    };
    let settings = Settings::from_env(&flags)?;
    telemetry::init(settings.log_format);
    if let Some(observer_desk::admin::Command::Admin(command)) = cli.command {
        return observer_desk::admin::run(command, settings).await;
    }
    let app = Application::build(settings).await?;
    if let Some(password) = &app.generated_admin_password {
        // Printed once, on the terminal only: it is never written to the log or the database.
        println!(
            "\n  First start: created user `admin` with password: {password}\n  Keep it now; it is not shown again.\n"
        );
    }
    if let Some(demo) = &app.demo {
        println!(
            "\n  Demo county loaded: {} users, {} projects, {} issues.\n  Accounts: observer01…observer25, supervisor01, supervisor02, and per department\n  CODE.staff / CODE.head (xzsp, zscj, fgj, zrzy, zjj, sthj, gxj, gdgs, swj).",
            demo.users, demo.projects, demo.issues
        );
        match &demo.generated_password {
            Some(p) => {
                println!("  Their password (OBSERVER_DESK_DEMO_PASSWORD was not set): {p}\n")
            }
            None => println!("  Their password is OBSERVER_DESK_DEMO_PASSWORD.\n"),
        }
    }
    println!("observer-desk listening on http://{}", app.local_addr());
    app.run_until_stopped().await?;
    Ok(())
}
