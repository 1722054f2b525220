//! The application: database, migrations, first-start work, and the HTTP server with its
//! middleware and route table. Tests start it on port 0 with a database of their own.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Server, ServerHandle, Service, ServiceResponse};
use actix_web::http::header;
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::api;
use crate::auth::tokens::TokenService;
use crate::config::Settings;
use crate::db::{Db, run_blocking};
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::notify::mail::Mailer;
use crate::state::AppState;
use crate::text::Lang;

pub struct Application {
    port: u16,
    local_addr: std::net::SocketAddr,
    server: Server,
    /// The admin password, when it was generated on this start (print it once).
    pub generated_admin_password: Option<String>,
    /// What `--demo` loaded on this start, if anything.
    pub demo: Option<crate::demo::DemoLoaded>,
    sla_worker: actix_web::rt::task::JoinHandle<()>,
    delivery_worker: actix_web::rt::task::JoinHandle<()>,
    sweeper: actix_web::rt::task::JoinHandle<()>,
}

/// Files and folders this process creates from now on are readable by its own user only
/// (umask 077): the database, generated secrets, attachments and mail in the data folder
/// hold what observers reported and must not be world-readable (0600 files, 0700 folders).
pub fn keep_new_files_private() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Creates the data folder for the service's user alone, and closes an existing one that
/// others could read.
fn prepare_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the data folder {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("making {} private", dir.display()))?;
        }
    }
    Ok(())
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        prepare_data_dir(&settings.data_dir)?;
        let secret = settings.resolve_jwt_secret()?;
        let (db, generated_admin_password, demo) = open_database(&settings).await?;
        let dummy_hash =
            run_blocking(|| crate::auth::password::hash(&crate::auth::tokens::random_token(16)))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mailer = Arc::new(Mailer::from_settings(&settings)?);
        let storage = crate::storage::Storage::from_settings(&settings)?;
        let metrics = Arc::new(Metrics::default());
        let (sla_worker, delivery_worker, sweeper) =
            start_workers(&db, &settings, &mailer, &storage, &metrics).await;
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let local_addr = listener.local_addr()?;
        let port = local_addr.port();
        tracing::info!(
            address = %listener.local_addr()?,
            database = ?db.backend(),
            mail = mailer.describe(),
            "observer-desk listening"
        );
        let state = web::Data::new(AppState {
            db,
            tokens: TokenService::new(&secret, settings.access_token_ttl),
            callers: Default::default(),
            rulebook: Default::default(),
            dummy_hash,
            rater_secret: {
                use sha2::Digest;
                sha2::Sha256::digest(format!(
                    "observer-desk inspection ratings:{}",
                    secret.expose()
                ))
                .to_vec()
            },
            hashing: crate::auth::password::HashingPool::per_core(),
            thumbnailing: tokio::sync::Semaphore::new(2),
            metrics,
            mailer,
            storage,
            settings: settings.clone(),
        });
        let server = run(listener, state, &settings)?;
        Ok(Application {
            port,
            local_addr,
            server,
            generated_admin_password,
            demo,
            sla_worker,
            delivery_worker,
            sweeper,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.local_addr
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM (or the handle stops it); in-flight requests finish
    /// first, then the workers stop. A timer due meanwhile fires on the next start.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.sla_worker.abort();
        self.delivery_worker.abort();
        self.sweeper.abort();
        served
    }
}

/// The database connected and migrated, the first admin made, the demo county loaded when
/// asked for (the admin's password when it was generated now, and what the demo loaded).
async fn open_database(
    settings: &Settings,
) -> anyhow::Result<(Db, Option<String>, Option<crate::demo::DemoLoaded>)> {
    let url = settings.database_url.clone();
    let options = crate::db::DbOptions {
        pool_size: settings.db_pool_size,
        checkout_timeout: settings.db_checkout_timeout,
        statement_timeout: settings.db_statement_timeout,
    };
    let db = actix_web::rt::task::spawn_blocking(move || -> anyhow::Result<Db> {
        let db = Db::connect_with(&url, options).context("connecting to the database")?;
        db.migrate()?;
        Ok(db)
    })
    .await
    .context("database start-up task")??;
    let generated_admin_password = crate::bootstrap::ensure_admin(&db, settings).await?;
    let demo = if settings.demo {
        let loaded = crate::demo::load(&db, settings).await?;
        if loaded.is_none() {
            tracing::info!("--demo: the database is not empty; nothing loaded");
        }
        loaded
    } else {
        None
    };
    Ok((db, generated_admin_password, demo))
}

type Worker = actix_web::rt::task::JoinHandle<()>;

/// The SLA worker, the delivery worker and the sweeper (after one sweep now, for what a
/// crash left behind).
async fn start_workers(
    db: &Db,
    settings: &Settings,
    mailer: &Arc<Mailer>,
    storage: &crate::storage::Storage,
    metrics: &Arc<Metrics>,
) -> (Worker, Worker, Worker) {
    let sla_worker = actix_web::rt::spawn(crate::workers::sla::run(
        db.clone(),
        settings.sla_tick,
        settings.idempotency_ttl,
        metrics.clone(),
    ));
    let delivery = crate::workers::delivery::Delivery {
        mailer: mailer.clone(),
        from: settings.mail_from.clone(),
        backoff: settings.delivery_backoff,
        max_attempts: settings.delivery_max_attempts,
        public_url: settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", settings.bind)),
        webhook_allow_private: settings.webhook_allow_private,
        lease: settings.delivery_lease,
    };
    let delivery_worker = actix_web::rt::spawn(crate::workers::delivery::run(
        db.clone(),
        delivery,
        settings.delivery_tick,
    ));
    let tmp = settings.data_dir.join("tmp");
    if let Err(e) = crate::workers::sweep::sweep(db, storage, &tmp, settings.orphan_grace).await {
        tracing::warn!(error = %e, "the sweep at start failed; it is tried again later");
    }
    let sweeper = actix_web::rt::spawn(crate::workers::sweep::run(
        db.clone(),
        storage.clone(),
        tmp,
        settings.orphan_grace,
        std::time::Duration::from_secs(24 * 3600),
    ));
    (sla_worker, delivery_worker, sweeper)
}

fn run(
    listener: TcpListener,
    state: web::Data<AppState>,
    settings: &Settings,
) -> anyhow::Result<Server> {
    let max_body = settings.max_body_bytes;
    // Blocking work is database reads (each needs one of the pool's connections) and a few
    // other short tasks: threads beyond that would only wait for a connection, each with a
    // stack and an allocator arena of its own.
    let blocking_threads = settings.db_pool_size as usize + 4;
    // The issues pages have shown lately, shared by every worker.
    let shown = web::Data::new(api::issues::shown::ShownIssues::default());
    let server = HttpServer::new(move || {
        let metrics = state.metrics.clone();
        App::new()
            .app_data(state.clone())
            .app_data(shown.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(web::PathConfig::default().error_handler(api::extract::path_error))
            .app_data(web::QueryConfig::default().error_handler(api::extract::query_error))
            .configure(api::configure)
            .default_service(web::to(api::route_not_found))
            // Titles in the caller's language: errors render in Chinese by default and are
            // rendered again here when the caller prefers English.
            .wrap_fn(|req, srv| {
                let lang = Lang::from_accept_language(
                    req.headers()
                        .get(header::ACCEPT_LANGUAGE)
                        .and_then(|v| v.to_str().ok()),
                );
                let fut = srv.call(req);
                async move {
                    let res = fut.await?;
                    if lang == Lang::En {
                        let english = res
                            .response()
                            .error()
                            .and_then(|e| e.as_error::<AppError>())
                            .map(|e| crate::api::problem::render(e, Lang::En));
                        if let Some(english) = english {
                            return Ok(res.into_response(english).map_into_boxed_body());
                        }
                    }
                    Ok(res.map_into_boxed_body())
                }
            })
            .wrap_fn(move |req, srv| {
                let started = Instant::now();
                let method = crate::metrics::method_label(req.method().as_str());
                let metrics = metrics.clone();
                let fut = srv.call(req);
                async move {
                    let res: ServiceResponse<_> = fut.await?;
                    let route = api::RoutePattern::of(res.request())
                        .unwrap_or(crate::metrics::UNMATCHED_ROUTE);
                    // The request's span (`api::request_span::RequestSpan`) is current here.
                    tracing::Span::current().record("http.route", route);
                    metrics.observe(
                        method,
                        route,
                        res.status().as_u16(),
                        started.elapsed().as_secs_f64(),
                    );
                    Ok(res)
                }
            })
            // Answers of 1 KiB and more are gzipped for clients that accept it (a phone on
            // one bar of signal); files that are compressed already say
            // `Content-Encoding: identity`.
            .wrap_fn(|req, srv| {
                let coding = api::encoded::Coding::new(api::compress::prefers_gzip(&req));
                actix_web::HttpMessage::extensions_mut(&req).insert(coding);
                let fut = srv.call(req);
                async move { Ok(api::compress::encode(coding.gzip(), fut.await?)) }
            })
            // Sent with every answer unless a handler set its own (docs/security.md).
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "no-referrer"))
                    .add((header::CACHE_CONTROL, "private, no-cache")),
            )
            .wrap(tracing_actix_web::TracingLogger::<
                api::request_span::RequestSpan,
            >::new())
    })
    .worker_max_blocking_threads(blocking_threads)
    .shutdown_timeout(settings.shutdown_timeout.as_secs())
    .listen(listener)?
    .run();
    Ok(server)
}
