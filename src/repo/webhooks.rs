//! Webhook subscriptions and their delivery log.

use chrono::{DateTime, Utc};
use entity::{webhook_deliveries, webhooks};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

pub type Webhook = webhooks::Model;
pub type Delivery = webhook_deliveries::Model;

pub async fn insert<C: ConnectionTrait>(db: &C, w: Webhook) -> Result<Webhook, DbErr> {
    w.into_active_model().reset_all().insert(db).await
}

pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Webhook>, DbErr> {
    webhooks::Entity::find_by_id(id).one(db).await
}

/// Every subscription, or one integrator's, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    integrator: Option<Uuid>,
) -> Result<Vec<Webhook>, DbErr> {
    let mut q = webhooks::Entity::find().order_by_desc(webhooks::Column::CreatedAt);
    if let Some(i) = integrator {
        q = q.filter(webhooks::Column::IntegratorId.eq(i));
    }
    q.all(db).await
}

/// Write back the fields an administrator may change (url, topics, active, secret).
pub async fn update_settings<C: ConnectionTrait>(db: &C, w: &Webhook) -> Result<(), DbErr> {
    webhooks::Entity::update_many()
        .filter(webhooks::Column::Id.eq(w.id))
        .col_expr(webhooks::Column::Url, Expr::value(w.url.clone()))
        .col_expr(webhooks::Column::Topics, Expr::value(w.topics.clone()))
        .col_expr(webhooks::Column::Active, Expr::value(w.active))
        .col_expr(webhooks::Column::Secret, Expr::value(w.secret.clone()))
        .col_expr(webhooks::Column::AvailableAt, Expr::value(w.available_at))
        .col_expr(webhooks::Column::Failures, Expr::value(w.failures))
        .exec(db)
        .await?;
    Ok(())
}

/// Up to `limit` active subscriptions due at `now`; on PostgreSQL locked, skipping those
/// another dispatcher holds (call inside the transaction that leases them).
pub async fn due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Webhook>, DbErr> {
    let mut q = webhooks::Entity::find()
        .filter(webhooks::Column::Active.eq(true))
        .filter(webhooks::Column::AvailableAt.lte(now))
        .order_by_asc(webhooks::Column::AvailableAt)
        .limit(limit);
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    q.all(db).await
}

/// Hide subscriptions from every dispatcher until `until`.
pub async fn lease<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
    until: DateTime<Utc>,
) -> Result<(), DbErr> {
    webhooks::Entity::update_many()
        .col_expr(webhooks::Column::AvailableAt, Expr::value(until))
        .filter(webhooks::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(())
}

/// What one delivery round did to a subscription: its new cursor, when it is due next, its
/// consecutive failures and last error.
#[derive(Debug, Clone)]
pub struct Progress {
    pub after: (i64, i64),
    pub available_at: DateTime<Utc>,
    pub failures: i32,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Record a round, only if the subscription still holds the cursor it was read with (an
/// administrator's reset in between wins).
pub async fn record_progress<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    read_from: (i64, i64),
    p: &Progress,
) -> Result<(), DbErr> {
    let mut u = webhooks::Entity::update_many()
        .filter(webhooks::Column::Id.eq(id))
        .filter(webhooks::Column::AfterTxid.eq(read_from.0))
        .filter(webhooks::Column::AfterId.eq(read_from.1))
        .col_expr(webhooks::Column::AfterTxid, Expr::value(p.after.0))
        .col_expr(webhooks::Column::AfterId, Expr::value(p.after.1))
        .col_expr(webhooks::Column::AvailableAt, Expr::value(p.available_at))
        .col_expr(webhooks::Column::Failures, Expr::value(p.failures))
        .col_expr(
            webhooks::Column::LastError,
            Expr::value(p.last_error.clone()),
        );
    if let Some(at) = p.delivered_at {
        u = u.col_expr(webhooks::Column::LastDeliveredAt, Expr::value(at));
    }
    u.exec(db).await?;
    Ok(())
}

pub async fn log_delivery<C: ConnectionTrait>(db: &C, d: Delivery) -> Result<(), DbErr> {
    let mut am = d.into_active_model().reset_all();
    am.id = sea_orm::ActiveValue::NotSet;
    webhook_deliveries::Entity::insert(am)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A subscription's latest deliveries, newest first.
pub async fn deliveries<C: ConnectionTrait>(
    db: &C,
    webhook: Uuid,
    limit: u64,
) -> Result<Vec<Delivery>, DbErr> {
    webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::WebhookId.eq(webhook))
        .order_by_desc(webhook_deliveries::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// A new subscription row (due at once, from `after`).
#[allow(clippy::too_many_arguments)]
pub fn new_row(
    id: Uuid,
    integrator: Uuid,
    url: String,
    sealed_secret: String,
    topics: serde_json::Value,
    after: (i64, i64),
    by: Uuid,
    now: DateTime<Utc>,
) -> Webhook {
    Webhook {
        id,
        integrator_id: integrator,
        url,
        secret: sealed_secret,
        topics,
        active: true,
        after_txid: after.0,
        after_id: after.1,
        available_at: now,
        failures: 0,
        last_error: None,
        last_delivered_at: None,
        created_at: now,
        created_by: Some(by),
    }
}
