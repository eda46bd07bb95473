//! GraphQL input objects and their conversion into the domain's input types.

use async_graphql::{ID, InputObject, MaybeUndefined};
use chrono::{DateTime, Utc};

use super::{
    enums::{Channel, Edition, EnforcementMode, LicenseType, OrderDirection, Role, SliceKind, UserOrderField},
    scalars::Date,
};
use crate::{
    error::{AppError, AppResult},
    slices::{NewSlice, Patch, SliceFilter as DomainSliceFilter, SlicePatch},
    users::{self, NewUser, UserFilter as DomainUserFilter, UserPatch},
};

/// Reads an optional field whose explicit null would make no sense.
fn keep_or_set<T>(field: &str, value: MaybeUndefined<T>) -> AppResult<Option<T>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Err(AppError::bad_input(field, "must not be null; leave the field out to keep the current value")),
        MaybeUndefined::Value(value) => Ok(Some(value)),
    }
}

/// Reads a field where null clears the stored value.
fn patch_of<T, U>(value: MaybeUndefined<T>, convert: impl FnOnce(T) -> U) -> Patch<U> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(value) => Patch::Set(convert(value)),
    }
}

#[derive(InputObject)]
pub struct LoginInput {
    /// The slice's name; null or empty for operators.
    pub slice: Option<String>,
    pub username: String,
    pub password: String,
    #[graphql(default_with = "Channel::Web")]
    pub channel: Channel,
    pub user_agent: Option<String>,
    /// Live WEB sessions of this user to end in the same step, after SessionLimitReached.
    #[graphql(default)]
    pub end_session_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct CreateSliceInput {
    pub name: String,
    pub display_name: String,
    pub customer: Option<String>,
    pub kind: SliceKind,
    pub edition: Edition,
    #[graphql(default = 0)]
    pub owned_named_licenses: i32,
    #[graphql(default = 0)]
    pub owned_concurrent_licenses: i32,
    pub renewal_date: Option<Date>,
    #[graphql(default = 80)]
    pub alert_threshold_percent: i32,
}

impl From<CreateSliceInput> for NewSlice {
    fn from(input: CreateSliceInput) -> Self {
        NewSlice {
            name: input.name,
            display_name: input.display_name,
            customer: input.customer,
            kind: input.kind.into(),
            edition: input.edition.into(),
            owned_named_licenses: input.owned_named_licenses,
            owned_concurrent_licenses: input.owned_concurrent_licenses,
            renewal_date: input.renewal_date.map(|date| date.0),
            alert_threshold_percent: input.alert_threshold_percent,
        }
    }
}

/// A field left out is unchanged; renewalDate: null clears the date.
#[derive(InputObject)]
pub struct UpdateSliceInput {
    pub display_name: MaybeUndefined<String>,
    /// Null clears the customer.
    pub customer: MaybeUndefined<String>,
    pub edition: MaybeUndefined<Edition>,
    pub owned_named_licenses: MaybeUndefined<i32>,
    pub owned_concurrent_licenses: MaybeUndefined<i32>,
    pub renewal_date: MaybeUndefined<Date>,
    pub alert_threshold_percent: MaybeUndefined<i32>,
    /// Pins the mode; the rollout no longer changes this slice.
    pub enforcement_mode: MaybeUndefined<EnforcementMode>,
    /// Unpins the mode and applies the rollout's current phase.
    pub unpin_mode: Option<bool>,
}

impl UpdateSliceInput {
    pub fn into_patch(self) -> AppResult<SlicePatch> {
        Ok(SlicePatch {
            display_name: keep_or_set("input.displayName", self.display_name)?,
            customer: patch_of(self.customer, |c| c),
            edition: keep_or_set("input.edition", self.edition)?.map(Into::into),
            owned_named_licenses: keep_or_set("input.ownedNamedLicenses", self.owned_named_licenses)?,
            owned_concurrent_licenses: keep_or_set("input.ownedConcurrentLicenses", self.owned_concurrent_licenses)?,
            renewal_date: patch_of(self.renewal_date, |d| d.0),
            alert_threshold_percent: keep_or_set("input.alertThresholdPercent", self.alert_threshold_percent)?,
            enforcement_mode: keep_or_set("input.enforcementMode", self.enforcement_mode)?.map(Into::into),
            unpin_mode: self.unpin_mode.unwrap_or(false),
        })
    }
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub slice_id: ID,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub license_type: LicenseType,
    /// ADMIN or MEMBER; operators are created by the command line.
    #[graphql(default_with = "Role::Member")]
    pub role: Role,
}

impl CreateUserInput {
    pub fn into_new_user(self) -> (ID, NewUser) {
        let user = NewUser {
            username: self.username,
            email: self.email,
            display_name: self.display_name,
            password: self.password,
            license_type: self.license_type.into(),
            role: self.role.into(),
        };
        (self.slice_id, user)
    }
}

#[derive(InputObject)]
pub struct UpdateUserInput {
    pub email: MaybeUndefined<String>,
    pub display_name: MaybeUndefined<String>,
    pub license_type: MaybeUndefined<LicenseType>,
    pub role: MaybeUndefined<Role>,
}

impl UpdateUserInput {
    pub fn into_patch(self) -> AppResult<UserPatch> {
        Ok(UserPatch {
            email: keep_or_set("input.email", self.email)?,
            display_name: keep_or_set("input.displayName", self.display_name)?,
            license_type: keep_or_set("input.licenseType", self.license_type)?.map(Into::into),
            role: keep_or_set("input.role", self.role)?.map(Into::into),
        })
    }
}

#[derive(InputObject, Default)]
pub struct SliceFilter {
    pub kinds: Option<Vec<SliceKind>>,
    pub customer: Option<String>,
    /// Case-insensitive match on name or display name.
    pub search: Option<String>,
}

impl From<SliceFilter> for DomainSliceFilter {
    fn from(filter: SliceFilter) -> Self {
        DomainSliceFilter {
            kinds: filter.kinds.map(|kinds| kinds.into_iter().map(Into::into).collect()),
            customer: filter.customer,
            search: filter.search,
        }
    }
}

#[derive(InputObject, Default)]
pub struct UserFilter {
    pub license_types: Option<Vec<LicenseType>>,
    pub active: Option<bool>,
    pub role: Option<Role>,
    /// Case-insensitive match on username, email or display name.
    pub search: Option<String>,
    /// Last login before this instant, or never.
    pub last_login_before: Option<DateTime<Utc>>,
    pub never_logged_in: Option<bool>,
}

impl From<UserFilter> for DomainUserFilter {
    fn from(filter: UserFilter) -> Self {
        DomainUserFilter {
            license_types: filter.license_types.map(|types| types.into_iter().map(Into::into).collect()),
            active: filter.active,
            role: filter.role.map(Into::into),
            search: filter.search,
            last_login_before: filter.last_login_before,
            never_logged_in: filter.never_logged_in,
        }
    }
}

#[derive(InputObject)]
pub struct UserOrder {
    pub field: UserOrderField,
    pub direction: OrderDirection,
}

impl From<UserOrder> for users::UserOrder {
    fn from(order: UserOrder) -> Self {
        users::UserOrder {
            field: match order.field {
                UserOrderField::Username => users::UserOrderField::Username,
                UserOrderField::LastLoginAt => users::UserOrderField::LastLoginAt,
                UserOrderField::CreatedAt => users::UserOrderField::CreatedAt,
            },
            descending: order.direction == OrderDirection::Desc,
        }
    }
}

#[derive(InputObject)]
pub struct SessionFilter {
    pub user_id: Option<ID>,
    pub license_types: Option<Vec<LicenseType>>,
    pub channels: Option<Vec<Channel>>,
    #[graphql(default = true)]
    pub live_only: bool,
}

impl From<SessionFilter> for crate::sessions::SessionFilter {
    fn from(filter: SessionFilter) -> Self {
        crate::sessions::SessionFilter {
            user_id: filter.user_id.map(|id| id.0),
            license_types: filter.license_types.map(|types| types.into_iter().map(Into::into).collect()),
            channels: filter.channels.map(|channels| channels.into_iter().map(Into::into).collect()),
            live_only: filter.live_only,
        }
    }
}

#[derive(InputObject, Default)]
pub struct ComplianceEventFilter {
    pub kinds: Option<Vec<super::enums::ComplianceEventKind>>,
    /// Events without a license type (MODE_CHANGED) never match this filter.
    pub license_types: Option<Vec<LicenseType>>,
    /// Events that occurred at or after this instant.
    pub since: Option<DateTime<Utc>>,
}

impl From<ComplianceEventFilter> for crate::licensing::ComplianceEventFilter {
    fn from(filter: ComplianceEventFilter) -> Self {
        crate::licensing::ComplianceEventFilter {
            kinds: filter.kinds.map(|kinds| kinds.into_iter().map(Into::into).collect()),
            license_types: filter.license_types.map(|types| types.into_iter().map(Into::into).collect()),
            since: filter.since,
        }
    }
}
