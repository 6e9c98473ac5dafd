//! The data keys of a deployment: opened at start with a check that they fit the database,
//! and rotated (`motcua keys rotate`) while the service runs.

use chrono::Utc;
use sea_orm::{DatabaseConnection, DbErr};

use crate::config::Settings;
use crate::db;
use crate::progress::Progress;
use crate::repo;
use crate::repo::personal_data as seals;
use crate::security::data_key::{DataKeyError, DataKeys};

/// The id of the key the database's personal data was last completely sealed with.
const SEALED_WITH: &str = "data_key_id";

/// Why the keys cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    Key(#[from] DataKeyError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error(
        "the personal data in this database is sealed with data key {sealed}, and this \
         instance has {have}: configure security.data_key (or its key file) with that key"
    )]
    Mismatch { sealed: String, have: String },
}

/// The configured keys, once it is sure they open this database's personal data: the
/// database records the key it is sealed with, and an instance without that key (another
/// host that generated a key file of its own, a wrong secret) refuses to start instead of
/// writing data the others cannot read.
pub async fn open(settings: &Settings, db: &DatabaseConnection) -> Result<DataKeys, KeysError> {
    let keys = DataKeys::load(settings)?;
    match repo::secrets::find(db, SEALED_WITH).await? {
        Some(id) if keys.ids().contains(&id) => {}
        Some(sealed) => {
            return Err(KeysError::Mismatch {
                sealed,
                have: keys.ids().join(", "),
            })
        }
        None => {
            // A new database (or one from before sealing, which `keys rotate` seals).
            // Another instance may record its key at the same time: then theirs is read.
            let now = Utc::now();
            if repo::secrets::insert(db, SEALED_WITH, keys.current_id(), now)
                .await
                .is_err()
            {
                let recorded = repo::secrets::find(db, SEALED_WITH).await?;
                if let Some(sealed) = recorded.filter(|id| !keys.ids().contains(id)) {
                    return Err(KeysError::Mismatch {
                        sealed,
                        have: keys.ids().join(", "),
                    });
                }
            }
        }
    }
    if let Some(file) = keys.file() {
        tracing::warn!(
            key.file = %file.display(),
            key.id = %keys.current_id(),
            "no security.data_key configured: personal data is sealed with a key kept in a file"
        );
    }
    Ok(keys)
}

/// What a rotation did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RotateReport {
    pub key_id: String,
    pub examined: u64,
    pub resealed: u64,
    /// Rows changed by the application while the rotation read them: they are sealed with
    /// whatever key their writer had, and a second run re-seals them.
    pub left: u64,
}

/// Put a freshly generated key first in the key file (the others stay, to open what they
/// sealed). Running instances that share the file take it within seconds.
pub fn generate_into_file(keys: &DataKeys) -> Result<String, DataKeyError> {
    let fresh = crate::security::data_key::generate();
    let mut all = vec![fresh];
    all.extend(keys.file_keys()?);
    keys.replace_file(&all)?;
    Ok(keys.current_id())
}

/// Re-seal every sealed value that is not under the current key (or still plaintext from
/// before sealing), `batch` rows per transaction, so that requests go on between batches.
/// When nothing is left, the database records the current key as the one it is sealed with.
pub async fn rotate(
    db: &DatabaseConnection,
    keys: &DataKeys,
    batch: u64,
    progress: &mut dyn Progress,
) -> Result<RotateReport, KeysError> {
    let mut report = RotateReport {
        key_id: keys.current_id(),
        ..Default::default()
    };
    let batch = batch.max(1);

    progress.stage("dossiers", 0);
    let mut after = 0;
    loop {
        let page = seals::cases_after(db, after, batch).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let mut stale = Vec::new();
        for c in &page {
            if !seals::case_is_current(keys, c)? {
                stale.push(c);
            }
        }
        report.examined += page.len() as u64;
        if !stale.is_empty() {
            let txn = db::begin_write(db).await?;
            for c in stale {
                match seals::reseal_case(&*txn, keys, c).await? {
                    true => report.resealed += 1,
                    false => report.left += 1,
                }
            }
            txn.commit().await?;
        }
        progress.advance(page.len() as u64);
        tokio::task::yield_now().await;
    }

    progress.stage("accounts", 0);
    let mut after = None;
    loop {
        let page = seals::accounts_after(db, after, batch).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let stale: Vec<_> = page
            .iter()
            .filter(|a| a.values.iter().flatten().any(|v| !keys.is_current(v)))
            .collect();
        report.examined += page.len() as u64;
        if !stale.is_empty() {
            let txn = db::begin_write(db).await?;
            for a in stale {
                match seals::reseal_account(&*txn, keys, a).await? {
                    true => report.resealed += 1,
                    false => report.left += 1,
                }
            }
            txn.commit().await?;
        }
        progress.advance(page.len() as u64);
    }

    progress.stage("stored answers", 0);
    let mut after = None;
    loop {
        let page = seals::answers_after(db, after, batch).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.account_id, last.key.clone()));
        let stale: Vec<_> = page.iter().filter(|a| !keys.is_current(&a.body)).collect();
        report.examined += page.len() as u64;
        if !stale.is_empty() {
            let txn = db::begin_write(db).await?;
            for a in stale {
                match seals::reseal_answer(&*txn, keys, a).await? {
                    true => report.resealed += 1,
                    false => report.left += 1,
                }
            }
            txn.commit().await?;
        }
        progress.advance(page.len() as u64);
    }
    progress.finish();

    if report.left == 0 {
        repo::secrets::put(db, SEALED_WITH, report.key_id.clone(), Utc::now()).await?;
    }
    tracing::info!(
        key.id = %report.key_id,
        rotate.examined = report.examined,
        rotate.resealed = report.resealed,
        rotate.left = report.left,
        "personal data re-sealed"
    );
    Ok(report)
}
