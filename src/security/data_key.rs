//! Personal data at rest: the keys that seal applicants' ID numbers, phones and e-mails (and
//! the stored answers that repeat them) before they reach the database, and open them after.
//!
//! A sealed value is text, so that it fits the columns that held the plaintext:
//! `ev1:<key id>:<base64 of a 24-byte nonce and the XChaCha20-Poly1305 ciphertext>`. The
//! associated data is the column's name, so a value copied into another column does not open.
//! The nonce is random: XChaCha's 192 bits make a repeat negligible at any volume, where
//! AES-GCM's 96 bits would cap the messages per key. The key id (the first 4 bytes of an HMAC
//! of a fixed label under the key) names the key that sealed a value, so that several keys can
//! be open at once during a rotation.
//!
//! Equality lookups on a sealed value use a blind index: an HMAC-SHA256 of the value under a
//! key derived from the data key, truncated to 128 bits (see [`DataKeys::index`]).
//!
//! Text without the `ev1:` prefix is plaintext written before sealing began; it is opened as
//! it is, and `motcua keys rotate` seals it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::config::Settings;

/// The prefix of a sealed value, with its format version.
pub const PREFIX: &str = "ev1:";

/// How often a file-backed key ring checks whether its file changed (a rotation on another
/// process put a new key first).
const FILE_CHECK_EVERY: Duration = Duration::from_secs(10);

/// Why the keys could not be loaded or a value not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DataKeyError {
    #[error("data key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} does not hold data keys (one key of 64 hex characters per line)")]
    Corrupt(String),
    #[error("security.{0} must be keys of 64 hex characters")]
    Invalid(&'static str),
    #[error("a value is sealed with data key {0}, which this instance does not have")]
    UnknownKey(String),
    #[error("a sealed value in {0} does not open: damaged, or moved from another column")]
    Damaged(&'static str),
}

struct Key {
    id: String,
    aead: XChaCha20Poly1305,
    index: [u8; 32],
}

impl Key {
    fn new(bytes: &[u8; 32]) -> Key {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(bytes).expect("any key length");
            mac.update(label);
            mac.finalize().into_bytes().into()
        };
        Key {
            id: hex::encode(&derive(b"motcua data key id")[..4]),
            aead: XChaCha20Poly1305::new(bytes.into()),
            index: derive(b"motcua blind index v1"),
        }
    }

    fn index(&self, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index).expect("any key length");
        mac.update(value.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

/// The keys in use: the first seals, all open.
struct Ring {
    keys: Vec<Key>,
}

impl Ring {
    fn current(&self) -> &Key {
        &self.keys[0]
    }

    fn find(&self, id: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.id == id)
    }
}

/// The data keys of this process: cheap to clone, shared by every request and job.
#[derive(Clone)]
pub struct DataKeys(Arc<Inner>);

struct Inner {
    ring: RwLock<Arc<Ring>>,
    /// The key file the ring came from, re-read when it changes (`None`: configured keys).
    file: Option<PathBuf>,
    checked: Mutex<(Instant, Option<SystemTime>)>,
}

impl std::fmt::Debug for DataKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeys")
            .field("current", &self.current_id())
            .finish_non_exhaustive()
    }
}

fn parse_key(text: &str) -> Option<[u8; 32]> {
    hex::decode(text.trim()).ok()?.try_into().ok()
}

fn parse_list(text: &str) -> Option<Vec<[u8; 32]>> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(parse_key)
        .collect()
}

/// A fresh key, as 64 hex characters.
pub fn generate() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    hex::encode(key)
}

impl DataKeys {
    fn with(keys: Vec<[u8; 32]>, file: Option<PathBuf>) -> DataKeys {
        let mut ring: Vec<Key> = Vec::with_capacity(keys.len());
        for k in &keys {
            let key = Key::new(k);
            if ring.iter().all(|r| r.id != key.id) {
                ring.push(key);
            }
        }
        let modified = file.as_deref().and_then(modified);
        DataKeys(Arc::new(Inner {
            ring: RwLock::new(Arc::new(Ring { keys: ring })),
            file,
            checked: Mutex::new((Instant::now(), modified)),
        }))
    }

    /// Keys given directly: the first seals (for tests and tools).
    pub fn from_keys(keys: &[[u8; 32]]) -> DataKeys {
        assert!(!keys.is_empty(), "at least one data key");
        DataKeys::with(keys.to_vec(), None)
    }

    /// The keys the configuration names: `security.data_key` (and `extra_data_keys`), or the
    /// key file, created with a fresh key when it does not exist yet.
    pub fn load(settings: &Settings) -> Result<DataKeys, DataKeyError> {
        let s = &settings.security;
        let extra = parse_list(s.extra_data_keys.expose_secret())
            .ok_or(DataKeyError::Invalid("extra_data_keys"))?;
        let configured = s.data_key.expose_secret();
        if !configured.is_empty() {
            let key = parse_key(configured).ok_or(DataKeyError::Invalid("data_key"))?;
            let mut keys = vec![key];
            keys.extend(extra);
            return Ok(DataKeys::with(keys, None));
        }
        let path = settings.data_key_file_path();
        crate::security::keys::create_secret_file(&path, &format!("{}\n", generate()))
            .map_err(|source| io(&path, source))?;
        let mut keys = read_file(&path)?;
        keys.extend(extra);
        Ok(DataKeys::with(keys, Some(path)))
    }

    fn ring(&self) -> Arc<Ring> {
        self.0.ring.read().expect("ring lock").clone()
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> String {
        self.ring().current().id.clone()
    }

    /// The ids of every key that opens.
    pub fn ids(&self) -> Vec<String> {
        self.ring().keys.iter().map(|k| k.id.clone()).collect()
    }

    /// The key file, when the keys come from one.
    pub fn file(&self) -> Option<&Path> {
        self.0.file.as_deref()
    }

    /// Seal `plain` for `column` with the current key.
    pub fn seal(&self, column: &'static str, plain: &str) -> String {
        self.check_file(false);
        let ring = self.ring();
        let key = ring.current();
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = key
            .aead
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: column.as_bytes(),
                },
            )
            .expect("sealing cannot fail for short values");
        let mut bytes = Vec::with_capacity(24 + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", key.id, STANDARD_NO_PAD.encode(bytes))
    }

    /// Open what [`seal`](Self::seal) made for `column`; plaintext from before sealing passes.
    pub fn open(&self, column: &'static str, stored: &str) -> Result<String, DataKeyError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let (id, body) = rest.split_once(':').ok_or(DataKeyError::Damaged(column))?;
        let mut ring = self.ring();
        if ring.find(id).is_none() && self.check_file(true) {
            ring = self.ring();
        }
        let key = ring
            .find(id)
            .ok_or_else(|| DataKeyError::UnknownKey(id.to_string()))?;
        let bytes = STANDARD_NO_PAD
            .decode(body)
            .map_err(|_| DataKeyError::Damaged(column))?;
        if bytes.len() < 24 {
            return Err(DataKeyError::Damaged(column));
        }
        let (nonce, sealed) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().expect("24 bytes");
        let plain = key
            .aead
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: column.as_bytes(),
                },
            )
            .map_err(|_| DataKeyError::Damaged(column))?;
        String::from_utf8(plain).map_err(|_| DataKeyError::Damaged(column))
    }

    /// Whether `stored` is sealed with the current key (else `keys rotate` re-seals it).
    pub fn is_current(&self, stored: &str) -> bool {
        let ring = self.ring();
        stored
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.strip_prefix(ring.current().id.as_str()))
            .is_some_and(|rest| rest.starts_with(':'))
    }

    /// The blind index of `value` under the current key.
    pub fn index(&self, value: &str) -> String {
        self.ring().current().index(value)
    }

    /// The blind indexes of `value` under every key, for lookups while a rotation runs.
    pub fn indexes(&self, value: &str) -> Vec<String> {
        self.ring().keys.iter().map(|k| k.index(value)).collect()
    }

    /// Re-read the key file when it changed (at most every few seconds unless `now`).
    /// True when the ring was replaced.
    fn check_file(&self, now: bool) -> bool {
        let Some(path) = &self.0.file else {
            return false;
        };
        {
            let mut checked = self.0.checked.lock().expect("check lock");
            if !now && checked.0.elapsed() < FILE_CHECK_EVERY {
                return false;
            }
            let m = modified(path);
            let changed = m != checked.1;
            *checked = (Instant::now(), m);
            if !changed && !now {
                return false;
            }
        }
        match read_file(path) {
            Ok(keys) => {
                let fresh = DataKeys::with(keys, None);
                let ring = fresh.ring();
                *self.0.ring.write().expect("ring lock") = ring;
                tracing::info!(key.file = %path.display(), "data keys re-read");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not re-read the data key file");
                false
            }
        }
    }

    /// Write `keys` (the first seals) to the key file, replacing it atomically, and use them.
    pub fn replace_file(&self, keys: &[String]) -> Result<(), DataKeyError> {
        let Some(path) = &self.0.file else {
            return Err(DataKeyError::Invalid("data_key"));
        };
        let tmp = path.with_extension("key.new");
        let _ = std::fs::remove_file(&tmp);
        let body = keys.join("\n") + "\n";
        crate::security::keys::create_secret_file(&tmp, &body).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
        self.check_file(true);
        Ok(())
    }

    /// The key file's keys, as written (hex), the sealing one first.
    pub fn file_keys(&self) -> Result<Vec<String>, DataKeyError> {
        let Some(path) = &self.0.file else {
            return Ok(Vec::new());
        };
        Ok(read_file(path)?.iter().map(hex::encode).collect())
    }
}

fn io(path: &Path, source: std::io::Error) -> DataKeyError {
    DataKeyError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn read_file(path: &Path) -> Result<Vec<[u8; 32]>, DataKeyError> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    match parse_list(&text) {
        Some(keys) if !keys.is_empty() => Ok(keys),
        _ => Err(DataKeyError::Corrupt(path.display().to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: u8) -> DataKeys {
        DataKeys::from_keys(&[[n; 32]])
    }

    #[test]
    fn a_sealed_value_opens_only_in_its_column_and_hides_the_plaintext() {
        let k = keys(1);
        let sealed = k.seal("cases.applicant_phone", "0912345678");
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("0912345678"));
        assert_ne!(sealed, k.seal("cases.applicant_phone", "0912345678"));
        assert_eq!(
            k.open("cases.applicant_phone", &sealed).unwrap(),
            "0912345678"
        );
        assert!(matches!(
            k.open("cases.applicant_email", &sealed),
            Err(DataKeyError::Damaged(_))
        ));
        let mut tampered = sealed.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(k.open("cases.applicant_phone", &tampered).is_err());
    }

    #[test]
    fn old_keys_open_and_only_the_current_one_seals() {
        let old = keys(1);
        let sealed = old.seal("c", "x");
        let both = DataKeys::from_keys(&[[2; 32], [1; 32]]);
        assert_eq!(both.open("c", &sealed).unwrap(), "x");
        assert!(!both.is_current(&sealed));
        assert!(both.is_current(&both.seal("c", "x")));
        assert!(matches!(
            keys(3).open("c", &sealed),
            Err(DataKeyError::UnknownKey(_))
        ));
        // Plaintext from before sealing passes, and is not current.
        assert_eq!(both.open("c", "0912345678").unwrap(), "0912345678");
        assert!(!both.is_current("0912345678"));
    }

    #[test]
    fn the_blind_index_is_keyed_and_stable() {
        let (a, b) = (keys(1), keys(2));
        assert_eq!(a.index("001099012345"), a.index("001099012345"));
        assert_ne!(a.index("001099012345"), a.index("001099012346"));
        assert_ne!(a.index("001099012345"), b.index("001099012345"));
        let both = DataKeys::from_keys(&[[2; 32], [1; 32]]);
        assert_eq!(
            both.indexes("001099012345"),
            vec![b.index("001099012345"), a.index("001099012345")]
        );
    }
}
