//! A province's published lists (issue 21 §1–2): read by anyone, like the catalog; a new
//! version by an administrator or the province's own administrator, audited, and in force
//! in routing and intake from its `valid_from` (the routing catalog is reloaded at once).

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::json;

use crate::domain::access::Actor;
use crate::domain::province_lists::{self as lists, Entries, FeeEntry, ListKind};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::repo;
use crate::services::routing::Deps;
use crate::text;

/// A version as listed.
#[derive(Debug, Clone)]
pub struct Version {
    pub valid_from: DateTime<Utc>,
    pub entries: Entries,
    pub note: Option<String>,
    pub created_by: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A province's list: the version in force at `at`, and every version (newest first).
pub struct ProvinceList {
    pub province_code: String,
    pub kind: ListKind,
    pub in_force: Option<Version>,
    pub versions: Vec<Version>,
}

fn known_province(deps: &Deps<'_>, raw: &str) -> ApiResult<String> {
    let mut c = crate::error::Checks::default();
    let province = crate::services::units::known_province(deps.gazetteer, &mut c, "code", raw);
    match province {
        Some(p) if c.finish().is_ok() => Ok(p),
        _ => Err(ApiError::not_found(
            "province_not_found",
            text!(
                "Không có tỉnh/thành phố (2025) mã này.",
                "There is no 2025 province with this code."
            ),
        )),
    }
}

/// The list of `province` as in force at `at`, with its history.
pub async fn get(
    deps: &Deps<'_>,
    province: &str,
    kind: ListKind,
    at: DateTime<Utc>,
) -> ApiResult<ProvinceList> {
    let province = known_province(deps, province)?;
    let rows = repo::province_lists::versions(deps.db, &province, kind).await?;
    let versions: Vec<Version> = rows
        .into_iter()
        .filter_map(|r| {
            Some(Version {
                valid_from: r.valid_from,
                entries: Entries::from_json(kind, &r.entries)?,
                note: r.note,
                created_by: r.created_by,
                created_at: r.created_at,
            })
        })
        .collect();
    let in_force = versions.iter().find(|v| v.valid_from <= at).cloned();
    Ok(ProvinceList {
        province_code: province,
        kind,
        in_force,
        versions,
    })
}

/// A new version as asked for.
pub struct NewVersion {
    pub valid_from: Option<DateTime<Utc>>,
    /// `boundary_independent`: the procedure codes.
    pub procedures: Vec<String>,
    /// `fees`: the fees.
    pub fees: Vec<FeeEntry>,
    pub note: Option<String>,
}

/// Publish a new version of a province's list. Nothing changes when anything is wrong.
pub async fn publish(
    deps: &Deps<'_>,
    actor: &Actor,
    province: &str,
    kind: ListKind,
    v: NewVersion,
    now: DateTime<Utc>,
) -> ApiResult<ProvinceList> {
    let province = known_province(deps, province)?;
    actor.require_province_admin(&province)?;
    let catalog = deps.catalog.current();
    let known = |code: &str| catalog.in_force(code, DateTime::<Utc>::MAX_UTC).is_some();
    let entries = match kind {
        ListKind::BoundaryIndependent => lists::parse_procedures(&v.procedures, known),
        ListKind::Fees => lists::parse_fees(&v.fees, known),
    }
    .map_err(|e| ApiError::validation(vec![e.into()]))?;
    // A list takes effect now or later, never before it was published: dossiers already
    // routed keep the list they were routed under.
    // Microseconds, as PostgreSQL keeps them: the same instant given twice is one version.
    let valid_from = v.valid_from.unwrap_or(now).trunc_subsecs(6);
    if valid_from > now + Duration::days(3660) {
        return Err(ApiError::validation(vec![FieldError::new(
            "valid_from",
            "valid_from_too_far",
            text!(
                "Danh mục chỉ được công bố trước tối đa 10 năm.",
                "A list is published at most ten years ahead."
            ),
        )]));
    }
    if valid_from < now - Duration::minutes(1) {
        return Err(ApiError::validation(vec![FieldError::new(
            "valid_from",
            "valid_from_in_past",
            text!(
                "Danh mục chỉ có hiệu lực từ nay về sau.",
                "A list takes effect now or later, not in the past."
            ),
        )]));
    }
    let note = v
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if note
        .as_deref()
        .is_some_and(|n| n.chars().count() > 500 || n.chars().any(char::is_control))
    {
        return Err(ApiError::invalid_field(
            "note",
            "invalid_length",
            text!(
                "Ghi chú tối đa 500 ký tự.",
                "The note has at most 500 characters."
            ),
        ));
    }
    let txn = crate::db::begin_write(deps.db).await?;
    let version_exists = || {
        ApiError::conflict(
            "version_exists",
            text!(
                "Đã có một phiên bản danh mục có hiệu lực từ thời điểm này.",
                "A version of the list already takes effect at this instant."
            ),
        )
    };
    let exists = repo::province_lists::versions(&txn, &province, kind)
        .await?
        .iter()
        .any(|r| r.valid_from == valid_from);
    if exists {
        return Err(version_exists());
    }
    // Two administrators publishing for the same instant at once: the unique index decides.
    if let Err(e) = repo::province_lists::insert(
        &txn,
        repo::province_lists::NewVersion {
            province: &province,
            kind,
            valid_from,
            entries: &entries,
            note: note.clone(),
            created_by: Some(actor.account_id),
            created_at: now,
        },
    )
    .await
    {
        return Err(match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => version_exists(),
            _ => e.into(),
        });
    }
    repo::audit::record(
        &txn,
        actor.account_id,
        "publish_province_list",
        &format!("{province}/{}", kind.as_str()),
        Some(json!({
            "valid_from": valid_from,
            "entries": entries.len(),
            "note": note,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(province.code = %province, list.kind = kind.as_str(), list.entries = entries.len(), "province list published");
    deps.catalog.reload(deps.db).await;
    get(deps, &province, kind, now).await
}
