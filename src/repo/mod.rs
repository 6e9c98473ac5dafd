//! Queries, generic over `C: ConnectionTrait` so that they join the caller's transaction.
//! No business rules here: services decide, repositories read and write.

pub mod accounts;
pub mod audit;
pub mod cases;
pub mod counters;
pub mod events;
pub mod geography;
pub mod idempotency;
pub mod outbox;
pub mod overrides;
pub mod procedures;
pub mod stats;
pub mod throttle;
pub mod tokens;
pub mod units;
