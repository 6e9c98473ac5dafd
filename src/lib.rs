//! motcua: routes administrative-procedure dossiers in Vietnam's two-tier local government.
//!
//! Layers (see `docs/ARCHITECTURE.md`): [`http`] parses and authorizes, [`services`] run use
//! cases in transactions, [`domain`] holds the rules in pure Rust, [`repo`] holds the
//! queries, [`jobs`] run in the background.

pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod messages;
pub mod metrics;
pub mod progress;
pub mod replica;
pub mod repo;
pub mod security;
pub mod services;
pub mod state;
pub mod storage;
pub mod telemetry;
