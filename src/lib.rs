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

// The service's allocator, for the binary and for the tests and benchmarks that run the app
// in process (so they measure what ships). Under load the app makes many small, short-lived
// allocations from several threads (requests, rows, JSON, HTTP calls to the outside);
// glibc's malloc spent about a seventh of the process's CPU in them (consolidating and
// unlinking chunks). See docs/PERFORMANCE.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
