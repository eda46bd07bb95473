//! Files embedded in the binary and served by the GraphiQL and dashboard
//! pages under names that change with their content.

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

pub(super) const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
pub(super) const CSS: &str = "text/css; charset=utf-8";
pub(super) const SVG: &str = "image/svg+xml";
pub(super) const HTML: &str = "text/html; charset=utf-8";

/// Every asset name changes with its content (vendored files carry their
/// package version, our own files a content hash), so browsers may keep
/// assets for a year without revalidating.
pub(super) const ASSET_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// A page is revalidated on every load, so it always names the assets of
/// the running binary.
pub(super) const PAGE_CACHE_CONTROL: &str = "no-cache";

/// A file served under a page's assets path.
pub(super) struct Asset {
    pub(super) name: String,
    pub(super) content_type: &'static str,
    pub(super) body: &'static [u8],
}

impl Asset {
    /// Creates an asset whose name carries the first 16 hex digits of the
    /// SHA-256 of `body`, as `STEM-HASH.EXTENSION`, so that a changed file
    /// gets a new URL and never meets a stale browser cache.
    pub(super) fn content_addressed(stem: &str, extension: &str, content_type: &'static str, body: &'static [u8]) -> Self {
        let digest = hex::encode(Sha256::digest(body));
        Self { name: format!("{stem}-{}.{extension}", &digest[..16]), content_type, body }
    }

    /// Returns the asset's URL under `assets_path`, such as `/graphiql/assets/`.
    pub(super) fn url(&self, assets_path: &str) -> String {
        format!("{assets_path}{}", self.name)
    }
}

/// Serves an asset with its type and a year of caching, or HTTP 404 with `not_found` as the body.
pub(super) fn respond(asset: Option<&Asset>, not_found: &'static str) -> Response {
    let Some(asset) = asset else {
        return (StatusCode::NOT_FOUND, not_found).into_response();
    };
    let headers = [
        (header::CONTENT_TYPE, asset.content_type),
        (header::CACHE_CONTROL, ASSET_CACHE_CONTROL),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    (headers, asset.body).into_response()
}
