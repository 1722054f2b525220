//! Who the caller is: password hashing, access and refresh tokens, the `AuthUser` extractor.

pub mod bounded;
pub mod callers;
pub mod extractor;
pub mod password;
pub mod sessions;
pub mod tokens;

pub use extractor::AuthUser;
