//! Password hashing, access tokens and the signing key.

pub mod data_key;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod tokens;
