//! Routing use case: the procedure in force, the address resolved, the province's overrides,
//! then the domain's routing rules.

use chrono::{DateTime, Utc};
use entity::procedures;
use sea_orm::ConnectionTrait;

use crate::app::AppState;
use crate::domain::geography::{AddressInput, Resolution};
use crate::domain::procedure::ProcedureSpec;
use crate::domain::routing::{self, Decision};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::repo;
use crate::text;

/// A routing decision with what it was made from.
pub struct Routed {
    pub decision: Decision,
    pub resolution: Resolution,
    pub procedure: procedures::Model,
    pub spec: ProcedureSpec,
}

/// The procedure version in force at `at`, or 404.
pub async fn procedure_in_force<C: ConnectionTrait>(
    db: &C,
    code: &str,
    at: DateTime<Utc>,
) -> ApiResult<(procedures::Model, ProcedureSpec)> {
    let not_found = || {
        ApiError::not_found(
            "procedure_not_found",
            text!(
                format!("Không có thủ tục hành chính mã {code}."),
                format!("There is no procedure {code}.")
            ),
        )
    };
    if code.len() > 20 {
        return Err(not_found());
    }
    let model = repo::procedures::in_force(db, code, at).await?.ok_or_else(not_found)?;
    if !model.active {
        return Err(ApiError::unprocessable(
            "procedure_inactive",
            text!(
                format!("Thủ tục {code} đã ngừng áp dụng."),
                format!("Procedure {code} is no longer in use.")
            ),
        ));
    }
    let spec = repo::procedures::spec_of(&model)?;
    Ok((model, spec))
}

/// Resolve an address, turning invalid input into a 422 on `address.<field>`.
pub fn resolve_address(state: &AppState, input: &AddressInput) -> ApiResult<Resolution> {
    state.gazetteer.resolve(input).map_err(|e| {
        ApiError::validation(vec![FieldError::new(
            format!("address.{}", e.field),
            e.code,
            text!(address_error_vi(e.code), e.message.clone()),
        )])
    })
}

fn address_error_vi(code: &str) -> String {
    match code {
        "invalid_ward_code" => "Mã xã/phường (2025) không hợp lệ.",
        "invalid_legacy_ward_code" => "Mã xã/phường cũ không hợp lệ.",
        "required" => "Thiếu tên xã/phường.",
        "too_long" => "Giá trị quá dài.",
        "control_characters" => "Có ký tự điều khiển không hợp lệ.",
        "no_letters_or_digits" => "Không có chữ cái hay chữ số nào.",
        _ => "Địa chỉ không hợp lệ.",
    }
    .to_string()
}

/// Route a dossier for `procedure_code` at `address`, received at `received_at` (if given).
pub async fn route<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    procedure_code: &str,
    address: &AddressInput,
    received_at: Option<&str>,
    at: DateTime<Utc>,
) -> ApiResult<Routed> {
    let (procedure, spec) = procedure_in_force(db, procedure_code, at).await?;
    let resolution = resolve_address(state, address)?;
    let province = resolution
        .ward
        .as_ref()
        .map(|w| w.province_code.to_string())
        .or_else(|| resolution.candidates.first().map(|c| c.ward.province_code.to_string()));
    let overrides = match &province {
        Some(p) => repo::overrides::for_province(db, p, at).await?,
        None => Vec::new(),
    };
    let directory = state.directory();
    let decision = routing::route(
        &directory,
        &routing::Request {
            procedure: &spec,
            resolution: &resolution,
            received_at,
            overrides: &overrides,
            at,
        },
    );
    Ok(Routed {
        decision,
        resolution,
        procedure,
        spec,
    })
}
