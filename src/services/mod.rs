//! Use cases: open the transaction, call the domain, write, append the event and outbox rows.

pub mod auth;
pub mod calendar;
pub mod cases;
pub mod geography;
pub mod reference;
pub mod routing;
pub mod users;
