//! `motcua backup --to FILE` and `motcua restore --from FILE` (issue 22 §3).
//!
//! A backup is one tar archive: `MANIFEST.json` (format, database kind, when, what it
//! holds), the database (`motcua.db`, a consistent SQLite copy taken while the service runs;
//! or `motcua.pgdump`, `pg_dump`'s custom format, for small PostgreSQL sites — large ones use
//! `pg_basebackup` with WAL archiving, docs/SECURITY.md) and, when documents are kept in a
//! local folder, that folder under `files/`. The database is copied first and the files
//! after: objects are written before the rows that name them and never change, so every
//! object the copied rows name is in the archive (a few orphans more at most).
//! The archive is written beside its destination and renamed into place when complete.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Utc;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};

use crate::repo;
use crate::storage::Storage;

const FORMAT: u32 = 1;
const SQLITE_ENTRY: &str = "motcua.db";
const PG_ENTRY: &str = "motcua.pgdump";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// `sqlite` or `postgresql`.
    pub database: String,
    pub created_at: chrono::DateTime<Utc>,
    pub version: String,
    /// Files of the local store included (0 with an object store, backed up on its own).
    pub files: u64,
}

/// What a backup or a restore did.
#[derive(Debug)]
pub struct Report {
    pub database: String,
    pub database_bytes: u64,
    pub files: u64,
}

fn err(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// A scratch folder beside `to` (same file system, so the final rename is atomic).
fn scratch(to: &Path) -> Result<PathBuf, String> {
    let dir = to
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let s = dir.join(format!(
        ".{}.partial-{}",
        to.file_name().and_then(|n| n.to_str()).unwrap_or("backup"),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&s).map_err(|e| err("scratch folder", e))?;
    Ok(s)
}

/// The database backed up: the open connection, and for PostgreSQL its URL (for pg_dump).
pub struct Source<'a> {
    pub db: &'a DatabaseConnection,
    /// `None`: SQLite.
    pub postgres_url: Option<&'a str>,
}

/// Back the service up into the archive `to`.
pub async fn backup(source: Source<'_>, storage: &Storage, to: &Path) -> Result<Report, String> {
    let work = scratch(to)?;
    let result = backup_into(source, storage, to, &work).await;
    let _ = std::fs::remove_dir_all(&work);
    result
}

async fn backup_into(
    source: Source<'_>,
    storage: &Storage,
    to: &Path,
    work: &Path,
) -> Result<Report, String> {
    let (kind, entry, copy) = if let Some(url) = source.postgres_url {
        let copy = work.join(PG_ENTRY);
        let out = tokio::process::Command::new("pg_dump")
            .args(["--format=custom", "--no-owner", "--file"])
            .arg(&copy)
            .arg(url)
            .output()
            .await
            .map_err(|e| err("running pg_dump (is it installed?)", e))?;
        if !out.status.success() {
            return Err(format!(
                "pg_dump failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        ("postgresql", PG_ENTRY, copy)
    } else {
        let copy = work.join(SQLITE_ENTRY);
        repo::backup::sqlite_snapshot(source.db, &copy)
            .await
            .map_err(|e| err("copying the SQLite database", e))?;
        ("sqlite", SQLITE_ENTRY, copy)
    };
    let database_bytes = std::fs::metadata(&copy)
        .map_err(|e| err("the database copy", e))?
        .len();
    let local = storage.local_dir.clone();
    let to = to.to_path_buf();
    let work = work.to_path_buf();
    // The archive is plain file work: off the async threads.
    tokio::task::spawn_blocking(move || {
        let files = local.as_deref().map(count_files).unwrap_or(0);
        let manifest = Manifest {
            format: FORMAT,
            database: kind.to_string(),
            created_at: Utc::now(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            files,
        };
        let partial = work.join("archive.tar");
        let out = File::create(&partial).map_err(|e| err("the archive", e))?;
        let mut tar = tar::Builder::new(std::io::BufWriter::new(out));
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| err("manifest", e))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(manifest.created_at.timestamp().max(0) as u64);
        header.set_cksum();
        tar.append_data(&mut header, "MANIFEST.json", json.as_slice())
            .map_err(|e| err("the archive", e))?;
        tar.append_path_with_name(&copy, entry)
            .map_err(|e| err("the archive", e))?;
        if let Some(dir) = &local {
            if dir.exists() {
                tar.append_dir_all("files", dir)
                    .map_err(|e| err("the file store", e))?;
            }
        }
        let mut w = tar.into_inner().map_err(|e| err("the archive", e))?;
        w.flush().map_err(|e| err("the archive", e))?;
        w.get_ref().sync_all().map_err(|e| err("the archive", e))?;
        std::fs::rename(&partial, &to).map_err(|e| err("moving the archive into place", e))?;
        Ok(Report {
            database: kind.to_string(),
            database_bytes,
            files,
        })
    })
    .await
    .map_err(|e| err("backup", e))?
}

fn count_files(dir: &Path) -> u64 {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => n += 1,
                _ => {}
            }
        }
    }
    n
}

/// Restore a SQLite backup into the configured database file (which must not exist unless
/// `force`) and the local file store. PostgreSQL backups are restored with `pg_restore`
/// (docs/SECURITY.md).
pub fn restore(
    sqlite_path: Option<PathBuf>,
    files_dir: Option<PathBuf>,
    from: &Path,
    force: bool,
) -> Result<Report, String> {
    let Some(db_path) = sqlite_path else {
        return Err(
            "restore writes a SQLite database: for PostgreSQL use pg_restore on the archive's motcua.pgdump (docs/SECURITY.md)"
                .into(),
        );
    };
    if db_path.exists() && !force {
        return Err(format!(
            "{} exists: restore into a fresh place, or pass --force to replace it",
            db_path.display()
        ));
    }
    let archive = File::open(from).map_err(|e| err("the backup", e))?;
    let mut tar = tar::Archive::new(std::io::BufReader::new(archive));
    let staged = db_path.with_extension("restoring");
    let mut manifest: Option<Manifest> = None;
    let mut database_bytes = 0;
    let mut files = 0;
    for entry in tar.entries().map_err(|e| err("the backup", e))? {
        let mut entry = entry.map_err(|e| err("the backup", e))?;
        let path = entry.path().map_err(|e| err("the backup", e))?.into_owned();
        let name = path.to_string_lossy().to_string();
        if name == "MANIFEST.json" {
            let m: Manifest =
                serde_json::from_reader(&mut entry).map_err(|e| err("manifest", e))?;
            if m.format != FORMAT {
                return Err(format!("backup format {} is not {FORMAT}", m.format));
            }
            if m.database != "sqlite" {
                return Err(format!(
                    "this is a {} backup: restore it with pg_restore (docs/SECURITY.md)",
                    m.database
                ));
            }
            manifest = Some(m);
        } else if name == SQLITE_ENTRY {
            if manifest.is_none() {
                return Err("the backup has no manifest first".into());
            }
            let mut out = File::create(&staged).map_err(|e| err("the database", e))?;
            database_bytes =
                std::io::copy(&mut entry, &mut out).map_err(|e| err("the database", e))?;
            out.sync_all().map_err(|e| err("the database", e))?;
        } else if let Some(rest) = path
            .strip_prefix("files")
            .ok()
            .filter(|r| !r.as_os_str().is_empty())
        {
            let Some(dir) = &files_dir else {
                continue;
            };
            // Never outside the store's folder.
            if rest
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                return Err(format!("unsafe path in the backup: {name}"));
            }
            if entry.header().entry_type().is_file() {
                let target = dir.join(rest);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| err("the file store", e))?;
                }
                entry
                    .unpack(&target)
                    .map_err(|e| err("the file store", e))?;
                files += 1;
            }
        }
    }
    if database_bytes == 0 {
        let _ = std::fs::remove_file(&staged);
        return Err("the backup holds no database".into());
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(PathBuf::from(format!("{}{suffix}", db_path.display())));
    }
    std::fs::rename(&staged, &db_path).map_err(|e| err("the database", e))?;
    Ok(Report {
        database: "sqlite".into(),
        database_bytes,
        files,
    })
}
