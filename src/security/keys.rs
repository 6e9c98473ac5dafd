//! The access-token signing key: configured, or generated once and kept.

use std::io::Write;
use std::path::Path;

use rand::RngCore;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretSlice};

use crate::config::Settings;
use crate::repo;

/// Where the key came from, for the start-up log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Configured,
    File,
    Database,
}

/// The key could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("jwt key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("jwt key file {0} does not hold a valid key (64 hex characters)")]
    Corrupt(String),
    #[error("jwt key in the database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

const DB_KEY_NAME: &str = "jwt_signing_key";

/// Obtain the signing key. A configured key wins (its length was checked with the rest of the
/// configuration). Otherwise SQLite deployments keep a generated key in a 0600 file beside the
/// database; PostgreSQL deployments keep it in the database, so every instance signs alike.
pub async fn load_or_generate(
    settings: &Settings,
    db: &DatabaseConnection,
) -> Result<(SecretSlice<u8>, KeySource), KeyError> {
    let configured = settings.auth.jwt_secret.expose_secret();
    if !configured.is_empty() {
        return Ok((configured.as_bytes().to_vec().into(), KeySource::Configured));
    }
    if settings.sqlite_path().is_some() || !is_postgres(settings) {
        let path = settings.key_file_path();
        let key = load_or_create_file(&path)?;
        tracing::warn!(
            key.file = %path.display(),
            "no auth.jwt_secret configured: using a generated signing key kept in a file"
        );
        return Ok((key.into(), KeySource::File));
    }
    let key = load_or_create_db(db).await?;
    tracing::warn!(
        "no auth.jwt_secret configured: using a generated signing key kept in the database"
    );
    Ok((key.into(), KeySource::Database))
}

fn is_postgres(settings: &Settings) -> bool {
    settings
        .database
        .url
        .expose_secret()
        .starts_with("postgres")
}

pub(crate) fn fresh_key() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

fn load_or_create_file(path: &Path) -> Result<Vec<u8>, KeyError> {
    let io = |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    };
    let corrupt = || KeyError::Corrupt(path.display().to_string());
    let fresh = fresh_key();
    // Another process may have created it first: then theirs is read back.
    create_secret_file(path, &hex::encode(&fresh)).map_err(io)?;
    let s = std::fs::read_to_string(path).map_err(io)?;
    let key = hex::decode(s.trim()).map_err(|_| corrupt())?;
    if key.len() < 32 {
        return Err(corrupt());
    }
    Ok(key)
}

/// Create `path` holding `contents`, readable by its owner only (0600), unless it exists.
/// True when this call created it.
pub(crate) fn create_secret_file(path: &Path, contents: &str) -> std::io::Result<bool> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(contents.as_bytes())?;
            file.sync_all()?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

async fn load_or_create_db(db: &DatabaseConnection) -> Result<Vec<u8>, KeyError> {
    if let Some(value) = repo::secrets::find(db, DB_KEY_NAME).await? {
        return hex::decode(value.trim()).map_err(|_| KeyError::Corrupt("database".into()));
    }
    let key = fresh_key();
    let insert =
        repo::secrets::insert(db, DB_KEY_NAME, hex::encode(&key), chrono::Utc::now()).await;
    match insert {
        Ok(()) => Ok(key),
        // Lost the race with another instance: read the winner's key.
        Err(_) => {
            let value = repo::secrets::find(db, DB_KEY_NAME)
                .await?
                .ok_or_else(|| KeyError::Corrupt("database".into()))?;
            hex::decode(value.trim()).map_err(|_| KeyError::Corrupt("database".into()))
        }
    }
}
