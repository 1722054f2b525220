//! Operations on a whole installation: a backup folder (a consistent copy of the SQLite
//! database, the attachments, and a manifest of what they hold), putting one back, an export
//! of every row, and the move from SQLite to PostgreSQL. Blocking: call from a blocking
//! context.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::Connection;
use serde::{Deserialize, Serialize};

use crate::db::copy::{self, TableSummary};
use crate::db::{Db, DbConn};

const DATABASE_FILE: &str = "database.sqlite3";
const ATTACHMENTS: &str = "attachments";
const MANIFEST: &str = "manifest.json";

/// What a backup folder holds, written last: a folder without it is not a finished backup.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub service_version: String,
    pub taken_at: NaiveDateTime,
    pub tables: Vec<TableSummary>,
    pub attachment_files: u64,
}

pub struct Done {
    pub path: PathBuf,
    pub tables: Vec<TableSummary>,
    pub attachment_files: u64,
}

/// Takes a backup into the new folder `path`: the database first (one snapshot), then the
/// attachments (every file a row of the snapshot names was written before its row, and files
/// are never changed, so the copy holds them all).
pub fn backup(db: &Db, attachments: Option<&Path>, path: &Path) -> anyhow::Result<Done> {
    if path.exists() {
        bail!(
            "{} exists already: a backup goes into a new folder",
            path.display()
        );
    }
    std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    let file = path.join(DATABASE_FILE);
    let mut conn = db.connection()?;
    copy::sqlite_backup(&mut conn, &file)?;
    drop(conn);
    let tables = copy::summarise(&mut open_sqlite(&file)?)?;
    let attachment_files = match attachments {
        Some(dir) if dir.exists() => copy_files(dir, &path.join(ATTACHMENTS), true)?,
        _ => 0,
    };
    let manifest = Manifest {
        format: 1,
        service_version: env!("CARGO_PKG_VERSION").to_string(),
        taken_at: crate::db::now(),
        tables: tables.clone(),
        attachment_files,
    };
    crate::config::write_private_file(
        &path.join(MANIFEST),
        &serde_json::to_string_pretty(&manifest)?,
    )?;
    Ok(Done {
        path: path.to_path_buf(),
        tables,
        attachment_files,
    })
}

fn open_sqlite(file: &Path) -> anyhow::Result<DbConn> {
    let path = file.to_str().context("the path is not UTF-8")?;
    Ok(DbConn::Sqlite(
        diesel::SqliteConnection::establish(path)
            .with_context(|| format!("opening {}", file.display()))?,
    ))
}

/// Copies every file under `from` into `to` (folders made as needed); `fresh` copies all,
/// otherwise only those `to` lacks. Returns the files copied.
fn copy_files(from: &Path, to: &Path, fresh: bool) -> anyhow::Result<u64> {
    let mut copied = 0;
    let mut stack = vec![from.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let entry = entry?;
            let source = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(source);
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let relative = source.strip_prefix(from)?;
            let target = to.join(relative);
            if !fresh && target.exists() {
                continue;
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(&source, &target)
                .with_context(|| format!("copying {}", source.display()))?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// Puts the backup in folder `path` back into `db` (a SQLite database, migrated): the backup
/// is checked against its manifest, brought up to this version's migrations in a temporary
/// copy, and restored in one transaction; attachments it has and the folder lacks are copied.
pub fn restore(
    db: &Db,
    attachments: Option<&Path>,
    path: &Path,
    tmp: &Path,
) -> anyhow::Result<Done> {
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(path.join(MANIFEST)).with_context(|| {
            format!("{} is not a finished backup (no manifest)", path.display())
        })?,
    )
    .context("reading the backup's manifest")?;
    let file = path.join(DATABASE_FILE);
    let found = copy::summarise(&mut open_sqlite(&file)?)?;
    if found != manifest.tables {
        bail!("the backup's database does not match its manifest: it is damaged");
    }
    std::fs::create_dir_all(tmp)?;
    let work = tmp.join(format!(
        "restore-{}.sqlite3",
        crate::secret::random_token(9)
    ));
    std::fs::copy(&file, &work).context("copying the backup to work on")?;
    let restored = (|| -> anyhow::Result<Vec<TableSummary>> {
        {
            let upgraded = Db::connect(&format!("sqlite://{}", work.display()), 1)?;
            upgraded.migrate()?;
        }
        let mut conn = db.connection()?;
        copy::sqlite_restore(&mut conn, &work)
    })();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
    }
    let tables = restored?;
    let attachment_files = match attachments {
        Some(dir) if path.join(ATTACHMENTS).exists() => {
            copy_files(&path.join(ATTACHMENTS), dir, false)?
        }
        _ => 0,
    };
    Ok(Done {
        path: path.to_path_buf(),
        tables,
        attachment_files,
    })
}

/// The period from `from` to `until` (both days included, in China time) in stored UTC.
pub fn period(
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> anyhow::Result<Option<(NaiveDateTime, NaiveDateTime)>> {
    let china = TimeDelta::hours(8);
    let start = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN) - china;
    Ok(match (from, until) {
        (None, None) => None,
        (from, until) => {
            let from = from.map_or(NaiveDateTime::MIN, start);
            let until = until
                .and_then(|d| d.succ_opt())
                .map_or(NaiveDateTime::MAX, start);
            if until <= from {
                bail!("--until is before --from");
            }
            Some((from, until))
        }
    })
}

/// Writes the export into the new file `path` (only its owner may read it); returns the rows.
pub fn export(
    db: &Db,
    period: Option<(NaiveDateTime, NaiveDateTime)>,
    path: &Path,
) -> anyhow::Result<u64> {
    let file = crate::config::create_private_file(path)?;
    let mut out = std::io::BufWriter::new(file);
    let written = export_to(&mut db.connection()?, period, &mut out)?;
    use std::io::Write;
    out.flush()?;
    out.get_ref().sync_all()?;
    Ok(written)
}

/// The export of one snapshot of the database.
pub fn export_to(
    conn: &mut DbConn,
    period: Option<(NaiveDateTime, NaiveDateTime)>,
    out: &mut impl std::io::Write,
) -> anyhow::Result<u64> {
    snapshot(conn, |c| copy::export(c, period, out))
}

/// Runs `f` in one read snapshot of the database.
fn snapshot<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    use diesel::connection::SimpleConnection;
    conn.transaction::<_, anyhow::Error, _>(|c| {
        if let DbConn::Pg(_) = c {
            c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(c)
    })
}

/// Copies `db` (SQLite, one snapshot of it) into the empty PostgreSQL database at `url`,
/// migrating it first.
pub fn migrate_to(db: &Db, url: &str) -> anyhow::Result<Vec<TableSummary>> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        bail!("migrate-to needs a postgres:// URL");
    }
    let target = Db::connect(url, 1).context("connecting to the PostgreSQL database")?;
    target.migrate()?;
    let mut source = db.connection()?;
    let mut into = target.connection()?;
    snapshot(&mut source, |s| copy::sqlite_to_postgres(s, &mut into))
}
