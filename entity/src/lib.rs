//! `SeaORM` entities for motcua, in the shape sea-orm-codegen generates. No logic lives here.

pub mod prelude;

pub mod accounts;
pub mod app_secrets;
pub mod audit_log;
pub mod calendar_announcements;
pub mod case_documents;
pub mod case_events;
pub mod case_feedback;
pub mod case_pauses;
pub mod cases;
pub mod feed_consumers;
pub mod idempotency_keys;
pub mod legacy_districts;
pub mod legacy_provinces;
pub mod legacy_wards;
pub mod login_throttle;
pub mod national_sync;
pub mod notifications;
pub mod outbox;
pub mod procedures;
pub mod province_lists;
pub mod provinces;
pub mod reference_data;
pub mod refresh_tokens;
pub mod routing_overrides;
pub mod scorecard_entries;
pub mod unit_day_counters;
pub mod units;
pub mod uploads;
pub mod ward_conversions;
pub mod wards;
pub mod web_sessions;
pub mod webhook_deliveries;
pub mod webhooks;
