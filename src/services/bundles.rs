//! Bundled procedures (Decree 63/2024/NĐ-CP): what an action on a bundle or on one of its
//! parts does to the others, inside the action's transaction (`services::cases::act`).
//!
//! - The bundle's receipt opens the parts that wait for nothing; a part's approval opens the
//!   parts that wait for it ([`Dossier::open_part`]), each numbered by the bundle's receiving
//!   unit, at the unit competent for its procedure at the bundle's address, with copies of
//!   the bundle's documents (same stored files).
//! - A part's decision is recorded in the bundle's history, and its result files join the
//!   bundle's, so the bundle returns one set of results.
//! - The bundle is decided only when every part is ([`parts_pending`]); when it closes
//!   (results returned, refused, stopped), its parts close with it.
//!
//! Locks: an action on a part locks the part, then its bundle; an action on a bundle locks
//! the bundle, then reads its parts and saves them only if their version did not move.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain::calendar::vn_offset;
use crate::domain::dossier::{parts_pending, CalendarSource, Document, Dossier, RESULT_KIND};
use crate::domain::lifecycle::{Action, Outcome};
use crate::domain::procedure::ProcedureSpec;
use crate::domain::unit::UnitCode;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::services::cases::{internal, rules, transition_error, version_conflict, Deps};
use crate::text;

/// The parts of bundle `d` not decided yet, for its `approve` and `reject` (empty for any
/// other action or dossier).
pub(crate) async fn pending_for<C: ConnectionTrait>(
    db: &C,
    keys: &crate::security::data_key::DataKeys,
    d: &Dossier,
    spec: &ProcedureSpec,
    action: Action,
) -> ApiResult<Vec<String>> {
    // A part is never a bundle itself, whatever its procedure became since.
    if !spec.is_bundle()
        || d.bundle_code.is_some()
        || !matches!(action, Action::Approve | Action::Reject)
    {
        return Ok(Vec::new());
    }
    let parts = repo::dossiers::parts_of(db, keys, d.code_str()).await?;
    Ok(parts_pending(spec, &parts))
}

/// What `action`, just applied to `d` (saved), does to the rest of its bundle.
pub(crate) async fn after_action<C: ConnectionTrait>(
    db: &C,
    deps: &Deps<'_>,
    d: &Dossier,
    spec: &ProcedureSpec,
    action: Action,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if spec.is_bundle() && d.bundle_code.is_none() {
        if action == Action::Receive {
            open_parts(db, deps, d, spec, None, &[], now).await?;
        }
        if !d.status.is_open() {
            close_parts(db, deps, d, now).await?;
        }
    }
    // A part decided, or closed by its own unit (stopped) without a decision: its bundle
    // records it; the parts waiting for it open only after an approval.
    let ended = matches!(action, Action::Approve | Action::Reject) || !d.status.is_open();
    if d.bundle_code.is_some() && ended {
        part_decided(db, deps, d, now).await?;
    }
    Ok(())
}

/// Open the parts of `bundle` that wait for `after` (`None`: for nothing), with the bundle's
/// files and `results` (the results of the part they waited for: the birth extract that
/// residence registration and the card need); their codes.
async fn open_parts<C: ConnectionTrait>(
    db: &C,
    deps: &Deps<'_>,
    bundle: &Dossier,
    spec: &ProcedureSpec,
    after: Option<&str>,
    results: &[Document],
    now: DateTime<Utc>,
) -> ApiResult<Vec<String>> {
    let directory = deps.directory.current();
    let calendars = deps.calendars.current();
    let mut documents: Vec<_> = repo::documents::of_case(db, bundle.id)
        .await?
        .into_iter()
        .filter(|doc| !doc.superseded && doc.kind != RESULT_KIND)
        .collect();
    documents.extend(results.iter().cloned());
    let mut opened = Vec::new();
    for part in spec.parts_after(after) {
        let row = repo::procedures::in_force(db, &part.procedure, now)
            .await?
            .ok_or_else(|| no_unit_for(&part.procedure))?;
        let part_spec = repo::procedures::spec_of(&row)?;
        let ward = bundle.ward_code.map(|w| w.to_string()).unwrap_or_default();
        let unit = directory
            .competent(
                part_spec.competent_unit_kind,
                &bundle.province_code.to_string(),
                &ward,
            )
            .filter(|u| u.active)
            .and_then(|u| UnitCode::parse(&u.code).ok())
            .ok_or_else(|| no_unit_for(&part.procedure))?;
        let (mut child, event) = bundle
            .open_part(
                part,
                row.version,
                unit,
                &rules(deps.sla, &part_spec, &directory, &calendars),
                now,
            )
            .map_err(|e| transition_error(e, None))?;
        // The part's unit works from the same files: copies of the rows, not of the bytes.
        let copies: Vec<_> = documents.iter().map(copy_of).collect();
        child.hold_copies(&copies);
        let notice = child.notice(&event, now);
        let day = now.with_timezone(&vn_offset()).date_naive();
        let numbered = repo::cases::insert_numbered(
            db,
            vec![repo::dossiers::numbered_insert(
                deps.keys, &child, day, &event, notice, now,
            )],
        )
        .await?;
        let (id, code) = numbered
            .into_iter()
            .next()
            .ok_or_else(|| internal("part not numbered"))?;
        repo::documents::insert_documents(db, id, bundle.applicant.account, &copies).await?;
        tracing::info!(case.code = %code, case.bundle = %bundle.code_str(), "bundle part opened");
        opened.push(code.to_string());
    }
    Ok(opened)
}

/// Part `part` was decided: its bundle records it, takes its result files, and opens the
/// parts that waited for its approval.
async fn part_decided<C: ConnectionTrait>(
    db: &C,
    deps: &Deps<'_>,
    part: &Dossier,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let code = part
        .bundle_code
        .as_ref()
        .map(|c| c.as_str())
        .unwrap_or_default();
    let mut bundle = repo::dossiers::find_for_update(db, deps.keys, code)
        .await?
        .ok_or_else(|| internal("bundle of a part missing"))?;
    let spec = crate::services::cases::pinned_spec(db, &bundle).await?;
    let results: Vec<_> = repo::documents::of_case(db, part.id)
        .await?
        .into_iter()
        .filter(|doc| !doc.superseded && doc.kind == RESULT_KIND)
        .map(|doc| copy_of(&doc))
        .collect();
    repo::documents::insert_documents(db, bundle.id, bundle.applicant.account, &results).await?;
    let opened = if part.outcome == Some(Outcome::Approved) {
        let after = Some(part.procedure_code.as_str());
        open_parts(db, deps, &bundle, &spec, after, &results, now).await?
    } else {
        Vec::new()
    };
    let expected = bundle.version;
    bundle.hold_copies(&results);
    let event = bundle.part_decided(part, &opened, now);
    if !repo::dossiers::save(db, deps.keys, &bundle, expected).await? {
        return Err(version_conflict());
    }
    repo::dossiers::record(db, &bundle, &[event], now).await?;
    Ok(())
}

/// `bundle` closed: every part still open closes with it.
async fn close_parts<C: ConnectionTrait>(
    db: &C,
    deps: &Deps<'_>,
    bundle: &Dossier,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let directory = deps.directory.current();
    let calendars = deps.calendars.current();
    for mut part in repo::dossiers::parts_of(db, deps.keys, bundle.code_str()).await? {
        let expected = part.version;
        let unit = directory.unit(part.current_unit().as_str());
        let cal = calendars.calendar_of(unit.map(|u| u.as_ref()));
        if let Some(event) = part.close_with_bundle(bundle, &cal, now) {
            if !repo::dossiers::save(db, deps.keys, &part, expected).await? {
                return Err(version_conflict());
            }
            repo::dossiers::record(db, &part, &[event], now).await?;
        }
    }
    Ok(())
}

/// The parts of a bundle, for its page (empty for any other dossier).
pub async fn parts(deps: &Deps<'_>, d: &Dossier) -> ApiResult<Vec<Dossier>> {
    Ok(repo::dossiers::parts_of(deps.db, deps.keys, d.code_str()).await?)
}

/// A file of one dossier of the filing held by another: a new row for the same stored bytes
/// (not a reuse of a digitised document by the applicant, which the indicators count).
fn copy_of(doc: &Document) -> Document {
    Document {
        id: Uuid::now_v7(),
        replaces: None,
        reused_from: None,
        ..doc.clone()
    }
}

fn no_unit_for(procedure: &str) -> ApiError {
    ApiError::unprocessable(
        "part_unit_missing",
        text!(
            format!("Không tìm được đơn vị có thẩm quyền giải quyết thủ tục {procedure} của hồ sơ liên thông tại địa chỉ này."),
            format!("No unit competent for the bundle's procedure {procedure} at this address.")
        ),
    )
}
