//! Uploads and a dossier's documents (migration 000011). The bytes are in the store under
//! `sha256`; these rows are written only after the object is.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{case_documents, uploads};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::domain::dossier::Document;

/// A received file waiting for a dossier.
#[derive(Debug, Clone)]
pub struct Upload {
    pub id: Uuid,
    pub account_id: Uuid,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub file_name: String,
    pub created_at: DateTime<Utc>,
    pub attached_at: Option<DateTime<Utc>>,
}

impl From<uploads::Model> for Upload {
    fn from(m: uploads::Model) -> Self {
        Upload {
            id: m.id,
            account_id: m.account_id,
            sha256: m.sha256,
            size: m.size,
            media_type: m.media_type,
            file_name: m.file_name,
            created_at: m.created_at,
            attached_at: m.attached_at,
        }
    }
}

pub async fn insert_upload<C: ConnectionTrait>(db: &C, u: &Upload) -> Result<(), DbErr> {
    uploads::ActiveModel {
        id: Set(u.id),
        account_id: Set(u.account_id),
        sha256: Set(u.sha256.clone()),
        size: Set(u.size),
        media_type: Set(u.media_type.clone()),
        file_name: Set(u.file_name.clone()),
        created_at: Set(u.created_at),
        attached_at: Set(u.attached_at),
    }
    .insert(db)
    .await
    .map(|_| ())
}

pub async fn uploads_by_id<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<Vec<Upload>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(uploads::Entity::find()
        .filter(uploads::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(Upload::from)
        .collect())
}

/// Mark uploads as taken, only those not taken yet; returns how many were.
pub async fn mark_attached<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(uploads::Entity::update_many()
        .col_expr(uploads::Column::AttachedAt, Expr::value(now))
        .filter(uploads::Column::Id.is_in(ids.to_vec()))
        .filter(uploads::Column::AttachedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

fn to_document(m: case_documents::Model) -> Document {
    Document {
        id: m.id,
        kind: m.kind,
        file_name: m.file_name,
        sha256: m.sha256,
        size: m.size,
        media_type: m.media_type,
        digitised: m.digitised,
        version: m.version,
        replaces: m.replaces,
        reused_from: m.reused_from,
        uploaded_by: m.uploaded_by,
        uploaded_by_role: m.uploaded_by_role,
        uploaded_at: m.uploaded_at,
        superseded: false,
    }
}

/// Insert documents of one dossier.
pub async fn insert_documents<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    applicant: Option<Uuid>,
    docs: &[Document],
) -> Result<(), DbErr> {
    if docs.is_empty() {
        return Ok(());
    }
    let rows = docs.iter().map(|d| case_documents::ActiveModel {
        id: Set(d.id),
        case_id: Set(case_id),
        kind: Set(d.kind.clone()),
        file_name: Set(d.file_name.clone()),
        sha256: Set(d.sha256.clone()),
        size: Set(d.size),
        media_type: Set(d.media_type.clone()),
        digitised: Set(d.digitised),
        version: Set(d.version),
        replaces: Set(d.replaces),
        reused_from: Set(d.reused_from),
        applicant_account: Set(applicant),
        uploaded_by: Set(d.uploaded_by),
        uploaded_by_role: Set(d.uploaded_by_role.clone()),
        uploaded_at: Set(d.uploaded_at),
    });
    case_documents::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// A dossier's documents, every version, oldest first (a replaced one marked superseded).
pub async fn of_case<C: ConnectionTrait>(db: &C, case_id: i64) -> Result<Vec<Document>, DbErr> {
    Ok(of_cases(db, &[case_id])
        .await?
        .remove(&case_id)
        .unwrap_or_default())
}

/// [`of_case`] for each of `case_ids` (those without documents are absent), in one read.
pub async fn of_cases<C: ConnectionTrait>(
    db: &C,
    case_ids: &[i64],
) -> Result<HashMap<i64, Vec<Document>>, DbErr> {
    let mut by_case: HashMap<i64, Vec<Document>> = HashMap::new();
    if case_ids.is_empty() {
        return Ok(by_case);
    }
    let rows = case_documents::Entity::find()
        .filter(case_documents::Column::CaseId.is_in(case_ids.iter().copied()))
        .order_by_asc(case_documents::Column::CaseId)
        .order_by_asc(case_documents::Column::UploadedAt)
        .order_by_asc(case_documents::Column::Id)
        .all(db)
        .await?;
    for m in rows {
        by_case.entry(m.case_id).or_default().push(to_document(m));
    }
    for docs in by_case.values_mut() {
        let replaced: HashSet<Uuid> = docs.iter().filter_map(|d| d.replaces).collect();
        for d in docs.iter_mut() {
            d.superseded = replaced.contains(&d.id);
        }
    }
    Ok(by_case)
}

/// The applicant's digitised documents, newest first (what a later dossier may reuse).
pub async fn reusable<C: ConnectionTrait>(db: &C, account: Uuid) -> Result<Vec<Document>, DbErr> {
    Ok(case_documents::Entity::find()
        .filter(case_documents::Column::ApplicantAccount.eq(account))
        .filter(case_documents::Column::Digitised.eq(true))
        .filter(case_documents::Column::Kind.ne(crate::domain::dossier::RESULT_KIND))
        .order_by_desc(case_documents::Column::UploadedAt)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(to_document)
        .collect())
}

/// Documents by id (any dossier).
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<Vec<(Document, Option<Uuid>)>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(case_documents::Entity::find()
        .filter(case_documents::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let applicant = m.applicant_account;
            (to_document(m), applicant)
        })
        .collect())
}

/// Whether any row (upload or document) names this hash.
pub async fn hash_in_use<C: ConnectionTrait>(db: &C, sha256: &str) -> Result<bool, DbErr> {
    let docs = case_documents::Entity::find()
        .filter(case_documents::Column::Sha256.eq(sha256))
        .count(db)
        .await?;
    if docs > 0 {
        return Ok(true);
    }
    Ok(uploads::Entity::find()
        .filter(uploads::Column::Sha256.eq(sha256))
        .count(db)
        .await?
        > 0)
}

/// Every hash rows name, with its size as recorded.
pub async fn all_hashes<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, i64)>, DbErr> {
    let mut out: Vec<(String, i64)> = case_documents::Entity::find()
        .select_only()
        .column(case_documents::Column::Sha256)
        .column(case_documents::Column::Size)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let ups: Vec<(String, i64)> = uploads::Entity::find()
        .select_only()
        .column(uploads::Column::Sha256)
        .column(uploads::Column::Size)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    out.extend(ups);
    out.sort();
    out.dedup();
    Ok(out)
}

/// Uploads no dossier took, created before `before`: claimed (`FOR UPDATE SKIP LOCKED` on
/// PostgreSQL, so that several workers share them) and deleted; returns their hashes.
pub async fn take_unattached<C: ConnectionTrait>(
    db: &C,
    before: DateTime<Utc>,
    limit: u64,
    skip_locked: bool,
) -> Result<Vec<String>, DbErr> {
    let mut q = uploads::Entity::find()
        .filter(uploads::Column::AttachedAt.is_null())
        .filter(uploads::Column::CreatedAt.lt(before))
        .order_by_asc(uploads::Column::CreatedAt)
        .limit(limit);
    if skip_locked {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = q.all(db).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    uploads::Entity::delete_many()
        .filter(uploads::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(rows.into_iter().map(|r| r.sha256).collect())
}

/// Files and bytes a dossier holds (every version).
pub async fn totals<C: ConnectionTrait>(db: &C, case_id: i64) -> Result<(u64, i64), DbErr> {
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back.
    let row: Option<(i64, Option<i64>)> = case_documents::Entity::find()
        .select_only()
        .column_as(case_documents::Column::Id.count(), "n")
        .column_as(Expr::cust("CAST(SUM(size) AS BIGINT)"), "bytes")
        .filter(case_documents::Column::CaseId.eq(case_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(row
        .map(|(n, b)| (n.max(0) as u64, b.unwrap_or(0)))
        .unwrap_or((0, 0)))
}
