//! The dossier aggregate in the database: the only code that maps a
//! [`Dossier`](crate::domain::dossier::Dossier) to and from its row (`cases`), and its
//! events to `case_events`, `case_pauses` and `outbox` rows. The SQL itself lives in
//! [`super::cases`] and [`super::events`].

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{case_events, case_pauses, cases, outbox};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::domain::access::CaseScope;
use crate::domain::account::{Email, IdNumber, Phone, TaxCode};
use crate::domain::dossier::notice::{Notice, CODE_KEY};
use crate::domain::dossier::{
    Applicant, Channel, Dossier, DossierCode, DossierEvent, Pause, PauseChange, RecordedEvent,
    ResultDelivery, StepState,
};
use crate::domain::geography::{ProvinceCode, WardCode};
use crate::domain::lifecycle::{Outcome, Status};
use crate::domain::procedure::{ProcedureCode, StepKey};
use crate::domain::sla::SlaState;
use crate::domain::unit::UnitCode;
use crate::repo::cases::{self as sql, NewDossier};
use crate::repo::events::NewEvent;
use crate::repo::open;
use crate::security::data_key::DataKeys;

pub use crate::repo::cases::{CaseFilter, QueueFilter, QueueSort};

fn corrupt(what: &str, value: &str) -> DbErr {
    DbErr::Custom(format!("a stored dossier has an invalid {what}: {value:?}"))
}

fn parse<T, E>(what: &str, v: &str, f: impl FnOnce(&str) -> Result<T, E>) -> Result<T, DbErr> {
    f(v).map_err(|_| corrupt(what, v))
}

fn parse_opt<T, E>(
    what: &str,
    v: Option<&str>,
    f: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, DbErr> {
    v.map(|v| parse(what, v, f)).transpose()
}

/// The columns that hold sealed personal data; each name is its seal's associated data.
pub const ID_NUMBER: &str = "cases.applicant_id_number";
pub const PHONE: &str = "cases.applicant_phone";
pub const EMAIL: &str = "cases.applicant_email";

/// The blind index of an ID number (staff's search by ID number; see
/// [`DataKeys::index`]).
pub fn id_index(keys: &DataKeys, id: &IdNumber) -> String {
    keys.index(id.as_str())
}

/// The dossier a row holds. Values were checked when written; one that no longer parses
/// is reported as a database error, never guessed at.
pub fn from_row(keys: &DataKeys, m: cases::Model) -> Result<Dossier, DbErr> {
    let step = match m.step_key.as_deref() {
        Some(k) => Some(StepState {
            key: StepKey::parse(k).ok_or_else(|| corrupt("step", k))?,
            started_at: m.step_started_at,
            due_at: m.step_due_at,
        }),
        None => None,
    };
    Ok(Dossier {
        id: m.id,
        code: Some(parse("code", &m.code, DossierCode::parse)?),
        procedure_code: parse("procedure code", &m.procedure_code, ProcedureCode::parse)?,
        procedure_version: m.procedure_version,
        channel: Channel::parse(&m.channel).ok_or_else(|| corrupt("channel", &m.channel))?,
        status: Status::parse(&m.status).ok_or_else(|| corrupt("status", &m.status))?,
        version: m.version,
        applicant: Applicant {
            account: m.applicant_account_id,
            full_name: m.applicant_name,
            id_number: parse_opt(
                "ID number",
                open(keys, ID_NUMBER, m.applicant_id_number)?.as_deref(),
                IdNumber::parse,
            )?,
            tax_code: parse_opt("tax code", m.applicant_tax_code.as_deref(), TaxCode::parse)?,
            phone: parse_opt(
                "phone",
                open(keys, PHONE, m.applicant_phone)?.as_deref(),
                Phone::parse,
            )?,
            email: parse_opt(
                "e-mail",
                open(keys, EMAIL, m.applicant_email)?.as_deref(),
                Email::parse,
            )?,
        },
        address: m.address,
        ward_code: parse_opt("ward", m.ward_code.as_deref(), WardCode::parse)?,
        province_code: parse("province", &m.province_code, ProvinceCode::parse)?,
        receiving_unit: parse("unit", &m.receiving_unit, UnitCode::parse)?,
        handling_unit: parse_opt("unit", m.handling_unit.as_deref(), UnitCode::parse)?,
        assigned_to: m.assigned_to,
        form: m.form,
        documents: m.documents,
        routing: m.routing,
        submitted_at: m.submitted_at,
        received_at: m.received_at,
        due_at: m.due_at,
        original_due_at: m.original_due_at,
        appointment_at: m.appointment_at,
        at_risk_at: m.at_risk_at,
        sla_state: SlaState::parse(&m.sla_state)
            .ok_or_else(|| corrupt("SLA state", &m.sla_state))?,
        next_check_at: m.next_check_at,
        paused_at: m.paused_at,
        paused_working_secs: m.paused_working_secs,
        resume_status: parse_opt("status", m.resume_status.as_deref(), |s| {
            Status::parse(s).ok_or(())
        })?,
        withdrawn_from: parse_opt("status", m.withdrawn_from.as_deref(), |s| {
            Status::parse(s).ok_or(())
        })?,
        consulted_unit: parse_opt("unit", m.consulted_unit.as_deref(), UnitCode::parse)?,
        consult_due_at: m.consult_due_at,
        limit_variant: m.limit_variant,
        bundle_code: m
            .bundle_code
            .map(|c| {
                DossierCode::parse(&c).map_err(|_| DbErr::Custom(format!("bad bundle code {c}")))
            })
            .transpose()?,
        part_share_hours: m.part_share_hours.map(|h| h.max(0) as u32),
        supplement_count: m.supplement_count,
        step,
        outcome: parse_opt("outcome", m.outcome.as_deref(), |s| {
            Outcome::parse(s).ok_or(())
        })?,
        decided_at: m.decided_at,
        closed_at: m.closed_at,
        processing_working_secs: m.processing_working_secs,
        on_time: m.on_time,
        result_delivery: parse_opt("result delivery", m.result_delivery.as_deref(), |s| {
            ResultDelivery::parse(s).ok_or(())
        })?,
        result_point: parse_opt("unit", m.result_point.as_deref(), UnitCode::parse)?,
        fee_vnd: m.fee_vnd,
        payment_due_vnd: m.payment_due_vnd,
        receipts: match m.receipts {
            Some(v) => serde_json::from_value(v)
                .map_err(|e| DbErr::Custom(format!("bad receipts: {e}")))?,
            None => Vec::new(),
        },
        paid_at: m.paid_at,
        paid_online: m.paid_online,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// The row of a dossier: every column set (the id only once the database has given it).
pub fn to_row(keys: &DataKeys, d: &Dossier) -> cases::ActiveModel {
    let text = |v: Option<&str>| v.map(str::to_string);
    let seal = |column, v: Option<&str>| v.map(|v| keys.seal(column, v));
    let id_number = d.applicant.id_number.as_ref();
    cases::ActiveModel {
        id: if d.id == 0 { NotSet } else { Set(d.id) },
        code: Set(d.code_str().to_string()),
        procedure_code: Set(d.procedure_code.to_string()),
        procedure_version: Set(d.procedure_version),
        channel: Set(d.channel.as_str().to_string()),
        status: Set(d.status.as_str().to_string()),
        national_status: Set(i16::from(d.national_status())),
        version: Set(d.version),
        applicant_account_id: Set(d.applicant.account),
        applicant_name: Set(d.applicant.full_name.clone()),
        applicant_id_number: Set(seal(ID_NUMBER, id_number.map(IdNumber::as_str))),
        applicant_id_index: Set(id_number.map(|i| id_index(keys, i))),
        applicant_tax_code: Set(text(d.applicant.tax_code.as_ref().map(TaxCode::as_str))),
        applicant_phone: Set(seal(PHONE, d.applicant.phone.as_ref().map(Phone::as_str))),
        applicant_email: Set(seal(EMAIL, d.applicant.email.as_ref().map(Email::as_str))),
        address: Set(d.address.clone()),
        ward_code: Set(d.ward_code.map(|w| w.to_string())),
        province_code: Set(d.province_code.to_string()),
        receiving_unit: Set(d.receiving_unit.to_string()),
        handling_unit: Set(d.handling_unit.as_ref().map(UnitCode::to_string)),
        assigned_to: Set(d.assigned_to),
        form: Set(d.form.clone()),
        documents: Set(d.documents.clone()),
        routing: Set(d.routing.clone()),
        submitted_at: Set(d.submitted_at),
        received_at: Set(d.received_at),
        due_at: Set(d.due_at),
        original_due_at: Set(d.original_due_at),
        appointment_at: Set(d.appointment_at),
        at_risk_at: Set(d.at_risk_at),
        sla_state: Set(d.sla_state.as_str().to_string()),
        next_check_at: Set(d.next_check_at),
        paused_at: Set(d.paused_at),
        paused_working_secs: Set(d.paused_working_secs),
        resume_status: Set(d.resume_status.map(|s| s.as_str().to_string())),
        withdrawn_from: Set(d.withdrawn_from.map(|s| s.as_str().to_string())),
        consulted_unit: Set(d.consulted_unit.as_ref().map(|u| u.to_string())),
        consult_due_at: Set(d.consult_due_at),
        limit_variant: Set(d.limit_variant.clone()),
        bundle_code: Set(d.bundle_code.as_ref().map(|c| c.to_string())),
        part_share_hours: Set(d.part_share_hours.map(|h| h.min(i32::MAX as u32) as i32)),
        supplement_count: Set(d.supplement_count),
        step_key: Set(d.step.as_ref().map(|s| s.key.as_str().to_string())),
        step_started_at: Set(d.step.as_ref().and_then(|s| s.started_at)),
        step_due_at: Set(d.step.as_ref().and_then(|s| s.due_at)),
        outcome: Set(d.outcome.map(|o| o.as_str().to_string())),
        decided_at: Set(d.decided_at),
        closed_at: Set(d.closed_at),
        processing_working_secs: Set(d.processing_working_secs),
        on_time: Set(d.on_time),
        result_delivery: Set(d.result_delivery.map(|r| r.as_str().to_string())),
        result_point: Set(d.result_point.as_ref().map(UnitCode::to_string)),
        fee_vnd: Set(d.fee_vnd),
        payment_due_vnd: Set(d.payment_due_vnd),
        receipts: Set((!d.receipts.is_empty()).then(|| serde_json::json!(d.receipts))),
        paid_at: Set(d.paid_at),
        paid_online: Set(d.paid_online),
        created_at: Set(d.created_at),
        updated_at: Set(d.updated_at),
    }
}

fn event_of(case_id: i64, e: &DossierEvent) -> NewEvent {
    NewEvent {
        case_id,
        action: e.kind.as_str().to_string(),
        actor_id: e.actor.as_ref().map(|a| a.id),
        actor_role: e.actor_role().to_string(),
        actor_unit: e
            .actor
            .as_ref()
            .and_then(|a| a.unit.as_ref().map(UnitCode::to_string)),
        from_status: e.from_status.map(|s| s.as_str().to_string()),
        to_status: e.to_status.as_str().to_string(),
        reason: e.reason.clone(),
        data: serde_json::Value::Object(e.data.clone()),
        public: e.public,
        at: e.at,
    }
}

/// The event row of a dossier's `seq`-th event (for bulk writers that number events
/// themselves).
pub fn event_row(
    case_id: i64,
    seq: i32,
    prev: Option<&str>,
    e: &DossierEvent,
) -> case_events::ActiveModel {
    event_of(case_id, e).into_row(seq, prev)
}

/// The hash a chained event row got (set by [`event_row`]).
fn row_hash(row: &case_events::ActiveModel) -> Option<String> {
    match &row.hash {
        sea_orm::ActiveValue::Set(h) | sea_orm::ActiveValue::Unchanged(h) => h.clone(),
        sea_orm::ActiveValue::NotSet => None,
    }
}

/// The outbox row of a notice about dossier `code`.
pub fn notice_row(code: &str, n: Notice, now: DateTime<Utc>) -> outbox::ActiveModel {
    crate::repo::outbox::row(&n.topic, Some(code), n.recipients, n.payload, now)
}

/// A filed dossier with its first event and notice, ready for [`sql::insert_numbered`]:
/// the database numbers it on `day`'s counter of its receiving unit.
pub fn numbered_insert(
    keys: &DataKeys,
    d: &Dossier,
    day: NaiveDate,
    event: &DossierEvent,
    notice: Notice,
    now: DateTime<Utc>,
) -> NewDossier {
    NewDossier {
        unit: d.receiving_unit.clone(),
        day,
        row: to_row(keys, d),
        event: event_of(0, event).into_row(1, None),
        outbox: notice_row("", notice, now),
        code_in_payload: Some(CODE_KEY),
        answer: None,
    }
}

/// A pause row of a history written in bulk.
pub fn pause_row(case_id: i64, p: &Pause) -> case_pauses::ActiveModel {
    case_pauses::ActiveModel {
        case_id: Set(case_id),
        reason: Set(p.reason.clone()),
        started_at: Set(p.started_at),
        ended_at: Set(p.ended_at),
        working_secs: Set(p.working_secs),
        ..Default::default()
    }
}

/// Read a dossier by code.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    code: &str,
) -> Result<Option<Dossier>, DbErr> {
    sql::find_by_code(db, code)
        .await?
        .map(|m| from_row(keys, m))
        .transpose()
}

/// Read the dossiers of `codes` that exist, in one read (in no particular order).
pub async fn find_many<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    codes: &[&str],
) -> Result<Vec<Dossier>, DbErr> {
    sql::find_by_codes(db, codes)
        .await?
        .into_iter()
        .map(|m| from_row(keys, m))
        .collect()
}

/// How an applicant can be told of a dossier's steps, read without opening its sealed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    pub email: bool,
    pub phone: bool,
    /// A part of a bundle (its result is told through the bundle).
    pub in_bundle: bool,
}

/// [`Reach`] of each dossier of `codes` that exists, in one read of three columns (not the
/// whole row, whose fifty columns and sealed values cost far more to read and open).
pub async fn reach_of<C: ConnectionTrait>(
    db: &C,
    codes: &[&str],
) -> Result<HashMap<String, Reach>, DbErr> {
    use sea_orm::sea_query::ExprTrait;
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, bool, bool, bool)> = cases::Entity::find()
        .select_only()
        .column(cases::Column::Code)
        .expr(Expr::col(cases::Column::ApplicantEmail).is_not_null())
        .expr(Expr::col(cases::Column::ApplicantPhone).is_not_null())
        .expr(Expr::col(cases::Column::BundleCode).is_not_null())
        .filter(cases::Column::Code.is_in(codes.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(code, email, phone, in_bundle)| {
            (
                code,
                Reach {
                    email,
                    phone,
                    in_bundle,
                },
            )
        })
        .collect())
}

/// Read a dossier by code and lock it for the rest of the transaction (PostgreSQL).
pub async fn find_for_update<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    code: &str,
) -> Result<Option<Dossier>, DbErr> {
    sql::find_for_update(db, code)
        .await?
        .map(|m| from_row(keys, m))
        .transpose()
}

/// Save a changed dossier if nobody changed it since `expected_version` was read; false
/// when the version moved.
pub async fn save<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    d: &Dossier,
    expected_version: i32,
) -> Result<bool, DbErr> {
    let mut row = to_row(keys, d);
    row.id = NotSet;
    sql::update_if_version(db, row, d.id, expected_version).await
}

/// Record what a change of `d` caused, in the change's transaction: its events (numbered
/// after the dossier's last), the pause they open or close, and a notice of each.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    d: &Dossier,
    events: &[DossierEvent],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for e in events {
        match e.pause {
            Some(PauseChange::Started(reason)) => {
                crate::repo::events::open_pause(db, d.id, reason.as_str(), e.at).await?
            }
            Some(PauseChange::Ended { working_secs }) => {
                crate::repo::events::close_pause(db, d.id, e.at, working_secs).await?
            }
            None => {}
        }
    }
    record_many(db, events.iter().map(|e| (d, e)), now).await
}

/// Rows per INSERT: a batch's events (or outbox rows) in one or two statements. Large
/// statements are only cheap with TCP_NODELAY on the PostgreSQL connection, which sqlx 0.9.0
/// lost: see `vendor/README.md`.
const INSERT_CHUNK: usize = 500;

/// Append events of several dossiers (each numbered after its dossier's last) and their
/// notices: a few statements whatever their number. Pauses are not touched.
pub async fn record_many<'a, C: ConnectionTrait>(
    db: &C,
    events: impl IntoIterator<Item = (&'a Dossier, &'a DossierEvent)>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let events: Vec<(&Dossier, &DossierEvent)> = events.into_iter().collect();
    if events.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<i64> = events.iter().map(|(d, _)| d.id).collect();
    ids.sort_unstable();
    ids.dedup();
    // Each dossier's chain goes on from its last event (callers hold the dossiers' locks).
    let mut next: HashMap<i64, (i32, Option<String>)> = crate::repo::events::heads(db, &ids)
        .await?
        .into_iter()
        .map(|(id, (seq, hash))| (id, (seq + 1, hash)))
        .collect();
    let mut rows = Vec::with_capacity(events.len());
    let mut notes = Vec::with_capacity(events.len());
    for (d, e) in &events {
        let (seq, prev) = next.entry(d.id).or_insert((1, None));
        let row = event_row(d.id, *seq, prev.as_deref(), e);
        *prev = row_hash(&row);
        rows.push(row);
        *seq += 1;
        notes.push(notice_row(d.code_str(), d.notice(e, now), now));
    }
    for chunk in rows.chunks(INSERT_CHUNK) {
        case_events::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    for chunk in notes.chunks(INSERT_CHUNK) {
        outbox::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Dossiers whose SLA check is due at `now`, oldest check first, through the partial index
/// on `next_check_at`; `skip_locked` (PostgreSQL) takes them with `FOR UPDATE SKIP LOCKED`,
/// so that several sweepers share the work.
pub async fn due_for_check<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    now: DateTime<Utc>,
    limit: u64,
    skip_locked: bool,
) -> Result<Vec<Dossier>, DbErr> {
    use cases::{Column, Entity};
    let mut q = Entity::find()
        .filter(Column::NextCheckAt.is_not_null())
        .filter(Column::NextCheckAt.lte(now))
        .order_by_asc(Column::NextCheckAt)
        .limit(limit);
    if skip_locked {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    q.all(db)
        .await?
        .into_iter()
        .map(|m| from_row(keys, m))
        .collect()
}

/// Where a swept dossier's next check points: nowhere, or at one of its own columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum NextCheck {
    Never,
    AtRisk,
    Due,
}

/// Save the SLA state and next check of swept dossiers: one UPDATE per distinct outcome
/// (state, and which of its own instants the next check is), so a batch costs a few
/// statements whatever its size.
pub async fn save_sla_checks<C: ConnectionTrait>(db: &C, swept: &[Dossier]) -> Result<(), DbErr> {
    use cases::{Column, Entity};
    let mut groups: HashMap<(SlaState, NextCheck), Vec<i64>> = HashMap::new();
    for d in swept {
        let next = match d.next_check_at {
            None => NextCheck::Never,
            Some(t) if Some(t) == d.due_at => NextCheck::Due,
            Some(t) if Some(t) == d.at_risk_at => NextCheck::AtRisk,
            Some(_) => {
                return Err(DbErr::Custom(
                    "an SLA check set a next check at neither threshold".into(),
                ))
            }
        };
        groups.entry((d.sla_state, next)).or_default().push(d.id);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    // In a fixed order, so that concurrent sweepers lock rows alike.
    groups.sort_by_key(|((s, n), _)| (*s, *n as u8));
    for ((state, next), ids) in groups {
        let next: Expr = match next {
            NextCheck::Never => Expr::value(Option::<DateTime<Utc>>::None),
            NextCheck::AtRisk => Expr::col(Column::AtRiskAt),
            NextCheck::Due => Expr::col(Column::DueAt),
        };
        Entity::update_many()
            .col_expr(Column::SlaState, Expr::value(state.as_str()))
            .col_expr(Column::NextCheckAt, next)
            .filter(Column::Id.is_in(ids))
            .exec(db)
            .await?;
    }
    Ok(())
}

fn page_of(
    keys: &DataKeys,
    rows: Vec<cases::Model>,
    total: u64,
) -> Result<(Vec<Dossier>, u64), DbErr> {
    Ok((
        rows.into_iter()
            .map(|m| from_row(keys, m))
            .collect::<Result<_, _>>()?,
        total,
    ))
}

/// A page of dossiers within a scope, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    scope: &CaseScope,
    f: &CaseFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Dossier>, u64), DbErr> {
    let (rows, total) = sql::list(db, scope, f, offset, limit).await?;
    page_of(keys, rows, total)
}

/// The parts of bundle `code` (sub-dossiers), in the order they were opened.
pub async fn parts_of<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    code: &str,
) -> Result<Vec<Dossier>, DbErr> {
    sql::parts_of(db, code)
        .await?
        .into_iter()
        .map(|m| from_row(keys, m))
        .collect()
}

/// A page of a unit's queue.
pub async fn queue<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    unit: &str,
    f: &QueueFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Dossier>, u64), DbErr> {
    let (rows, total) = sql::queue(db, unit, f, offset, limit).await?;
    page_of(keys, rows, total)
}

/// A page of a province's coordination queue.
pub async fn coordination_queue<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    province: &str,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Dossier>, u64), DbErr> {
    let (rows, total) = sql::coordination_queue(db, province, offset, limit).await?;
    page_of(keys, rows, total)
}

/// Open dossiers whose deadline can still move, by id after `after_id`.
pub async fn open_with_deadline<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    since: DateTime<Utc>,
    after_id: i64,
    limit: u64,
) -> Result<Vec<Dossier>, DbErr> {
    sql::open_with_deadline(db, since, after_id, limit)
        .await?
        .into_iter()
        .map(|m| from_row(keys, m))
        .collect()
}

/// A dossier's history in order; `public_only` for the applicant's view.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    public_only: bool,
) -> Result<Vec<RecordedEvent>, DbErr> {
    Ok(crate::repo::events::list(db, case_id, public_only)
        .await?
        .into_iter()
        .map(|e| RecordedEvent {
            seq: e.seq,
            action: e.action,
            actor_id: e.actor_id,
            actor_role: e.actor_role,
            actor_unit: e.actor_unit,
            from_status: e.from_status,
            to_status: e.to_status,
            reason: e.reason,
            data: e.data,
            public: e.public,
            at: e.at,
        })
        .collect())
}

/// A dossier's pauses in order.
pub async fn pauses<C: ConnectionTrait>(db: &C, case_id: i64) -> Result<Vec<Pause>, DbErr> {
    Ok(crate::repo::events::pauses(db, case_id)
        .await?
        .into_iter()
        .map(|p| Pause {
            reason: p.reason,
            started_at: p.started_at,
            ended_at: p.ended_at,
            working_secs: p.working_secs,
        })
        .collect())
}

/// The account behind an assignee: the unit it is active staff (clerk or unit head) of.
pub async fn staff_unit<C: ConnectionTrait>(
    db: &C,
    account: Uuid,
) -> Result<Option<UnitCode>, DbErr> {
    Ok(crate::repo::accounts::placement(db, account)
        .await?
        .filter(|(role, _, disabled)| !disabled && matches!(role.as_str(), "clerk" | "unit_head"))
        .and_then(|(_, unit, _)| unit)
        .and_then(|u| UnitCode::parse(&u).ok()))
}

/// A dossier with its whole history, for bulk writers (synthetic data).
pub struct History {
    pub dossier: Dossier,
    pub events: Vec<DossierEvent>,
    pub pauses: Vec<Pause>,
    /// Its files' rows (their objects stored already).
    pub documents: Vec<crate::domain::dossier::Document>,
}

/// Insert whole histories with their ids and codes as given, in one write transaction:
/// dossiers, events (numbered in order) and pauses, a few statements per few hundred. No
/// notices: nobody is told about history that is made up.
pub async fn insert_histories(
    db: &sea_orm::DatabaseConnection,
    keys: &DataKeys,
    histories: &[History],
) -> Result<(), DbErr> {
    if histories.is_empty() {
        return Ok(());
    }
    let rows: Vec<cases::ActiveModel> =
        histories.iter().map(|h| to_row(keys, &h.dossier)).collect();
    let events: Vec<case_events::ActiveModel> = histories
        .iter()
        .flat_map(|h| {
            let mut prev: Option<String> = None;
            h.events.iter().zip(1..).map(move |(e, seq)| {
                let row = event_row(h.dossier.id, seq, prev.as_deref(), e);
                prev = row_hash(&row);
                row
            })
        })
        .collect();
    let pauses: Vec<case_pauses::ActiveModel> = histories
        .iter()
        .flat_map(|h| h.pauses.iter().map(|p| pause_row(h.dossier.id, p)))
        .collect();
    let txn = crate::db::begin_write(db).await?;
    for chunk in rows.chunks(INSERT_CHUNK) {
        cases::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    for h in histories {
        crate::repo::documents::insert_documents(
            &txn,
            h.dossier.id,
            h.dossier.applicant.account,
            &h.documents,
        )
        .await?;
    }
    for chunk in events.chunks(INSERT_CHUNK * 4) {
        case_events::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in pauses.chunks(INSERT_CHUNK * 4) {
        case_pauses::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await
}

/// The largest dossier id so far (0 for none).
pub async fn max_id<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    let v: Option<Option<i64>> = cases::Entity::find()
        .select_only()
        .column_as(cases::Column::Id.max(), "m")
        .into_tuple()
        .one(db)
        .await?;
    Ok(v.flatten().unwrap_or(0))
}

/// PostgreSQL: move the id sequence past ids given by a bulk writer.
pub async fn sync_id_sequence<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))",
        )
        .await?;
    }
    Ok(())
}
