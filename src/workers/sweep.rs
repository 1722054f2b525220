//! Clearing what a crash leaves behind: temporary upload files, and stored objects that no
//! attachment row points at (the bytes of an upload whose row was never committed). Run at
//! start and then daily. Only what is older than the grace period goes, so that an upload
//! in flight in another instance, whose bytes are stored before its row commits, is spared.

use std::path::Path;
use std::time::Duration;

use crate::db::{self, Db};
use crate::storage::Storage;

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub temp_files: usize,
    pub orphans: usize,
}

/// The suffix of a thumbnail's key, after its original's key.
const THUMBNAIL: &str = ".thumb.jpg";

pub async fn sweep(
    db: &Db,
    storage: &Storage,
    tmp: &Path,
    grace: Duration,
) -> anyhow::Result<Swept> {
    let mut swept = Swept::default();
    let cutoff = std::time::SystemTime::now()
        .checked_sub(grace)
        .unwrap_or(std::time::UNIX_EPOCH);
    if let Ok(entries) = std::fs::read_dir(tmp) {
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t <= cutoff);
            if old && entry.path().is_file() && std::fs::remove_file(entry.path()).is_ok() {
                swept.temp_files += 1;
            }
        }
    }
    swept.orphans += storage.remove_unfinished_parts(grace);
    let cutoff =
        chrono::Utc::now() - chrono::TimeDelta::from_std(grace).unwrap_or(chrono::TimeDelta::MAX);
    for (key, written) in storage.list().await? {
        if written > cutoff {
            continue;
        }
        let original = key.strip_suffix(THUMBNAIL).unwrap_or(&key).to_string();
        let known = db
            .read(move |c| Ok(db::attachments::key_is_known(c, &original)?))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if !known {
            storage.delete(&key).await?;
            swept.orphans += 1;
        }
    }
    if swept != Swept::default() {
        tracing::info!(
            temp_files = swept.temp_files,
            orphans = swept.orphans,
            "swept what an interrupted upload left behind"
        );
    }
    Ok(swept)
}

/// Sweeps every `every` (the first sweep of a start is made before the server listens),
/// for as long as the service runs.
pub async fn run(
    db: Db,
    storage: Storage,
    tmp: std::path::PathBuf,
    grace: Duration,
    every: Duration,
) {
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = sweep(&db, &storage, &tmp, grace).await {
            tracing::warn!(error = %e, "sweep failed; it is tried again later");
        }
    }
}
