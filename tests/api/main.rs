//! The one integration-test binary: the real app over HTTP, on SQLite by default and on
//! PostgreSQL when `MOTCUA_TEST_DATABASE_URL` is set.

mod helpers;

mod auth;
mod config;
mod errors;
mod health;
