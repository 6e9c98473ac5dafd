//! Account administration.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::db;
use crate::domain::access::Actor;
use crate::domain::account::{Email, IdNumber, NewPassword, Phone, Role, Username};
use crate::error::Checks;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::accounts::{AccountFilter, AccountRow};
use crate::security::password::PasswordHasher;
use crate::services::auth::{check_full_name, create_account, Deps, NewAccount};
use crate::services::geography::DirectoryHandle;
use crate::text;

/// Fields an administrator gives for a new account.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub username: String,
    pub password: String,
    pub role: String,
    pub unit: Option<String>,
    pub province: Option<String>,
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub id_number: Option<String>,
}

/// A change to an account. `Some(None)` clears a field.
#[derive(Debug, Clone, Default)]
pub struct UpdateUser {
    pub role: Option<String>,
    pub unit: Option<Option<String>>,
    pub province: Option<Option<String>>,
    pub disabled: Option<bool>,
    pub full_name: Option<String>,
}

/// An account as the API shows it: never the password hash.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub username: String,
    pub role: String,
    pub unit_code: Option<String>,
    /// Shown to the account's owner ([`shown`]): the province it works in (a staff member's
    /// unit's). In lists ([`list`]): the province stored on the account.
    pub province: Option<String>,
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub id_number: Option<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl Account {
    fn with_province(a: &AccountRow, province: Option<String>) -> Account {
        Account {
            id: a.id,
            username: a.username.clone(),
            role: a.role.clone(),
            unit_code: a.unit_code.clone(),
            province,
            full_name: a.full_name.clone(),
            phone: a.phone.clone(),
            email: a.email.clone(),
            id_number: a.id_number.clone(),
            disabled: a.disabled,
            created_at: a.created_at,
        }
    }
}

/// An account as its owner (or the administrator who just changed it) sees it.
pub async fn shown(directory: &DirectoryHandle, a: &AccountRow) -> ApiResult<Account> {
    let actor = crate::services::auth::actor_of(directory, a).await?;
    Ok(Account::with_province(a, actor.province))
}

/// What a list of accounts may be narrowed to.
#[derive(Debug, Clone, Default)]
pub struct ListUsers {
    pub role: Option<String>,
    pub unit: Option<String>,
    pub province: Option<String>,
    /// Part of the username.
    pub q: Option<String>,
}

/// One page of accounts (1-based) and the total.
pub async fn list(
    db: &DatabaseConnection,
    keys: &crate::security::data_key::DataKeys,
    f: ListUsers,
    page: u64,
    per_page: u64,
) -> ApiResult<(Vec<Account>, u64)> {
    let filter = AccountFilter {
        role: f.role,
        unit_code: f.unit,
        province_code: f.province,
        q: f.q,
    };
    let (rows, total) =
        repo::accounts::list(db, keys, &filter, (page - 1) * per_page, per_page).await?;
    let items = rows
        .iter()
        .map(|a| Account::with_province(a, a.province_code.clone()))
        .collect();
    Ok((items, total))
}

fn parse_role(c: &mut Checks, raw: &str) -> Option<Role> {
    match raw.parse::<Role>() {
        Ok(r) => Some(r),
        Err(_) => {
            c.push(crate::error::FieldError::new(
                "role",
                "invalid_role",
                text!(
                    "Vai trò phải là citizen, clerk, unit_head, supervisor hoặc admin.",
                    "The role must be citizen, clerk, unit_head, supervisor or admin."
                ),
            ));
            None
        }
    }
}

/// Validate and create (the command line, the demo, seeding): not in the audit log.
pub async fn create(
    db: &DatabaseConnection,
    keys: &crate::security::data_key::DataKeys,
    hasher: &PasswordHasher,
    u: CreateUser,
    now: DateTime<Utc>,
) -> ApiResult<AccountRow> {
    create_with(db, keys, hasher, None, u, now).await
}

/// Validate and create for an administrator, recorded in the audit log.
pub async fn create_by(
    deps: &Deps<'_>,
    admin: Uuid,
    u: CreateUser,
    now: DateTime<Utc>,
) -> ApiResult<Account> {
    let account = create_with(deps.db, deps.keys, deps.hasher, Some(admin), u, now).await?;
    shown(deps.directory, &account).await
}

async fn create_with(
    db: &DatabaseConnection,
    keys: &crate::security::data_key::DataKeys,
    hasher: &PasswordHasher,
    by: Option<Uuid>,
    u: CreateUser,
    now: DateTime<Utc>,
) -> ApiResult<AccountRow> {
    let mut c = Checks::default();
    let username = c.take(Username::parse(&u.username));
    let password = c.take(NewPassword::parse(&u.password));
    let role = parse_role(&mut c, &u.role);
    let full_name = c.take(check_full_name(&u.full_name));
    let phone = u.phone.as_deref().map(|p| c.take(Phone::parse(p)));
    let email = u.email.as_deref().map(|e| c.take(Email::parse(e)));
    let id_number = u.id_number.as_deref().map(|i| c.take(IdNumber::parse(i)));
    c.finish()?;
    let province = match u.province.as_deref() {
        Some(p) => Some(crate::services::geography::province_code(p)?),
        None => None,
    };
    create_account(
        db,
        keys,
        hasher,
        NewAccount {
            username: username.expect("checked"),
            password: password.expect("checked"),
            role: role.expect("checked"),
            unit_code: u.unit,
            province_code: province,
            full_name: full_name.expect("checked"),
            phone: phone.flatten(),
            email: email.flatten(),
            id_number: id_number.flatten(),
        },
        by,
        now,
    )
    .await
}

/// Apply an administrator's change. Disabling an account revokes its sessions at once.
pub async fn update(
    deps: &Deps<'_>,
    admin: &Actor,
    id: Uuid,
    change: UpdateUser,
    now: DateTime<Utc>,
) -> ApiResult<Account> {
    let mut c = Checks::default();
    let role = change.role.as_deref().map(|r| parse_role(&mut c, r));
    let full_name = change
        .full_name
        .as_deref()
        .map(|n| c.take(check_full_name(n)));
    c.finish()?;
    let province = match &change.province {
        Some(Some(p)) => Some(Some(crate::services::geography::province_code(p)?)),
        Some(None) => Some(None),
        None => None,
    };

    let txn = db::begin_write(deps.db).await?;
    let account = repo::accounts::find_by_id(&txn, deps.keys, id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "account_not_found",
                text!("Không có tài khoản này.", "No such account."),
            )
        })?;
    if account.id == admin.account_id
        && (change.disabled == Some(true) || role.flatten().is_some_and(|r| r != Role::Admin))
    {
        return Err(ApiError::conflict(
            "cannot_demote_self",
            text!(
                "Quản trị viên không thể tự khóa hay hạ quyền của chính mình.",
                "An administrator cannot disable or demote their own account."
            ),
        ));
    }
    let new_role = match role.flatten() {
        Some(r) => r,
        None => account.role.parse::<Role>().map_err(ApiError::internal)?,
    };
    let new_unit = change.unit.clone().unwrap_or(account.unit_code.clone());
    let new_province = province.unwrap_or(account.province_code.clone());
    crate::services::auth::check_role_placement(
        deps.db,
        new_role,
        new_unit.as_deref(),
        new_province.as_deref(),
    )
    .await?;

    let disabling = change.disabled == Some(true) && !account.disabled;
    let before = crate::services::auth::audited_account(&account);
    let name_before = account.full_name.clone();
    let row_change = repo::accounts::AccountChange {
        role: Some(new_role.as_str().to_string()),
        unit_code: Some(new_unit),
        province_code: Some(new_province),
        disabled: change.disabled,
        full_name: full_name.flatten(),
    };
    let updated = repo::accounts::update(&txn, deps.keys, account, row_change, now).await?;
    if disabling {
        // Every session ends for good: enabling the account again revives none of them.
        repo::tokens::revoke_account(&txn, id, now).await?;
        repo::accounts::revoke_access_tokens(&txn, id, now).await?;
    }
    repo::accounts::notify_changed(&txn, id).await?;
    repo::audit::record(
        &txn,
        admin.account_id,
        "account.update",
        &id.to_string(),
        Some(serde_json::json!({
            "before": before,
            "after": crate::services::auth::audited_account(&updated),
            "full_name_changed": updated.full_name != name_before,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    deps.accounts.invalidate(id);
    tracing::info!(account.id = %id, admin.id = %admin.account_id, "account updated");
    shown(deps.directory, &updated).await
}

/// A member of a unit's staff, as a unit head picks whom to assign.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub id: Uuid,
    pub full_name: String,
    pub role: String,
}

/// The active clerks and head of a unit, for its head.
pub async fn unit_staff(
    db: &DatabaseConnection,
    keys: &crate::security::data_key::DataKeys,
    actor: &crate::domain::access::Actor,
    unit: &str,
) -> ApiResult<Vec<StaffMember>> {
    actor.require_unit_head(unit)?;
    let mut out = Vec::new();
    for role in ["clerk", "unit_head"] {
        let filter = AccountFilter {
            role: Some(role.to_string()),
            unit_code: Some(unit.to_string()),
            province_code: None,
            q: None,
        };
        let (rows, _) = repo::accounts::list(db, keys, &filter, 0, 500).await?;
        out.extend(
            rows.into_iter()
                .filter(|a| !a.disabled)
                .map(|a| StaffMember {
                    id: a.id,
                    full_name: a.full_name,
                    role: a.role,
                }),
        );
    }
    Ok(out)
}

/// One account, as an administrator sees it.
pub async fn get(
    db: &DatabaseConnection,
    keys: &crate::security::data_key::DataKeys,
    id: Uuid,
) -> ApiResult<Account> {
    let a = repo::accounts::find_by_id(db, keys, id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "account_not_found",
                text!("Không có tài khoản này.", "No such account."),
            )
        })?;
    Ok(Account::with_province(&a, a.province_code.clone()))
}
