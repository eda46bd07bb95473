//! Query depth and complexity limits that answer with QUERY_TOO_COMPLEX and the limit.
//!
//! async-graphql's built-in limits return errors without a code, so this
//! extension checks the depth and complexity that validation computes anyway.

use std::sync::Arc;

use async_graphql::{
    ServerError, ValidationResult,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation},
};

pub struct QueryLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
}

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(QueryLimitsExtension { max_depth: self.max_depth, max_complexity: self.max_complexity })
    }
}

struct QueryLimitsExtension {
    max_depth: usize,
    max_complexity: usize,
}

fn too_complex(message: String, limit: usize) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "QUERY_TOO_COMPLEX");
    extensions.set("limit", limit as u64);
    error.extensions = Some(extensions);
    error
}

#[async_trait::async_trait]
impl Extension for QueryLimitsExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.depth > self.max_depth {
            return Err(vec![too_complex(
                format!("the query is nested {} levels deep; the limit is {}", result.depth, self.max_depth),
                self.max_depth,
            )]);
        }
        if result.complexity > self.max_complexity {
            return Err(vec![too_complex(
                format!(
                    "the query's complexity is {}; the limit is {}: request fewer fields or smaller pages",
                    result.complexity, self.max_complexity
                ),
                self.max_complexity,
            )]);
        }
        Ok(result)
    }
}
