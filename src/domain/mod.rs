//! Pure domain logic: no axum, no sea-orm. Value types, the dossier state machine, routing
//! rules, the working-time calendar and deadline arithmetic.

pub mod access;
pub mod account;
pub mod calendar;
pub mod display;
pub mod dossier;
pub mod feed;
pub mod geography;
pub mod lang;
pub mod lifecycle;
pub mod national;
pub mod procedure;
pub mod province_lists;
pub mod routing;
pub mod scorecard;
pub mod sla;
pub mod tell;
pub mod unit;
