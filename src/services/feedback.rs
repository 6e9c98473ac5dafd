//! The applicant rates the service after the result (Decision 766/QĐ-TTg's satisfaction
//! group): `POST /api/v1/cases/{code}/feedback`, once per dossier, recorded in its history.

use chrono::{DateTime, Utc};

use crate::db;
use crate::domain::access::Actor;
use crate::domain::dossier::{DossierCode, Rating};
use crate::error::{ApiError, ApiResult, Checks, FieldError};
use crate::repo;
use crate::services::cases::{not_found, transition_error, Deps};
use crate::text;

/// A rating as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub rating: u8,
    pub comment: Option<String>,
    /// The unit it counts for (the one that handled the dossier).
    pub unit: String,
    pub at: DateTime<Utc>,
}

fn of(s: repo::feedback::Stored) -> Feedback {
    Feedback {
        rating: u8::try_from(s.rating).unwrap_or_default(),
        comment: s.comment,
        unit: s.unit,
        at: s.created_at,
    }
}

/// Rate the service of dossier `code` as its applicant. Every field error is named; a
/// second rating is 409 `already_rated`, a rating before the result 409
/// `result_not_returned`; nothing is written then.
pub async fn rate(
    deps: &Deps<'_>,
    actor: &Actor,
    code: &str,
    rating: i64,
    comment: Option<String>,
) -> ApiResult<Feedback> {
    let mut c = Checks::default();
    let parsed = Rating::parse(rating).map_err(|e| {
        c.push(FieldError::new(
            e.field,
            e.code,
            text!("Điểm đánh giá từ 1 đến 5.", "A rating is from 1 to 5."),
        ))
    });
    let comment = comment
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    if comment.as_deref().is_some_and(|t| {
        t.chars().count() > 2000 || t.chars().any(|ch| ch.is_control() && ch != '\n')
    }) {
        c.push(FieldError::new(
            "comment",
            "invalid_text",
            text!(
                "Tối đa 2000 ký tự, không có ký tự điều khiển.",
                "At most 2000 characters, no control characters."
            ),
        ));
    }
    c.finish()?;
    let Ok(rating) = parsed else {
        return Err(crate::services::cases::internal("rating checked above"));
    };
    if DossierCode::parse(code).is_err() {
        return Err(not_found(code));
    }
    let now = Utc::now();
    let txn = db::begin_write(deps.db).await?;
    let d = repo::dossiers::find_for_update(&txn, deps.keys, code)
        .await?
        .ok_or_else(|| not_found(code))?;
    if !actor.case_scope()?.covers(&d.access_facts()) {
        return Err(not_found(code));
    }
    d.may_rate(actor)
        .map_err(|e| transition_error(e, Some(&d)))?;
    if repo::feedback::of_case(&txn, d.id).await?.is_some() {
        return Err(already_rated());
    }
    let unit = d.rated_unit().to_string();
    repo::feedback::insert(
        &txn,
        repo::feedback::NewRating {
            case_id: d.id,
            account: actor.account_id,
            unit: &unit,
            province: &d.province_code.to_string(),
            rating: rating.value(),
            comment: comment.as_deref(),
            at: now,
        },
    )
    .await
    .map_err(|e| {
        if crate::services::units::is_unique_violation(&e) {
            already_rated()
        } else {
            e.into()
        }
    })?;
    let event = d.rated(actor, rating, now);
    repo::dossiers::record(&txn, &d, &[event], now).await?;
    txn.commit().await?;
    tracing::info!(case.code = %d.code_str(), feedback.rating = rating.value(), "service rated");
    Ok(Feedback {
        rating: rating.value(),
        comment,
        unit,
        at: now,
    })
}

/// The rating of a dossier in the caller's scope (404 `feedback_not_found` before one).
pub async fn get(deps: &Deps<'_>, actor: &Actor, code: &str) -> ApiResult<Feedback> {
    let (d, _) = crate::services::cases::get(deps, actor, code).await?;
    repo::feedback::of_case(deps.db, d.id)
        .await?
        .map(of)
        .ok_or_else(|| {
            ApiError::not_found(
                "feedback_not_found",
                text!(
                    "Hồ sơ chưa được đánh giá.",
                    "The service of this dossier was not rated."
                ),
            )
        })
}

fn already_rated() -> ApiError {
    ApiError::conflict(
        "already_rated",
        text!(
            "Hồ sơ đã được đánh giá; mỗi hồ sơ được đánh giá một lần.",
            "This dossier was rated already; each dossier is rated once."
        ),
    )
}
