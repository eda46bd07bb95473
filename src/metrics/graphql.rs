//! GraphQL request metrics, and the labels that name an operation by its
//! type and root fields.

use std::{
    collections::{BTreeSet, HashSet},
    sync::OnceLock,
    time::Instant,
};

use async_graphql::parser::{
    parse_schema,
    types::{
        DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet, TypeKind,
        TypeSystemDefinition,
    },
};
use metrics::{Label, counter, histogram};

use super::names::{GRAPHQL_DURATION, GRAPHQL_REQUESTS, UNKNOWN};

/// Maximum number of distinct root fields one label value lists. An operation
/// with more is labelled [`MANY_FIELDS`]. Each label value is a set of root
/// fields, and without this limit the subsets of the query type's fields alone
/// would allow thousands of series.
const MAX_LABELLED_FIELDS: usize = 3;

/// Label value of an operation with more than [`MAX_LABELLED_FIELDS`] root fields.
const MANY_FIELDS: &str = "many";

/// Label values of one GraphQL operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OperationLabels {
    /// `query`, `mutation`, `subscription`, or `unknown` when no operation could be selected.
    pub operation_type: &'static str,
    /// The distinct root field names, sorted and joined with `,`.
    pub root_fields: String,
}

impl OperationLabels {
    fn unknown() -> Self {
        Self { operation_type: UNKNOWN, root_fields: UNKNOWN.to_owned() }
    }

    /// Parses the request's query and labels the operation the request selects.
    ///
    /// The parsed document stays in the request, and async-graphql executes it
    /// without parsing the query again. A query that does not parse is left to
    /// the schema, which reports the parse error.
    pub fn of(request: &mut async_graphql::Request) -> Self {
        let operation_name = request.operation_name.clone();
        match request.parsed_query() {
            Ok(document) => label(document, operation_name.as_deref(), RootFields::of_schema()),
            Err(_) => Self::unknown(),
        }
    }
}

/// Labels the operation that `operation_name` selects in `document`, with the
/// root fields checked against `roots`.
fn label(document: &ExecutableDocument, operation_name: Option<&str>, roots: &RootFields) -> OperationLabels {
    let Some(operation) = select_operation(document, operation_name) else {
        return OperationLabels::unknown();
    };
    let allowed = roots.of(operation.ty);
    let root_fields = match root_field_names(document, &operation.selection_set.node, allowed) {
        Some(names) if names.is_empty() => UNKNOWN.to_owned(),
        Some(names) if names.len() > MAX_LABELLED_FIELDS => MANY_FIELDS.to_owned(),
        Some(names) => names.into_iter().collect::<Vec<_>>().join(","),
        None => UNKNOWN.to_owned(),
    };
    OperationLabels { operation_type: type_label(operation.ty), root_fields }
}

fn type_label(operation_type: OperationType) -> &'static str {
    match operation_type {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

/// Selects the operation to run as async-graphql 7 does: the one named
/// `operation_name`, or the only one when no name is given.
fn select_operation<'a>(document: &'a ExecutableDocument, operation_name: Option<&str>) -> Option<&'a OperationDefinition> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), None) => operation,
        (DocumentOperations::Single(_), Some(_)) => return None,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations.values().next()?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    Some(&operation.node)
}

/// Collects the distinct names (never aliases) of the root fields of
/// `selection_set`, following fragment spreads and inline fragments. Returns
/// `None` as soon as a name is not in `allowed`.
///
/// The walk uses its own stack and visits each fragment once, so a long chain
/// of fragments or a fragment cycle (which validation rejects later) cannot
/// exhaust the thread's stack or loop.
fn root_field_names<'a>(
    document: &'a ExecutableDocument,
    selection_set: &'a SelectionSet,
    allowed: &HashSet<String>,
) -> Option<BTreeSet<&'a str>> {
    let mut names = BTreeSet::new();
    let mut visited_fragments = HashSet::new();
    let mut pending = vec![selection_set];
    while let Some(selection_set) = pending.pop() {
        for selection in &selection_set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if !allowed.contains(name) {
                        return None;
                    }
                    names.insert(name);
                }
                Selection::FragmentSpread(spread) => {
                    let fragment_name = &spread.node.fragment_name.node;
                    if !visited_fragments.insert(fragment_name.as_str()) {
                        continue;
                    }
                    // An undefined fragment fails validation, so its fields are unknown.
                    let fragment = document.fragments.get(fragment_name)?;
                    pending.push(&fragment.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => pending.push(&fragment.node.selection_set.node),
            }
        }
    }
    Some(names)
}

/// Field names of the schema's root types, with the meta-fields each accepts.
#[derive(Debug, Default)]
struct RootFields {
    query: HashSet<String>,
    mutation: HashSet<String>,
    subscription: HashSet<String>,
}

impl RootFields {
    /// Returns the root fields of the service's schema, read once per process
    /// from its SDL. Every schema the service builds has the same types.
    fn of_schema() -> &'static RootFields {
        static ROOTS: OnceLock<RootFields> = OnceLock::new();
        ROOTS.get_or_init(|| RootFields::from_sdl(&crate::graphql::sdl()))
    }

    fn from_sdl(sdl: &str) -> RootFields {
        let document = match parse_schema(sdl) {
            Ok(document) => document,
            Err(error) => {
                tracing::error!(%error, "parsing the schema's SDL failed; GraphQL metrics label every root field unknown");
                return RootFields::default();
            }
        };
        let (mut query_type, mut mutation_type, mut subscription_type) = ("Query", "Mutation", "Subscription");
        for definition in &document.definitions {
            if let TypeSystemDefinition::Schema(schema) = definition {
                let schema = &schema.node;
                if let Some(name) = &schema.query {
                    query_type = name.node.as_str();
                }
                if let Some(name) = &schema.mutation {
                    mutation_type = name.node.as_str();
                }
                if let Some(name) = &schema.subscription {
                    subscription_type = name.node.as_str();
                }
            }
        }

        let fields_of = |type_name: &str| -> HashSet<String> {
            let mut fields: HashSet<String> = document
                .definitions
                .iter()
                .filter_map(|definition| match definition {
                    TypeSystemDefinition::Type(definition) if definition.node.name.node.as_str() == type_name => {
                        match &definition.node.kind {
                            TypeKind::Object(object) => Some(object.fields.iter().map(|field| field.node.name.node.to_string())),
                            _ => None,
                        }
                    }
                    _ => None,
                })
                .flatten()
                .collect();
            fields.insert("__typename".to_owned());
            fields
        };
        let mut query = fields_of(query_type);
        query.extend(["__schema".to_owned(), "__type".to_owned()]);
        RootFields { query, mutation: fields_of(mutation_type), subscription: fields_of(subscription_type) }
    }

    fn of(&self, operation_type: OperationType) -> &HashSet<String> {
        match operation_type {
            OperationType::Query => &self.query,
            OperationType::Mutation => &self.mutation,
            OperationType::Subscription => &self.subscription,
        }
    }
}

/// Measures one `POST /graphql` request and records it when dropped.
///
/// Recording on drop counts every return path of the handler, and a request
/// whose handler is cancelled (client gone, request timeout). The labels stay
/// `unknown` until [`classify`](Self::classify) and the outcome stays `error`
/// until [`finish`](Self::finish) receives a response without errors.
pub struct GraphqlRequest {
    started: Instant,
    labels: OperationLabels,
    succeeded: bool,
}

impl GraphqlRequest {
    /// Starts measuring a request.
    pub fn start() -> Self {
        Self { started: Instant::now(), labels: OperationLabels::unknown(), succeeded: false }
    }

    /// Labels the request by the operation it selects, and keeps the parsed
    /// document in the request so that the schema does not parse it again.
    pub fn classify(&mut self, request: &mut async_graphql::Request) {
        self.labels = OperationLabels::of(request);
    }

    /// Takes the outcome from the response and records the request.
    pub fn finish(mut self, response: &async_graphql::Response) {
        self.succeeded = response.is_ok();
    }
}

impl Drop for GraphqlRequest {
    fn drop(&mut self) {
        let outcome = if self.succeeded { "ok" } else { "error" };
        let labels = [
            Label::new("operation_type", self.labels.operation_type),
            Label::new("root_fields", std::mem::take(&mut self.labels.root_fields)),
            Label::new("outcome", outcome),
        ];
        counter!(GRAPHQL_REQUESTS, labels.iter()).increment(1);
        histogram!(GRAPHQL_DURATION, labels.iter()).record(self.started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    const SDL: &str = "
        schema { query: Q mutation: M subscription: S }
        type Q { me: String slices: [String] }
        type M { login: String }
        type S { licenseUsage: String }
        type Other { hidden: String }
    ";

    fn labels(query: &str, operation_name: Option<&str>) -> (String, String) {
        let roots = RootFields::from_sdl(SDL);
        let document = parse_query(query).unwrap();
        let labels = label(&document, operation_name, &roots);
        (labels.operation_type.to_owned(), labels.root_fields)
    }

    fn pair(operation_type: &str, root_fields: &str) -> (String, String) {
        (operation_type.to_owned(), root_fields.to_owned())
    }

    #[test]
    fn root_fields_are_sorted_and_distinct() {
        assert_eq!(labels("{ slices me other: me }", None), pair("query", "me,slices"));
        assert_eq!(labels("mutation { login }", None), pair("mutation", "login"));
        assert_eq!(labels("subscription { licenseUsage }", None), pair("subscription", "licenseUsage"));
    }

    #[test]
    fn fragments_contribute_root_fields() {
        let query = "query { ...A ... on Q { slices } } fragment A on Q { me ...A }";
        assert_eq!(labels(query, None), pair("query", "me,slices"));
        assert_eq!(labels("query { ...A } fragment A on Q { ...B } fragment B on Q { slices }", None), pair("query", "slices"));
    }

    #[test]
    fn fields_outside_the_root_type_are_unknown() {
        assert_eq!(labels("{ me bogusField }", None), pair("query", "unknown"));
        assert_eq!(labels("{ hidden }", None), pair("query", "unknown"));
        assert_eq!(labels("query { login }", None), pair("query", "unknown"));
        assert_eq!(labels("{ ...Missing }", None), pair("query", "unknown"));
    }

    #[test]
    fn meta_fields_are_known() {
        assert_eq!(labels("{ __typename }", None), pair("query", "__typename"));
        assert_eq!(labels("query IntrospectionQuery { __schema { types { name } } }", None), pair("query", "__schema"));
        assert_eq!(labels("mutation { __schema { types { name } } }", None), pair("mutation", "unknown"));
    }

    #[test]
    fn operation_name_selects_but_never_labels() {
        let document = "query A { me } mutation B { login }";
        assert_eq!(labels(document, Some("B")), pair("mutation", "login"));
        assert_eq!(labels(document, Some("attacker-chosen")), pair("unknown", "unknown"));
        assert_eq!(labels(document, None), pair("unknown", "unknown"));
        assert_eq!(labels("query A { me }", None), pair("query", "me"));
        assert_eq!(labels("{ me }", Some("A")), pair("unknown", "unknown"));
    }

    #[test]
    fn many_root_fields_share_one_label() {
        let roots = RootFields {
            query: ["a", "b", "c", "d"].into_iter().map(str::to_owned).collect(),
            ..RootFields::default()
        };
        let document = parse_query("{ a b c d }").unwrap();
        assert_eq!(label(&document, None, &roots).root_fields, MANY_FIELDS);
        let document = parse_query("{ a b c }").unwrap();
        assert_eq!(label(&document, None, &roots).root_fields, "a,b,c");
    }

    #[test]
    fn service_schema_has_root_fields() {
        let roots = RootFields::of_schema();
        assert!(roots.query.contains("subscriptionCenter"));
        assert!(roots.mutation.contains("login"));
        assert!(roots.subscription.contains("licenseUsage"));
    }

    #[test]
    fn request_is_recorded_on_drop() {
        let recorder = super::super::recorder::build().unwrap();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let mut request = async_graphql::Request::new("query Mine { me }").operation_name("Mine");
            let mut measured = GraphqlRequest::start();
            measured.classify(&mut request);
            assert!(request.parsed_query().is_ok());
            measured.finish(&async_graphql::Response::new(async_graphql::Value::Null));
            drop(GraphqlRequest::start());
        });
        let rendered = handle.render();
        assert!(
            rendered.contains(r#"seatwarden_graphql_requests_total{operation_type="query",root_fields="me",outcome="ok"} 1"#),
            "{rendered}"
        );
        assert!(
            rendered.contains(r#"seatwarden_graphql_requests_total{operation_type="unknown",root_fields="unknown",outcome="error"} 1"#),
            "{rendered}"
        );
        assert!(
            rendered.contains(r#"seatwarden_graphql_request_duration_seconds_count{operation_type="query",root_fields="me",outcome="ok"} 1"#),
            "{rendered}"
        );
        assert!(!rendered.contains("Mine"), "{rendered}");
    }
}
