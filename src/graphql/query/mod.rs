//! Root query fields, one object per concern merged into one root. Resolvers
//! authorize, call the domain and wrap the result.

mod directory;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(directory::DirectoryQuery);
