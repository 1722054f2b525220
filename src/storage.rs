//! Where attachment bytes live, behind one interface: a folder under the data directory by
//! default, S3-compatible object storage in production (build feature `s3`). Only the
//! metadata is in the database.

use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;

use anyhow::Context;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::config::Settings;

/// Bytes read from storage per chunk, and sent per multipart part (S3 wants at least 5 MiB
/// per part but the last).
const CHUNK: usize = 64 * 1024;
const PART: usize = 5 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// The folder, when objects are files under the data directory.
    local_root: Option<std::path::PathBuf>,
}

impl Storage {
    /// The store `OBSERVER_DESK_STORAGE_URL` names, or `DATA_DIR/attachments`.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Storage> {
        match settings.storage_url.as_deref() {
            None => {
                let dir = settings.data_dir.join("attachments");
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let store = LocalFileSystem::new_with_prefix(&dir)
                    .with_context(|| format!("opening {}", dir.display()))?;
                Ok(Storage {
                    store: Arc::new(store),
                    local_root: Some(dir),
                })
            }
            Some(url) => Storage::from_url(url),
        }
    }

    #[cfg(feature = "s3")]
    fn from_url(url: &str) -> anyhow::Result<Storage> {
        let rest = url.strip_prefix("s3://").with_context(|| {
            format!("OBSERVER_DESK_STORAGE_URL={url:?}: only s3://bucket/prefix is understood")
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .context("configuring S3 storage from the AWS_* variables")?;
        let store: Arc<dyn ObjectStore> = if prefix.trim_matches('/').is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(
                s3,
                prefix.trim_matches('/'),
            ))
        };
        Ok(Storage {
            store,
            local_root: None,
        })
    }

    #[cfg(not(feature = "s3"))]
    fn from_url(url: &str) -> anyhow::Result<Storage> {
        anyhow::bail!(
            "OBSERVER_DESK_STORAGE_URL={url:?} needs object storage, but this build has no S3 support: build with `--features s3`"
        )
    }

    /// Copies a local file into the store under `key`, a part at a time.
    pub async fn put_file(&self, key: &str, file: &FsPath) -> anyhow::Result<()> {
        let mut f = tokio::fs::File::open(file)
            .await
            .with_context(|| format!("opening {}", file.display()))?;
        let upload = self.store.put_multipart(&Path::from(key)).await?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut buf = vec![0; CHUNK];
        loop {
            let n = f.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            w.wait_for_capacity(2).await?;
            w.write(&buf[..n]);
        }
        w.finish().await?;
        Ok(())
    }

    /// Whether objects can be written, read and deleted: a probe goes the whole way.
    pub async fn check(&self) -> Result<String, String> {
        let key = format!("check-{}", crate::secret::random_token(9));
        let probe = b"observer-desk storage check".to_vec();
        self.put_bytes(&key, probe.clone())
            .await
            .map_err(|e| format!("writing: {e:#}"))?;
        let read = self
            .read_all(&key)
            .await
            .map_err(|e| format!("reading: {e:#}"))?;
        self.delete(&key)
            .await
            .map_err(|e| format!("deleting: {e:#}"))?;
        if read.as_deref() != Some(&probe[..]) {
            return Err("an object written was not read back".into());
        }
        Ok(match &self.local_root {
            Some(dir) => format!("files under {}", dir.display()),
            None => "object storage".into(),
        })
    }

    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.store
            .put(&Path::from(key), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// The object, or the part of it in `range`, as a stream.
    pub async fn read(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> anyhow::Result<BoxStream<'static, std::io::Result<actix_web::web::Bytes>>> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        let got = self.store.get_opts(&Path::from(key), options).await?;
        Ok(got
            .into_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other))
            .boxed())
    }

    /// The whole object in memory: only for thumbnails of files under the upload cap.
    pub async fn read_all(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        match self.store.get(&Path::from(key)).await {
            Ok(got) => Ok(Some(got.bytes().await?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every object's key and when it was last written.
    pub async fn list(&self) -> anyhow::Result<Vec<(String, chrono::DateTime<chrono::Utc>)>> {
        let mut out = Vec::new();
        let mut listing = self.store.list(None);
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            out.push((meta.location.to_string(), meta.last_modified));
        }
        Ok(out)
    }

    /// Removes the parts of multipart writes that never finished (a crash in the middle of
    /// storing a file) once older than `grace`: in a local folder they are files named
    /// `KEY#N`, which listings do not show. (S3 expires incomplete uploads by its own
    /// lifecycle rule; docs/operations.md says so.) Answers how many went.
    pub fn remove_unfinished_parts(&self, grace: std::time::Duration) -> usize {
        let Some(root) = &self.local_root else {
            return 0;
        };
        let cutoff = std::time::SystemTime::now()
            .checked_sub(grace)
            .unwrap_or(std::time::UNIX_EPOCH);
        let mut removed = 0;
        let mut folders = vec![root.clone()];
        while let Some(dir) = folders.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                    continue;
                }
                let unfinished = entry.file_name().to_string_lossy().contains('#');
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t <= cutoff);
                if unfinished && old && std::fs::remove_file(&path).is_ok() {
                    removed += 1;
                }
            }
        }
        removed
    }

    /// Removes an object; one that is already gone is no error.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
