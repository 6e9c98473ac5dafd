//! Files: `/api/v1/uploads` (before filing), `/api/v1/cases/{code}/documents` (a filed
//! dossier's files, listed, attached, downloaded) and `/api/v1/me/documents` (what a
//! citizen may reuse). Bodies are multipart/form-data, streamed to the store part by part:
//! no file is held whole in memory, and the request-body limit of the rest of the API does
//! not apply (the store's `storage.max_file_bytes` does).

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::domain::dossier::{Document, MediaType};
use crate::error::{ApiError, ApiResult, ProblemDocument};
use crate::http::extract::{ApiJson, ApiPath, Auth};
use crate::services::documents::{self as svc, AttachRequest, UploadReceipt};
use crate::state::AppState;
use crate::storage::Received;
use crate::text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(attach, list))
        .routes(routes!(content))
        .routes(routes!(reusable))
        // Files are bounded by the store as they stream (`storage.max_file_bytes`).
        .layer(DefaultBodyLimit::disable())
}

/// The multipart body of an upload (for the OpenAPI document).
#[allow(dead_code)]
#[derive(ToSchema)]
struct UploadForm {
    /// The file (PDF, JPEG or PNG).
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    /// The SHA-256 the client computed, hex: a different one is refused (422 `sha256_mismatch`).
    sha256: Option<String>,
}

/// The multipart body of an attachment (for the OpenAPI document). Send `kind` and the
/// other fields before `file`.
#[allow(dead_code)]
#[derive(ToSchema)]
struct AttachForm {
    /// The component (e.g. `to_khai`), or `result` for the handling unit's result.
    kind: String,
    /// PDF, JPEG or PNG; a result may also be signed XML.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    /// `true`: a scan of paper made at the counter (staff only).
    digitised: Option<bool>,
    /// A current document of the dossier this file replaces (a new version; the old stays).
    replaces: Option<Uuid>,
    sha256: Option<String>,
}

fn bad_multipart(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        "invalid_multipart",
        text!(
            format!("Nội dung multipart/form-data không hợp lệ: {e}"),
            format!("The multipart/form-data body is invalid: {e}")
        ),
    )
}

pub(crate) fn multipart(m: Result<Multipart, MultipartRejection>) -> ApiResult<Multipart> {
    m.map_err(|e| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "multipart_required",
            text!(
                format!("Cần gửi multipart/form-data: {e}"),
                format!("A multipart/form-data body is required: {e}")
            ),
        )
    })
}

/// A short text field, read with a bound (a text field is never a place for a file).
async fn short_text(field: Field<'_>) -> ApiResult<String> {
    let name = field.name().unwrap_or_default().to_string();
    let mut out = Vec::new();
    let mut field = field;
    while let Some(chunk) = field.chunk().await.map_err(bad_multipart)? {
        out.extend_from_slice(&chunk);
        if out.len() > 1024 {
            return Err(ApiError::invalid_field(
                &name,
                "too_long",
                text!("Trường quá dài.", "The field is too long."),
            ));
        }
    }
    String::from_utf8(out).map_err(|_| {
        ApiError::invalid_field(
            &name,
            "invalid_text",
            text!("Trường phải là UTF-8.", "The field must be UTF-8."),
        )
    })
}

/// The parts of a multipart body: text fields, and the one file streamed to the store.
#[derive(Default)]
pub(crate) struct Parts {
    pub fields: std::collections::HashMap<String, String>,
    pub file: Option<(Received, Option<String>)>,
}

pub(crate) async fn read_parts(state: &AppState, m: Multipart) -> ApiResult<Parts> {
    read_parts_named(state, m, |name| name == "file").await
}

/// [`read_parts`] with the file field recognised by `is_file` (the portal's form names each
/// component's file input apart: `file_{kind}`).
pub(crate) async fn read_parts_named(
    state: &AppState,
    mut m: Multipart,
    is_file: impl Fn(&str) -> bool,
) -> ApiResult<Parts> {
    let mut parts = Parts::default();
    let outcome: ApiResult<()> = async {
        while let Some(field) = m.next_field().await.map_err(bad_multipart)? {
            let name = field.name().unwrap_or_default().to_string();
            if is_file(&name) {
                if parts.file.is_some() {
                    return Err(ApiError::invalid_field(
                        "file",
                        "one_file",
                        text!("Mỗi lần gửi một tệp.", "One file per request."),
                    ));
                }
                let file_name = field.file_name().map(str::to_string);
                let stream = field.map_err(|e| e.to_string());
                let received =
                    svc::receive(&state.storage, &state.settings.storage, Box::pin(stream)).await?;
                parts.file = Some((received, file_name));
            } else if parts.fields.len() < 16 {
                let value = short_text(field).await?;
                parts.fields.insert(name, value);
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        if let Some((r, _)) = &parts.file {
            state.storage.discard(r).await;
        }
        return Err(e);
    }
    Ok(parts)
}

pub(crate) fn no_file() -> ApiError {
    ApiError::invalid_field(
        "file",
        "required",
        text!(
            "Thiếu tệp (trường file).",
            "The file (field `file`) is missing."
        ),
    )
}

/// Upload a file before filing: streamed, hashed and typed by the server; refer to it in
/// the intake as `documents: [{kind, upload_id}]`. Not taken by a dossier within 24 hours,
/// it is deleted.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "documents",
    security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = UploadReceipt),
        (status = 413, description = "`file_too_large`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_file_type` (decided from the bytes) or `multipart_required`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`sha256_mismatch`, `empty_file`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, description = "`storage_unavailable`", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn upload(
    State(state): State<AppState>,
    Auth(actor): Auth,
    m: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, ApiJson<UploadReceipt>)> {
    let parts = read_parts(&state, multipart(m)?).await?;
    let (received, file_name) = parts.file.ok_or_else(no_file)?;
    let receipt = svc::create_upload(
        &state.dossiers(),
        &actor,
        received,
        file_name.as_deref(),
        parts.fields.get("sha256").map(String::as_str),
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(receipt)))
}

/// A document as the API shows it.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct DocumentView {
    #[serde(flatten)]
    pub document: Document,
    /// Where to download it.
    pub content_url: String,
}

fn view(code: &str, d: Document) -> DocumentView {
    DocumentView {
        content_url: format!("/api/v1/cases/{code}/documents/{}/content", d.id),
        document: d,
    }
}

/// An attachment's answer: the document and the dossier's version after it.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Attached {
    #[serde(flatten)]
    pub document: DocumentView,
    pub case_version: i32,
}

fn flag(v: Option<&String>) -> ApiResult<bool> {
    match v.map(|s| s.trim()) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("on") => Ok(true),
        Some(_) => Err(ApiError::invalid_field(
            "digitised",
            "invalid_boolean",
            text!("Phải là true hoặc false.", "Must be true or false."),
        )),
    }
}

/// Attach a file to a filed dossier: the applicant's supplement, a reception clerk's scan
/// of a walk-in's papers (`digitised=true`), the handling unit's result (`kind=result`). A
/// replacement (`replaces`) is a new version and the old one stays. The dossier's version
/// grows and its history records the attachment.
#[utoipa::path(post, path = "/api/v1/cases/{code}/documents", tag = "documents",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code", max_length = 60)),
    request_body(content = AttachForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Attached", body = Attached),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such dossier for the caller", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "`attach_not_allowed`, `case_closed`, `version_conflict`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "`file_too_large`, `dossier_too_large`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`too_many_files`, `sha256_mismatch`, invalid fields", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, description = "`storage_unavailable`", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn attach(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(code): ApiPath<String>,
    m: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, ApiJson<Attached>)> {
    let parts = read_parts(&state, multipart(m)?).await?;
    let (doc, version) = attach_parts(&state, &actor, &code, parts).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(Attached {
            document: view(&code, doc),
            case_version: version,
        }),
    ))
}

/// Attach the file of a multipart body with its fields (shared with the web app).
pub(crate) async fn attach_parts(
    state: &AppState,
    actor: &crate::domain::access::Actor,
    code: &str,
    parts: Parts,
) -> ApiResult<(Document, i32)> {
    let (received, file_name) = parts.file.ok_or_else(no_file)?;
    let checked = (|| {
        let replaces = match parts.fields.get("replaces").map(|s| s.trim()) {
            None | Some("") => None,
            Some(s) => Some(Uuid::parse_str(s).map_err(|_| {
                ApiError::invalid_field(
                    "replaces",
                    "invalid_uuid",
                    text!("Mã giấy tờ không hợp lệ.", "Invalid document id."),
                )
            })?),
        };
        Ok::<_, ApiError>(AttachRequest {
            kind: parts.fields.get("kind").cloned().unwrap_or_default(),
            digitised: flag(parts.fields.get("digitised"))?,
            replaces,
            file_name,
            sha256: parts.fields.get("sha256").cloned(),
        })
    })();
    let req = match checked {
        Ok(r) => r,
        Err(e) => {
            state.storage.discard(&received).await;
            return Err(e);
        }
    };
    svc::attach(&state.dossiers(), actor, code, req, received).await
}

/// A dossier's documents, every version (a replaced one is `superseded`), for the
/// applicant and the officers whose scope covers the dossier.
#[utoipa::path(get, path = "/api/v1/cases/{code}/documents", tag = "documents",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code", max_length = 60)),
    responses(
        (status = 200, body = Vec<DocumentView>),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<DocumentView>>> {
    let docs = svc::list(&state.dossiers(), &actor, &code).await?;
    Ok(ApiJson(docs.into_iter().map(|d| view(&code, d)).collect()))
}

#[derive(Debug, Deserialize, validator::Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// `inline` to show a PDF or an image in the browser; otherwise downloaded.
    pub disposition: Option<String>,
}

/// RFC 5987's attr-char: what may stay unescaped in `filename*`.
const ATTR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `Content-Disposition` with the original (Vietnamese) name: an ASCII fallback for old
/// clients and the UTF-8 name in `filename*` (RFC 6266, RFC 5987).
pub fn content_disposition(inline: bool, name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let fallback: String = name
        .replace('đ', "d")
        .replace('Đ', "D")
        .nfd()
        .filter(|c| c.is_ascii())
        .map(|c| {
            if c.is_ascii_control() || matches!(c, '"' | '\\' | '/' | ';') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let fallback = if fallback.trim().is_empty() {
        "tep".to_string()
    } else {
        fallback
    };
    format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        fallback,
        utf8_percent_encode(name, ATTR)
    )
}

/// A single byte range of `Range: bytes=…` on an object of `size` bytes: `Ok(None)` for the
/// whole object (no header, or one we serve whole), `Err` when it cannot be satisfied.
fn byte_range(headers: &HeaderMap, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(v) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = v.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    // Several ranges: served whole (allowed by RFC 9110 §14.2).
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        size.saturating_sub(n)..size
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end = if b.is_empty() {
            size
        } else {
            b.parse::<u64>()
                .map_err(|_| ())?
                .saturating_add(1)
                .min(size)
        };
        if start >= end {
            return Err(());
        }
        start..end
    };
    if range.start >= size {
        return Err(());
    }
    Ok(Some(range))
}

/// Download a document: the same access as the dossier (another citizen gets 404), an
/// `ETag` from its hash (`If-None-Match` answers 304), single byte ranges (206), and the
/// original file name in `Content-Disposition`.
#[utoipa::path(get, path = "/api/v1/cases/{code}/documents/{id}/content", tag = "documents",
    security(("bearer" = [])),
    params(
        ("code" = String, Path, description = "Dossier code", max_length = 60),
        ("id" = Uuid, Path, description = "Document id"),
        ContentQuery,
        ("Range" = Option<String>, Header, description = "One byte range, `bytes=start-end`"),
    ),
    responses(
        (status = 200, description = "The file, with the type decided from its bytes at upload", content(
            (String = "application/pdf"), (String = "image/jpeg"), (String = "image/png"), (String = "application/xml"))),
        (status = 206, description = "A byte range of it", content(
            (String = "application/pdf"), (String = "image/jpeg"), (String = "image/png"), (String = "application/xml"))),
        (status = 304, description = "Not modified (ETag)"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 416, description = "`range_not_satisfiable`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn content(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((code, id)): ApiPath<(String, Uuid)>,
    crate::http::extract::ApiQuery(q): crate::http::extract::ApiQuery<ContentQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let doc = svc::find(&state.dossiers(), &actor, &code, id).await?;
    download(
        &state,
        &doc,
        q.disposition.as_deref() == Some("inline"),
        &headers,
    )
    .await
}

/// The response of a download (shared with the web app's dossier pages).
pub async fn download(
    state: &AppState,
    doc: &Document,
    inline: bool,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let etag = format!("\"{}\"", doc.sha256);
    let inline = inline && MediaType::inline(&doc.media_type);
    let mut h = HeaderMap::new();
    h.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // Private: personal data, never in a shared cache; immutable bytes, so revalidate only.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        })
    {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    let size = doc.size.max(0) as u64;
    let range = byte_range(headers, size).map_err(|_| {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_not_satisfiable",
            text!(
                format!("Khoảng byte không hợp lệ (tệp có {size} byte)."),
                format!("The byte range cannot be served (the file has {size} bytes).")
            ),
        )
        .with_extra("size", serde_json::json!(size))
    })?;
    let got = svc::open(&state.storage, doc, range).await?;
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&doc.media_type).expect("a media type"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&content_disposition(inline, &doc.file_name))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    // A stored file is shown, never run; only our own pages may frame it (the preview).
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; frame-ancestors 'self'"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    let status = match &got.range {
        Some(r) => {
            h.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {}-{}/{}", r.start, r.end - 1, got.size))
                    .expect("digits"),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(r.end - r.start));
            StatusCode::PARTIAL_CONTENT
        }
        None => {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(got.size));
            StatusCode::OK
        }
    };
    Ok((status, h, Body::from_stream(got.stream)).into_response())
}

/// The signed-in citizen's digitised documents, which a new dossier may reuse
/// (`documents: [{kind, reuse_document_id}]`) instead of uploading again.
#[utoipa::path(get, path = "/api/v1/me/documents", tag = "documents",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Document>)))]
async fn reusable(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<ApiJson<Vec<Document>>> {
    Ok(ApiJson(svc::reusable(&state.dossiers(), &actor).await?))
}
