//! Synchronisation with the national public-service portal: each dossier once
//! (`DongBoHoSoMC`), then each public step of it (`CapNhatTienDoHoSoMC`), mapped by
//! `domain::national`.
//!
//! The adapter follows the dossiers' events like an integrator does (`services::feed`),
//! with its own position (`feed_consumers`): the events are written in the change's own
//! transaction, so every change is there to send and nothing is written twice for it.
//! `collect` turns new public events into per-dossier work (`national_sync.pending_seq`);
//! `send_due` leases due dossiers (`FOR UPDATE SKIP LOCKED`), sends their steps in order,
//! each with an idempotency key (`{MaHoSo}:{seq}`), and records how far the portal
//! acknowledged. A portal that is down, slow or answers garbage never touches a dossier
//! action: the step waits, is retried with back-off, and shows as pending.
//!
//! The portal contract this adapter speaks: the credentials are posted as JSON
//! `{"username", "password"}` to `national.auth_url`, which answers `{"access_token"}`;
//! records are posted as JSON to `{national.url}/DongBoHoSoMC` and
//! `{national.url}/CapNhatTienDoHoSoMC` with `Authorization: Bearer {token}` and
//! `X-Idempotency-Key`; the portal answers `{"error_code": 0}` when it took the record,
//! another `error_code` with a `message` when it refused it (a business error), 401 when
//! the session ended (the token is renewed once and the call repeated).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Value;

use std::collections::HashMap;

use crate::config::NationalSettings;
use crate::db;
use crate::domain::dossier::{Dossier, RESULT_KIND};
use crate::domain::national::{self as mapping, Context, FileRef, HistoryItem};
use crate::domain::procedure::ProcedureSpec;
use crate::error::ApiResult;
use crate::repo;
use crate::security::data_key::DataKeys;

/// The adapter's name in `feed_consumers`.
pub const CONSUMER: &str = "national";
/// How long a leased dossier stays invisible to other instances.
const LEASE_SECS: i64 = 120;
/// Events read from the feed per round.
const EVENTS_PER_ROUND: u64 = 500;
/// Dossiers sent per round.
const DOSSIERS_PER_ROUND: u64 = 64;

/// Why a call did not land.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The portal was unreachable, slow, answered 5xx or garbage: try again later.
    Transient(String),
    /// The portal refused the record (or we cannot make one): it will not pass as it is.
    Refused(String),
}

impl SendError {
    fn text(&self) -> String {
        match self {
            SendError::Transient(e) => format!("transient: {e}"),
            SendError::Refused(e) => format!("refused: {e}"),
        }
    }
}

/// The portal's client: its HTTP client, settings and current session token.
pub struct Portal {
    settings: NationalSettings,
    client: reqwest::Client,
    token: tokio::sync::Mutex<Option<String>>,
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the portal did not answer in time".into()
    } else if e.is_connect() {
        "the portal could not be reached".into()
    } else {
        "the call to the portal failed".into()
    }
}

impl Portal {
    pub fn new(settings: &NationalSettings) -> Portal {
        Portal {
            settings: settings.clone(),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(settings.timeout_secs.max(1)))
                .build()
                .unwrap_or_default(),
            token: tokio::sync::Mutex::new(None),
        }
    }

    /// The session token: the one held, or a new one (`renew`, or none held).
    async fn token(&self, renew: bool) -> Result<String, SendError> {
        let mut held = self.token.lock().await;
        if let (false, Some(t)) = (renew, held.as_ref()) {
            return Ok(t.clone());
        }
        let answer = self
            .client
            .post(&self.settings.auth_url)
            .json(&serde_json::json!({
                "username": self.settings.username,
                "password": self.settings.password.expose_secret(),
            }))
            .send()
            .await
            .map_err(|e| SendError::Transient(describe(&e)))?;
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        match body.get("access_token").and_then(Value::as_str) {
            Some(t) if status.is_success() && !t.is_empty() => {
                *held = Some(t.to_string());
                Ok(t.to_string())
            }
            _ if status.is_server_error() || status.is_success() => Err(SendError::Transient(
                format!("the portal's sign-in answered {status} without a token"),
            )),
            _ => Err(SendError::Transient(format!(
                "the portal refused our credentials ({status})"
            ))),
        }
    }

    /// Post one record to `{url}/{method}`.
    pub async fn send(&self, method: &str, key: &str, record: &Value) -> Result<(), SendError> {
        let url = format!("{}/{method}", self.settings.url.trim_end_matches('/'));
        let mut renewed = false;
        loop {
            let token = self.token(false).await?;
            let answer = self
                .client
                .post(&url)
                .bearer_auth(&token)
                .header("x-idempotency-key", key)
                .json(record)
                .send()
                .await
                .map_err(|e| SendError::Transient(describe(&e)))?;
            let status = answer.status();
            if status == reqwest::StatusCode::UNAUTHORIZED {
                if renewed {
                    return Err(SendError::Transient(
                        "the portal refused a fresh session token".into(),
                    ));
                }
                // The session ended: a new token, and the call once more.
                *self.token.lock().await = None;
                self.token(true).await?;
                renewed = true;
                continue;
            }
            if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                return Err(SendError::Transient(format!(
                    "the portal answered {status}"
                )));
            }
            let body: Option<Value> = answer.json().await.ok();
            let code = body.as_ref().and_then(|b| b.get("error_code"));
            let message = body
                .as_ref()
                .and_then(|b| b.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .chars()
                .take(300)
                .collect::<String>();
            return match code {
                _ if status.is_client_error() => {
                    Err(SendError::Refused(format!("{status} {message}")))
                }
                Some(c) if c == &Value::from(0) || c == &Value::from("0") => Ok(()),
                Some(c) => Err(SendError::Refused(format!("error_code {c}: {message}"))),
                None => Err(SendError::Transient(format!(
                    "the portal answered {status} with something that is not its answer"
                ))),
            };
        }
    }
}

// ---------------------------------------------------------------------------------------
// What is sent

/// A dossier with what its record needs.
pub struct Material {
    pub dossier: Dossier,
    spec: ProcedureSpec,
    receiving_national_code: Option<String>,
    handling_unit: Option<String>,
    files: Vec<FileRef>,
    history: Vec<(i32, HistoryItem)>,
}

impl Material {
    fn context(&self) -> (Context<'_>, Vec<HistoryItem>) {
        let history: Vec<HistoryItem> = self.history.iter().map(|(_, h)| h.clone()).collect();
        (
            Context {
                procedure_name: &self.spec.name_vi,
                field_name: &self.spec.field,
                field_code: self.spec.field_code.as_deref(),
                receiving_national_code: self.receiving_national_code.as_deref(),
                handling_unit: self.handling_unit.as_deref(),
                files: &self.files,
                history: &[],
            },
            history,
        )
    }

    /// The whole record (`DongBoHoSoMC`).
    pub fn record(&self) -> Result<mapping::DongBoHoSo, mapping::MappingError> {
        let (cx, history) = self.context();
        mapping::record(
            &self.dossier,
            &Context {
                history: &history,
                ..cx
            },
        )
    }

    fn progress(
        &self,
        step: &HistoryItem,
    ) -> Result<mapping::CapNhatTienDo, mapping::MappingError> {
        let (cx, history) = self.context();
        mapping::progress(
            &self.dossier,
            &Context {
                history: &history,
                ..cx
            },
            step,
        )
    }
}

/// What the dossiers of one round (or one export) share, read once for all of them: the
/// procedure versions they live by and their units. A round is short, so a unit renamed
/// meanwhile shows from the next round on.
#[derive(Default)]
pub struct Shared {
    specs: std::sync::Mutex<HashMap<(String, i32), ProcedureSpec>>,
    units: std::sync::Mutex<HashMap<String, Option<repo::units::UnitRow>>>,
}

impl Shared {
    async fn spec<C: ConnectionTrait>(&self, db: &C, d: &Dossier) -> ApiResult<ProcedureSpec> {
        let key = (d.procedure_code.as_str().to_string(), d.procedure_version);
        if let Some(s) = self
            .specs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(s.clone());
        }
        let spec = crate::services::cases::pinned_spec(db, d).await?;
        self.specs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, spec.clone());
        Ok(spec)
    }

    async fn unit<C: ConnectionTrait>(
        &self,
        db: &C,
        code: &str,
    ) -> Result<Option<repo::units::UnitRow>, DbErr> {
        if let Some(u) = self
            .units
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(code)
        {
            return Ok(u.clone());
        }
        let unit = repo::units::find(db, code).await?;
        self.units
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(code.to_string(), unit.clone());
        Ok(unit)
    }
}

/// Read dossiers and what their records need, by code (a code without a dossier is absent):
/// the dossiers, their documents and their public events in one read each, whatever their
/// number, so that a round costs the database three statements rather than three per dossier.
pub async fn materials<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    shared: &Shared,
    codes: &[&str],
) -> ApiResult<HashMap<String, Material>> {
    let dossiers = repo::dossiers::find_many(db, keys, codes).await?;
    let ids: Vec<i64> = dossiers.iter().map(|d| d.id).collect();
    let mut documents = repo::documents::of_cases(db, &ids).await?;
    let mut events = repo::events::list_of_cases(db, &ids, true).await?;
    let mut out = HashMap::with_capacity(dossiers.len());
    for d in dossiers {
        let spec = shared.spec(db, &d).await?;
        let receiving = shared.unit(db, d.receiving_unit.as_str()).await?;
        let handling = match &d.handling_unit {
            Some(u) => shared.unit(db, u.as_str()).await?,
            None => None,
        };
        let documents = documents.remove(&d.id).unwrap_or_default();
        let files = documents
            .iter()
            .filter(|x| !x.superseded)
            .map(|x| FileRef {
                kind: x.kind.clone(),
                title: if x.kind == RESULT_KIND {
                    "Kết quả giải quyết".to_string()
                } else {
                    spec.required_documents
                        .iter()
                        .find(|r| r.kind == x.kind)
                        .map_or_else(|| x.kind.clone(), |r| r.name_vi.clone())
                },
                file_name: x.file_name.clone(),
                sha256: x.sha256.clone(),
            })
            .collect();
        let history = events
            .remove(&d.id)
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                (
                    e.seq,
                    HistoryItem {
                        action: e.action,
                        at: e.at,
                        reason: e.reason,
                        data: e.data,
                        status: e.to_status,
                    },
                )
            })
            .collect();
        out.insert(
            d.code_str().to_string(),
            Material {
                receiving_national_code: receiving.and_then(|u| u.national_code),
                handling_unit: handling.map(|u| u.national_code.unwrap_or(u.name)),
                dossier: d,
                spec,
                files,
                history,
            },
        );
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The rounds

/// Turn the public events written since the last round into work per dossier; how many
/// events were read.
pub async fn collect(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<usize, DbErr> {
    // Lost in a crash, the round is read again and wants the same steps (`want` keeps the
    // highest): no flush of its own.
    let txn = db::begin_write_unflushed(db).await?;
    let (txid, id) = repo::national::consumer_position(&txn, CONSUMER).await?;
    let rows = repo::feed::after(&txn, txid, id, None, EVENTS_PER_ROUND).await?;
    let Some(last) = rows.last() else {
        txn.rollback().await?;
        return Ok(0);
    };
    let end = (last.txid, last.id);
    let mut latest: std::collections::BTreeMap<i64, (&str, &str, i32)> = Default::default();
    for r in rows.iter().filter(|r| r.public) {
        let entry = latest
            .entry(r.case_id)
            .or_insert((&r.case_code, &r.province_code, r.seq));
        entry.2 = entry.2.max(r.seq);
    }
    let wanted: Vec<repo::national::Wanted<'_>> = latest
        .iter()
        .map(|(case_id, (code, province, seq))| repo::national::Wanted {
            case_id: *case_id,
            case_code: code,
            province,
            seq: *seq,
        })
        .collect();
    repo::national::want(&txn, &wanted, now).await?;
    repo::national::set_consumer_position(&txn, CONSUMER, end, now).await?;
    txn.commit().await?;
    Ok(rows.len())
}

/// What a sending round did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SendReport {
    /// Dossiers brought up to date.
    pub synced: usize,
    /// Calls that landed (records and steps).
    pub calls: usize,
    /// Dossiers whose attempt failed (retried later, or left for `sync national`).
    pub failed: usize,
}

/// Send the due dossiers' steps (up to four dossiers at once).
pub async fn send_due(
    db: &DatabaseConnection,
    keys: &DataKeys,
    portal: &Portal,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> Result<SendReport, DbErr> {
    use futures::StreamExt;
    let due = {
        // A lease lost in a crash lets the dossiers be sent again, under the same keys.
        let txn = db::begin_write_unflushed(db).await?;
        let due = repo::national::due(&txn, now, DOSSIERS_PER_ROUND).await?;
        if !due.is_empty() {
            repo::national::lease(
                &txn,
                due.iter().map(|r| r.case_id),
                now + Duration::seconds(LEASE_SECS),
            )
            .await?;
        }
        txn.commit().await?;
        due
    };
    // The round's dossiers are read together; a read that fails leaves each of them to be
    // retried, like a portal that is down.
    let codes: Vec<&str> = due.iter().map(|r| r.case_code.as_str()).collect();
    let mut read = materials(db, keys, &Shared::default(), &codes)
        .await
        .map_err(|e| SendError::Transient(format!("reading the dossier: {e}")));
    let work: Vec<_> = due
        .into_iter()
        .map(|row| {
            let m = match &mut read {
                Ok(all) => all
                    .remove(&row.case_code)
                    .ok_or_else(|| SendError::Refused("the dossier is gone".into())),
                Err(e) => Err(e.clone()),
            };
            (row, m)
        })
        .collect();
    let outcomes: Vec<Sent> = futures::stream::iter(work)
        .map(|(row, m)| send_one(portal, max_attempts, row, m))
        .buffer_unordered(4)
        .collect()
        .await;
    // The round's attempts in one statement of one transaction, not one commit per dossier:
    // a commit each doubled the flushes the dossiers' own changes wait for. Lost in a crash
    // (or if this instance stops mid-round), the dossiers stay leased until the lease ends
    // and are then sent again under the same keys, which the portal takes as the same calls.
    let mut report = SendReport::default();
    let mut attempts = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        report.calls += o.calls;
        if o.attempt.error.is_none() {
            report.synced += 1;
        } else {
            report.failed += 1;
        }
        attempts.push((o.case_id, o.attempt));
    }
    let txn = db::begin_write_unflushed(db).await?;
    repo::national::record_attempts(&txn, &attempts, Utc::now()).await?;
    txn.commit().await?;
    Ok(report)
}

/// What sending one dossier's steps did, to be recorded with the round's others.
struct Sent {
    case_id: i64,
    attempt: repo::national::Attempt,
    /// Calls that landed.
    calls: usize,
}

/// Send one dossier's pending steps in order; how far the portal acknowledged them.
async fn send_one(
    portal: &Portal,
    max_attempts: i32,
    row: repo::national::SyncRow,
    material: Result<Material, SendError>,
) -> Sent {
    let mut synced = row.synced_seq;
    let mut calls = 0;
    let result: Result<(), SendError> = async {
        let m = material?;
        let refused = |e: mapping::MappingError| SendError::Refused(e.to_string());
        if synced == 0 {
            // First time: the whole dossier as it now is, under the key of its first public
            // step. The key must not change between attempts: a call that timed out may still
            // have landed, and its retry (perhaps with later steps in the record) is then the
            // same call to the portal. So the steps after the first go out as progress, each
            // under its own key, whatever the record already showed.
            let record = m.record().map_err(refused)?;
            let first = m.history.first().map_or(row.pending_seq, |(s, _)| *s);
            let key = format!("{}:{first}", record.ma_ho_so);
            let body = serde_json::to_value(&record).unwrap_or_default();
            portal.send("DongBoHoSoMC", &key, &body).await?;
            calls += 1;
            synced = first;
        }
        let from = synced;
        for (seq, step) in m
            .history
            .iter()
            .filter(|(s, _)| *s > from && *s <= row.pending_seq)
        {
            let p = m.progress(step).map_err(refused)?;
            let key = format!("{}:{seq}", p.ma_ho_so);
            let body = serde_json::to_value(&p).unwrap_or_default();
            portal.send("CapNhatTienDoHoSoMC", &key, &body).await?;
            calls += 1;
            synced = *seq;
        }
        // Steps since removed from view (none expected): nothing left to send up to pending.
        synced = synced.max(row.pending_seq);
        Ok(())
    }
    .await;
    let now = Utc::now();
    let attempt = match &result {
        Ok(()) => repo::national::Attempt {
            synced_seq: synced,
            error: None,
            attempts: 0,
            retry_at: None,
        },
        Err(e) => {
            let attempts = row.attempts + 1;
            repo::national::Attempt {
                synced_seq: synced,
                error: Some(e.text()),
                attempts,
                retry_at: (attempts < max_attempts)
                    .then(|| now + crate::services::notify::backoff(attempts)),
            }
        }
    };
    if let Err(e) = &result {
        tracing::warn!(case.code = %row.case_code, national.attempts = attempt.attempts, error = %e.text(), "national portal synchronisation failed");
    }
    Sent {
        case_id: row.case_id,
        attempt,
        calls,
    }
}

/// One round: collect new steps, then send what is due.
pub async fn sync_once(
    db: &DatabaseConnection,
    keys: &DataKeys,
    portal: &Portal,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> Result<SendReport, DbErr> {
    while collect(db, now).await? as u64 == EVENTS_PER_ROUND {}
    send_due(db, keys, portal, max_attempts, now).await
}

/// `motcua sync national --since`: the failed dossiers whose last step is at or after
/// `since` are due again, then sent until nothing is due; how many were queued and what
/// the rounds did.
pub async fn resend_failed(
    db: &DatabaseConnection,
    keys: &DataKeys,
    portal: &Portal,
    max_attempts: i32,
    since: DateTime<Utc>,
) -> Result<(u64, SendReport), DbErr> {
    let queued = {
        let txn = db::begin_write(db).await?;
        let n = repo::national::requeue_failed(&txn, since, Utc::now()).await?;
        txn.commit().await?;
        n
    };
    let mut total = SendReport::default();
    loop {
        let r = sync_once(db, keys, portal, max_attempts, Utc::now()).await?;
        total.synced += r.synced;
        total.calls += r.calls;
        total.failed += r.failed;
        if r.synced + r.failed == 0 {
            return Ok((queued, total));
        }
        if r.synced == 0 {
            // Everything left failed again and waits for its back-off.
            return Ok((queued, total));
        }
    }
}

/// `motcua export national`: the records of dossiers filed in [from, to), one JSON per
/// line, written by `line`; how many were written and how many could not be mapped (the
/// receiving unit without a national code).
pub async fn export(
    db: &DatabaseConnection,
    keys: &DataKeys,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    mut line: impl FnMut(&str) -> std::io::Result<()>,
) -> ApiResult<(u64, u64)> {
    let (mut written, mut skipped, mut after) = (0u64, 0u64, 0i64);
    let shared = Shared::default();
    loop {
        let batch = repo::national::codes_filed_between(db, from, to, after, 500).await?;
        let Some((last, _)) = batch.last() else {
            return Ok((written, skipped));
        };
        after = *last;
        let codes: Vec<&str> = batch.iter().map(|(_, c)| c.as_str()).collect();
        let mut read = materials(db, keys, &shared, &codes).await?;
        for code in codes {
            let Some(m) = read.remove(code) else {
                continue;
            };
            match m.record() {
                Ok(r) => {
                    let text = serde_json::to_string(&r).map_err(|e| {
                        crate::error::ApiError::internal(DbErr::Custom(e.to_string()))
                    })?;
                    line(&text).map_err(|e| {
                        crate::error::ApiError::internal(DbErr::Custom(e.to_string()))
                    })?;
                    written += 1;
                }
                Err(_) => skipped += 1,
            }
        }
    }
}

/// A dossier's synchronisation, as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SyncStatus {
    /// Every public step so far acknowledged by the portal.
    pub synced: bool,
    /// Steps written but not yet acknowledged.
    pub pending: bool,
    pub synced_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

pub async fn status<C: ConnectionTrait>(db: &C, case_id: i64) -> ApiResult<SyncStatus> {
    let row = repo::national::of_case(db, case_id).await?;
    Ok(match row {
        None => SyncStatus {
            synced: false,
            pending: true,
            synced_at: None,
            last_attempt_at: None,
            next_attempt_at: None,
            attempts: 0,
            last_error: None,
        },
        Some(r) => SyncStatus {
            synced: r.synced_seq > 0 && r.synced_seq >= r.pending_seq,
            pending: r.synced_seq < r.pending_seq,
            synced_at: r.synced_at,
            last_attempt_at: r.last_attempt_at,
            next_attempt_at: r.next_attempt_at,
            attempts: r.attempts,
            last_error: r.last_error,
        },
    })
}
