//! Schema migrations for motcua, one file per change, applied in order.

pub use sea_orm_migration::prelude::*;

mod m20250701_000001_geography;
mod m20250701_000002_units_procedures;
mod m20250701_000003_accounts;
mod m20250701_000004_cases;
mod m20250701_000005_calendar;
mod m20250701_000006_stats_indexes;
mod m20250701_000007_audit_details;
mod m20250701_000008_result_delivery;
mod m20250701_000009_token_generation;
mod m20250701_000010_web_sessions;
mod m20250701_000011_documents;
mod m20250701_000012_lifecycle_rules;
mod m20250701_000013_interagency;
mod m20250701_000014_limit_variants;
mod m20250701_000015_bundles;
mod m20250701_000016_feedback;
mod m20250701_000017_province_rules;
mod m20250701_000018_event_chain;
mod m20250701_000019_sealed_personal_data;
mod m20250701_000020_national_scale;
mod m20250701_000021_document_flags;
mod m20250701_000022_event_feed;
mod m20250701_000023_national_sync;
mod m20250701_000024_notifications;
mod m20250701_000025_open311;
mod m20250701_000026_document_province;
mod m20250701_000027_report_snapshots;
mod m20250701_000028_procedure_field_code;
mod m20250701_000029_idempotency_case;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20250701_000001_geography::Migration),
            Box::new(m20250701_000002_units_procedures::Migration),
            Box::new(m20250701_000003_accounts::Migration),
            Box::new(m20250701_000004_cases::Migration),
            Box::new(m20250701_000005_calendar::Migration),
            Box::new(m20250701_000006_stats_indexes::Migration),
            Box::new(m20250701_000007_audit_details::Migration),
            Box::new(m20250701_000008_result_delivery::Migration),
            Box::new(m20250701_000009_token_generation::Migration),
            Box::new(m20250701_000010_web_sessions::Migration),
            Box::new(m20250701_000011_documents::Migration),
            Box::new(m20250701_000012_lifecycle_rules::Migration),
            Box::new(m20250701_000013_interagency::Migration),
            Box::new(m20250701_000014_limit_variants::Migration),
            Box::new(m20250701_000015_bundles::Migration),
            Box::new(m20250701_000016_feedback::Migration),
            Box::new(m20250701_000017_province_rules::Migration),
            Box::new(m20250701_000018_event_chain::Migration),
            Box::new(m20250701_000019_sealed_personal_data::Migration),
            Box::new(m20250701_000020_national_scale::Migration),
            Box::new(m20250701_000021_document_flags::Migration),
            Box::new(m20250701_000022_event_feed::Migration),
            Box::new(m20250701_000023_national_sync::Migration),
            Box::new(m20250701_000024_notifications::Migration),
            Box::new(m20250701_000025_open311::Migration),
            Box::new(m20250701_000026_document_province::Migration),
            Box::new(m20250701_000027_report_snapshots::Migration),
            Box::new(m20250701_000028_procedure_field_code::Migration),
            Box::new(m20250701_000029_idempotency_case::Migration),
        ]
    }
}
