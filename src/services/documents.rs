//! A dossier's files: uploads before filing, attachments to a filed dossier (the applicant's
//! supplement, the counter's scans, the handling unit's result), listing and download under
//! the dossier's own access rules, and the housekeeping of the store.
//!
//! The order of writes keeps "no row points at a missing object": a file is streamed into
//! the store ([`crate::storage::Storage::receive`]), checked, moved to its content address,
//! and only then named by a row. What fails after the object is written leaves an orphan
//! object, which [`clean_orphans`] and `motcua storage verify` find.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::config::StorageSettings;
use crate::db;
use crate::domain::access::Actor;
use crate::domain::account::Role;
use crate::domain::dossier::{valid_kind, Document, MediaType, NewDocument, RESULT_KIND};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::services::cases::{get, not_found, transition_error, version_conflict, Deps};
use crate::storage::{Download, ReceiveError, Received, Storage};
use crate::text;

/// The answer to an upload.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UploadReceipt {
    pub id: Uuid,
    /// SHA-256 of the bytes received, hex.
    pub sha256: String,
    pub size: i64,
    /// Decided from the bytes.
    pub media_type: String,
}

/// 409 for an upload another dossier took first.
pub fn upload_taken() -> ApiError {
    ApiError::conflict(
        "upload_already_used",
        text!(
            "Tệp tải lên đã được dùng cho một hồ sơ khác.",
            "That upload was already used for another dossier."
        ),
    )
}

pub(crate) fn storage_unavailable(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(storage.error = %e, "file store unavailable");
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "storage_unavailable",
        text!(
            "Kho lưu trữ tệp tạm thời không hoạt động; hãy thử lại sau.",
            "The file store is unavailable; try again later."
        ),
    )
}

/// Stream a file into the store (not yet named by any row); the problem of a refusal.
pub async fn receive<S, E>(
    storage: &Storage,
    files: &StorageSettings,
    body: S,
) -> ApiResult<Received>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    storage
        .receive(body, files.max_file_bytes)
        .await
        .map_err(|e| match e {
            ReceiveError::TooLarge(max) => too_large("file_too_large", max),
            ReceiveError::Body(m) => ApiError::bad_request(
                "upload_incomplete",
                text!(
                    format!("Tệp gửi lên bị gián đoạn: {m}"),
                    format!("The upload broke off: {m}")
                ),
            ),
            ReceiveError::Store(e) => storage_unavailable(e),
        })
}

fn too_large(code: &'static str, max: u64) -> ApiError {
    let size = if max >= 1024 * 1024 {
        format!("{:.0} MiB", max as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KiB", max.div_ceil(1024))
    };
    ApiError::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        code,
        if code == "file_too_large" {
            text!(
                format!("Tệp vượt quá {size}."),
                format!("The file is larger than {size}.")
            )
        } else {
            text!(
                format!("Tổng dung lượng giấy tờ của hồ sơ vượt quá {size}."),
                format!("The dossier's files would exceed {size}.")
            )
        },
    )
    .with_extra("max_bytes", json!(max))
}

/// A file's name as metadata: control characters dropped, at most 255 characters, never
/// empty. It is never part of a storage key.
pub fn clean_file_name(name: Option<&str>) -> String {
    let cleaned: String = name
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        "tep".to_string()
    } else {
        cleaned
    }
}

/// Check what was received (type, declared hash) and move it to its content address; a
/// refused file is dropped from the store.
async fn accept(
    storage: &Storage,
    r: &Received,
    declared_sha256: Option<&str>,
    result: bool,
) -> ApiResult<MediaType> {
    let refusal = match r.media_type {
        None => Some(unsupported()),
        Some(MediaType::Xml) if !result => Some(unsupported()),
        _ if r.size == 0 => Some(ApiError::unprocessable(
            "empty_file",
            text!("Tệp rỗng.", "The file is empty."),
        )),
        _ => match declared_sha256.map(str::trim).filter(|s| !s.is_empty()) {
            Some(d) if !d.eq_ignore_ascii_case(&r.sha256) => Some(
                ApiError::unprocessable(
                    "sha256_mismatch",
                    text!(
                        "Mã băm SHA-256 khai báo khác với tệp nhận được.",
                        "The declared SHA-256 differs from the file received."
                    ),
                )
                .with_extra("sha256", json!(r.sha256)),
            ),
            _ => None,
        },
    };
    if let Some(e) = refusal {
        storage.discard(r).await;
        return Err(e);
    }
    storage.commit(r).await.map_err(storage_unavailable)?;
    Ok(r.media_type.expect("checked"))
}

fn unsupported() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_file_type",
        text!(
            "Chỉ nhận tệp PDF, JPEG hoặc PNG (kết quả điện tử: PDF hoặc XML có chữ ký số).",
            "Only PDF, JPEG or PNG files are accepted (electronic results: PDF or signed XML)."
        ),
    )
}

/// Keep a received file as an upload of `actor`'s, for a dossier they file later.
pub async fn create_upload(
    deps: &Deps<'_>,
    actor: &Actor,
    r: Received,
    file_name: Option<&str>,
    declared_sha256: Option<&str>,
) -> ApiResult<UploadReceipt> {
    if !matches!(actor.role, Role::Citizen | Role::Clerk | Role::UnitHead) {
        deps.storage.discard(&r).await;
        return Err(ApiError::forbidden(text!(
            "Chỉ người nộp và cán bộ tiếp nhận được tải tệp lên.",
            "Only applicants and reception staff upload files."
        )));
    }
    let media = accept(deps.storage, &r, declared_sha256, false).await?;
    let upload = repo::documents::Upload {
        id: Uuid::now_v7(),
        account_id: actor.account_id,
        sha256: r.sha256.clone(),
        size: r.size as i64,
        media_type: media.as_str().to_string(),
        file_name: clean_file_name(file_name),
        created_at: Utc::now(),
        attached_at: None,
    };
    // In a write transaction, so that on SQLite the insert queues in the app's writer turn
    // with the other writes: outside it, it waited in SQLite's busy handler, whose sleeps made
    // an upload's p99 under a day's mix 0.6-1.7 s (benches/day_mix.rs).
    let txn = crate::db::begin_write(deps.db).await?;
    repo::documents::insert_upload(&txn, &upload).await?;
    txn.commit().await?;
    tracing::info!(upload.id = %upload.id, upload.size = upload.size, upload.media_type = %upload.media_type, "file uploaded");
    Ok(UploadReceipt {
        id: upload.id,
        sha256: upload.sha256,
        size: upload.size,
        media_type: upload.media_type,
    })
}

/// A document named at filing: an upload, or an earlier digitised document to reuse.
#[derive(Debug, Clone)]
pub enum IntakeDocument {
    Upload { kind: String, upload_id: Uuid },
    Reuse { kind: String, document_id: Uuid },
}

/// The files a dossier is filed with: each upload the filer's own and not taken, each reuse
/// one of the applicant's digitised documents, within the limits. Returns the document rows
/// to write with the dossier and the uploads they take.
pub async fn resolve_for_intake(
    deps: &Deps<'_>,
    actor: &Actor,
    given: &[IntakeDocument],
) -> ApiResult<(Vec<Document>, Vec<Uuid>)> {
    let mut c = crate::error::Checks::default();
    if given.len() > deps.files.max_files {
        return Err(too_many_files(deps.files.max_files));
    }
    let upload_ids: Vec<Uuid> = given
        .iter()
        .filter_map(|d| match d {
            IntakeDocument::Upload { upload_id, .. } => Some(*upload_id),
            _ => None,
        })
        .collect();
    let reuse_ids: Vec<Uuid> = given
        .iter()
        .filter_map(|d| match d {
            IntakeDocument::Reuse { document_id, .. } => Some(*document_id),
            _ => None,
        })
        .collect();
    let uploads = repo::documents::uploads_by_id(deps.db, &upload_ids).await?;
    let reused = repo::documents::by_ids(deps.db, &reuse_ids).await?;
    // Microseconds, as PostgreSQL stores them: what is returned equals a later read.
    let now = Utc::now().trunc_subsecs(6);
    let mut docs = Vec::with_capacity(given.len());
    let mut taken = Vec::new();
    let mut bytes: i64 = 0;
    for (i, d) in given.iter().enumerate() {
        let (kind, field) = match d {
            IntakeDocument::Upload { kind, .. } => (kind, "upload_id"),
            IntakeDocument::Reuse { kind, .. } => (kind, "reuse_document_id"),
        };
        if !valid_kind(kind) || kind == RESULT_KIND {
            c.push(crate::error::FieldError::new(
                format!("documents[{i}].kind"),
                "invalid_document_kind",
                text!("Loại giấy tờ không hợp lệ.", "Invalid document kind."),
            ));
            continue;
        }
        let unknown = || {
            crate::error::FieldError::new(
                format!("documents[{i}].{field}"),
                "unknown_file",
                text!(
                    "Không có tệp này (hoặc không phải của bạn, hoặc đã dùng).",
                    "There is no such file (or it is not yours, or it was used)."
                ),
            )
        };
        match d {
            IntakeDocument::Upload { upload_id, .. } => {
                match uploads.iter().find(|u| {
                    u.id == *upload_id
                        && u.account_id == actor.account_id
                        && u.attached_at.is_none()
                }) {
                    Some(u) if !taken.contains(&u.id) => {
                        taken.push(u.id);
                        bytes += u.size;
                        docs.push(Document {
                            id: Uuid::now_v7(),
                            kind: kind.clone(),
                            file_name: u.file_name.clone(),
                            sha256: u.sha256.clone(),
                            size: u.size,
                            media_type: u.media_type.clone(),
                            // A clerk's upload for a walk-in is a scan of the papers.
                            digitised: actor.role != Role::Citizen,
                            version: 1,
                            replaces: None,
                            reused_from: None,
                            uploaded_by: Some(actor.account_id),
                            uploaded_by_role: actor.role.as_str().to_string(),
                            uploaded_at: now,
                            superseded: false,
                        });
                    }
                    _ => c.push(unknown()),
                }
            }
            IntakeDocument::Reuse { document_id, .. } => {
                let own = reused.iter().find(|(doc, applicant)| {
                    doc.id == *document_id
                        && doc.digitised
                        && actor.role == Role::Citizen
                        && *applicant == Some(actor.account_id)
                });
                match own {
                    Some((doc, _)) => {
                        bytes += doc.size;
                        docs.push(Document {
                            id: Uuid::now_v7(),
                            kind: kind.clone(),
                            reused_from: Some(doc.id),
                            digitised: true,
                            version: 1,
                            replaces: None,
                            uploaded_by: Some(actor.account_id),
                            uploaded_by_role: actor.role.as_str().to_string(),
                            uploaded_at: now,
                            superseded: false,
                            ..doc.clone()
                        });
                    }
                    None => c.push(unknown()),
                }
            }
        }
    }
    c.finish()?;
    if bytes as u64 > deps.files.max_dossier_bytes {
        return Err(too_large("dossier_too_large", deps.files.max_dossier_bytes));
    }
    Ok((docs, taken))
}

/// 422 for a `kind` that is not a component key.
pub fn invalid_kind() -> ApiError {
    ApiError::invalid_field(
        "kind",
        "invalid_document_kind",
        text!(
            "Loại giấy tờ phải gồm 1–64 ký tự a-z, 0-9, _.",
            "The kind must be 1–64 of a-z, 0-9, _."
        ),
    )
}

fn too_many_files(max: usize) -> ApiError {
    ApiError::unprocessable(
        "too_many_files",
        text!(
            format!("Một hồ sơ có tối đa {max} tệp."),
            format!("A dossier holds at most {max} files.")
        ),
    )
    .with_extra("max_files", json!(max))
}

/// The summary entries of documents filed with a dossier.
pub fn new_documents(docs: &[Document]) -> Vec<NewDocument> {
    docs.iter()
        .map(|d| NewDocument {
            id: d.id,
            kind: d.kind.clone(),
            digitised: d.digitised,
            replaces: None,
            reused_from: d.reused_from,
        })
        .collect()
}

/// What is attached to a filed dossier.
#[derive(Debug, Clone, Default)]
pub struct AttachRequest {
    pub kind: String,
    /// A counter scan (staff only).
    pub digitised: bool,
    /// The document this one replaces (a new version; the old one stays).
    pub replaces: Option<Uuid>,
    pub file_name: Option<String>,
    pub sha256: Option<String>,
}

/// Attach a received file to a dossier: the caller must see the dossier (else 404, and
/// the file is dropped), the dossier must take it now ([`crate::domain::dossier::Dossier::attach`]),
/// and the limits hold. The object is at its address before the row names it.
pub async fn attach(
    deps: &Deps<'_>,
    actor: &Actor,
    code: &str,
    req: AttachRequest,
    r: Received,
) -> ApiResult<(Document, i32)> {
    let dropped = |e: ApiError| async {
        deps.storage.discard(&r).await;
        Err::<(Document, i32), ApiError>(e)
    };
    if req.digitised && actor.role == Role::Citizen {
        return dropped(ApiError::invalid_field(
            "digitised",
            "digitised_by_staff",
            text!(
                "Chỉ cán bộ tiếp nhận số hóa giấy tờ.",
                "Only reception staff digitise papers."
            ),
        ))
        .await;
    }
    let mut kind = req.kind.trim().to_string();
    // The first look, before the object is kept: scope, whether the dossier takes a file
    // now, the limits. All are checked again under the write lock.
    let (dossier, _) = match get(deps, actor, code).await {
        Ok(found) => found,
        Err(e) => return dropped(e).await,
    };
    let existing = repo::documents::of_case(deps.db, dossier.id).await?;
    let replaced = match req.replaces {
        Some(id) => match existing.iter().find(|d| d.id == id && !d.superseded) {
            Some(old) => {
                kind = old.kind.clone();
                Some(old.clone())
            }
            None => {
                return dropped(ApiError::invalid_field(
                    "replaces",
                    "unknown_document",
                    text!(
                        "Không có giấy tờ hiện hành này trong hồ sơ.",
                        "The dossier has no current document with that id."
                    ),
                ))
                .await
            }
        },
        None => None,
    };
    if !valid_kind(&kind) {
        return dropped(invalid_kind()).await;
    }
    if let Err(e) = dossier.may_attach(actor, &kind) {
        return dropped(transition_error(e, Some(&dossier))).await;
    }
    if existing.len() >= deps.files.max_files {
        return dropped(too_many_files(deps.files.max_files)).await;
    }
    let held: i64 = existing.iter().map(|d| d.size).sum();
    if (held as u64).saturating_add(r.size) > deps.files.max_dossier_bytes {
        return dropped(too_large("dossier_too_large", deps.files.max_dossier_bytes)).await;
    }
    let result = kind == RESULT_KIND;
    let media = accept(deps.storage, &r, req.sha256.as_deref(), result).await?;
    // Microseconds, as PostgreSQL stores them: what is returned equals a later read.
    let now = Utc::now().trunc_subsecs(6);
    let doc = Document {
        id: Uuid::now_v7(),
        kind: kind.clone(),
        file_name: clean_file_name(req.file_name.as_deref()),
        sha256: r.sha256.clone(),
        size: r.size as i64,
        media_type: media.as_str().to_string(),
        // Counter scans and electronic results are the digitised ones.
        digitised: req.digitised || result,
        version: replaced.as_ref().map_or(1, |o| o.version + 1),
        replaces: replaced.as_ref().map(|o| o.id),
        reused_from: None,
        uploaded_by: Some(actor.account_id),
        uploaded_by_role: actor.role.as_str().to_string(),
        uploaded_at: now,
        superseded: false,
    };
    let txn = db::begin_write(deps.db).await?;
    let mut d = repo::dossiers::find_for_update(&txn, deps.keys, code)
        .await?
        .ok_or_else(|| not_found(code))?;
    let expected = d.version;
    let (count, bytes) = repo::documents::totals(&txn, d.id).await?;
    if count as usize >= deps.files.max_files {
        return Err(too_many_files(deps.files.max_files));
    }
    if (bytes as u64).saturating_add(r.size) > deps.files.max_dossier_bytes {
        return Err(too_large("dossier_too_large", deps.files.max_dossier_bytes));
    }
    let before = d.clone();
    let event = d
        .attach(
            actor,
            &NewDocument {
                id: doc.id,
                kind: doc.kind.clone(),
                digitised: doc.digitised,
                replaces: doc.replaces,
                reused_from: None,
            },
            now,
        )
        .map_err(|e| transition_error(e, Some(&before)))?;
    if !repo::dossiers::save(&txn, deps.keys, &d, expected).await? {
        return Err(version_conflict());
    }
    repo::documents::insert_documents(&txn, d.id, d.applicant.account, std::slice::from_ref(&doc))
        .await?;
    repo::dossiers::record(&txn, &d, &[event], now).await?;
    if let Some(old) = &replaced {
        repo::audit::record(
            &txn,
            actor.account_id,
            "replace_document",
            d.code_str(),
            Some(json!({"replaced": old.id, "by": doc.id, "version": doc.version})),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    tracing::info!(case.code = %d.code_str(), document.id = %doc.id, document.kind = %doc.kind, "document attached");
    Ok((doc, d.version))
}

/// A dossier's documents, for whoever may read the dossier.
pub async fn list(deps: &Deps<'_>, actor: &Actor, code: &str) -> ApiResult<Vec<Document>> {
    let (d, _) = get(deps, actor, code).await?;
    list_of(deps, &d).await
}

/// The documents of a dossier the caller has already read (with `cases::get`).
pub async fn list_of(
    deps: &Deps<'_>,
    d: &crate::domain::dossier::Dossier,
) -> ApiResult<Vec<Document>> {
    Ok(repo::documents::of_case(deps.db, d.id).await?)
}

fn no_document() -> ApiError {
    ApiError::not_found(
        "document_not_found",
        text!(
            "Hồ sơ không có giấy tờ này.",
            "The dossier has no such document."
        ),
    )
}

/// One document of a dossier the caller may read.
pub async fn find(deps: &Deps<'_>, actor: &Actor, code: &str, id: Uuid) -> ApiResult<Document> {
    list(deps, actor, code)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(no_document)
}

/// A document's bytes (or a range).
pub async fn open(
    storage: &Storage,
    doc: &Document,
    range: Option<std::ops::Range<u64>>,
) -> ApiResult<Download> {
    storage.download(&doc.sha256, range).await.map_err(|e| match e {
        object_store::Error::NotFound { .. } => {
            tracing::error!(document.id = %doc.id, "a document's object is missing from the store");
            storage_unavailable("object missing")
        }
        e => storage_unavailable(e),
    })
}

/// The signed-in applicant's digitised documents that a new dossier may reuse.
pub async fn reusable(deps: &Deps<'_>, actor: &Actor) -> ApiResult<Vec<Document>> {
    if actor.role != Role::Citizen {
        return Ok(Vec::new());
    }
    // One entry per file: the same bytes reused again are one choice.
    let mut seen = std::collections::HashSet::new();
    Ok(repo::documents::reusable(deps.db, actor.account_id)
        .await?
        .into_iter()
        .filter(|d| seen.insert(d.sha256.clone()))
        .collect())
}

/// Delete uploads no dossier took within `orphan_after_secs`, and their objects when no
/// other row names the same bytes and the object was not written again since (a new upload
/// of the same bytes renews it). Returns how many uploads went.
pub async fn clean_orphans(
    db: &sea_orm::DatabaseConnection,
    storage: &Storage,
    files: &StorageSettings,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let before = now - Duration::seconds(files.orphan_after_secs as i64);
    let skip_locked = db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    let mut total = 0;
    loop {
        let txn = db::begin_write(db).await?;
        let hashes = repo::documents::take_unattached(&txn, before, 200, skip_locked).await?;
        txn.commit().await?;
        if hashes.is_empty() {
            break;
        }
        total += hashes.len();
        for h in hashes {
            if repo::documents::hash_in_use(db, &h).await? {
                continue;
            }
            match storage.modified_at(&h).await {
                Ok(Some(at)) if at < before => {
                    storage.delete(&h).await.map_err(storage_unavailable)?
                }
                Ok(_) => {}
                Err(e) => return Err(storage_unavailable(e)),
            }
        }
    }
    // Temporaries of uploads cut off by a crash.
    let _ = storage.clean_temporaries(before).await;
    Ok(total)
}

/// What `motcua storage verify` found.
#[derive(Debug, Default, serde::Serialize)]
pub struct Verification {
    pub checked: usize,
    /// Objects whose bytes no longer hash to their name (or whose size differs from the rows).
    pub mismatched: Vec<String>,
    /// Hashes rows name with no object.
    pub missing: Vec<String>,
    /// Objects no row names.
    pub orphans: Vec<String>,
}

/// Re-hash every stored object and compare with the rows.
pub async fn verify(
    db: &sea_orm::DatabaseConnection,
    storage: &Storage,
) -> ApiResult<Verification> {
    let rows = repo::documents::all_hashes(db).await?;
    let objects = storage.list().await.map_err(storage_unavailable)?;
    let mut v = Verification::default();
    let named: std::collections::HashMap<&str, i64> =
        rows.iter().map(|(h, s)| (h.as_str(), *s)).collect();
    for o in &objects {
        v.checked += 1;
        let (hash, size) = storage
            .rehash(&o.sha256)
            .await
            .map_err(storage_unavailable)?;
        let size_ok = named
            .get(o.sha256.as_str())
            .is_none_or(|s| *s as u64 == size);
        if hash != o.sha256 || !size_ok {
            v.mismatched.push(o.sha256.clone());
        }
        if !named.contains_key(o.sha256.as_str()) {
            v.orphans.push(o.sha256.clone());
        }
    }
    let stored: std::collections::HashSet<&str> =
        objects.iter().map(|o| o.sha256.as_str()).collect();
    for (h, _) in &rows {
        if !stored.contains(h.as_str()) && !v.missing.contains(h) {
            v.missing.push(h.clone());
        }
    }
    Ok(v)
}
