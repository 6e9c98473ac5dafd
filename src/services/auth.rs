//! Registration, login (with throttling), token refresh with rotation and reuse detection,
//! logout, and turning an access token into an [`Actor`].

use chrono::{DateTime, Duration, Utc};
use entity::accounts;
use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

use crate::app::AppState;
use crate::db;
use crate::domain::access::Actor;
use crate::domain::account::{Email, IdNumber, Invalid, NewPassword, Phone, Role, Username};
use crate::domain::unit::UnitCode;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::repo;
use crate::security::jwt::TokenRejection;
use crate::security::tokens;
use crate::services::users;
use crate::text;

/// A fresh pair of tokens.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
}

/// What a citizen gives to register.
#[derive(Debug, Clone)]
pub struct Registration {
    pub username: String,
    pub password: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub id_number: Option<String>,
}

/// A new account's validated fields.
pub struct NewAccount {
    pub username: Username,
    pub password: NewPassword,
    pub role: Role,
    pub unit_code: Option<String>,
    pub province_code: Option<String>,
    pub full_name: String,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub id_number: Option<IdNumber>,
}

/// Collects field errors so that a request reports all of them at once.
#[derive(Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn take<T>(&mut self, r: Result<T, Invalid>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e.into());
                None
            }
        }
    }

    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    pub fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

/// Check a full name: 1–200 characters, no control characters.
pub fn check_full_name(raw: &str) -> Result<String, Invalid> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > 200 || s.chars().any(char::is_control) {
        return Err(Invalid::new("full_name", "invalid_full_name"));
    }
    Ok(s.to_string())
}

impl Registration {
    fn validate(self) -> ApiResult<NewAccount> {
        let mut c = Checks::default();
        let username = c.take(Username::parse(&self.username));
        let password = c.take(NewPassword::parse(&self.password));
        let full_name = c.take(check_full_name(&self.full_name));
        let phone = self.phone.as_deref().map(|p| c.take(Phone::parse(p)));
        let email = self.email.as_deref().map(|e| c.take(Email::parse(e)));
        let id_number = self
            .id_number
            .as_deref()
            .map(|i| c.take(IdNumber::parse(i)));
        c.finish()?;
        Ok(NewAccount {
            username: username.expect("checked"),
            password: password.expect("checked"),
            role: Role::Citizen,
            unit_code: None,
            province_code: None,
            full_name: full_name.expect("checked"),
            phone: phone.flatten(),
            email: email.flatten(),
            id_number: id_number.flatten(),
        })
    }
}

/// Self-registration of a citizen.
pub async fn register(state: &AppState, reg: Registration) -> ApiResult<users::Account> {
    let account = reg.validate()?;
    let created = create_account(state, account, None).await?;
    users::shown(state, &created).await
}

/// The caller's own account.
pub async fn me(state: &AppState, actor: &Actor) -> ApiResult<users::Account> {
    let account = repo::accounts::find_by_id(&state.db, actor.account_id)
        .await?
        .ok_or_else(|| ApiError::internal(std::io::Error::other("account vanished")))?;
    users::shown(state, &account).await
}

/// Insert an account (any role); the caller has validated it and checked permissions.
/// `by`: the administrator creating it, recorded in the audit log with the account (none
/// for self-registration and the command line).
pub async fn create_account(
    state: &AppState,
    a: NewAccount,
    by: Option<Uuid>,
) -> ApiResult<accounts::Model> {
    check_role_placement(
        state,
        a.role,
        a.unit_code.as_deref(),
        a.province_code.as_deref(),
    )
    .await?;
    let hash = state
        .hasher
        .hash(a.password.expose().to_string())
        .await
        .map_err(ApiError::internal)?;
    let now = Utc::now();
    let model = accounts::ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(a.username.as_str().to_string()),
        username_key: Set(a.username.key()),
        password_hash: Set(hash),
        role: Set(a.role.as_str().to_string()),
        unit_code: Set(a.unit_code.clone()),
        province_code: Set(a.province_code.clone()),
        full_name: Set(a.full_name),
        phone: Set(a.phone.map(|p| p.as_str().to_string())),
        email: Set(a.email.map(|e| e.as_str().to_string())),
        id_number: Set(a.id_number.map(|i| i.as_str().to_string())),
        disabled: Set(false),
        tokens_valid_after: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = crate::db::begin_write(&state.db).await?;
    let created = match model.insert(&txn).await {
        Ok(m) => m,
        Err(e) if is_unique_violation(&e) => {
            return Err(ApiError::conflict(
                "username_taken",
                text!(
                    "Tên đăng nhập đã được sử dụng.",
                    "That username is already taken."
                ),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(admin) = by {
        crate::repo::audit::record(
            &txn,
            admin,
            "account.create",
            &created.id.to_string(),
            Some(serde_json::json!({ "after": audited_account(&created) })),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(created)
}

/// What the audit log keeps of an account: its place and state, no secrets and no personal
/// data.
pub fn audited_account(a: &accounts::Model) -> serde_json::Value {
    serde_json::json!({
        "username": a.username,
        "role": a.role,
        "unit_code": a.unit_code,
        "province_code": a.province_code,
        "disabled": a.disabled,
    })
}

/// True for a unique-constraint violation on either database.
pub fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Clerks and unit heads need an existing unit (their province is the unit's); supervisors
/// may have a province; the others have neither.
pub async fn check_role_placement(
    state: &AppState,
    role: Role,
    unit: Option<&str>,
    province: Option<&str>,
) -> ApiResult<()> {
    match role {
        Role::Clerk | Role::UnitHead => {
            let Some(unit) = unit else {
                return Err(ApiError::invalid_field(
                    "unit",
                    "unit_required",
                    text!(
                        "Cán bộ phải thuộc một đơn vị.",
                        "Clerks and unit heads must belong to a unit."
                    ),
                ));
            };
            let code = UnitCode::parse(unit).map_err(|e| ApiError::validation(vec![e.into()]))?;
            if repo::units::find(&state.db, code.as_str()).await?.is_none() {
                return Err(ApiError::invalid_field(
                    "unit",
                    "unknown_unit",
                    text!(
                        format!("Không có đơn vị {code}."),
                        format!("There is no unit {code}.")
                    ),
                ));
            }
            if province.is_some() {
                return Err(ApiError::invalid_field(
                    "province",
                    "province_not_allowed",
                    text!(
                        "Tỉnh của cán bộ là tỉnh của đơn vị; không nhập riêng.",
                        "A clerk's province is their unit's; do not give one."
                    ),
                ));
            }
        }
        Role::Supervisor => {
            if unit.is_some() {
                return Err(ApiError::invalid_field(
                    "unit",
                    "unit_not_allowed",
                    text!(
                        "Giám sát viên không thuộc đơn vị.",
                        "Supervisors do not belong to a unit."
                    ),
                ));
            }
            if let Some(p) = province {
                if repo::geography::find_province(&state.db, p)
                    .await?
                    .is_none()
                {
                    return Err(ApiError::invalid_field(
                        "province",
                        "unknown_province",
                        text!(
                            format!("Không có tỉnh mã {p}."),
                            format!("There is no province {p}.")
                        ),
                    ));
                }
            }
        }
        Role::Citizen | Role::Admin => {
            if unit.is_some() || province.is_some() {
                return Err(ApiError::invalid_field(
                    "role",
                    "placement_not_allowed",
                    text!(
                        "Vai trò này không gắn với đơn vị hay tỉnh.",
                        "This role has no unit or province."
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn throttle_keys(username: &str, client: Option<&str>) -> Vec<String> {
    let mut keys = vec![format!("user:{}", username.trim().to_ascii_lowercase())];
    if let Some(ip) = client {
        keys.push(format!("ip:{ip}"));
    }
    keys
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized(
        "invalid_credentials",
        text!(
            "Tên đăng nhập hoặc mật khẩu không đúng.",
            "Wrong username or password."
        ),
    )
}

/// Log in: throttled per account and per client address; an unknown username gets exactly
/// the answer (and cost) of a wrong password.
pub async fn login(
    state: &AppState,
    username: &str,
    password: String,
    client: Option<&str>,
) -> ApiResult<TokenPair> {
    let now = Utc::now();
    let keys = throttle_keys(username, client);
    let mut wait = 0i64;
    for key in &keys {
        if let Some(row) = repo::throttle::get(&state.db, key).await? {
            if let Some(until) = row.locked_until {
                wait = wait.max((until - now).num_seconds());
            }
        }
    }
    if wait > 0 {
        return Err(ApiError::too_many_requests(wait as u64));
    }

    let key = username.trim().to_ascii_lowercase();
    let account = repo::accounts::find_by_username_key(&state.db, &key).await?;
    let ok = state
        .hasher
        .verify(password, account.as_ref().map(|a| a.password_hash.clone()))
        .await;
    let account = match (ok, account) {
        (true, Some(a)) if !a.disabled => a,
        (true, Some(_)) => {
            return Err(ApiError::unauthorized(
                "account_disabled",
                text!("Tài khoản đã bị khóa.", "This account is disabled."),
            ))
        }
        _ => {
            let retry = record_failure(state, &keys, now).await?;
            return Err(match retry {
                Some(secs) => ApiError::too_many_requests(secs),
                None => invalid_credentials(),
            });
        }
    };
    for key in &keys {
        repo::throttle::clear(&state.db, key).await?;
    }
    tracing::info!(account.id = %account.id, "login");
    issue_pair(state, &account, Uuid::now_v7(), now).await
}

/// Count a failure on every key; once any reaches the limit, lock it for a delay that
/// doubles with each further failure. Returns the wait when now locked.
async fn record_failure(
    state: &AppState,
    keys: &[String],
    now: DateTime<Utc>,
) -> ApiResult<Option<u64>> {
    let t = &state.settings.auth.throttle;
    let window_start = now - Duration::seconds(t.window_secs as i64);
    let mut wait = None;
    for key in keys {
        let failures = repo::throttle::record_failure(&state.db, key, now, window_start).await?;
        if failures as u32 >= t.max_failures {
            let excess = (failures as u32 - t.max_failures).min(20);
            let delay = t
                .base_delay_secs
                .saturating_mul(1u64 << excess)
                .min(t.max_delay_secs);
            repo::throttle::lock_until(&state.db, key, now + Duration::seconds(delay as i64))
                .await?;
            wait = Some(wait.unwrap_or(0).max(delay));
        }
    }
    Ok(wait)
}

/// Issue an access token and a refresh token in `family`.
async fn issue_pair(
    state: &AppState,
    account: &accounts::Model,
    family: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<TokenPair> {
    let refresh = tokens::random_token();
    let ttl = Duration::seconds(state.settings.auth.refresh_token_ttl_secs as i64);
    repo::tokens::insert(
        &state.db,
        account.id,
        family,
        tokens::digest(&refresh),
        now,
        now + ttl,
    )
    .await?;
    let province = account_province(state, account).await?;
    let access = state
        .jwt
        .issue(
            account.id,
            &account.role,
            account.unit_code.as_deref(),
            province.as_deref(),
            now.timestamp(),
        )
        .map_err(ApiError::internal)?;
    Ok(TokenPair {
        access_token: access,
        expires_in: state.jwt.ttl_secs(),
        refresh_token: refresh,
    })
}

fn invalid_refresh() -> ApiError {
    ApiError::unauthorized(
        "invalid_refresh_token",
        text!(
            "Mã làm mới phiên không hợp lệ hoặc đã hết hạn; hãy đăng nhập lại.",
            "The refresh token is invalid or expired; log in again."
        ),
    )
}

/// Rotate a refresh token. A token that was already rotated (or revoked) means it leaked:
/// the whole family is revoked and the caller must log in again.
pub async fn refresh(state: &AppState, refresh_token: &str) -> ApiResult<TokenPair> {
    let now = Utc::now();
    let hash = tokens::digest(refresh_token);
    let Some(row) = repo::tokens::find_by_hash(&state.db, &hash).await? else {
        return Err(invalid_refresh());
    };
    if row.used_at.is_some() || row.revoked_at.is_some() {
        let revoked = repo::tokens::revoke_family(&state.db, row.family_id, now).await?;
        tracing::warn!(account.id = %row.account_id, tokens.revoked = revoked, "refresh token reuse: family revoked");
        return Err(ApiError::unauthorized(
            "refresh_token_reused",
            text!(
                "Mã làm mới đã được dùng trước đó; mọi phiên liên quan đã bị thu hồi. Hãy đăng nhập lại.",
                "This refresh token was already used; its sessions have been revoked. Log in again."
            ),
        ));
    }
    if row.expires_at <= now {
        return Err(invalid_refresh());
    }
    let Some(account) = repo::accounts::find_by_id(&state.db, row.account_id).await? else {
        return Err(invalid_refresh());
    };
    if account.disabled {
        return Err(invalid_refresh());
    }
    if !repo::tokens::mark_used(&state.db, row.id, now).await? {
        // A concurrent refresh won the rotation with the same token: treat as reuse.
        repo::tokens::revoke_family(&state.db, row.family_id, now).await?;
        return Err(invalid_refresh());
    }
    issue_pair(state, &account, row.family_id, now).await
}

/// Log out: revoke the refresh token's family; with `everywhere`, every session of the
/// account, including access tokens already issued.
pub async fn logout(state: &AppState, refresh_token: &str, everywhere: bool) -> ApiResult<()> {
    let now = Utc::now();
    let Some(row) = repo::tokens::find_by_hash(&state.db, &tokens::digest(refresh_token)).await?
    else {
        return Err(invalid_refresh());
    };
    if everywhere {
        let txn = db::begin_write(&state.db).await?;
        repo::tokens::revoke_account(&txn, row.account_id, now).await?;
        if let Some(account) = repo::accounts::find_by_id(&txn, row.account_id).await? {
            let mut am: accounts::ActiveModel = account.into();
            am.tokens_valid_after = Set(Some(now));
            am.updated_at = Set(now);
            am.update(&txn).await?;
            repo::accounts::notify_changed(&txn, row.account_id).await?;
        }
        txn.commit().await?;
        state.accounts.invalidate(row.account_id);
    } else {
        repo::tokens::revoke_family(&state.db, row.family_id, now).await?;
    }
    Ok(())
}

fn unauthorized_token(rejection: Option<TokenRejection>) -> ApiError {
    match rejection {
        Some(TokenRejection::Expired) => ApiError::unauthorized(
            "token_expired",
            text!(
                "Phiên đăng nhập đã hết hạn.",
                "The access token has expired."
            ),
        ),
        _ => ApiError::unauthorized(
            "invalid_token",
            text!("Mã truy cập không hợp lệ.", "The access token is invalid."),
        ),
    }
}

/// Check an access token and load the caller. The account is read on every request so that
/// disabling it, or changing its role or unit, takes effect at once.
pub async fn authenticate(state: &AppState, token: &str) -> ApiResult<Actor> {
    let claims = state
        .jwt
        .verify(token)
        .map_err(|r| unauthorized_token(Some(r)))?;
    let account = state
        .accounts
        .get(&state.db, claims.sub)
        .await?
        .ok_or_else(|| unauthorized_token(None))?;
    if account.disabled {
        return Err(ApiError::unauthorized(
            "account_disabled",
            text!("Tài khoản đã bị khóa.", "This account is disabled."),
        ));
    }
    if let Some(after) = account.tokens_valid_after {
        if claims.iat < after.timestamp() {
            return Err(unauthorized_token(None));
        }
    }
    actor_of(state, &account).await
}

/// The province an account acts in: a supervisor's own, a clerk's unit's.
async fn account_province(
    state: &AppState,
    account: &accounts::Model,
) -> ApiResult<Option<String>> {
    if let Some(unit) = &account.unit_code {
        // The in-memory directory: no query on every authenticated request.
        return Ok(state
            .directory()
            .unit(unit)
            .map(|u| u.province_code.clone()));
    }
    Ok(account.province_code.clone())
}

/// Build the [`Actor`] of an account row.
pub async fn actor_of(state: &AppState, account: &accounts::Model) -> ApiResult<Actor> {
    let role: Role = account.role.parse().map_err(ApiError::internal)?;
    Ok(Actor {
        account_id: account.id,
        username: account.username.clone(),
        role,
        unit: account
            .unit_code
            .as_deref()
            .and_then(|u| UnitCode::parse(u).ok()),
        province: account_province(state, account).await?,
    })
}
