//! Password hashing, session tokens and the authenticated caller.

mod password;
mod principal;
mod token;

pub use password::PasswordHasher;
pub use principal::{Auth, Principal};
pub use token::{SessionToken, hash_token};
