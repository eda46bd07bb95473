//! Root mutation fields, one object per concern merged into one root.

mod sessions;
mod slices;
mod users;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(sessions::SessionMutations, slices::SliceMutations, users::UserMutations);
