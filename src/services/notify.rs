//! Delivering the outbox: at least once, with retries and exponential back-off, to a
//! webhook (signed with HMAC-SHA256) or, by default, to the log.
//!
//! Rows are leased, not held: a batch is claimed in a short transaction by pushing its
//! `available_at` into the future (`FOR UPDATE SKIP LOCKED` on PostgreSQL), delivered outside
//! any transaction (several dossiers at once, each dossier's rows in order), then marked. A dispatcher that dies mid-batch leaves leases that expire,
//! and the rows are delivered again: receivers de-duplicate on the event id.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{DatabaseConnection, DbErr};
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::config::OutboxSettings;
use crate::db;
use crate::repo::outbox::{self as rows, Row};

/// How long a claimed row stays invisible to other dispatchers.
const LEASE_SECS: i64 = 120;

/// The delay before attempt `n + 1` (n ≥ 1): 2, 4, 8 … seconds, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let secs = 2i64.saturating_pow(attempts.clamp(1, 20) as u32).min(3600);
    Duration::seconds(secs)
}

/// Where notifications go.
#[derive(Clone)]
pub enum Sink {
    /// Written to the log (the default).
    Log,
    Webhook {
        url: String,
        secret: secrecy::SecretString,
        client: reqwest::Client,
    },
}

impl Sink {
    pub fn from_settings(s: &OutboxSettings) -> Sink {
        if s.webhook_url.trim().is_empty() {
            return Sink::Log;
        }
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(s.webhook_timeout_secs))
            .build()
            .unwrap_or_default();
        Sink::Webhook {
            url: s.webhook_url.clone(),
            secret: s.webhook_secret.clone(),
            client,
        }
    }
}

/// The signature header value: `sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What a dispatch round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DispatchReport {
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Claim up to `limit` rows that are due.
async fn claim(db: &DatabaseConnection, now: DateTime<Utc>, limit: u64) -> Result<Vec<Row>, DbErr> {
    // A lease a crash loses only lets the rows be claimed again (`db::begin_write_unflushed`).
    let txn = db::begin_write_unflushed(db).await?;
    let due = rows::due(&txn, now, limit).await?;
    if !due.is_empty() {
        rows::lease(
            &txn,
            due.iter().map(|r| r.id),
            now + Duration::seconds(LEASE_SECS),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(due)
}

async fn deliver(sink: &Sink, row: &Row) -> Result<(), String> {
    let body = serde_json::json!({
        "event_id": row.event_id,
        "topic": row.topic,
        "case_code": row.case_code,
        "recipients": row.recipients,
        "payload": row.payload,
        "created_at": row.created_at,
    });
    match sink {
        Sink::Log => {
            // Recipients and payload carry no personal data (codes, units, account ids).
            tracing::info!(
                notification.id = %row.event_id,
                notification.topic = %row.topic,
                case.code = row.case_code.as_deref().unwrap_or("-"),
                recipients = %row.recipients,
                "notification"
            );
            Ok(())
        }
        Sink::Webhook {
            url,
            secret,
            client,
        } => {
            let bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
            let ts = Utc::now().timestamp();
            let res = client
                .post(url)
                .header("content-type", "application/json")
                .header("x-motcua-event-id", row.event_id.to_string())
                .header("x-motcua-timestamp", ts.to_string())
                .header(
                    "x-motcua-signature",
                    sign(secret.expose_secret(), ts, &bytes),
                )
                .body(bytes)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if res.status().is_success() {
                Ok(())
            } else {
                Err(format!("webhook answered {}", res.status()))
            }
        }
    }
}

/// Deliver one batch of due rows. A dossier's rows go out one after another, in the order
/// they were written; up to `settings.delivery_concurrency` dossiers are delivered at once
/// (one receiver's round trip at a time would bound the whole province's notifications to
/// its latency). The delivered rows are marked in one statement.
pub async fn dispatch_once(
    db: &DatabaseConnection,
    sink: &Sink,
    settings: &OutboxSettings,
    now: DateTime<Utc>,
) -> Result<DispatchReport, DbErr> {
    use futures::StreamExt;
    let due = claim(db, now, settings.batch_size).await?;
    let mut groups: Vec<Vec<Row>> = Vec::new();
    let mut group_of: std::collections::HashMap<Option<String>, usize> = Default::default();
    for row in due {
        match group_of.get(&row.case_code) {
            Some(&i) => groups[i].push(row),
            None => {
                group_of.insert(row.case_code.clone(), groups.len());
                groups.push(vec![row]);
            }
        }
    }
    let outcomes: Vec<Vec<(Row, Result<(), String>)>> = futures::stream::iter(groups)
        .map(|group| async move {
            let mut out = Vec::with_capacity(group.len());
            for row in group {
                let result = deliver(sink, &row).await;
                out.push((row, result));
            }
            out
        })
        .buffer_unordered(settings.delivery_concurrency.max(1))
        .collect()
        .await;
    // Marked in one write transaction (on SQLite, in the app's writer turn, so that these
    // writes queue with the others instead of in SQLite's busy handler). Not flushed on its
    // own: a mark a crash loses means the row is delivered again, under the same event id,
    // which receivers deduplicate by (at least once, `db::begin_write_unflushed`).
    let mut report = DispatchReport::default();
    let mut delivered = Vec::new();
    let now = Utc::now();
    let txn = db::begin_write_unflushed(db).await?;
    for (row, result) in outcomes.into_iter().flatten() {
        match result {
            Ok(()) => {
                delivered.push(row.id);
                report.delivered += 1;
            }
            Err(e) => {
                let attempts = row.attempts + 1;
                let error: String = e.chars().take(500).collect();
                if attempts >= settings.max_attempts {
                    rows::mark_attempt_failed(&txn, row.id, attempts, &error, None, now).await?;
                    tracing::error!(event.id = %row.event_id, event.topic = %row.topic, "notification abandoned after {attempts} attempts");
                    report.failed += 1;
                } else {
                    let retry_at = now + backoff(attempts);
                    rows::mark_attempt_failed(&txn, row.id, attempts, &error, Some(retry_at), now)
                        .await?;
                    tracing::warn!(event.id = %row.event_id, attempts, error = %e, "notification will be retried");
                    report.retried += 1;
                }
            }
        }
    }
    rows::mark_delivered(&txn, &delivered, now).await?;
    txn.commit().await?;
    Ok(report)
}

/// Rows waiting to be delivered (for metrics).
pub async fn backlog(db: &DatabaseConnection) -> Result<u64, DbErr> {
    rows::backlog(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(2));
        assert_eq!(backoff(2), Duration::seconds(4));
        assert_eq!(backoff(5), Duration::seconds(32));
        assert_eq!(backoff(30), Duration::seconds(3600));
    }

    #[test]
    fn signatures_are_hmac_sha256() {
        // RFC 4231 test case 2 style check: a known key and message.
        let s = sign("key", 1, b"body");
        assert!(s.starts_with("sha256="));
        assert_eq!(s.len(), 7 + 64);
        assert_ne!(s, sign("other", 1, b"body"));
        assert_ne!(s, sign("key", 2, b"body"));
    }
}
