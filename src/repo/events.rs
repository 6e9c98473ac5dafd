//! Dossier events (the audit trail) and pauses.

use chrono::{DateTime, Utc};
use entity::{case_events, case_pauses};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub case_id: i64,
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: String,
    pub actor_unit: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub data: serde_json::Value,
    pub public: bool,
    pub at: DateTime<Utc>,
}

impl NewEvent {
    /// The row of this event with sequence number `seq`.
    pub fn into_row(self, seq: i32) -> case_events::ActiveModel {
        case_events::ActiveModel {
            case_id: Set(self.case_id),
            seq: Set(seq),
            action: Set(self.action),
            actor_id: Set(self.actor_id),
            actor_role: Set(self.actor_role),
            actor_unit: Set(self.actor_unit),
            from_status: Set(self.from_status),
            to_status: Set(self.to_status),
            reason: Set(self.reason),
            data: Set(self.data),
            public: Set(self.public),
            at: Set(self.at),
            ..Default::default()
        }
    }
}

/// Append an event with the next sequence number of its dossier. Call it under the
/// dossier's row lock (the unique (case_id, seq) index refuses a duplicate otherwise).
pub async fn append<C: ConnectionTrait>(db: &C, e: NewEvent) -> Result<case_events::Model, DbErr> {
    let last: Option<i32> = case_events::Entity::find()
        .select_only()
        .column_as(case_events::Column::Seq.max(), "max_seq")
        .filter(case_events::Column::CaseId.eq(e.case_id))
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten();
    e.into_row(last.unwrap_or(0) + 1).insert(db).await
}

/// A dossier's events in order; `public_only` for the applicant's view.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    public_only: bool,
) -> Result<Vec<case_events::Model>, DbErr> {
    let mut q = case_events::Entity::find().filter(case_events::Column::CaseId.eq(case_id));
    if public_only {
        q = q.filter(case_events::Column::Public.eq(true));
    }
    q.order_by_asc(case_events::Column::Seq).all(db).await
}

pub async fn open_pause<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    case_pauses::ActiveModel {
        case_id: Set(case_id),
        reason: Set(reason.to_string()),
        started_at: Set(at),
        ended_at: Set(None),
        working_secs: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Close the dossier's open pause, recording its length in working seconds.
pub async fn close_pause<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    at: DateTime<Utc>,
    working_secs: i64,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    case_pauses::Entity::update_many()
        .col_expr(case_pauses::Column::EndedAt, Expr::value(at))
        .col_expr(case_pauses::Column::WorkingSecs, Expr::value(working_secs))
        .filter(case_pauses::Column::CaseId.eq(case_id))
        .filter(case_pauses::Column::EndedAt.is_null())
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn pauses<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
) -> Result<Vec<case_pauses::Model>, DbErr> {
    case_pauses::Entity::find()
        .filter(case_pauses::Column::CaseId.eq(case_id))
        .order_by_asc(case_pauses::Column::Id)
        .all(db)
        .await
}
