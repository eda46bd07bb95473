//! The caller of a request, as established from its bearer token.

use entity::{Role, session, user};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// What the request's `Authorization` header established.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No bearer token was sent.
    Anonymous,
    /// A token was sent but names no live session of an active user.
    Rejected,
    Authenticated(Box<Principal>),
}

impl Auth {
    /// Returns the caller, or UNAUTHENTICATED.
    pub fn principal(&self) -> AppResult<&Principal> {
        match self {
            Auth::Authenticated(principal) => Ok(principal),
            Auth::Anonymous | Auth::Rejected => Err(AppError::Unauthenticated),
        }
    }

    pub fn session_id(&self) -> Option<Uuid> {
        match self {
            Auth::Authenticated(principal) => Some(principal.session.id),
            _ => None,
        }
    }
}

/// An authenticated caller: an active user and the live session the request came with.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: user::Model,
    pub session: session::Model,
}

impl Principal {
    pub fn is_operator(&self) -> bool {
        self.user.role == Role::Operator
    }

    /// Tells whether the caller may see the slice: operators see all, others their own.
    pub fn sees_slice(&self, slice_id: Uuid) -> bool {
        self.is_operator() || self.user.slice_id == Some(slice_id)
    }

    /// Tells whether the caller administers the slice: operators, and the slice's administrators.
    pub fn administers_slice(&self, slice_id: Uuid) -> bool {
        self.is_operator() || (self.user.role == Role::Admin && self.user.slice_id == Some(slice_id))
    }

    /// Tells whether the caller may see the account: operators see all, administrators
    /// the users of their slice, members only themselves.
    pub fn sees_user(&self, target: &user::Model) -> bool {
        if self.is_operator() || self.user.id == target.id {
            return true;
        }
        match target.slice_id {
            Some(slice_id) => self.administers_slice(slice_id),
            None => false,
        }
    }
}
