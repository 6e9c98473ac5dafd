//! Files in the web app: the portal's uploads while the applicant fills the form (htmx),
//! a dossier's files listed, previewed and downloaded on its page, and attached there (a
//! counter scan, a supplement, the result). Same services and rules as the API.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::page;
use super::session::Signed;
use crate::error::ApiResult;
use crate::http::documents::{
    attach_parts, download as send_file, multipart, no_file, read_parts, read_parts_named,
};
use crate::services::documents as svc;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "upload_item.html")]
struct UploadItem {
    kind: String,
    id: Uuid,
    file_name: String,
    size: String,
}

/// `POST /uploads` (htmx, multipart with `kind` and `file`): keeps the file as an upload of
/// the signed-in applicant and answers the line the form shows, with the hidden field
/// (`doc_{kind}`) that names the upload when the dossier is filed.
pub async fn upload(
    State(state): State<AppState>,
    s: Signed,
    m: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let parts = read_parts_named(&state, multipart(m)?, |name| {
        name == "file" || name.starts_with("file_")
    })
    .await?;
    let kind = parts.fields.get("kind").cloned().unwrap_or_default();
    let (received, file_name) = parts.file.ok_or_else(no_file)?;
    if !crate::domain::dossier::valid_kind(&kind) {
        state.storage.discard(&received).await;
        return Err(svc::invalid_kind());
    }
    let receipt = svc::create_upload(
        &state.dossiers(),
        &s.actor,
        received,
        file_name.as_deref(),
        None,
    )
    .await?;
    Ok(page(&UploadItem {
        kind,
        id: receipt.id,
        file_name: svc::clean_file_name(file_name.as_deref()),
        size: super::ui::file_size(receipt.size),
    }))
}

/// `POST /cases/{code}/documents` (a multipart form whose action carries the token):
/// attaches the file, then back to the dossier's page.
pub async fn attach(
    State(state): State<AppState>,
    s: Signed,
    Path(code): Path<String>,
    m: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let parts = read_parts(&state, multipart(m)?).await?;
    attach_parts(&state, &s.actor, &code, parts).await?;
    Ok(Redirect::to(&format!("/cases/{code}?done=attach_document#h-docs")).into_response())
}

#[derive(Debug, Deserialize, Default)]
pub struct FileParams {
    /// `1`: shown in the page (PDF, images); otherwise downloaded.
    inline: Option<String>,
}

/// `GET /cases/{code}/documents/{id}`: a file of a dossier the user may read.
pub async fn download(
    State(state): State<AppState>,
    s: Signed,
    Path((code, id)): Path<(String, Uuid)>,
    Query(q): Query<FileParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let doc = svc::find(&state.dossiers(), &s.actor, &code, id).await?;
    send_file(&state, &doc, q.inline.as_deref() == Some("1"), &headers).await
}
