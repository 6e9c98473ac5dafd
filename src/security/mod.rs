//! Password hashing, access tokens and the signing key.

pub mod jwt;
pub mod keys;
pub mod password;
pub mod tokens;
