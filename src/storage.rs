//! The file store: the `object_store` crate over a local folder (`file://`, the embedded
//! default) or any S3-compatible service (`s3://bucket/prefix`). Objects are immutable and
//! content-addressed (`sha256/ab/abcdef…`), so a key names its bytes and a file sent twice
//! is stored once.
//!
//! A file is streamed in ([`Storage::receive`]): written part by part to a temporary key
//! while it is hashed, sized and its type sniffed from its first bytes, and never held whole
//! in memory. The caller checks what it learned, then [`Storage::commit`]s it to its content
//! address (or [`Storage::discard`]s it). Rows that name a hash are written only after the
//! commit, so no row ever points at a missing object; objects no row names are orphans,
//! which the cleanup job and `motcua storage verify` find.

use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, WriteMultipart};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::StorageSettings;
use crate::domain::dossier::MediaType;

/// Parts in flight per upload: with [`Storage`]'s part size, what one upload may buffer
/// (a folder: 3 × 256 KiB; S3, whose parts are at least 5 MiB: 3 × 5 MiB).
const PARTS_IN_FLIGHT: usize = 2;

/// The store and where in it motcua's objects live.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    /// Bytes per part written (S3 needs at least 5 MiB for all but the last).
    part_bytes: usize,
    /// What the store is, for logs and `storage verify` (no credentials).
    pub describe: String,
    /// The folder, for a local store (`motcua backup` copies it).
    pub local_dir: Option<std::path::PathBuf>,
}

/// A file streamed into a temporary key, not yet at its content address.
#[derive(Debug)]
pub struct Received {
    tmp: Path,
    pub sha256: String,
    pub size: u64,
    /// `None`: not a type the store accepts.
    pub media_type: Option<MediaType>,
}

/// Why a file was not received.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// More than the limit: the stream was cut there and nothing kept.
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    /// The request body broke off or could not be read.
    #[error("the upload broke off: {0}")]
    Body(String),
    /// The store failed (an outage: 503).
    #[error("storage: {0}")]
    Store(#[from] object_store::Error),
}

/// An object's bytes (or a range of them) as a stream.
pub struct Download {
    pub size: u64,
    pub range: Option<Range<u64>>,
    pub stream: futures::stream::BoxStream<'static, Result<Bytes, object_store::Error>>,
}

/// A stored object as a listing shows it.
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub sha256: String,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
}

impl Storage {
    /// The store of `settings`; a relative `file://` folder is taken beside `beside` (the
    /// SQLite file's folder) when given, else in the working directory.
    pub fn open(settings: &StorageSettings, beside: Option<&FsPath>) -> Result<Storage, String> {
        let url = settings.url.trim();
        if let Some(rest) = url.strip_prefix("file://") {
            let mut dir = std::path::PathBuf::from(rest);
            if dir.is_relative() {
                if let Some(base) = beside {
                    dir = base.join(dir);
                }
            }
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("storage.url: cannot create {}: {e}", dir.display()))?;
            let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                .map_err(|e| format!("storage.url: {e}"))?
                .with_automatic_cleanup(true);
            return Ok(Storage {
                store: Arc::new(store),
                prefix: Path::default(),
                part_bytes: 256 * 1024,
                describe: format!("file://{}", dir.display()),
                local_dir: Some(dir),
            });
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err("storage.url: s3://bucket/prefix needs a bucket".into());
            }
            let mut b = object_store::aws::AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_region(&settings.s3_region);
            if !settings.s3_endpoint.is_empty() {
                // A self-hosted S3 service (Ceph RGW, SeaweedFS, Garage…): path-style
                // addresses, plain HTTP only when the endpoint says so.
                b = b
                    .with_endpoint(&settings.s3_endpoint)
                    .with_virtual_hosted_style_request(false)
                    .with_allow_http(settings.s3_endpoint.starts_with("http://"));
            }
            if !settings.s3_access_key_id.is_empty() {
                b = b
                    .with_access_key_id(&settings.s3_access_key_id)
                    .with_secret_access_key(settings.s3_secret_access_key.expose_secret());
            }
            let store = b.build().map_err(|e| format!("storage: {e}"))?;
            return Ok(Storage {
                store: Arc::new(store),
                prefix: Path::from(prefix.trim_matches('/')),
                part_bytes: 5 * 1024 * 1024,
                describe: format!("s3://{bucket}/{}", prefix.trim_matches('/')),
                local_dir: None,
            });
        }
        Err("storage.url must be file://folder or s3://bucket/prefix".into())
    }

    fn key(&self, sha256: &str) -> Path {
        self.prefix
            .child("sha256")
            .child(&sha256[..2])
            .child(sha256)
    }

    fn tmp_key(&self) -> Path {
        self.prefix
            .child("tmp")
            .child(uuid::Uuid::new_v4().to_string())
    }

    /// Stream a file into a temporary key, hashing and sizing it and sniffing its type; at
    /// most `max` bytes (more: [`ReceiveError::TooLarge`], nothing kept).
    pub async fn receive<S, E>(&self, body: S, max: u64) -> Result<Received, ReceiveError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp = self.tmp_key();
        let upload = self.store.put_multipart(&tmp).await?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, self.part_bytes);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head: Vec<u8> = Vec::with_capacity(MediaType::SNIFF_LEN);
        let mut body = body;
        let outcome: Result<(), ReceiveError> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| ReceiveError::Body(e.to_string()))?;
                size += chunk.len() as u64;
                if size > max {
                    return Err(ReceiveError::TooLarge(max));
                }
                if head.len() < MediaType::SNIFF_LEN {
                    let take = (MediaType::SNIFF_LEN - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                }
                hasher.update(&chunk);
                w.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                // Copied into the part being filled, not kept by reference: a chunk of the
                // request body shares the connection's read buffer, which it would keep
                // alive (hundreds of KiB for a few KiB of data) until the part is written.
                w.write(&chunk);
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            let _ = w.abort().await;
            return Err(e);
        }
        w.finish().await?;
        Ok(Received {
            tmp,
            sha256: hex::encode(hasher.finalize()),
            size,
            media_type: MediaType::sniff(&head),
        })
    }

    /// Move a received file to its content address (where the same bytes may already be).
    pub async fn commit(&self, r: &Received) -> Result<(), object_store::Error> {
        self.store.rename(&r.tmp, &self.key(&r.sha256)).await
    }

    /// Drop a received file that was refused.
    pub async fn discard(&self, r: &Received) {
        let _ = self.store.delete(&r.tmp).await;
    }

    /// An object's bytes, or the bytes of `range` (clamped to the object).
    pub async fn download(
        &self,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> Result<Download, object_store::Error> {
        let opts = GetOptions {
            range: range.clone().map(GetRange::Bounded),
            ..Default::default()
        };
        let got = self.store.get_opts(&self.key(sha256), opts).await?;
        let size = got.meta.size;
        let range = range.map(|_| got.range.clone());
        Ok(Download {
            size,
            range,
            stream: got.into_stream().boxed(),
        })
    }

    /// The SHA-256 of an object's bytes as stored now (read through, never held whole).
    pub async fn rehash(&self, sha256: &str) -> Result<(String, u64), object_store::Error> {
        let mut stream = self.store.get(&self.key(sha256)).await?.into_stream();
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.try_next().await? {
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok((hex::encode(hasher.finalize()), size))
    }

    /// Whether an object is stored.
    pub async fn exists(&self, sha256: &str) -> Result<bool, object_store::Error> {
        Ok(self.modified_at(sha256).await?.is_some())
    }

    /// When an object was last written (`None`: not stored).
    pub async fn modified_at(
        &self,
        sha256: &str,
    ) -> Result<Option<DateTime<Utc>>, object_store::Error> {
        match self.store.head(&self.key(sha256)).await {
            Ok(m) => Ok(Some(m.last_modified)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Delete an object (no error when it is already gone).
    pub async fn delete(&self, sha256: &str) -> Result<(), object_store::Error> {
        match self.store.delete(&self.key(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every content-addressed object.
    pub async fn list(&self) -> Result<Vec<StoredObject>, object_store::Error> {
        let prefix = self.prefix.child("sha256");
        let metas: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let name = m.location.filename()?.to_string();
                (name.len() == 64).then_some(StoredObject {
                    sha256: name,
                    size: m.size,
                    last_modified: m.last_modified,
                })
            })
            .collect())
    }

    /// Temporary objects older than `before` (uploads cut off by a crash).
    pub async fn clean_temporaries(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<String>, object_store::Error> {
        let prefix = self.prefix.child("tmp");
        let metas: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        let mut old = Vec::new();
        for m in metas {
            if m.last_modified < before {
                let _ = self.store.delete(&m.location).await;
                old.push(m.location.to_string());
            }
        }
        Ok(old)
    }

    /// Whether the store answers (health checks, `storage verify`).
    pub async fn ping(&self) -> Result<(), object_store::Error> {
        let prefix = self.prefix.child("sha256");
        let _ = self.store.list_with_delimiter(Some(&prefix)).await?;
        Ok(())
    }
}
