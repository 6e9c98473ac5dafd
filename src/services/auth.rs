//! Registration, login (with throttling), token refresh with rotation and reuse detection,
//! logout, and turning an access token into an [`Actor`].

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::config::{AuthSettings, ThrottleSettings};
use crate::db;
use crate::domain::access::Actor;
use crate::domain::account::{Email, IdNumber, Invalid, NewPassword, Phone, Role, Username};
use crate::domain::unit::UnitCode;
use crate::error::{ApiError, ApiResult, Checks};
use crate::repo;
use crate::repo::accounts::AccountRow;
use crate::security::jwt::{JwtKeys, TokenRejection};
use crate::security::password::PasswordHasher;
use crate::security::tokens;
use crate::services::account_cache::AccountCache;
use crate::services::geography::DirectoryHandle;
use crate::services::users;
use crate::text;

/// What logging in, tokens and accounts read: built by `AppState::auth`.
pub struct Deps<'a> {
    pub db: &'a DatabaseConnection,
    pub settings: &'a AuthSettings,
    pub jwt: &'a JwtKeys,
    pub hasher: &'a PasswordHasher,
    /// The accounts behind access tokens, invalidated after a change.
    pub accounts: &'a AccountCache,
    /// A staff member's province is their unit's.
    pub directory: &'a DirectoryHandle,
    /// Accounts' phones, e-mails and ID numbers are sealed.
    pub keys: &'a crate::security::data_key::DataKeys,
}

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
pub async fn register(
    deps: &Deps<'_>,
    reg: Registration,
    now: DateTime<Utc>,
) -> ApiResult<users::Account> {
    let account = reg.validate()?;
    let created = create_account(deps.db, deps.keys, deps.hasher, account, None, now).await?;
    users::shown(deps.directory, &created).await
}

/// The caller's own account.
pub async fn me(
    db: &DatabaseConnection,
    keys: &crate::security::data_key::DataKeys,
    directory: &DirectoryHandle,
    actor: &Actor,
) -> ApiResult<users::Account> {
    let account = repo::accounts::find_by_id(db, keys, actor.account_id)
        .await?
        .ok_or_else(|| ApiError::internal(std::io::Error::other("account vanished")))?;
    users::shown(directory, &account).await
}

/// Insert an account (any role); the caller has validated it and checked permissions.
/// `by`: the administrator creating it, recorded in the audit log with the account (none
/// for self-registration and the command line).
pub async fn create_account(
    db: &DatabaseConnection,
    keys: &crate::security::data_key::DataKeys,
    hasher: &PasswordHasher,
    a: NewAccount,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<AccountRow> {
    check_role_placement(
        db,
        a.role,
        a.unit_code.as_deref(),
        a.province_code.as_deref(),
    )
    .await?;
    let hash = hasher
        .hash(a.password.expose().to_string())
        .await
        .map_err(ApiError::internal)?;
    let row = AccountRow {
        id: Uuid::now_v7(),
        username: a.username.as_str().to_string(),
        username_key: a.username.key(),
        password_hash: hash,
        role: a.role.as_str().to_string(),
        unit_code: a.unit_code.clone(),
        province_code: a.province_code.clone(),
        full_name: a.full_name,
        phone: a.phone.map(|p| p.as_str().to_string()),
        email: a.email.map(|e| e.as_str().to_string()),
        id_number: a.id_number.map(|i| i.as_str().to_string()),
        disabled: false,
        token_generation: 0,
        created_at: now,
        updated_at: now,
    };
    let txn = crate::db::begin_write(db).await?;
    let created = match repo::accounts::insert(&txn, keys, row).await {
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
pub fn audited_account(a: &AccountRow) -> serde_json::Value {
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
    db: &DatabaseConnection,
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
            if repo::units::find(db, code.as_str()).await?.is_none() {
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
        Role::Supervisor | Role::ProvinceAdmin | Role::Integrator => {
            if unit.is_some() {
                return Err(ApiError::invalid_field(
                    "unit",
                    "unit_not_allowed",
                    text!(
                        "Giám sát viên, quản trị tỉnh, hệ thống kết nối không thuộc đơn vị.",
                        "Supervisors, province administrators and integrators do not belong to a unit."
                    ),
                ));
            }
            if role == Role::ProvinceAdmin && province.is_none() {
                return Err(ApiError::invalid_field(
                    "province",
                    "required",
                    text!(
                        "Quản trị tỉnh phải gắn với một tỉnh.",
                        "A province administrator needs a province."
                    ),
                ));
            }
            if let Some(p) = province {
                if repo::geography::find_province(db, p).await?.is_none() {
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

/// What a failed-login counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    /// One account from one client address.
    Pair,
    /// One account from any address.
    Account,
    /// One client address over any accounts.
    Address,
}

/// The counters a login attempt is throttled by. The address key comes first in the pair's
/// key: it holds no space, so no username can make two pairs' keys collide.
fn throttle_keys(username: &str, client: Option<&str>) -> Vec<(Counted, String)> {
    let user = username.trim().to_ascii_lowercase();
    let mut keys = vec![
        (
            Counted::Pair,
            format!("pair:{} {user}", client.unwrap_or("unknown")),
        ),
        (Counted::Account, format!("user:{user}")),
    ];
    if let Some(ip) = client {
        keys.push((Counted::Address, format!("ip:{ip}")));
    }
    keys
}

fn bound(t: &ThrottleSettings, counted: Counted) -> u32 {
    match counted {
        Counted::Pair => t.max_failures,
        Counted::Account => t.account_max_failures,
        Counted::Address => t.address_max_failures,
    }
}

/// How long a key is locked after its `failures`-th failure within the window, if at all.
fn lock_secs(t: &ThrottleSettings, counted: Counted, failures: u32) -> Option<u64> {
    match counted {
        _ if failures < bound(t, counted) => None,
        Counted::Pair => {
            let excess = (failures - t.max_failures).min(20);
            Some(
                t.base_delay_secs
                    .saturating_mul(1u64 << excess)
                    .min(t.max_delay_secs),
            )
        }
        Counted::Account => Some(t.account_lock_secs),
        Counted::Address => Some(t.address_lock_secs),
    }
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

/// Log in: throttled per account and client address, per account and per client address
/// (see [`ThrottleSettings`]); an unknown username gets exactly the answer (and cost) of a
/// wrong password.
pub async fn login(
    deps: &Deps<'_>,
    username: &str,
    password: String,
    client: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<TokenPair> {
    let (account, clear) = verify_credentials(deps, username, password, client, now).await?;
    // One write, in the writer turn on SQLite: the counters cleared and the token stored.
    let txn = db::begin_write(deps.db).await?;
    clear_throttles(&*txn, &clear).await?;
    let pair = issue_pair(deps, &*txn, &account, Uuid::now_v7(), now).await?;
    txn.commit().await?;
    Ok(pair)
}

/// Forget the failure counters of a successful sign-in.
async fn clear_throttles<C: sea_orm::ConnectionTrait>(db: &C, keys: &[String]) -> ApiResult<()> {
    for key in keys {
        repo::throttle::clear(db, key).await?;
    }
    Ok(())
}

/// The account a username and password name, through the same throttling as every sign-in
/// (the API's and the web app's), and the failure counters the caller clears in the write
/// that signs it in.
async fn verify_credentials(
    deps: &Deps<'_>,
    username: &str,
    password: String,
    client: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<(AccountRow, Vec<String>)> {
    let keys = throttle_keys(username, client);
    let mut wait = 0i64;
    for (_, key) in &keys {
        if let Some(row) = repo::throttle::get(deps.db, key).await? {
            if let Some(until) = row.locked_until {
                // Whole seconds, rounded up: a lock with 0.4 s left is still a lock.
                wait = wait.max(((until - now).num_milliseconds() + 999).div_euclid(1000));
            }
        }
    }
    if wait > 0 {
        return Err(ApiError::too_many_requests(wait as u64));
    }

    let key = username.trim().to_ascii_lowercase();
    let account = repo::accounts::find_by_username_key(deps.db, deps.keys, &key).await?;
    let ok = deps
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
            let retry = record_failure(deps.db, &deps.settings.throttle, &keys, now).await?;
            return Err(match retry {
                Some(secs) => ApiError::too_many_requests(secs),
                None => invalid_credentials(),
            });
        }
    };
    // The address's count is kept: a stuffer could otherwise reset it with an account of
    // their own.
    let clear = keys
        .into_iter()
        .filter(|(counted, _)| *counted != Counted::Address)
        .map(|(_, key)| key)
        .collect();
    tracing::info!(account.id = %account.id, "login");
    Ok((account, clear))
}

/// Count a failure on every key and lock those that reached their bound ([`lock_secs`]),
/// in one write (in the writer turn on SQLite). Returns the wait when now locked.
async fn record_failure(
    db: &DatabaseConnection,
    t: &ThrottleSettings,
    keys: &[(Counted, String)],
    now: DateTime<Utc>,
) -> ApiResult<Option<u64>> {
    let window_start = now - Duration::seconds(t.window_secs as i64);
    let mut wait = None;
    let txn = db::begin_write(db).await?;
    let db = &*txn;
    for (counted, key) in keys {
        let failures = repo::throttle::record_failure(db, key, now, window_start).await?;
        let failures = failures.max(0) as u32;
        if let Some(delay) = lock_secs(t, *counted, failures).filter(|&d| d > 0) {
            repo::throttle::lock_until(db, key, now + Duration::seconds(delay as i64)).await?;
            if *counted != Counted::Pair && failures == bound(t, *counted) {
                tracing::warn!(
                    throttle.key = %key,
                    failures,
                    "failed logins: account or client address locked"
                );
            }
            wait = Some(wait.unwrap_or(0).max(delay));
        }
    }
    txn.commit().await?;
    Ok(wait)
}

/// Issue an access token and a refresh token in `family`, storing the refresh token through
/// `db` (the caller's write transaction).
async fn issue_pair<C: sea_orm::ConnectionTrait>(
    deps: &Deps<'_>,
    db: &C,
    account: &AccountRow,
    family: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<TokenPair> {
    let refresh = tokens::random_token();
    let ttl = Duration::seconds(deps.settings.refresh_token_ttl_secs as i64);
    repo::tokens::insert(
        db,
        account.id,
        family,
        tokens::digest(&refresh),
        now,
        now + ttl,
    )
    .await?;
    let province = account_province(deps.directory, account);
    let access = deps
        .jwt
        .issue(
            account.id,
            &account.role,
            account.unit_code.as_deref(),
            province.as_deref(),
            i64::from(account.token_generation),
            now.timestamp(),
        )
        .map_err(ApiError::internal)?;
    Ok(TokenPair {
        access_token: access,
        expires_in: deps.jwt.ttl_secs(),
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
pub async fn refresh(
    deps: &Deps<'_>,
    refresh_token: &str,
    now: DateTime<Utc>,
) -> ApiResult<TokenPair> {
    let hash = tokens::digest(refresh_token);
    let Some(row) = repo::tokens::find_by_hash(deps.db, &hash).await? else {
        return Err(invalid_refresh());
    };
    if row.used_at.is_some() || row.revoked_at.is_some() {
        let txn = db::begin_write(deps.db).await?;
        let revoked = repo::tokens::revoke_family(&*txn, row.family_id, now).await?;
        txn.commit().await?;
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
    let Some(account) = repo::accounts::find_by_id(deps.db, deps.keys, row.account_id).await?
    else {
        return Err(invalid_refresh());
    };
    if account.disabled {
        return Err(invalid_refresh());
    }
    // The rotation is one write (in the writer turn on SQLite): the old token used and the
    // new one stored, or, when a concurrent refresh won it with the same token, the family
    // revoked as on reuse.
    let txn = db::begin_write(deps.db).await?;
    if !repo::tokens::mark_used(&*txn, row.id, now).await? {
        repo::tokens::revoke_family(&*txn, row.family_id, now).await?;
        txn.commit().await?;
        return Err(invalid_refresh());
    }
    let pair = issue_pair(deps, &*txn, &account, row.family_id, now).await?;
    txn.commit().await?;
    Ok(pair)
}

/// Log out the caller: revoke the refresh token's family; with `everywhere`, every session
/// of the account, access tokens included. A refresh token that is not the caller's is
/// refused as unknown, and nothing is revoked.
pub async fn logout(
    db: &DatabaseConnection,
    accounts: &AccountCache,
    actor: &Actor,
    refresh_token: &str,
    everywhere: bool,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let row = repo::tokens::find_by_hash(db, &tokens::digest(refresh_token))
        .await?
        .filter(|row| row.account_id == actor.account_id)
        .ok_or_else(invalid_refresh)?;
    if everywhere {
        revoke_sessions(db, accounts, row.account_id, now).await?;
    } else {
        let txn = db::begin_write(db).await?;
        repo::tokens::revoke_family(&*txn, row.family_id, now).await?;
        txn.commit().await?;
    }
    Ok(())
}

/// End every session of an account: its refresh tokens and, by a new token generation,
/// every access token issued so far; every instance's account cache forgets it.
async fn revoke_sessions(
    db: &DatabaseConnection,
    accounts: &AccountCache,
    id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let txn = db::begin_write(db).await?;
    repo::tokens::revoke_account(&txn, id, now).await?;
    repo::accounts::revoke_access_tokens(&txn, id, now).await?;
    repo::accounts::notify_changed(&txn, id).await?;
    txn.commit().await?;
    accounts.invalidate(id);
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
pub async fn authenticate(deps: &Deps<'_>, token: &str) -> ApiResult<Actor> {
    let claims = deps
        .jwt
        .verify(token)
        .map_err(|r| unauthorized_token(Some(r)))?;
    let account = deps
        .accounts
        .get(deps.db, deps.keys, claims.sub)
        .await?
        .ok_or_else(|| unauthorized_token(None))?;
    if account.disabled {
        return Err(ApiError::unauthorized(
            "account_disabled",
            text!("Tài khoản đã bị khóa.", "This account is disabled."),
        ));
    }
    if claims.generation != i64::from(account.token_generation) {
        return Err(unauthorized_token(None));
    }
    actor_of(deps.directory, &account).await
}

/// The province an account acts in: a supervisor's own, a clerk's unit's.
fn account_province(directory: &DirectoryHandle, account: &AccountRow) -> Option<String> {
    if let Some(unit) = &account.unit_code {
        // The in-memory directory: no query on every authenticated request.
        return directory
            .current()
            .unit(unit)
            .map(|u| u.province_code.clone());
    }
    account.province_code.clone()
}

/// Build the [`Actor`] of an account row.
pub async fn actor_of(directory: &DirectoryHandle, account: &AccountRow) -> ApiResult<Actor> {
    let role: Role = account.role.parse().map_err(ApiError::internal)?;
    Ok(Actor {
        account_id: account.id,
        username: account.username.clone(),
        role,
        unit: account
            .unit_code
            .as_deref()
            .and_then(|u| UnitCode::parse(u).ok()),
        province: account_province(directory, account),
    })
}

/// A browser session: the signed-in account and the secret its pages derive their
/// anti-forgery token from.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub actor: Actor,
    pub full_name: String,
    /// The account's phone, to fill forms in with.
    pub phone: Option<String>,
    /// The session's own token (the cookie's value).
    pub token: String,
}

/// Sign a browser in: the same credentials and throttling as the API's login; returns the
/// session token for the cookie.
pub async fn open_web_session(
    deps: &Deps<'_>,
    web: &crate::config::WebSettings,
    username: &str,
    password: String,
    client: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    let (account, clear) = verify_credentials(deps, username, password, client, now).await?;
    let token = tokens::random_token();
    let idle = Duration::seconds(web.session_idle_secs as i64);
    // One write, in the writer turn on SQLite.
    let txn = db::begin_write(deps.db).await?;
    clear_throttles(&*txn, &clear).await?;
    repo::web_sessions::insert(
        &*txn,
        tokens::digest(&token),
        account.id,
        account.token_generation,
        now,
        now + idle,
    )
    .await?;
    // Housekeeping, cheap on the index: sessions that ended are forgotten at each sign-in.
    repo::web_sessions::delete_expired(&*txn, now).await?;
    txn.commit().await?;
    Ok(token)
}

/// The session a cookie's token names, if it is still live: not expired (idle or in all),
/// its account enabled and its tokens not revoked since. A live session's idle deadline is
/// moved on, at most once a minute (a write per page would be a write per click).
pub async fn web_session(
    deps: &Deps<'_>,
    web: &crate::config::WebSettings,
    token: &str,
    now: DateTime<Utc>,
) -> ApiResult<Option<WebSession>> {
    let Some(row) = repo::web_sessions::find_by_hash(deps.db, &tokens::digest(token)).await? else {
        return Ok(None);
    };
    let ends = row.created_at + Duration::seconds(web.session_max_secs as i64);
    if row.expires_at <= now || ends <= now {
        forget_web_session(deps.db, row.id).await?;
        return Ok(None);
    }
    let Some(account) = deps
        .accounts
        .get(deps.db, deps.keys, row.account_id)
        .await?
    else {
        return Ok(None);
    };
    if account.disabled || account.token_generation != row.token_generation {
        forget_web_session(deps.db, row.id).await?;
        return Ok(None);
    }
    let idle = Duration::seconds(web.session_idle_secs as i64);
    let next = (now + idle).min(ends);
    if next - row.expires_at >= Duration::seconds(60) {
        let txn = db::begin_write(deps.db).await?;
        repo::web_sessions::extend(&*txn, row.id, next).await?;
        txn.commit().await?;
    }
    Ok(Some(WebSession {
        actor: actor_of(deps.directory, &account).await?,
        full_name: account.full_name.clone(),
        phone: account.phone.clone(),
        token: token.to_string(),
    }))
}

/// Sign a browser out: its session is forgotten (other sessions of the account stay).
pub async fn close_web_session(deps: &Deps<'_>, token: &str) -> ApiResult<()> {
    if let Some(row) = repo::web_sessions::find_by_hash(deps.db, &tokens::digest(token)).await? {
        forget_web_session(deps.db, row.id).await?;
    }
    Ok(())
}

/// Delete a web session, in the writer turn on SQLite.
async fn forget_web_session(db: &DatabaseConnection, id: Uuid) -> ApiResult<()> {
    let txn = db::begin_write(db).await?;
    repo::web_sessions::delete(&*txn, id).await?;
    txn.commit().await?;
    Ok(())
}
