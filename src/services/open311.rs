//! The Open311 GeoReport v2 facade's use cases: client systems' API keys, the service list
//! (our procedures), filing a request (an online dossier, filed as the key's own citizen
//! account), and the public reads of requests filed through it (no personal data).
//!
//! Errors are `Open311Error` (a status and a description), which the HTTP layer writes in
//! the spec's format, not as problem documents.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::db;
use crate::domain::access::Actor;
use crate::domain::account::Role;
use crate::domain::geography::AddressInput;
use crate::domain::lang::Lang;
use crate::domain::lifecycle::Status;
use crate::domain::procedure::OnlineLevel;
use crate::domain::routing::UnitDirectory;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::security::data_key::DataKeys;
use crate::security::password::PasswordHasher;
use crate::services::cases::Deps;
use crate::services::intake::{self, ApplicantIn, IntakeOutcome, IntakeRequest};
use crate::services::routing::RoutingCatalog;
use crate::text;

/// An error as GeoReport v2 answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Error {
    pub status: u16,
    pub description: String,
}

impl Open311Error {
    pub fn new(status: u16, description: impl Into<String>) -> Self {
        Open311Error {
            status,
            description: description.into(),
        }
    }

    /// One of ours, in English (the clients are other systems), with its field messages.
    fn from_api(e: ApiError) -> Self {
        match e {
            ApiError::Problem(p) => {
                let mut d = p.detail.get(Lang::En).to_string();
                for f in &p.errors {
                    d.push_str(&format!(" {}: {}", f.field, f.message.get(Lang::En)));
                }
                let status = match p.status.as_u16() {
                    // The spec's client errors are 400 (bad request), 403 (key), 404 (unknown).
                    422 | 409 => 400,
                    s => s,
                };
                Open311Error::new(status, d)
            }
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "open311 request failed");
                Open311Error::new(500, "Internal error")
            }
        }
    }
}

impl From<sea_orm::DbErr> for Open311Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Open311Error::from_api(e.into())
    }
}

// ---------------------------------------------------------------------------------------
// Keys

/// A key as administrators see it; the key itself only in the answer that made it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub id: Uuid,
    pub name: String,
    /// The citizen-role account the client system files as.
    pub account_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Shown once, when made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl From<repo::open311::Key> for KeyView {
    fn from(k: repo::open311::Key) -> Self {
        KeyView {
            id: k.id,
            name: k.name,
            account_id: k.account_id,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
            key: None,
        }
    }
}

/// Issue a key to a client system named `name`: a citizen account of its own (its requests'
/// applicant account) and the key, stored as its digest. Audited when an administrator
/// makes it (`by`).
pub async fn create_key(
    db: &DatabaseConnection,
    keys: &DataKeys,
    hasher: &PasswordHasher,
    name: &str,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<KeyView> {
    let name = name.trim();
    if !(3..=100).contains(&name.chars().count()) || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "name",
            "invalid_name",
            text!(
                "Tên hệ thống dài 3–100 ký tự.",
                "The client system's name is 3–100 characters."
            ),
        ));
    }
    let id = Uuid::now_v7();
    let account = crate::services::users::create(
        db,
        keys,
        hasher,
        crate::services::users::CreateUser {
            username: format!("open311.{}", id.simple()),
            // Never signed in with: the key is its credential.
            password: crate::security::tokens::random_token(),
            role: Role::Citizen.as_str().to_string(),
            unit: None,
            province: None,
            full_name: format!("Open311: {name}"),
            phone: None,
            email: None,
            id_number: None,
        },
        now,
    )
    .await?;
    let key = format!("o311_{}", crate::security::tokens::random_token());
    let row = repo::open311::Key {
        id,
        name: name.to_string(),
        key_digest: crate::security::tokens::digest(&key),
        account_id: account.id,
        created_at: now,
        created_by: by,
        revoked_at: None,
    };
    let txn = db::begin_write(db).await?;
    let row = repo::open311::insert_key(&txn, row).await?;
    if let Some(by) = by {
        repo::audit::record(
            &txn,
            by,
            "open311_key.create",
            &id.to_string(),
            Some(json!({"name": name})),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    let mut view = KeyView::from(row);
    view.key = Some(key);
    Ok(view)
}

pub async fn list_keys(db: &DatabaseConnection) -> ApiResult<Vec<KeyView>> {
    Ok(repo::open311::list_keys(db)
        .await?
        .into_iter()
        .map(KeyView::from)
        .collect())
}

/// Revoke a key: its requests are refused from now on (403).
pub async fn revoke_key(
    db: &DatabaseConnection,
    by: Option<Uuid>,
    id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<KeyView> {
    let txn = db::begin_write(db).await?;
    let Some(_) = repo::open311::find_key(&txn, id).await? else {
        return Err(ApiError::not_found(
            "open311_key_not_found",
            text!("Không có khoá này.", "No such key."),
        ));
    };
    if repo::open311::revoke(&txn, id, now).await? {
        if let Some(by) = by {
            repo::audit::record(&txn, by, "open311_key.revoke", &id.to_string(), None, now).await?;
        }
    }
    let row = repo::open311::find_key(&txn, id).await?.expect("just read");
    txn.commit().await?;
    Ok(row.into())
}

/// Requests per key and minute, counted in this instance (each instance gives each key
/// its own allowance: a limit against a runaway client, not a quota).
pub struct Throttle {
    per_minute: u32,
    windows: Mutex<HashMap<Uuid, (i64, u32)>>,
}

impl Throttle {
    pub fn new(per_minute: u32) -> Throttle {
        Throttle {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Count a request of `key` at `now`; false when the key is over its allowance.
    fn admit(&self, key: Uuid, now: DateTime<Utc>) -> bool {
        let minute = now.timestamp() / 60;
        let mut w = self.windows.lock().expect("throttle lock");
        if w.len() > 10_000 {
            w.retain(|_, (m, _)| *m == minute);
        }
        let entry = w.entry(key).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

/// A client system, known by its key.
pub struct Client {
    pub key_id: Uuid,
    pub actor: Actor,
}

/// The client system holding `raw` (missing, unknown or revoked: 403; over its allowance: 429).
pub async fn authenticate(
    db: &DatabaseConnection,
    throttle: &Throttle,
    raw: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Client, Open311Error> {
    let raw = raw
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Open311Error::new(403, "api_key is required to submit a request"))?;
    let key = repo::open311::find_by_digest(db, &crate::security::tokens::digest(raw))
        .await?
        .ok_or_else(|| Open311Error::new(403, "api_key is not valid"))?;
    if key.revoked_at.is_some() {
        return Err(Open311Error::new(403, "api_key has been revoked"));
    }
    if !throttle.admit(key.id, now) {
        return Err(Open311Error::new(
            429,
            "too many requests with this api_key; wait a minute",
        ));
    }
    match repo::accounts::placement(db, key.account_id).await? {
        Some((_, _, false)) => Ok(Client {
            key_id: key.id,
            actor: Actor {
                account_id: key.account_id,
                username: format!("open311.{}", key.id.simple()),
                role: Role::Citizen,
                unit: None,
                province: None,
            },
        }),
        _ => Err(Open311Error::new(403, "api_key's account is disabled")),
    }
}

// ---------------------------------------------------------------------------------------
// Services

/// A service: one of our procedures that can be filed online.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    pub metadata: bool,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub keywords: String,
    pub group: String,
}

pub fn services(catalog: &RoutingCatalog, now: DateTime<Utc>) -> Vec<Service> {
    catalog
        .procedures_in_force(now)
        .into_iter()
        .filter(|s| s.online_level != OnlineLevel::None && !s.is_bundle())
        .map(|s| Service {
            service_code: s.code.clone(),
            service_name: s.name_vi.clone(),
            description: s.name_en.clone(),
            metadata: true,
            kind: "realtime",
            keywords: s.field.clone(),
            group: s.field.clone(),
        })
        .collect()
}

/// An attribute of a service definition.
#[derive(Debug, Clone, Serialize)]
pub struct Attribute {
    pub variable: bool,
    pub code: String,
    pub datatype: &'static str,
    pub required: bool,
    pub datatype_description: String,
    pub order: u32,
    pub description: String,
}

/// A service's attributes: the applicant's identifiers, then each component of the
/// procedure's dossier (informational: files are brought to the counter or uploaded on the
/// portal, which tells the applicant what is missing).
pub fn definition(
    catalog: &RoutingCatalog,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(String, Vec<Attribute>), Open311Error> {
    let spec = services(catalog, now)
        .into_iter()
        .find(|s| s.service_code == code)
        .and_then(|_| catalog.in_force(code, now))
        .and_then(|v| v.spec().ok().cloned())
        .ok_or_else(|| Open311Error::new(404, format!("service_code {code} is not a service")))?;
    let mut attrs = vec![
        Attribute {
            variable: true,
            code: "id_number".into(),
            datatype: "string",
            required: false,
            datatype_description: "12 chữ số / 12 digits".into(),
            order: 1,
            description: "Số định danh cá nhân của người nộp / The applicant's personal ID number"
                .into(),
        },
        Attribute {
            variable: true,
            code: "tax_code".into(),
            datatype: "string",
            required: false,
            datatype_description: "10 hoặc 13 chữ số / 10 or 13 digits".into(),
            order: 2,
            description: "Mã số thuế (doanh nghiệp) / Tax code (businesses)".into(),
        },
    ];
    for (i, r) in spec.required_documents.iter().enumerate() {
        attrs.push(Attribute {
            variable: false,
            code: r.kind.clone(),
            datatype: "text",
            required: false,
            datatype_description: String::new(),
            order: 10 + i as u32,
            description: format!(
                "{} / {}{}",
                r.name_vi,
                r.name_en,
                if r.mandatory {
                    " (bắt buộc / required)"
                } else {
                    ""
                }
            ),
        });
    }
    Ok((spec.code.clone(), attrs))
}

// ---------------------------------------------------------------------------------------
// Requests

/// A request as the facade receives it (form fields).
#[derive(Debug, Clone, Default)]
pub struct NewRequest {
    pub service_code: Option<String>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    pub lat: Option<String>,
    pub long: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    /// `attribute[code]` values.
    pub attributes: Vec<(String, String)>,
}

/// What a filing answers.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    pub service_request_id: String,
    pub service_notice: String,
    pub token: String,
}

/// File a request as an online dossier of the key's account. The same form sent again with
/// the same key files once (its digest is the intake's idempotency key).
pub async fn submit(
    deps: &Deps<'_>,
    client: &Client,
    r: NewRequest,
) -> Result<Submitted, Open311Error> {
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let code = present(&r.service_code)
        .ok_or_else(|| Open311Error::new(400, "service_code is required"))?;
    let address = match (present(&r.address_id), present(&r.address_string)) {
        (Some(id), _) => AddressInput::WardCode(id),
        (None, Some(text)) => AddressInput::Text(text),
        (None, None) if present(&r.lat).is_some() || present(&r.long).is_some() => {
            return Err(Open311Error::new(
                400,
                "lat/long are not accepted: this jurisdiction does not geocode; give address_string (a ward, pre-2025 names accepted) or address_id (a 2025 ward code)",
            ))
        }
        (None, None) => {
            return Err(Open311Error::new(400, "address_string or address_id is required"))
        }
    };
    let name = [present(&r.last_name), present(&r.first_name)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        return Err(Open311Error::new(
            400,
            "first_name or last_name is required",
        ));
    }
    let attr = |k: &str| {
        r.attributes
            .iter()
            .find(|(c, _)| c == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut form = Map::new();
    if let Some(d) = present(&r.description) {
        form.insert("description".into(), json!(d));
    }
    for (k, v) in &r.attributes {
        if k != "id_number" && k != "tax_code" {
            form.insert(k.clone(), json!(v));
        }
    }
    let raw = json!({
        "service_code": code,
        "address": {"ward_code": present(&r.address_id), "text": present(&r.address_string)},
        "name": name,
        "email": present(&r.email),
        "phone": present(&r.phone),
        "form": form,
        "attributes": r.attributes,
    });
    let key = format!(
        "open311-{}-{}",
        client.key_id.simple(),
        crate::security::tokens::digest(&raw.to_string())
    );
    let req = IntakeRequest {
        procedure_code: code,
        applicant: ApplicantIn {
            full_name: name,
            id_number: attr("id_number"),
            tax_code: attr("tax_code"),
            phone: present(&r.phone),
            email: present(&r.email),
        },
        address,
        address_raw: raw["address"].clone(),
        received_at_unit: None,
        channel: None,
        form: Value::Object(form),
        documents: Vec::new(),
        result_point: None,
        payment_channel: None,
        payment_reference: None,
    };
    let outcome = intake::intake(deps, &client.actor, req, &raw, Some(&key))
        .await
        .map_err(Open311Error::from_api)?;
    let (id, code) = match outcome {
        IntakeOutcome::Created(d) | IntakeOutcome::Replayed(d) => (d.id, d.code_str().to_string()),
        IntakeOutcome::ReplayedBody { body, .. } => {
            let v: Value = serde_json::from_str(&body).unwrap_or_default();
            (
                v["id"].as_i64().unwrap_or_default(),
                v["code"].as_str().unwrap_or_default().to_string(),
            )
        }
    };
    let txn = db::begin_write(deps.db).await?;
    repo::open311::record_request(&txn, id, &code, client.key_id, Utc::now()).await?;
    txn.commit().await?;
    Ok(Submitted {
        token: code.clone(),
        service_notice: "Hồ sơ đã được nộp trực tuyến; bộ phận một cửa sẽ kiểm tra và tiếp nhận. / Filed online; the one-stop shop will check and receive it.".into(),
        service_request_id: code,
    })
}

/// A request as the facade shows it: no personal data.
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub service_request_id: String,
    /// `open` or `closed`.
    pub status: &'static str,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub agency_responsible: String,
    pub service_notice: String,
    pub requested_datetime: String,
    pub updated_datetime: String,
    pub expected_datetime: Option<String>,
    pub address_id: Option<String>,
    pub token: String,
}

/// The facade's `GET requests` filters, as given.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub service_request_id: Option<String>,
    pub service_code: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub status: Option<String>,
}

fn w3(t: DateTime<Utc>) -> String {
    t.with_timezone(&crate::domain::calendar::vn_offset())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn split(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Requests filed through the facade, newest first (at most 1,000; the last 90 days
/// unless dates are given).
pub async fn requests(
    db: &DatabaseConnection,
    catalog: &RoutingCatalog,
    units: &UnitDirectory,
    f: &Filters,
    now: DateTime<Utc>,
) -> Result<Vec<RequestView>, Open311Error> {
    let date = |s: &Option<String>, name: &str| -> Result<Option<DateTime<Utc>>, Open311Error> {
        match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(t) => DateTime::parse_from_rfc3339(t)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| {
                    Open311Error::new(
                        400,
                        format!("{name} must be a w3 datetime (2026-12-03T00:00:00Z)"),
                    )
                }),
        }
    };
    let codes = split(&f.service_request_id);
    let mut filter = repo::open311::RequestFilter::default();
    if codes.is_empty() {
        filter.procedures = split(&f.service_code);
        filter.from = date(&f.start_date, "start_date")?;
        filter.to = date(&f.end_date, "end_date")?;
        if filter.from.is_none() && filter.to.is_none() {
            filter.from = Some(now - chrono::Duration::days(90));
        }
        for s in split(&f.status) {
            let ours: Vec<String> = Status::ALL
                .into_iter()
                .filter(|st| match s.as_str() {
                    "open" => st.is_open(),
                    "closed" => !st.is_open(),
                    _ => false,
                })
                .map(|st| st.as_str().to_string())
                .collect();
            if ours.is_empty() {
                return Err(Open311Error::new(400, "status must be open or closed"));
            }
            filter.statuses.extend(ours);
        }
    } else {
        filter.codes = codes;
    }
    let rows = repo::open311::requests(db, &filter, 1000).await?;
    Ok(rows
        .into_iter()
        .map(|r| view(r, catalog, units, now))
        .collect())
}

/// One request filed through the facade (404 otherwise).
pub async fn request(
    db: &DatabaseConnection,
    catalog: &RoutingCatalog,
    units: &UnitDirectory,
    code: &str,
    now: DateTime<Utc>,
) -> Result<RequestView, Open311Error> {
    let filter = repo::open311::RequestFilter {
        codes: vec![code.to_string()],
        ..Default::default()
    };
    repo::open311::requests(db, &filter, 1)
        .await?
        .into_iter()
        .next()
        .map(|r| view(r, catalog, units, now))
        .ok_or_else(|| Open311Error::new(404, format!("no request {code}")))
}

fn view(
    r: repo::open311::RequestRow,
    catalog: &RoutingCatalog,
    units: &UnitDirectory,
    now: DateTime<Utc>,
) -> RequestView {
    let status = Status::parse(&r.status);
    let open = status.is_none_or(|s| s.is_open());
    let unit = r
        .handling_unit
        .clone()
        .unwrap_or_else(|| r.receiving_unit.clone());
    let agency = units
        .unit(&unit)
        .map_or_else(|| unit.clone(), |u| u.name.clone());
    let name = catalog
        .in_force(&r.procedure_code, now)
        .and_then(|v| v.spec().ok().map(|s| s.name_vi.clone()))
        .unwrap_or_else(|| r.procedure_code.clone());
    let mut notes = r.status.clone();
    if let Some(o) = &r.outcome {
        notes.push_str(&format!(" ({o})"));
    }
    RequestView {
        token: r.code.clone(),
        service_request_id: r.code,
        status: if open { "open" } else { "closed" },
        status_notes: notes,
        service_name: name,
        service_code: r.procedure_code,
        agency_responsible: agency,
        service_notice: String::new(),
        requested_datetime: w3(r.submitted_at),
        updated_datetime: w3(r.updated_at),
        expected_datetime: r.appointment_at.or(r.due_at).map(w3),
        address_id: r.ward_code,
    }
}
