//! The one integration-test binary: the real app over HTTP, on SQLite by default and on
//! PostgreSQL when `MOTCUA_TEST_DATABASE_URL` is set.

mod helpers;

mod access;
mod audit;
mod auth;
mod backup;
mod bundles;
mod calendar;
mod cases;
mod clerks;
mod cli;
mod config;
mod crash;
mod documents;
mod errors;
mod events;
mod feedback;
mod geography;
mod hardening;
mod health;
mod lifecycle;
mod national;
mod open311;
mod personal_data;
mod platform;
mod procedures;
mod province_rules;
mod queues;
mod read_replica;
mod routing;
mod sla;
mod stats;
mod tell;
mod units;
mod web;
