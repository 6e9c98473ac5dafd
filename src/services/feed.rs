//! The event feed for integrators (`GET /api/v1/events`) and the webhook subscriptions
//! that push it: every dossier event in commit order after a cursor the consumer keeps, so
//! a consumer that was down catches up without gaps or duplicates.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::db;
use crate::domain::account::Role;
use crate::domain::feed::{Cursor, Topics};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::feed::FeedRow;
use crate::repo::webhooks::{Delivery, Progress, Webhook};
use crate::security::data_key::DataKeys;
use crate::text;

/// Where a subscription's secret is sealed (the data keys' associated data).
const SECRET_COLUMN: &str = "webhooks.secret";
/// How long a claimed subscription stays invisible to other dispatchers.
const LEASE_SECS: i64 = 120;
/// Events per webhook delivery.
const EVENTS_PER_DELIVERY: u64 = 100;

/// One event of the feed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedEvent {
    /// The position after this event: pass it as `after` to read on from here.
    pub cursor: String,
    /// The event's id (unique, not in commit order).
    pub id: i64,
    /// The event's name in the dossier's history: `submit`, `receive`, `sla_overdue` …
    #[serde(rename = "type")]
    pub kind: String,
    pub case_code: String,
    pub procedure_code: String,
    pub province_code: String,
    /// The event's number in its dossier's history (1, 2, …).
    pub seq: i32,
    pub from_status: Option<String>,
    pub to_status: String,
    /// Whether the applicant sees the step.
    pub public: bool,
    pub actor_role: String,
    pub actor_unit: Option<String>,
    pub at: DateTime<Utc>,
    /// The event's link in its dossier's hash chain.
    pub hash: Option<String>,
}

impl From<FeedRow> for FeedEvent {
    fn from(r: FeedRow) -> Self {
        FeedEvent {
            cursor: Cursor {
                txid: r.txid,
                id: r.id,
            }
            .to_string(),
            id: r.id,
            kind: r.action,
            case_code: r.case_code,
            procedure_code: r.procedure_code,
            province_code: r.province_code,
            seq: r.seq,
            from_status: r.from_status,
            to_status: r.to_status,
            public: r.public,
            actor_role: r.actor_role,
            actor_unit: r.actor_unit,
            at: r.at,
            hash: r.hash,
        }
    }
}

/// A page of the feed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    pub events: Vec<FeedEvent>,
    /// Where to read on from (the last event's cursor, or `after` when there was none).
    pub next_cursor: String,
    /// Whether more events were there already (read again at once).
    pub has_more: bool,
}

fn bad_cursor() -> ApiError {
    ApiError::invalid_field(
        "after",
        "invalid_cursor",
        text!(
            "Con trỏ không hợp lệ: dùng 0 hoặc giá trị next_cursor đã nhận.",
            "Invalid cursor: use 0 or a next_cursor you were given."
        ),
    )
}

/// Parse a cursor given by a client.
pub fn parse_cursor(raw: &str) -> ApiResult<Cursor> {
    Cursor::parse(raw).ok_or_else(bad_cursor)
}

/// Up to `limit` events after `after`, of one province or all. Read on the primary: a
/// replica's snapshot may be behind a cursor the client got from the primary.
pub async fn read<C: ConnectionTrait>(
    db: &C,
    province: Option<&str>,
    after: Cursor,
    limit: u64,
) -> Result<FeedPage, DbErr> {
    let rows = repo::feed::after(db, after.txid, after.id, province, limit + 1).await?;
    let has_more = rows.len() as u64 > limit;
    let events: Vec<FeedEvent> = rows
        .into_iter()
        .take(limit as usize)
        .map(FeedEvent::from)
        .collect();
    let next_cursor = events
        .last()
        .map(|e| e.cursor.clone())
        .unwrap_or_else(|| after.to_string());
    Ok(FeedPage {
        events,
        next_cursor,
        has_more,
    })
}

/// The position after the last event handed out so far (a new subscription's start).
pub async fn end<C: ConnectionTrait>(db: &C) -> Result<Cursor, DbErr> {
    let (txid, id) = repo::feed::last(db).await?;
    Ok(Cursor { txid, id })
}

// ---------------------------------------------------------------------------------------
// Subscriptions

/// A subscription as administrators see it (never its secret, except once when made).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub integrator_id: Uuid,
    pub url: String,
    /// Event types delivered (`*`: all).
    pub topics: Vec<String>,
    pub active: bool,
    /// The feed position delivered so far.
    pub cursor: String,
    /// Consecutive failed deliveries (0: healthy); the next attempt waits `next_attempt_at`.
    pub failures: i32,
    pub last_error: Option<String>,
    pub last_delivered_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The HMAC key: only in the answer that made or rotated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookView {
    fn of(w: &Webhook) -> WebhookView {
        WebhookView {
            id: w.id,
            integrator_id: w.integrator_id,
            url: w.url.clone(),
            topics: topics_of(w).to_list(),
            active: w.active,
            cursor: Cursor {
                txid: w.after_txid,
                id: w.after_id,
            }
            .to_string(),
            failures: w.failures,
            last_error: w.last_error.clone(),
            last_delivered_at: w.last_delivered_at,
            next_attempt_at: w.available_at,
            created_at: w.created_at,
            secret: None,
        }
    }
}

/// One delivery attempt, as the log shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub attempted_at: DateTime<Utc>,
    pub events: i32,
    pub first_cursor: String,
    pub last_cursor: String,
    /// The receiver's HTTP status (none: no answer).
    pub status_code: Option<i32>,
    pub ok: bool,
    pub error: Option<String>,
    pub duration_ms: i32,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        DeliveryView {
            attempted_at: d.attempted_at,
            events: d.events,
            first_cursor: d.first_cursor,
            last_cursor: d.last_cursor,
            status_code: d.status_code,
            ok: d.ok,
            error: d.error,
            duration_ms: d.duration_ms,
        }
    }
}

fn topics_of(w: &Webhook) -> Topics {
    let list: Vec<String> = serde_json::from_value(w.topics.clone()).unwrap_or_default();
    Topics::parse(&list).unwrap_or(Topics::All)
}

fn parse_topics(list: &[String]) -> ApiResult<Topics> {
    Topics::parse(list).map_err(|t| {
        ApiError::invalid_field(
            "topics",
            "unknown_topic",
            text!(
                format!("Không có loại sự kiện {}.", t.0),
                format!("There is no event type {}.", t.0)
            ),
        )
    })
}

fn parse_url(raw: &str) -> ApiResult<String> {
    let url = raw.trim();
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(url.to_string())
        }
        _ => Err(ApiError::invalid_field(
            "url",
            "invalid_url",
            text!(
                "Địa chỉ nhận phải là một URL http(s) đầy đủ.",
                "The receiver must be a full http(s) URL."
            ),
        )),
    }
}

fn parse_secret(given: Option<String>) -> ApiResult<String> {
    match given {
        None => Ok(crate::security::tokens::random_token()),
        Some(s) if (16..=256).contains(&s.chars().count()) => Ok(s),
        Some(_) => Err(ApiError::invalid_field(
            "secret",
            "invalid_length",
            text!(
                "Khoá ký phải dài 16–256 ký tự.",
                "The signing key must be 16–256 characters."
            ),
        )),
    }
}

fn not_found() -> ApiError {
    ApiError::not_found(
        "webhook_not_found",
        text!(
            "Không có đăng ký webhook này.",
            "No such webhook subscription."
        ),
    )
}

/// What an administrator gives to subscribe an integrator.
pub struct NewWebhook {
    pub integrator_id: Uuid,
    pub url: String,
    pub topics: Vec<String>,
    /// The HMAC key; none: one is made and shown once.
    pub secret: Option<String>,
    /// Where delivery starts; none: after the events handed out so far.
    pub after: Option<String>,
}

/// Subscribe an integrator (an account of role `integrator`), audited.
pub async fn create(
    db: &DatabaseConnection,
    keys: &DataKeys,
    by: Uuid,
    new: NewWebhook,
    now: DateTime<Utc>,
) -> ApiResult<WebhookView> {
    let url = parse_url(&new.url)?;
    let topics = parse_topics(&new.topics)?;
    let secret = parse_secret(new.secret)?;
    let after = match &new.after {
        Some(raw) => parse_cursor(raw)?,
        None => end(db).await?,
    };
    match repo::accounts::placement(db, new.integrator_id).await? {
        Some((role, _, _)) if role == Role::Integrator.as_str() => {}
        _ => {
            return Err(ApiError::invalid_field(
                "integrator_id",
                "not_integrator",
                text!(
                    "Tài khoản này không phải hệ thống kết nối (vai trò integrator).",
                    "This account is not an integrator."
                ),
            ))
        }
    }
    let row = repo::webhooks::new_row(
        Uuid::now_v7(),
        new.integrator_id,
        url,
        keys.seal(SECRET_COLUMN, &secret),
        json!(topics.to_list()),
        (after.txid, after.id),
        by,
        now,
    );
    let txn = db::begin_write(db).await?;
    let row = repo::webhooks::insert(&txn, row).await?;
    let mut view = WebhookView::of(&row);
    repo::audit::record(
        &txn,
        by,
        "webhook.create",
        &row.id.to_string(),
        Some(json!({ "after": view })),
        now,
    )
    .await?;
    txn.commit().await?;
    view.secret = Some(secret);
    Ok(view)
}

pub async fn list(
    db: &DatabaseConnection,
    integrator: Option<Uuid>,
) -> ApiResult<Vec<WebhookView>> {
    Ok(repo::webhooks::list(db, integrator)
        .await?
        .iter()
        .map(WebhookView::of)
        .collect())
}

/// A subscription and its latest deliveries (newest first).
pub async fn show(
    db: &DatabaseConnection,
    id: Uuid,
    deliveries: u64,
) -> ApiResult<(WebhookView, Vec<DeliveryView>)> {
    let w = repo::webhooks::find(db, id).await?.ok_or_else(not_found)?;
    let log = repo::webhooks::deliveries(db, id, deliveries).await?;
    Ok((
        WebhookView::of(&w),
        log.into_iter().map(DeliveryView::from).collect(),
    ))
}

/// What an administrator changes; absent fields stay.
#[derive(Default)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub topics: Option<Vec<String>>,
    pub active: Option<bool>,
    /// Make a new key (shown once in the answer).
    pub rotate_secret: bool,
}

pub async fn update(
    db: &DatabaseConnection,
    keys: &DataKeys,
    by: Uuid,
    id: Uuid,
    change: WebhookChange,
    now: DateTime<Utc>,
) -> ApiResult<WebhookView> {
    let url = change.url.as_deref().map(parse_url).transpose()?;
    let topics = change.topics.as_deref().map(parse_topics).transpose()?;
    let txn = db::begin_write(db).await?;
    let mut w = repo::webhooks::find(&txn, id)
        .await?
        .ok_or_else(not_found)?;
    let before = WebhookView::of(&w);
    if let Some(url) = url {
        w.url = url;
    }
    if let Some(t) = topics {
        w.topics = json!(t.to_list());
    }
    if let Some(active) = change.active {
        if active && !w.active {
            // Switched back on: try at once.
            w.available_at = now;
            w.failures = 0;
        }
        w.active = active;
    }
    let secret = change
        .rotate_secret
        .then(crate::security::tokens::random_token);
    if let Some(s) = &secret {
        w.secret = keys.seal(SECRET_COLUMN, s);
    }
    repo::webhooks::update_settings(&txn, &w).await?;
    let mut view = WebhookView::of(&w);
    repo::audit::record(
        &txn,
        by,
        "webhook.update",
        &w.id.to_string(),
        Some(json!({ "before": before, "after": view, "secret_rotated": secret.is_some() })),
        now,
    )
    .await?;
    txn.commit().await?;
    view.secret = secret;
    Ok(view)
}

// ---------------------------------------------------------------------------------------
// Delivery

/// The delay before the next attempt after `failures` failures in a row: 2, 4, 8 …
/// seconds, at most an hour. A subscription is never given up: an administrator turns it off.
fn backoff(failures: i32) -> Duration {
    crate::services::notify::backoff(failures)
}

/// What a delivery round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WebhookReport {
    /// Subscriptions whose events were delivered.
    pub delivered: usize,
    /// Events delivered.
    pub events: usize,
    /// Subscriptions whose delivery failed (retried later).
    pub failed: usize,
}

/// The HTTP client of webhook deliveries.
pub fn client(timeout_secs: u64) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(timeout_secs.max(1)))
        .build()
        .unwrap_or_default()
}

/// One round: claim the due subscriptions, deliver each one's next events (up to
/// `concurrency` subscriptions at once), record the progress and the log.
pub async fn deliver_once(
    db: &DatabaseConnection,
    keys: &DataKeys,
    client: &reqwest::Client,
    concurrency: usize,
    now: DateTime<Utc>,
) -> Result<WebhookReport, DbErr> {
    use futures::StreamExt;
    let claimed = {
        // A lease a crash loses only lets the webhook be claimed again.
        let txn = db::begin_write_unflushed(db).await?;
        let due = repo::webhooks::due(&txn, now, 32).await?;
        if !due.is_empty() {
            repo::webhooks::lease(
                &txn,
                due.iter().map(|w| w.id),
                now + Duration::seconds(LEASE_SECS),
            )
            .await?;
        }
        txn.commit().await?;
        due
    };
    let outcomes: Vec<Result<Outcome, DbErr>> = futures::stream::iter(claimed)
        .map(|w| deliver_one(db, keys, client, w))
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut report = WebhookReport::default();
    for o in outcomes {
        match o? {
            Outcome::Delivered(n) => {
                report.delivered += 1;
                report.events += n;
            }
            Outcome::Failed => report.failed += 1,
            Outcome::Idle => {}
        }
    }
    Ok(report)
}

enum Outcome {
    Idle,
    Delivered(usize),
    Failed,
}

async fn deliver_one(
    db: &DatabaseConnection,
    keys: &DataKeys,
    client: &reqwest::Client,
    w: Webhook,
) -> Result<Outcome, DbErr> {
    let from = Cursor {
        txid: w.after_txid,
        id: w.after_id,
    };
    let read_from = (w.after_txid, w.after_id);
    // The integrator's scope now: a disabled account or a changed role receives nothing.
    let province = match repo::accounts::find_by_id(db, keys, w.integrator_id).await? {
        Some(a) if !a.disabled && a.role == Role::Integrator.as_str() => a.province_code,
        _ => {
            let p = Progress {
                after: read_from,
                available_at: Utc::now() + Duration::seconds(300),
                failures: w.failures,
                last_error: Some(
                    "the integrator's account is disabled or no longer an integrator".into(),
                ),
                delivered_at: None,
            };
            repo::webhooks::record_progress(db, w.id, read_from, &p).await?;
            return Ok(Outcome::Idle);
        }
    };
    let page = read(db, province.as_deref(), from, EVENTS_PER_DELIVERY).await?;
    let topics = topics_of(&w);
    let end = parse_cursor(&page.next_cursor).unwrap_or(from);
    let end = (end.txid, end.id);
    let events: Vec<&FeedEvent> = page
        .events
        .iter()
        .filter(|e| topics.matches(&e.kind))
        .collect();
    if events.is_empty() {
        // Nothing of its topics: move past what was read and end the lease (due again at
        // the next round).
        let p = Progress {
            after: end,
            available_at: Utc::now(),
            failures: w.failures,
            last_error: w.last_error.clone(),
            delivered_at: None,
        };
        repo::webhooks::record_progress(db, w.id, read_from, &p).await?;
        return Ok(Outcome::Idle);
    }
    let body = json!({
        "webhook_id": w.id,
        "events": events,
        "next_cursor": page.next_cursor,
    });
    let bytes = serde_json::to_vec(&body).map_err(|e| DbErr::Custom(e.to_string()))?;
    let secret = keys
        .open(SECRET_COLUMN, &w.secret)
        .map(SecretString::from)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    let started = Instant::now();
    let ts = Utc::now().timestamp();
    let answer = client
        .post(&w.url)
        .header("content-type", "application/json")
        .header("x-motcua-webhook-id", w.id.to_string())
        // The end of the delivered range. A retry starts at the same cursor and, when more
        // events came meanwhile, may carry more of them and a later value: receivers drop
        // events by their own cursor, not by this.
        .header("x-motcua-delivery", &page.next_cursor)
        .header("x-motcua-timestamp", ts.to_string())
        .header(
            "x-motcua-signature",
            crate::services::notify::sign(secret.expose_secret(), ts, &bytes),
        )
        .body(bytes)
        .send()
        .await;
    let duration_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    let (status, error) = match &answer {
        Ok(r) if r.status().is_success() => (Some(r.status().as_u16() as i32), None),
        Ok(r) => (
            Some(r.status().as_u16() as i32),
            Some(format!("the receiver answered {}", r.status())),
        ),
        Err(e) if e.is_timeout() => (None, Some("the receiver did not answer in time".into())),
        Err(e) if e.is_connect() => (None, Some("the receiver could not be reached".into())),
        Err(_) => (None, Some("the delivery failed".into())),
    };
    let ok = error.is_none();
    let at = Utc::now();
    let failures = if ok { 0 } else { w.failures + 1 };
    let progress = Progress {
        after: if ok { end } else { read_from },
        available_at: if ok { at } else { at + backoff(failures) },
        failures,
        last_error: error.clone(),
        delivered_at: ok.then_some(at),
    };
    // Progress a crash loses means these events are delivered again, each with its own
    // cursor, by which receivers drop what they had (`db::begin_write_unflushed`).
    let txn = db::begin_write_unflushed(db).await?;
    repo::webhooks::record_progress(&txn, w.id, read_from, &progress).await?;
    repo::webhooks::log_delivery(
        &txn,
        Delivery {
            id: 0,
            webhook_id: w.id,
            attempted_at: at,
            events: events.len() as i32,
            first_cursor: events[0].cursor.clone(),
            last_cursor: page.next_cursor.clone(),
            status_code: status,
            ok,
            error: error.clone(),
            duration_ms,
        },
    )
    .await?;
    txn.commit().await?;
    if ok {
        Ok(Outcome::Delivered(events.len()))
    } else {
        tracing::warn!(webhook.id = %w.id, webhook.failures = failures, error = error.as_deref().unwrap_or("-"), "webhook delivery failed; will retry");
        Ok(Outcome::Failed)
    }
}
