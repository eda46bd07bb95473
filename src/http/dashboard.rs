//! The live license dashboard at `/dashboard`, served entirely from the binary.
//!
//! The page is our own HTML, JavaScript and CSS from `src/http/dashboard/`,
//! plus uPlot (the seat curve) and the graphql-ws client (subscriptions),
//! which `src/build/main.rs` downloads, verifies and extracts into
//! `$OUT_DIR/dashboard/`. Every file is served under `/dashboard/assets/`, and
//! the page's Content-Security-Policy makes the browser block requests to any
//! other origin.
//!
//! The script talks only to `/graphql` on the same origin: queries and
//! mutations as JSON `POST` requests with the bearer token in the
//! `Authorization` header, subscriptions over a `graphql-transport-ws`
//! WebSocket whose `connection_init` payload carries the token. The token
//! stays in the tab's `sessionStorage`.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::assets::{self, Asset, CSS, HTML, JAVASCRIPT, PAGE_CACHE_CONTROL, SVG};

/// URL path prefix of the embedded files.
const ASSETS_PATH: &str = "/dashboard/assets/";

/// Content-Security-Policy of the page. Scripts, styles,
/// images and connections may come from this origin only, and no inline
/// script or style element runs. uPlot positions its elements through the
/// CSSOM (`element.style`), which `style-src` does not restrict.
///
/// NOTE: `connect-src 'self'` covers the subscription WebSocket only in
/// browsers that implement CSP Level 3, where `'self'` also matches `ws:` and
/// `wss:` URLs of the page's host. Older browsers block subscriptions.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Referrer-Policy of the page: its requests carry no `Referer` header.
const REFERRER_POLICY: &str = "no-referrer";

const PAGE_TEMPLATE: &str = include_str!("dashboard/index.html");
const APP_SCRIPT: &str = include_str!("dashboard/app.js");
const STYLE: &str = include_str!("dashboard/style.css");
const FAVICON_SVG: &str = include_str!("dashboard/favicon.svg");

static ASSETS: LazyLock<Assets> = LazyLock::new(Assets::load);

static PAGE: LazyLock<String> = LazyLock::new(|| render_page(&ASSETS));

/// Routes for `GET /dashboard` and `GET /dashboard/assets/{file}`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard/assets/{file}", get(asset))
}

async fn page() -> Response {
    let headers = [
        (header::CONTENT_TYPE, HTML),
        (header::CACHE_CONTROL, PAGE_CACHE_CONTROL),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::REFERRER_POLICY, REFERRER_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    (headers, PAGE.as_str()).into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    assets::respond(ASSETS.find(&file), "dashboard asset not found")
}

/// Builds an [`Asset`] from a file that the build script extracted into
/// `$OUT_DIR/dashboard/`. The names must match the `output` names in
/// `src/build/main.rs`, and they carry the package version.
macro_rules! vendored_asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name.to_owned(),
            content_type: $content_type,
            body: include_bytes!(concat!(env!("OUT_DIR"), "/dashboard/", $name)),
        }
    };
}

/// The files that the page loads.
struct Assets {
    uplot_script: Asset,
    uplot_style: Asset,
    graphql_ws: Asset,
    app_script: Asset,
    style: Asset,
    favicon: Asset,
}

impl Assets {
    fn load() -> Self {
        Self {
            uplot_script: vendored_asset!("uplot-1.6.32.iife.min.js", JAVASCRIPT),
            uplot_style: vendored_asset!("uplot-1.6.32.min.css", CSS),
            graphql_ws: vendored_asset!("graphql-ws-6.4.2.min.js", JAVASCRIPT),
            app_script: Asset::content_addressed(
                "dashboard",
                "js",
                JAVASCRIPT,
                APP_SCRIPT.as_bytes(),
            ),
            style: Asset::content_addressed("dashboard", "css", CSS, STYLE.as_bytes()),
            favicon: Asset::content_addressed("favicon", "svg", SVG, FAVICON_SVG.as_bytes()),
        }
    }

    fn all(&self) -> [&Asset; 6] {
        [
            &self.uplot_script,
            &self.uplot_style,
            &self.graphql_ws,
            &self.app_script,
            &self.style,
            &self.favicon,
        ]
    }

    fn find(&self, name: &str) -> Option<&Asset> {
        self.all().into_iter().find(|asset| asset.name == name)
    }
}

/// Fills the asset URLs into `index.html`. Asset names contain only ASCII
/// letters, digits, `.` and `-`, so they need no HTML escaping.
fn render_page(assets: &Assets) -> String {
    [
        ("{{favicon}}", &assets.favicon),
        ("{{uplot_style}}", &assets.uplot_style),
        ("{{style}}", &assets.style),
        ("{{uplot_script}}", &assets.uplot_script),
        ("{{graphql_ws}}", &assets.graphql_ws),
        ("{{app_script}}", &assets.app_script),
    ]
    .into_iter()
    .fold(PAGE_TEMPLATE.to_owned(), |page, (placeholder, asset)| {
        page.replace(placeholder, &asset.url(ASSETS_PATH))
    })
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
        assert!(!PAGE.contains("{{"), "page has an unfilled placeholder");
        assert!(!PAGE.contains("://"), "page contains an absolute URL");
    }

    #[tokio::test]
    async fn referenced_assets_served() {
        for url in referenced_urls(&PAGE) {
            let response = get(url).await;

            assert_eq!(response.status(), StatusCode::OK, "{url}");
            assert_eq!(
                header_value(&response, header::CACHE_CONTROL),
                ASSET_CACHE_CONTROL,
                "{url}"
            );
            let name = url.strip_prefix(ASSETS_PATH).unwrap();
            let asset = ASSETS.find(name).unwrap();
            assert_eq!(
                header_value(&response, header::CONTENT_TYPE),
                asset.content_type,
                "{url}"
            );
            let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
            assert!(!body.is_empty(), "{url} is empty");
            assert_eq!(body.as_ref(), asset.body, "{url}");
        }
    }

    #[tokio::test]
    async fn page_served_with_policy() {
        let response = get("/dashboard").await;

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header_value(&response, header::CONTENT_TYPE), HTML);
        assert_eq!(
            header_value(&response, header::CACHE_CONTROL),
            PAGE_CACHE_CONTROL
        );
        assert_eq!(
            header_value(&response, header::CONTENT_SECURITY_POLICY),
            CONTENT_SECURITY_POLICY
        );
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert_eq!(body.as_ref(), PAGE.as_bytes());
    }

    #[tokio::test]
    async fn unknown_asset_not_found() {
        for uri in [
            "/dashboard/assets/uplot-0.0.0.iife.min.js",
            "/dashboard/assets/app.js",
            "/dashboard/assets/..%2F..%2FCargo.toml",
        ] {
            let response = get(uri).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
        }
    }

    #[test]
    fn styles_load_nothing_remote() {
        for asset in [&ASSETS.uplot_style, &ASSETS.style] {
            let css = std::str::from_utf8(asset.body).unwrap();

            assert!(
                !css.contains("@import"),
                "{} imports a stylesheet",
                asset.name
            );
            for (start, _) in css.match_indices("url(") {
                let target = css[start + "url(".len()..].trim_start_matches(['"', '\'']);
                assert!(
                    target.starts_with("data:"),
                    "{} loads {}",
                    asset.name,
                    target.chars().take(80).collect::<String>()
                );
            }
        }
    }

    #[test]
    fn vendored_scripts_carry_license() {
        for asset in [
            &ASSETS.uplot_script,
            &ASSETS.uplot_style,
            &ASSETS.graphql_ws,
        ] {
            let text = std::str::from_utf8(asset.body).unwrap();

            assert!(
                text.starts_with("/*! "),
                "{} has no license comment",
                asset.name
            );
            assert!(
                text.contains("MIT License"),
                "{} lacks the MIT license text",
                asset.name
            );
            assert!(
                !text.contains("sourceMappingURL"),
                "{} refers to a source map",
                asset.name
            );
        }
    }
}
