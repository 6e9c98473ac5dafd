//! `motcua serve --demo`: demo accounts and a synthetic history on a fresh database, so a
//! newcomer sees queues and dashboards at once.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::error::ApiResult;
use crate::security::password::PasswordHasher;
use crate::services::synthetic::Options;
use crate::services::users::{self, CreateUser};

/// The demo's password for every account (printed at start; the demo database is throwaway).
pub const PASSWORD: &str = "motcua-demo-2026";

/// The commune whose staff get demo accounts (always among the overloaded ones).
pub const DEMO_COMMUNE_PC: &str = "01.00004.UBND";
pub const DEMO_COMMUNE_CENTRE: &str = "01.00004.TTPVHCC";

/// One demo account.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: &'static str,
    pub role: &'static str,
    pub scope: &'static str,
}

pub const ACCOUNTS: [DemoAccount; 7] = [
    DemoAccount {
        username: "admin",
        role: "admin",
        scope: "everything",
    },
    DemoAccount {
        username: "sup.national",
        role: "supervisor",
        scope: "the whole country",
    },
    DemoAccount {
        username: "sup.hanoi",
        role: "supervisor",
        scope: "Hà Nội (01)",
    },
    DemoAccount {
        username: "head.badinh",
        role: "unit_head",
        scope: DEMO_COMMUNE_PC,
    },
    DemoAccount {
        username: "clerk.badinh",
        role: "clerk",
        scope: DEMO_COMMUNE_PC,
    },
    DemoAccount {
        username: "reception.badinh",
        role: "clerk",
        scope: DEMO_COMMUNE_CENTRE,
    },
    DemoAccount {
        username: "citizen.demo",
        role: "citizen",
        scope: "their own dossiers",
    },
];

/// Create the demo accounts.
pub async fn create_accounts(
    db: &DatabaseConnection,
    keys: &crate::security::data_key::DataKeys,
    hasher: &PasswordHasher,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    for a in ACCOUNTS {
        let (unit, province) = match a.username {
            "sup.hanoi" => (None, Some("01".to_string())),
            "head.badinh" | "clerk.badinh" => (Some(DEMO_COMMUNE_PC.to_string()), None),
            "reception.badinh" => (Some(DEMO_COMMUNE_CENTRE.to_string()), None),
            _ => (None, None),
        };
        users::create(
            db,
            keys,
            hasher,
            CreateUser {
                username: a.username.to_string(),
                password: PASSWORD.to_string(),
                role: a.role.to_string(),
                unit,
                province,
                full_name: format!("Demo {}", a.username),
                phone: None,
                email: None,
                id_number: None,
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// The synthetic history of the demo (`services::synthetic::generate`): `cases` dossiers
/// over the last `days` days, the demo commune among the overloaded ones.
pub fn history(cases: u64, days: i64, now: DateTime<Utc>) -> Options {
    Options {
        cases,
        days,
        seed: 2026,
        overloaded: 12,
        force_overloaded: vec![DEMO_COMMUNE_PC.to_string()],
        now,
        open: None,
    }
}
