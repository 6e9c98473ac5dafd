//! Filing a dossier: the applicant's or clerk's submission checked and parsed, the
//! Idempotency-Key of an online one, routing, [`Dossier::file`], and the write through the
//! intake writer (group commit), so that an acknowledged dossier is never lost.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::domain::access::Actor;
use crate::domain::account::{Email, IdNumber, Invalid, Phone, Role, TaxCode};
use crate::domain::calendar::vn_offset;
use crate::domain::dossier::{Applicant, Channel, Dossier, DossierCode, Filing};
use crate::domain::geography::{AddressInput, ProvinceCode, WardCode};
use crate::domain::lifecycle::Status;
use crate::domain::procedure::ProcedureCode;
use crate::domain::routing::RouteStatus;
use crate::domain::unit::UnitCode;
use crate::error::Checks;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::repo;
use crate::services::auth::check_full_name;
use crate::services::cases::{internal, rules, transition_error, Deps};
use crate::services::documents::{new_documents, resolve_for_intake, IntakeDocument};
use crate::services::intake_writer;
use crate::text;

/// The applicant as given at intake.
#[derive(Debug, Clone, Default)]
pub struct ApplicantIn {
    pub full_name: String,
    pub id_number: Option<String>,
    pub tax_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A dossier as submitted.
#[derive(Debug, Clone)]
pub struct IntakeRequest {
    pub procedure_code: String,
    pub applicant: ApplicantIn,
    pub address: AddressInput,
    /// The address as the applicant wrote it, kept on the dossier.
    pub address_raw: Value,
    pub received_at_unit: Option<String>,
    pub channel: Option<String>,
    pub form: Value,
    /// Uploads taken and digitised documents reused (see `services::documents`).
    pub documents: Vec<IntakeDocument>,
    /// Where the result is collected (a reception point of the province).
    pub result_point: Option<String>,
    /// The fee paid with the filing.
    pub payment_channel: Option<String>,
    pub payment_reference: Option<String>,
}

/// The answer to an intake.
pub enum IntakeOutcome {
    Created(Box<Dossier>),
    /// An earlier request with the same key and body: the dossier as it first answered.
    Replayed(Box<Dossier>),
    /// The same, stored by a version that kept the rendered answer (status and body).
    ReplayedBody {
        status: u16,
        body: String,
    },
}

const IDEMPOTENCY_STALE_SECS: i64 = 60;

fn hash_body(v: &Value) -> String {
    // serde_json's map keeps keys sorted, so equal bodies serialise identically.
    hex::encode(Sha256::digest(serde_json::to_vec(v).unwrap_or_default()))
}

fn check_idempotency_key(key: &str) -> ApiResult<()> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            text!(
                "Idempotency-Key phải gồm 1–255 ký tự ASCII in được.",
                "Idempotency-Key must be 1–255 printable ASCII characters."
            ),
        ));
    }
    Ok(())
}

/// Submit a dossier. `raw_body` is the request body as received (for idempotency).
pub async fn intake(
    deps: &Deps<'_>,
    actor: &Actor,
    req: IntakeRequest,
    raw_body: &Value,
    idempotency_key: Option<&str>,
) -> ApiResult<IntakeOutcome> {
    let online = actor.role == Role::Citizen;
    if online && idempotency_key.is_none() {
        return Err(ApiError::bad_request(
            "idempotency_key_required",
            text!(
                "Nộp hồ sơ trực tuyến cần tiêu đề Idempotency-Key.",
                "Online submissions need an Idempotency-Key header."
            ),
        ));
    }
    let Some(key) = idempotency_key else {
        return create(deps, actor, &req, None)
            .await
            .map(|d| IntakeOutcome::Created(Box::new(d)));
    };
    check_idempotency_key(key)?;
    let hash = hash_body(raw_body);
    let stale_before = Utc::now() - Duration::seconds(IDEMPOTENCY_STALE_SECS);
    // Held until the intake is answered: a duplicate sent meanwhile to this instance is
    // answered 409 at once.
    let _flight = match deps.intakes.take_in_flight(actor.account_id, key, &hash) {
        Ok(flight) => flight,
        Err(true) => return Err(intake_writer::key_in_progress()),
        Err(false) => return Err(key_reused()),
    };
    // Nothing is read or written for the key before its dossier: the key's row is one more
    // part of the intake's own statement (`intake_writer`), which fails, writing nothing,
    // when the key has a row already. Most keys are new, and file in that one hand-over; a
    // request cut off before it leaves nothing, and its retry files at once.
    let mut taken_over = false;
    loop {
        let error = match create(deps, actor, &req, Some((key, &hash))).await {
            Ok(d) => return Ok(IntakeOutcome::Created(Box::new(d))),
            Err(e) => e,
        };
        // A key used before answers as it first did, whatever this request would be told
        // now (a procedure since withdrawn, another body); so does a key taken meanwhile by
        // a request of another instance, which committed first.
        let row = match repo::idempotency::get(deps.db, deps.keys, actor.account_id, key).await {
            Ok(Some(row)) => row,
            Ok(None) | Err(_) => return Err(error),
        };
        // The marker of an earlier version's request whose owner died: taken over, once.
        let stale = row.state == "in_progress" && row.created_at < stale_before;
        if stale
            && !taken_over
            && repo::idempotency::drop_stale(deps.db, actor.account_id, key, stale_before).await?
        {
            taken_over = true;
            continue;
        }
        return answer_from(deps, row, &hash).await;
    }
}

/// The answer to a request whose key has a row: the stored answer replayed (with the id and
/// code its dossier was given, for a row written with its dossier), 422 for another body,
/// 409 while an earlier version's marker stands.
async fn answer_from(
    deps: &Deps<'_>,
    row: repo::idempotency::StoredKey,
    hash: &str,
) -> ApiResult<IntakeOutcome> {
    if row.request_hash != hash {
        return Err(key_reused());
    }
    if row.state != "completed" {
        return Err(intake_writer::key_in_progress());
    }
    let body = row.response_body.unwrap_or_default();
    let Ok(mut d) = serde_json::from_str::<Dossier>(&body) else {
        return Ok(IntakeOutcome::ReplayedBody {
            status: row.response_status.unwrap_or(201) as u16,
            body,
        });
    };
    if let Some(id) = row.case_id {
        let code = repo::cases::code_of(deps.db, id).await?.ok_or_else(|| {
            ApiError::Internal(format!("the dossier {id} of a key is gone").into())
        })?;
        d.id = id;
        d.code = Some(DossierCode::parse(&code).map_err(ApiError::internal)?);
    }
    Ok(IntakeOutcome::Replayed(Box::new(d)))
}

fn key_reused() -> ApiError {
    ApiError::unprocessable(
        "idempotency_key_reused",
        text!(
            "Idempotency-Key này đã được dùng cho một yêu cầu khác.",
            "This Idempotency-Key was used for a different request."
        ),
    )
}

struct Validated {
    procedure_code: String,
    applicant: Applicant,
    channel: Channel,
    payment: Option<crate::domain::dossier::Payment>,
}

/// Puts a value's error on the body field it came from.
fn at(field: &'static str) -> impl Fn(Invalid) -> Invalid {
    move |mut e| {
        e.field = field;
        e
    }
}

fn validate(deps: &Deps<'_>, actor: &Actor, req: &IntakeRequest) -> ApiResult<Validated> {
    let mut c = Checks::default();
    let name = c.take(check_full_name(&req.applicant.full_name).map_err(at("applicant.full_name")));
    let id_number = req
        .applicant
        .id_number
        .as_deref()
        .and_then(|v| c.take(IdNumber::parse(v).map_err(at("applicant.id_number"))));
    let tax_code = req
        .applicant
        .tax_code
        .as_deref()
        .and_then(|v| c.take(TaxCode::parse(v).map_err(at("applicant.tax_code"))));
    if req.applicant.id_number.is_none() && req.applicant.tax_code.is_none() {
        c.push(FieldError::new(
            "applicant",
            "id_number_or_tax_code_required",
            text!(
                "Cần số định danh cá nhân (công dân) hoặc mã số thuế (doanh nghiệp).",
                "A citizen ID number or a business tax code is required."
            ),
        ));
    }
    let phone = req
        .applicant
        .phone
        .as_deref()
        .and_then(|v| c.take(Phone::parse(v).map_err(at("applicant.phone"))));
    if req.applicant.phone.is_none() {
        c.push(FieldError::new(
            "applicant.phone",
            "required",
            text!(
                "Cần số điện thoại liên hệ.",
                "A contact phone number is required."
            ),
        ));
    }
    let email = req
        .applicant
        .email
        .as_deref()
        .and_then(|v| c.take(Email::parse(v).map_err(at("applicant.email"))));
    if !req.form.is_object() {
        c.push(FieldError::new(
            "form",
            "invalid_form",
            text!(
                "Tờ khai phải là một đối tượng JSON.",
                "The form must be a JSON object."
            ),
        ));
    } else if serde_json::to_vec(&req.form)
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
        > deps.intake.form_max_bytes
    {
        c.push(FieldError::new(
            "form",
            "form_too_large",
            text!(
                format!("Tờ khai vượt quá {} byte.", deps.intake.form_max_bytes),
                format!("The form exceeds {} bytes.", deps.intake.form_max_bytes)
            ),
        ));
    }
    let channel = match (actor.role, req.channel.as_deref()) {
        (Role::Citizen, None | Some("online")) => Some(Channel::Online),
        (Role::Citizen, Some(_)) => {
            c.push(FieldError::new(
                "channel",
                "invalid_channel",
                text!("Công dân chỉ nộp trực tuyến.", "Citizens file online only."),
            ));
            None
        }
        (Role::Clerk | Role::UnitHead, None) => Some(Channel::InPerson),
        (Role::Clerk | Role::UnitHead, Some(ch)) => match Channel::parse(ch) {
            Some(Channel::Online) | None => {
                c.push(FieldError::new(
                    "channel",
                    "invalid_channel",
                    text!(
                        "Cán bộ tiếp nhận trực tiếp (in_person) hoặc qua bưu chính (postal).",
                        "Clerks take dossiers in person (in_person) or by post (postal)."
                    ),
                ));
                None
            }
            some => some,
        },
        // Other roles were turned away by `check_filer`.
        _ => Some(Channel::InPerson),
    };
    let payment = c
        .take(crate::domain::dossier::Payment::parse(
            req.payment_channel.as_deref(),
            req.payment_reference.as_deref(),
        ))
        .flatten();
    c.finish()?;
    Ok(Validated {
        procedure_code: req.procedure_code.trim().to_string(),
        applicant: Applicant {
            account: None,
            full_name: name.expect("checked"),
            id_number,
            tax_code,
            phone,
            email,
        },
        channel: channel.expect("checked"),
        payment,
    })
}

/// Who may file: citizens online, clerks and unit heads at their reception unit.
fn check_filer(actor: &Actor, received_at: Option<&str>) -> ApiResult<Option<String>> {
    match actor.role {
        Role::Citizen => Ok(received_at.map(str::to_string)),
        Role::Clerk | Role::UnitHead => {
            let unit = actor.unit.as_ref().map(|u| u.to_string()).ok_or_else(|| {
                ApiError::from(crate::domain::access::Denied { reason: "no_unit" })
            })?;
            if let Some(given) = received_at {
                if given != unit {
                    return Err(ApiError::invalid_field(
                        "received_at_unit",
                        "not_your_unit",
                        text!(
                            "Hồ sơ trực tiếp được tiếp nhận tại đơn vị của cán bộ.",
                            "A walk-in dossier is received at the clerk's own unit."
                        ),
                    ));
                }
            }
            Ok(Some(unit))
        }
        _ => Err(ApiError::forbidden(text!(
            "Chỉ công dân và cán bộ tiếp nhận được nộp hồ sơ.",
            "Only citizens and reception clerks file dossiers."
        ))),
    }
}

fn local_day(t: DateTime<Utc>) -> chrono::NaiveDate {
    t.with_timezone(&vn_offset()).date_naive()
}

async fn create(
    deps: &Deps<'_>,
    actor: &Actor,
    req: &IntakeRequest,
    idempotency_key: Option<(&str, &str)>,
) -> ApiResult<Dossier> {
    let received_at_unit = check_filer(actor, req.received_at_unit.as_deref())?;
    let v = validate(deps, actor, req)?;
    let (documents, uploads) = resolve_for_intake(deps, actor, &req.documents).await?;
    // Microseconds, as PostgreSQL stores them: the dossier returned is built from these
    // values, not read back, and must equal what a later read gives.
    let now = Utc::now().trunc_subsecs(6);
    let result_point_asked = req
        .result_point
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    // Routing reads nothing from the database (catalog and units are in memory), so a
    // dossier that cannot be routed never opens a transaction.
    let routed = crate::services::routing::route(
        &deps.catalog.current(),
        deps.gazetteer,
        &deps.directory.current(),
        &v.procedure_code,
        &req.address,
        received_at_unit.as_deref(),
        result_point_asked,
        now,
    )?;
    let spec = routed.procedure.spec()?;
    let d = &routed.decision;
    let directory = deps.directory.current();

    let (status, receiving, handling, province, ward) = match d.status {
        RouteStatus::Rejected => {
            let r = d.rejection.expect("a rejection has a reason");
            let lines = d.render(crate::domain::lang::Lang::Vi);
            let lines_en = d.render(crate::domain::lang::Lang::En);
            return Err(ApiError::unprocessable(
                r.code(),
                text!(lines.join(" "), lines_en.join(" ")),
            ));
        }
        RouteStatus::Routed => {
            let receiving = d.receiving_unit.clone().expect("routed");
            let handling = d.handling_unit.clone().expect("routed");
            (
                Status::Submitted,
                receiving,
                Some(handling),
                d.province().unwrap_or_default(),
                d.ward.as_ref().map(|w| w.code),
            )
        }
        RouteStatus::Ambiguous => {
            let provinces: std::collections::BTreeSet<String> = d
                .candidates
                .iter()
                .map(|c| c.ward.province_code.to_string())
                .collect();
            if provinces.len() != 1 {
                return Err(ApiError::unprocessable(
                    "address_ambiguous_across_provinces",
                    text!(
                        "Địa chỉ có thể thuộc nhiều tỉnh; hãy ghi rõ tỉnh/thành phố.",
                        "The address may be in several provinces; give the province."
                    ),
                ));
            }
            let province = provinces.into_iter().next().unwrap_or_default();
            // The province's coordination queue: received at the clerk's unit, or (online) at
            // the province's service centre.
            let receiving = match &received_at_unit {
                Some(u) => directory.unit(u).cloned(),
                None => directory
                    .competent(
                        crate::domain::unit::UnitKind::ProvinceServiceCentre,
                        &province,
                        "",
                    )
                    .cloned(),
            }
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "no_reception_unit",
                    text!("Không có đơn vị tiếp nhận.", "There is no reception unit."),
                )
            })?;
            if receiving.province_code != province {
                return Err(ApiError::unprocessable(
                    "receipt_in_other_province",
                    text!(
                        "Không tiếp nhận được: địa chỉ thuộc tỉnh khác với nơi nộp hồ sơ.",
                        "Cannot be received here: the address is in another province."
                    ),
                ));
            }
            // Routing stops before the collection point when the address is ambiguous: the
            // same rules, with no handling unit yet.
            if let Some(rp) = result_point_asked {
                crate::domain::routing::check_result_point(
                    &directory,
                    rp,
                    &province,
                    &receiving.code,
                    None,
                    routed.boundary_independent,
                )
                .map_err(|r| {
                    let note = crate::domain::routing::RouteNote::Rejected(r);
                    ApiError::invalid_field(
                        "result_point",
                        r.code(),
                        text!(
                            note.render(crate::domain::lang::Lang::Vi),
                            note.render(crate::domain::lang::Lang::En)
                        ),
                    )
                })?;
            }
            (Status::AwaitingRouting, receiving, None, province, None)
        }
    };
    let unit = |code: &str| UnitCode::parse(code).map_err(|_| internal("a unit code"));
    let result_point = match (&d.result_point, &d.status) {
        (Some(u), _) => Some(unit(&u.code)?),
        (None, RouteStatus::Ambiguous) => result_point_asked.map(unit).transpose()?,
        _ => None,
    };
    let filing = Filing {
        procedure_code: ProcedureCode::parse(&routed.procedure.code)
            .map_err(|_| internal("a procedure code"))?,
        procedure_version: routed.procedure.version,
        channel: v.channel,
        routed_status: status,
        applicant: v.applicant,
        address: req.address_raw.clone(),
        ward_code: ward.map(|w: WardCode| w),
        province_code: ProvinceCode::parse(&province).map_err(|_| internal("a province"))?,
        receiving_unit: unit(&receiving.code)?,
        handling_unit: handling.as_ref().map(|h| unit(&h.code)).transpose()?,
        form: req.form.clone(),
        documents: Dossier::summary_of(&new_documents(&documents)),
        routing: json!({
            "status": d.status,
            "explanation_vi": d.render(crate::domain::lang::Lang::Vi),
            "explanation_en": d.render(crate::domain::lang::Lang::En),
            "candidates": d.candidates.iter().map(|c| json!({
                "ward_code": c.ward.code.to_string(),
                "ward_name": c.ward.name.to_string(),
                "unit": c.unit.as_ref().map(|u| u.code.clone()),
            })).collect::<Vec<_>>(),
        }),
        result_point,
        fee_vnd: Some(routed.fee_vnd),
        payment: v.payment,
    };
    let calendars = deps.calendars.current();
    let (dossier, event) = Dossier::file(
        filing,
        actor,
        &rules(deps.sla, spec, &directory, &calendars),
        now,
    )
    .map_err(|e| transition_error(e, None))?;
    let notice = dossier.notice(&event, now);
    // Written with the intakes waiting beside it, if any, in one transaction that also
    // takes its number, appends its first event and outbox row and stores the answer to
    // its Idempotency-Key.
    let dossier = deps
        .intakes
        .write(
            deps.db,
            intake_writer::Draft {
                day: local_day(now),
                dossier,
                event,
                notice,
                answer: idempotency_key.map(|(key, hash)| intake_writer::StoredAnswer {
                    account: actor.account_id,
                    key: key.to_string(),
                    request_hash: hash.to_string(),
                }),
                documents,
                uploads,
            },
        )
        .await?;
    tracing::info!(case.code = %dossier.code_str(), case.status = %dossier.status, "dossier filed");
    Ok(dossier)
}
