//! The GraphQL API: schema, resolvers and the mapping of domain errors.

mod codes;
pub mod context;
pub mod enums;
pub mod error;
mod inputs;
mod limits;
mod mutation;
mod query;
pub mod scalars;
mod subscription;
pub mod types;

use async_graphql::{Schema, SchemaBuilder};

pub use context::RequestContext;
pub use limits::QueryLimits;
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;

use crate::state::AppState;

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Recursion limit of the query parser, which guards against stack exhaustion
/// before the depth limit can be checked.
const PARSER_RECURSION_LIMIT: usize = 64;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot).limit_recursive_depth(PARSER_RECURSION_LIMIT)
}

/// Builds the executable schema over the service's state.
pub fn build_schema(state: AppState) -> AppSchema {
    let limits = QueryLimits {
        max_depth: state.config.max_query_depth,
        max_complexity: state.config.max_query_complexity,
    };
    builder().extension(limits).extension(codes::ErrorCodes).data(state).finish()
}

/// Returns the schema in SDL, as stored in `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
