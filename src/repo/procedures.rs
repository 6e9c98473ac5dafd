//! Procedure rows: one row per version.

use chrono::{DateTime, Utc};
use entity::procedures::{self, ActiveModel, Column, Entity};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::domain::procedure::{OnlineLevel, ProcedureSpec};

/// One version of a procedure as stored.
pub type ProcedureRow = procedures::Model;

/// The row for one version of a procedure.
pub fn active_model(
    p: &ProcedureSpec,
    version: i32,
    valid_from: DateTime<Utc>,
    created_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> ActiveModel {
    ActiveModel {
        code: Set(p.code.clone()),
        version: Set(version),
        valid_from: Set(valid_from),
        name_vi: Set(p.name_vi.clone()),
        name_en: Set(p.name_en.clone()),
        field: Set(p.field.clone()),
        field_code: Set(p.field_code.clone()),
        level: Set(p.level.as_str().to_string()),
        competent_unit_kind: Set(p.competent_unit_kind.as_str().to_string()),
        time_limit_hours: Set(p.time_limit_hours.map(|h| h as i32)),
        time_limit_days: Set(p.time_limit_days.map(|d| d as i32)),
        fee_by_province: Set(p.fee_by_province),
        payment_pauses_clock: Set(p.payment_pauses_clock),
        limit_variants: Set((!p.limit_variants.is_empty())
            .then(|| serde_json::to_value(&p.limit_variants).unwrap_or_default())),
        parts: Set(
            (!p.parts.is_empty()).then(|| serde_json::to_value(&p.parts).unwrap_or_default())
        ),
        same_day: Set(p.same_day),
        boundary_independent: Set(p.boundary_independent),
        online_level: Set(p.online_level.as_str().to_string()),
        fee_vnd: Set(p.fee_vnd),
        fee_note: Set(p.fee_note.clone()),
        required_documents: Set(serde_json::to_value(&p.required_documents).unwrap_or_default()),
        steps: Set(serde_json::to_value(&p.steps).unwrap_or_default()),
        at_risk_ratio: Set(p.at_risk_ratio),
        legal_basis: Set(p.legal_basis.clone()),
        active: Set(true),
        created_by: Set(created_by),
        created_at: Set(now),
        ..Default::default()
    }
}

/// Insert one version; a version that already exists is a unique violation.
pub async fn insert_version<C: ConnectionTrait>(
    db: &C,
    spec: &ProcedureSpec,
    version: i32,
    valid_from: DateTime<Utc>,
    active: bool,
    created_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<ProcedureRow, DbErr> {
    let mut am = active_model(spec, version, valid_from, created_by, now);
    am.active = Set(active);
    am.insert(db).await
}

/// Read a stored version back into its specification.
pub fn spec_of(m: &ProcedureRow) -> Result<ProcedureSpec, DbErr> {
    let corrupt =
        |what: &str| DbErr::Custom(format!("procedure {} v{}: bad {what}", m.code, m.version));
    Ok(ProcedureSpec {
        code: m.code.clone(),
        name_vi: m.name_vi.clone(),
        name_en: m.name_en.clone(),
        field: m.field.clone(),
        field_code: m.field_code.clone(),
        level: m.level.parse().map_err(|_| corrupt("level"))?,
        competent_unit_kind: m
            .competent_unit_kind
            .parse()
            .map_err(|_| corrupt("competent_unit_kind"))?,
        time_limit_hours: m.time_limit_hours.map(|h| h as u32),
        time_limit_days: m.time_limit_days.map(|d| d as u32),
        fee_by_province: m.fee_by_province,
        payment_pauses_clock: m.payment_pauses_clock,
        limit_variants: match &m.limit_variants {
            Some(v) => serde_json::from_value(v.clone()).map_err(|_| corrupt("limit_variants"))?,
            None => Vec::new(),
        },
        parts: match &m.parts {
            Some(v) => serde_json::from_value(v.clone()).map_err(|_| corrupt("parts"))?,
            None => Vec::new(),
        },
        same_day: m.same_day,
        boundary_independent: m.boundary_independent,
        online_level: OnlineLevel::parse(&m.online_level).map_err(|_| corrupt("online_level"))?,
        fee_vnd: m.fee_vnd,
        fee_note: m.fee_note.clone(),
        required_documents: serde_json::from_value(m.required_documents.clone())
            .map_err(|_| corrupt("required_documents"))?,
        steps: serde_json::from_value(m.steps.clone()).map_err(|_| corrupt("steps"))?,
        at_risk_ratio: m.at_risk_ratio,
        legal_basis: m.legal_basis.clone(),
    })
}

/// Every version of a procedure, newest first.
pub async fn versions<C: ConnectionTrait>(db: &C, code: &str) -> Result<Vec<ProcedureRow>, DbErr> {
    Entity::find()
        .filter(Column::Code.eq(code))
        .order_by_desc(Column::Version)
        .all(db)
        .await
}

/// The version in force at `at`: the newest whose `valid_from` has passed.
pub async fn in_force<C: ConnectionTrait>(
    db: &C,
    code: &str,
    at: DateTime<Utc>,
) -> Result<Option<ProcedureRow>, DbErr> {
    Entity::find()
        .filter(Column::Code.eq(code))
        .filter(Column::ValidFrom.lte(at))
        .order_by_desc(Column::Version)
        .one(db)
        .await
}

/// One version.
pub async fn version<C: ConnectionTrait>(
    db: &C,
    code: &str,
    version: i32,
) -> Result<Option<ProcedureRow>, DbErr> {
    Entity::find()
        .filter(Column::Code.eq(code))
        .filter(Column::Version.eq(version))
        .one(db)
        .await
}

/// Every row (all versions); the catalog is small.
pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<ProcedureRow>, DbErr> {
    Entity::find()
        .order_by_asc(Column::Code)
        .order_by_desc(Column::Version)
        .all(db)
        .await
}
