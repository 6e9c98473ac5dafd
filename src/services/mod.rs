//! Use cases: open the transaction, call the domain, write, append the event and outbox rows.

pub mod account_cache;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bundles;
pub mod calendar;
pub mod cases;
pub mod data_keys;
pub mod deadlines;
pub mod demo;
pub mod documents;
pub mod feedback;
pub mod geography;
pub mod intake;
pub mod intake_writer;
pub mod notify;
pub mod procedures;
pub mod province_lists;
pub mod reference;
pub mod routing;
pub mod scorecard;
pub mod sla;
pub mod stats;
pub mod synthetic;
pub mod units;
pub mod users;
