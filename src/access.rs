//! Looking up objects on behalf of a caller: the single path through which every
//! id from a request is resolved.
//!
//! A missing id, another slice's id and a malformed id all end in the same
//! NOT_FOUND, so that no answer tells whether an id exists. Functions that
//! change an object take an [`Administered`] value, which only this module
//! creates, so a mutation cannot skip the administrator check.

use std::ops::Deref;

use entity::{slice, user};
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::{
    auth::Principal,
    error::{AppError, AppResult},
};

/// An object that the caller administers, proven by a check in this module.
#[derive(Debug, Clone)]
pub struct Administered<T>(T);

impl<T> Administered<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Administered<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Proof that the caller is an operator.
#[derive(Debug, Clone, Copy)]
pub struct OperatorProof(());

/// Grants operator rights to code that acts without a request: the command
/// line and the demo loader, which only someone with access to the host can run.
pub(crate) fn host_operator() -> OperatorProof {
    OperatorProof(())
}

/// Marks an object as administered by code that acts without a request, as
/// [`host_operator`] does.
pub(crate) fn host_administered<T>(value: T) -> Administered<T> {
    Administered(value)
}

/// Returns proof that the caller is an operator, or FORBIDDEN.
pub fn require_operator(principal: &Principal) -> AppResult<OperatorProof> {
    if principal.is_operator() {
        Ok(OperatorProof(()))
    } else {
        Err(AppError::forbidden("only operators may do this"))
    }
}

/// Parses a client-supplied id; a malformed one is reported as not found.
pub fn parse_id(raw: &str, what: &'static str) -> AppResult<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound { what })
}

/// Loads a slice the caller may see.
pub async fn visible_slice(db: &impl ConnectionTrait, principal: &Principal, raw_id: &str) -> AppResult<slice::Model> {
    let id = parse_id(raw_id, "slice")?;
    match slice::Entity::find_by_id(id).one(db).await? {
        Some(slice) if principal.sees_slice(slice.id) => Ok(slice),
        _ => Err(AppError::NotFound { what: "slice" }),
    }
}

/// Loads a slice the caller administers: NOT_FOUND when the caller cannot see
/// it, FORBIDDEN when they see it but do not administer it.
pub async fn administered_slice(
    db: &impl ConnectionTrait,
    principal: &Principal,
    raw_id: &str,
) -> AppResult<Administered<slice::Model>> {
    let slice = visible_slice(db, principal, raw_id).await?;
    if principal.administers_slice(slice.id) {
        Ok(Administered(slice))
    } else {
        Err(AppError::forbidden("only the slice's administrators and operators may do this"))
    }
}

/// Loads an account the caller may see.
pub async fn visible_user(db: &impl ConnectionTrait, principal: &Principal, raw_id: &str) -> AppResult<user::Model> {
    let id = parse_id(raw_id, "user")?;
    match user::Entity::find_by_id(id).one(db).await? {
        Some(user) if principal.sees_user(&user) => Ok(user),
        _ => Err(AppError::NotFound { what: "user" }),
    }
}

/// Loads a slice user the caller administers: NOT_FOUND when the caller cannot
/// see the account, FORBIDDEN when they see it but may not change it (a member
/// looking at themselves, or an operator account, which only the command line manages).
pub async fn administered_user(
    db: &impl ConnectionTrait,
    principal: &Principal,
    raw_id: &str,
) -> AppResult<Administered<user::Model>> {
    let user = visible_user(db, principal, raw_id).await?;
    match user.slice_id {
        Some(slice_id) if principal.administers_slice(slice_id) => Ok(Administered(user)),
        Some(_) => Err(AppError::forbidden("only the slice's administrators and operators may change users")),
        None => Err(AppError::forbidden("operator accounts are managed with the `seatwarden create-operator` command")),
    }
}
