//! GraphiQL at `/graphiql`, served entirely from the binary.
//!
//! async-graphql's own GraphiQL page loads React and GraphiQL from public
//! CDNs and stays blank without internet access. This page loads only files
//! under `/graphiql/assets/`: the React 18 and GraphiQL 4 UMD builds that
//! `src/build/main.rs` downloads, verifies and extracts into
//! `$OUT_DIR/graphiql/`, plus the start-up script and favicon defined here.
//! The page's Content-Security-Policy makes the browser block requests to any
//! other origin.
//!
//! The page sends queries and mutations as JSON `POST` requests to `/graphql`
//! on the same origin, and subscriptions over a WebSocket to the same path
//! with the `graphql-transport-ws` protocol. The JSON object in GraphiQL's
//! headers pane goes out as HTTP headers with each request and as the
//! `connection_init` payload of each WebSocket connection.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::assets::{self, Asset, CSS, HTML, JAVASCRIPT, PAGE_CACHE_CONTROL, SVG};

/// URL path prefix of the embedded files.
const ASSETS_PATH: &str = "/graphiql/assets/";

/// Content-Security-Policy of the page. It allows scripts, styles and
/// connections from this origin only. `data:` fonts and images are allowed
/// because graphiql.min.css embeds its fonts and icons as `data:` URLs.
/// Inline styles are allowed for the page's own `<style>` element and
/// because GraphiQL's settings and shortcut dialogs insert inline styles
/// when they open.
///
/// NOTE: `connect-src 'self'` covers the subscription WebSocket only in
/// browsers that implement CSP Level 3, where `'self'` also matches `ws:` and
/// `wss:` URLs of the page's host. Older browsers block subscriptions.
const PAGE_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Query editor content on a first visit. GraphiQL stores the user's edits in
/// the browser's localStorage and shows those on later visits.
const DEFAULT_QUERY: &str = r#"# Seatwarden GraphQL API
#
# 1. In "Login", replace SLICE, USERNAME and
#    PASSWORD with your slice name and
#    credentials (operators delete the slice
#    argument). Put the cursor inside "Login"
#    and press Ctrl-Enter (Cmd-Enter on macOS),
#    or pick "Login" from the run button's menu.
# 2. Paste the token from the LoginSuccess result
#    into the Headers pane below:
#      {"Authorization": "Bearer <token>"}
#    GraphiQL sends these headers with every
#    query and mutation, and as the
#    connection_init payload of subscriptions.
# 3. Run "Me" to see whose token it is.
#
# The Docs button in the left sidebar lists every
# type and field.

mutation Login {
  login(input: {slice: "SLICE", username: "USERNAME", password: "PASSWORD"}) {
    __typename
    ... on LoginSuccess {
      token
    }
    ... on LoginRejected {
      reason
      message
    }
  }
}

query Me {
  me {
    username
    role
  }
}
"#;

/// Start-up script of the page. It runs after the React, ReactDOM and
/// GraphiQL UMD builds have defined their globals. `DEFAULT_QUERY_JSON` is
/// replaced with [`DEFAULT_QUERY`] as a JSON string literal.
const START_SCRIPT_TEMPLATE: &str = r#""use strict";
(function () {
  var socketScheme = location.protocol === "https:" ? "wss:" : "ws:";

  // createFetcher sends the headers pane's JSON as HTTP headers with queries
  // and mutations. For a subscription it opens a client of the graphql-ws
  // library bundled in graphiql.min.js (protocol graphql-transport-ws) and
  // sends that same JSON as the connection_init payload.
  var fetcher = GraphiQL.createFetcher({
    url: "/graphql",
    subscriptionUrl: socketScheme + "//" + location.host + "/graphql",
    // async-graphql 7 implements neither @defer nor @stream, so every
    // response is one JSON document and the multipart/mixed reader is unused.
    enableIncrementalDelivery: false
  });

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY_JSON,
      // Opens the headers pane, where the bearer token goes.
      defaultEditorToolsVisibility: "headers"
    })
  );
})();
"#;

/// Favicon, so that the browser does not fall back to requesting
/// `/favicon.ico`.
const FAVICON_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#e10098" d="M16 1.5 3.5 6.5v8.3c0 7.4 5.3 13.8 12.5 15.7 7.2-1.9 12.5-8.3 12.5-15.7V6.5z"/><path fill="#fff" d="M10 9.5h12v7H10zm-1 9h14v3H9zm2 3h2.5v4H11zm7.5 0H21v4h-2.5z"/></svg>
"##;

static START_SCRIPT: LazyLock<String> = LazyLock::new(|| {
    let query = serde_json::Value::from(DEFAULT_QUERY).to_string();
    START_SCRIPT_TEMPLATE.replace("DEFAULT_QUERY_JSON", &query)
});

static ASSETS: LazyLock<Assets> = LazyLock::new(Assets::load);

static PAGE: LazyLock<String> = LazyLock::new(|| render_page(&ASSETS));

/// Routes for `GET /graphiql` and `GET /graphiql/assets/{file}`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/graphiql", get(page))
        .route("/graphiql/assets/{file}", get(asset))
}

async fn page() -> Response {
    let headers = [
        (header::CONTENT_TYPE, HTML),
        (header::CACHE_CONTROL, PAGE_CACHE_CONTROL),
        (
            header::CONTENT_SECURITY_POLICY,
            PAGE_CONTENT_SECURITY_POLICY,
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    (headers, PAGE.as_str()).into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    assets::respond(ASSETS.find(&file), "GraphiQL asset not found")
}

/// Builds an [`Asset`] from a file that the build script extracted into
/// `$OUT_DIR/graphiql/`. The names must match the `output` names in
/// `src/build/main.rs`, and they carry the package version.
macro_rules! vendored_asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name.to_owned(),
            content_type: $content_type,
            body: include_bytes!(concat!(env!("OUT_DIR"), "/graphiql/", $name)),
        }
    };
}

/// The files that the page loads.
struct Assets {
    react: Asset,
    react_dom: Asset,
    graphiql_script: Asset,
    graphiql_style: Asset,
    start_script: Asset,
    favicon: Asset,
}

impl Assets {
    fn load() -> Self {
        Self {
            react: vendored_asset!("react-18.3.1.production.min.js", JAVASCRIPT),
            react_dom: vendored_asset!("react-dom-18.3.1.production.min.js", JAVASCRIPT),
            graphiql_script: vendored_asset!("graphiql-4.1.2.min.js", JAVASCRIPT),
            graphiql_style: vendored_asset!("graphiql-4.1.2.min.css", CSS),
            start_script: Asset::content_addressed(
                "seatwarden-graphiql",
                "js",
                JAVASCRIPT,
                START_SCRIPT.as_bytes(),
            ),
            favicon: Asset::content_addressed("favicon", "svg", SVG, FAVICON_SVG.as_bytes()),
        }
    }

    fn all(&self) -> [&Asset; 6] {
        [
            &self.react,
            &self.react_dom,
            &self.graphiql_script,
            &self.graphiql_style,
            &self.start_script,
            &self.favicon,
        ]
    }

    fn find(&self, name: &str) -> Option<&Asset> {
        self.all().into_iter().find(|asset| asset.name == name)
    }
}

/// Renders the page. Asset names contain only ASCII letters, digits, `.` and
/// `-`, so they need no HTML escaping.
fn render_page(assets: &Assets) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Seatwarden GraphiQL</title>
<link rel="icon" type="image/svg+xml" href="{favicon}">
<link rel="stylesheet" href="{graphiql_style}">
<style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript.</noscript>
<script src="{react}"></script>
<script src="{react_dom}"></script>
<script src="{graphiql_script}"></script>
<script src="{start_script}"></script>
</body>
</html>
"#,
        favicon = assets.favicon.url(ASSETS_PATH),
        graphiql_style = assets.graphiql_style.url(ASSETS_PATH),
        react = assets.react.url(ASSETS_PATH),
        react_dom = assets.react_dom.url(ASSETS_PATH),
        graphiql_script = assets.graphiql_script.url(ASSETS_PATH),
        start_script = assets.start_script.url(ASSETS_PATH),
    )
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt as _;

    use super::*;
    use axum::http::StatusCode;

    use crate::http::assets::ASSET_CACHE_CONTROL;

    /// Returns the values of every `src="…"` and `href="…"` attribute.
    fn referenced_urls(html: &str) -> Vec<&str> {
        let mut urls = Vec::new();
        for attribute in [" src=\"", " href=\""] {
            for (start, _) in html.match_indices(attribute) {
                let value_start = start + attribute.len();
                let value_end = value_start
                    + html[value_start..]
                        .find('"')
                        .expect("attribute value is closed");
                urls.push(&html[value_start..value_end]);
            }
        }
        urls
    }

    fn expected_content_type(url: &str) -> &'static str {
        match url.rsplit_once('.').map(|(_, extension)| extension) {
            Some("js") => JAVASCRIPT,
            Some("css") => CSS,
            Some("svg") => SVG,
            _ => panic!("no content type known for {url}"),
        }
    }

    async fn get(uri: &str) -> Response {
        let request = Request::get(uri).body(Body::empty()).unwrap();
        router::<()>().oneshot(request).await.unwrap()
    }

    fn header_value(response: &Response, name: header::HeaderName) -> &str {
        response
            .headers()
            .get(&name)
            .unwrap_or_else(|| panic!("response has no {name} header"))
            .to_str()
            .unwrap()
    }

    #[test]
    fn page_references_only_local_assets() {
        let urls = referenced_urls(&PAGE);

        assert_eq!(
            urls.len(),
            ASSETS.all().len(),
            "page references each asset once: {urls:?}"
        );
        for url in &urls {
            assert!(
                url.starts_with(ASSETS_PATH),
                "{url} is outside {ASSETS_PATH}"
            );
        }
        assert!(!PAGE.contains("://"), "page contains an absolute URL");
        assert!(
            PAGE.contains(r#"<link rel="icon""#),
            "page has no favicon link"
        );
    }

    #[tokio::test]
    async fn referenced_assets_served_with_content_type() {
        for url in referenced_urls(&PAGE) {
            let response = get(url).await;

            assert_eq!(response.status(), StatusCode::OK, "{url}");
            assert_eq!(
                header_value(&response, header::CONTENT_TYPE),
                expected_content_type(url),
                "{url}"
            );
            assert_eq!(
                header_value(&response, header::CACHE_CONTROL),
                ASSET_CACHE_CONTROL,
                "{url}"
            );

            let name = url.strip_prefix(ASSETS_PATH).unwrap();
            let expected_body = ASSETS.find(name).unwrap().body;
            let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
            assert!(!body.is_empty(), "{url} is empty");
            assert_eq!(body.as_ref(), expected_body, "{url}");
        }
    }

    #[tokio::test]
    async fn page_served_as_html_with_policy() {
        let response = get("/graphiql").await;

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header_value(&response, header::CONTENT_TYPE), HTML);
        assert_eq!(
            header_value(&response, header::CACHE_CONTROL),
            PAGE_CACHE_CONTROL
        );
        assert_eq!(
            header_value(&response, header::CONTENT_SECURITY_POLICY),
            PAGE_CONTENT_SECURITY_POLICY
        );
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert_eq!(body.as_ref(), PAGE.as_bytes());
    }

    #[tokio::test]
    async fn unknown_asset_not_found() {
        for uri in [
            "/graphiql/assets/graphiql-0.0.0.min.js",
            "/graphiql/assets/favicon.ico",
            "/graphiql/assets/..%2F..%2FCargo.toml",
        ] {
            let response = get(uri).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
        }
    }

    #[test]
    fn default_query_parses() {
        let document = async_graphql::parser::parse_query(DEFAULT_QUERY)
            .expect("default query is valid GraphQL");

        let mut names: Vec<String> = document
            .operations
            .iter()
            .map(|(name, _)| name.map(|name| name.to_string()).unwrap_or_default())
            .collect();
        names.sort();
        assert_eq!(names, ["Login", "Me"]);
    }

    #[test]
    fn start_script_embeds_default_query() {
        let query = serde_json::to_string(DEFAULT_QUERY).unwrap();

        assert!(START_SCRIPT.contains(&query));
        assert!(!START_SCRIPT.contains("DEFAULT_QUERY_JSON"));
    }

    #[test]
    fn vendored_style_loads_nothing_remote() {
        let css = std::str::from_utf8(ASSETS.graphiql_style.body).unwrap();

        assert!(
            !css.contains("@import"),
            "graphiql CSS imports another stylesheet"
        );
        for (start, _) in css.match_indices("url(") {
            let target = css[start + "url(".len()..].trim_start_matches(['"', '\'']);
            assert!(
                target.starts_with("data:"),
                "graphiql CSS loads {}",
                target.chars().take(80).collect::<String>()
            );
        }
    }
}
