//! A dossier's files as the dossier knows them: which components it holds (the summary kept
//! on the dossier, `documents`), who may attach what and when ([`Dossier::attach`]), the
//! mandatory components a receipt needs, and what a stored file may be ([`MediaType`]).
//! The files' metadata rows and bytes live outside (repo, storage); this is the rule book.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::aggregate::{Dossier, DossierEvent, EventKind};
use crate::domain::access::Actor;
use crate::domain::account::Role;
use crate::domain::lifecycle::{Status, TransitionError};
use crate::domain::procedure::ProcedureSpec;

/// The kind of the handling unit's result (Form: the decision, certificate or licence).
pub const RESULT_KIND: &str = "result";

/// What a stored file may be, decided from its first bytes, never from its name or the type
/// the client declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MediaType {
    Pdf,
    Jpeg,
    Png,
    /// A signed XML result (an e-document with an XML digital signature); results only.
    Xml,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Xml => "application/xml",
        }
    }

    /// The type of a file from its first bytes (at least [`MediaType::SNIFF_LEN`] of them,
    /// or the whole file when shorter); `None` for anything else (executables, archives,
    /// office files, HTML…).
    pub fn sniff(head: &[u8]) -> Option<MediaType> {
        match infer::get(head).map(|t| t.mime_type()) {
            Some("application/pdf") => Some(MediaType::Pdf),
            Some("image/jpeg") => Some(MediaType::Jpeg),
            Some("image/png") => Some(MediaType::Png),
            Some("text/xml") | Some("application/xml") => Some(MediaType::Xml),
            Some(_) => None,
            // infer knows XML only with its declaration; a signed XML document always has it.
            None => {
                let start = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
                start.starts_with(b"<?xml").then_some(MediaType::Xml)
            }
        }
    }

    /// Bytes [`MediaType::sniff`] looks at.
    pub const SNIFF_LEN: usize = 512;

    /// Shown inline in the browser (PDF and images); the rest is downloaded.
    pub fn inline(media_type: &str) -> bool {
        matches!(media_type, "application/pdf" | "image/jpeg" | "image/png")
    }
}

/// A file the dossier holds, as its summary lists it (the current version of each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attached {
    pub id: Uuid,
    pub kind: String,
    #[serde(default)]
    pub digitised: bool,
    /// An earlier digitised document of the applicant, reused instead of a new file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused_from: Option<Uuid>,
}

/// A file to attach, as the service received it (stored already).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub id: Uuid,
    pub kind: String,
    /// Scanned from paper at the counter, or issued electronically (results).
    pub digitised: bool,
    pub replaces: Option<Uuid>,
    pub reused_from: Option<Uuid>,
}

/// A document kind: 1–64 of `a-z`, `0-9` and `_` (the procedure's component keys).
pub fn valid_kind(kind: &str) -> bool {
    !kind.is_empty()
        && kind.len() <= 64
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The files a summary lists (entries of dossiers filed before files were stored, which
/// named files nobody received, are not files).
fn attached_in(documents: &Value) -> Vec<Attached> {
    documents
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| serde_json::from_value::<Attached>(v.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The mandatory components of `spec` that a summary holds no file for.
pub(super) fn missing_from(documents: &Value, spec: &ProcedureSpec) -> Vec<String> {
    let held = attached_in(documents);
    spec.required_documents
        .iter()
        .filter(|r| r.mandatory && !held.iter().any(|a| a.kind == r.kind))
        .map(|r| r.kind.clone())
        .collect()
}

impl Dossier {
    /// The files it holds.
    pub fn attached(&self) -> Vec<Attached> {
        attached_in(&self.documents)
    }

    /// The mandatory components of its procedure version with no file yet.
    pub fn missing_components(&self, spec: &ProcedureSpec) -> Vec<String> {
        missing_from(&self.documents, spec)
    }

    /// Files copied from another dossier of the same filing (a bundle and its parts): held
    /// as this dossier's own. The opening of the part, or the bundle's `part_decided`,
    /// records them.
    pub fn hold_copies(&mut self, docs: &[Document]) {
        let mut held = self.attached();
        held.extend(docs.iter().map(|d| Attached {
            id: d.id,
            kind: d.kind.clone(),
            digitised: d.digitised,
            reused_from: d.reused_from,
        }));
        self.documents = json!(held);
    }

    /// Whether the handling unit attached a result file.
    pub fn has_result_file(&self) -> bool {
        self.attached().iter().any(|a| a.kind == RESULT_KIND)
    }

    /// Whether a result file is issued for the applicant to download (decided or returned).
    pub fn result_ready(&self) -> bool {
        matches!(self.status, Status::Decided | Status::Returned) && self.has_result_file()
    }

    /// Whether `actor` may attach a file of `kind` now, and why not:
    /// - the applicant, while the dossier waits for receipt or for their supplement (never a
    ///   result);
    /// - the receiving unit's staff, until it is handled (a scan of the papers at the
    ///   counter, a supplement brought in person);
    /// - the handling unit's staff while they handle it; the result once it is examined.
    ///
    /// Nothing is attached to a closed dossier. Scope (who may see the dossier at all) is
    /// checked before, as for every read.
    pub fn may_attach(&self, actor: &Actor, kind: &str) -> Result<(), TransitionError> {
        use Status::*;
        let invalid = || TransitionError::AttachNotNow(self.status);
        if matches!(self.status, Refused | Stopped | Returned) {
            return Err(TransitionError::Closed);
        }
        let result = kind == RESULT_KIND;
        if actor.role == Role::Citizen {
            if self.applicant.account != Some(actor.account_id) {
                return Err(TransitionError::Forbidden("not_the_applicant"));
            }
            if result {
                return Err(TransitionError::Forbidden("result_by_handling_unit"));
            }
            return match self.status {
                Submitted | SupplementAtCounter | AwaitingRouting | SupplementRequested => Ok(()),
                _ => Err(invalid()),
            };
        }
        if !matches!(actor.role, Role::Clerk | Role::UnitHead) {
            return Err(TransitionError::Forbidden("unit_staff_only"));
        }
        let unit = actor.unit.as_ref();
        let handling = unit.is_some() && unit == self.handling_unit.as_ref();
        let receiving = unit == Some(&self.receiving_unit);
        if result {
            return match (handling, self.status) {
                (true, Processing | AwaitingApproval | Decided) => Ok(()),
                (true, _) => Err(invalid()),
                (false, _) => Err(TransitionError::Forbidden("result_by_handling_unit")),
            };
        }
        let counter = matches!(
            self.status,
            Submitted | SupplementAtCounter | AwaitingRouting | Received | SupplementRequested
        );
        if (receiving && counter) || (handling && self.status != Decided) {
            Ok(())
        } else if receiving || handling {
            Err(invalid())
        } else {
            Err(TransitionError::Forbidden("not_your_unit"))
        }
    }

    /// Attach a stored file: the summary lists it (in place of the one it replaces), the
    /// version grows, and the history records who attached what.
    pub fn attach(
        &mut self,
        actor: &Actor,
        doc: &NewDocument,
        now: DateTime<Utc>,
    ) -> Result<DossierEvent, TransitionError> {
        self.may_attach(actor, &doc.kind)?;
        let mut held = self.attached();
        if let Some(old) = doc.replaces {
            let before = held.len();
            held.retain(|a| a.id != old);
            if held.len() == before {
                return Err(TransitionError::InvalidField {
                    field: "replaces",
                    code: "unknown_document",
                });
            }
        }
        held.push(Attached {
            id: doc.id,
            kind: doc.kind.clone(),
            digitised: doc.digitised,
            reused_from: doc.reused_from,
        });
        self.documents = json!(held);
        self.version += 1;
        self.updated_at = now;
        let mut data = Map::new();
        data.insert("document_id".into(), json!(doc.id));
        data.insert("kind".into(), json!(doc.kind));
        if doc.digitised {
            data.insert("digitised".into(), json!(true));
        }
        if let Some(r) = doc.replaces {
            data.insert("replaces".into(), json!(r));
        }
        if let Some(r) = doc.reused_from {
            data.insert("reused_from".into(), json!(r));
        }
        Ok(DossierEvent {
            kind: EventKind::DocumentAttached,
            actor: Some(actor.into()),
            from_status: Some(self.status),
            to_status: self.status,
            reason: None,
            data,
            // The applicant sees their own files and the result in their history.
            public: actor.role == Role::Citizen || doc.kind == RESULT_KIND,
            at: now,
            pause: None,
        })
    }

    /// The summary of files given at filing (uploads and reuses, already stored).
    pub fn summary_of(docs: &[NewDocument]) -> Value {
        json!(docs
            .iter()
            .map(|d| Attached {
                id: d.id,
                kind: d.kind.clone(),
                digitised: d.digitised,
                reused_from: d.reused_from,
            })
            .collect::<Vec<_>>())
    }
}

/// A stored file of a dossier with its metadata, as listed and downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Document {
    pub id: Uuid,
    /// The component (`to_khai`, …) or `result`.
    pub kind: String,
    /// The name it was sent with, kept only as metadata (never a storage key).
    pub file_name: String,
    /// SHA-256 of the bytes, hex (computed by the server).
    pub sha256: String,
    pub size: i64,
    /// Decided from the bytes: application/pdf, image/jpeg, image/png, application/xml.
    pub media_type: String,
    /// Scanned from paper at the counter, reused from a digitised one, or an electronic result.
    pub digitised: bool,
    /// 1, then one more for each replacement of the same file.
    pub version: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reused_from: Option<Uuid>,
    /// The account that attached it (`null` after the account's erasure).
    pub uploaded_by: Option<Uuid>,
    #[serde(skip)]
    pub uploaded_by_role: String,
    pub uploaded_at: DateTime<Utc>,
    /// Whether a later version replaced it.
    #[serde(default)]
    pub superseded: bool,
}
