//! waggle's browser console on the web port: the single-page app built from `ui/` and embedded at
//! compile time (`build.rs`), so the binary serves it offline, with nothing fetched at run time.
//!
//! The app routes on the client (`/query`, `/trace/{id}`, ...): every GET that is not an asset and
//! not an API path gets `index.html`. API paths that matched no route stay JSON 404s.
//!
//! For console development, `WAGGLE_CONSOLE_DIR=ui/dist` serves the files from disk instead, so a
//! rebuilt bundle shows on reload without recompiling waggle.

#![warn(missing_docs)]

use std::borrow::Cow;
use std::path::PathBuf;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// Paths the console never answers with its page: the web port's APIs.
const API_PREFIXES: &[&str] = &["/api/", "/1/", "/aws"];

/// The console's router: use it as the web port's fallback, after every API route.
pub fn console_router() -> Router {
    let dir = std::env::var_os("WAGGLE_CONSOLE_DIR").map(PathBuf::from);
    Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
        let dir = dir.clone();
        async move { serve(dir, &method, &uri, &headers) }
    })
}

/// Whether the console's assets were built into this binary.
pub fn is_built() -> bool {
    embedded::ASSETS.iter().any(|(path, _)| *path == "index.html")
}

fn serve(dir: Option<PathBuf>, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    let path = uri.path();
    if API_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
        let body = format!("{{\"error\": \"no such endpoint: {method} {path} (see docs/API.md)\"}}");
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")], "").into_response();
    }
    let relative = path.trim_start_matches('/');
    // A file name has an extension; anything else is one of the app's own routes.
    let is_file = relative.rsplit('/').next().is_some_and(|last| last.contains('.'));
    let wanted = if is_file { relative } else { "index.html" };
    match asset(dir.as_ref(), wanted) {
        Some(bytes) => respond(wanted, bytes, headers),
        None if is_file => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
        None => not_built(),
    }
}

fn asset(dir: Option<&PathBuf>, relative: &str) -> Option<Cow<'static, [u8]>> {
    if relative.split('/').any(|part| part == ".." || part.is_empty()) {
        return None;
    }
    match dir {
        Some(dir) => std::fs::read(dir.join(relative)).ok().map(Cow::Owned),
        None => embedded::ASSETS.iter().find(|(path, _)| *path == relative).map(|(_, bytes)| Cow::Borrowed(*bytes)),
    }
}

fn respond(path: &str, bytes: Cow<'static, [u8]>, headers: &HeaderMap) -> Response {
    let etag = format!("\"{:016x}\"", fnv1a(&bytes));
    if headers.get(header::IF_NONE_MATCH).is_some_and(|tag| tag.as_bytes() == etag.as_bytes()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
    // `no-cache`: the browser revalidates (a cheap 304) so a new waggle never shows an old console.
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type(path))),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, etag),
    ];
    (headers, bytes.into_owned()).into_response()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "map" | "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn not_built() -> Response {
    let page = "<!doctype html><title>waggle console not built</title>\
        <body style=\"font-family:system-ui;margin:3rem\"><h1>The console is not built</h1>\
        <p>This waggle binary was compiled without the console's assets. Run \
        <code>scripts/build-console.sh</code> and rebuild waggle (<code>scripts/up.sh</code> does both). \
        The APIs on this port work regardless.</p></body>";
    (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

/// A content hash for ETags (FNV-1a: tiny, and collisions only cost a stale reload).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn get(router: Router, path: &str) -> Response {
        router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap()
    }

    fn dev_router(dir: &std::path::Path) -> Router {
        let dir = Some(dir.to_path_buf());
        Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
            let dir = dir.clone();
            async move { serve(dir, &method, &uri, &headers) }
        })
    }

    #[tokio::test]
    async fn client_routes_get_the_page_and_api_misses_stay_json() {
        let dir = std::env::temp_dir().join(format!("waggle-console-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("index.html"), "<html>console</html>").unwrap();
        std::fs::write(dir.join("assets/app.js"), "console.log(1)").unwrap();
        let router = dev_router(&dir);

        let page = get(router.clone(), "/trace/0123").await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let script = get(router.clone(), "/assets/app.js").await;
        assert_eq!(script.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(get(router.clone(), "/assets/missing.js").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(get(router.clone(), "/assets/../../etc/passwd.txt").await.status(), StatusCode::NOT_FOUND);
        let api = get(router.clone(), "/api/nothing").await;
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert_eq!(api.headers()[header::CONTENT_TYPE], "application/json");

        let etag = script.headers()[header::ETAG].clone();
        let request = Request::get("/assets/app.js").header(header::IF_NONE_MATCH, etag).body(Body::empty()).unwrap();
        assert_eq!(router.oneshot(request).await.unwrap().status(), StatusCode::NOT_MODIFIED);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_missing_build_says_how_to_build_it() {
        let dir = std::env::temp_dir().join(format!("waggle-console-empty-{}", std::process::id()));
        let page = get(dev_router(&dir), "/").await;
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(page.into_body(), 1 << 16).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("scripts/build-console.sh"));
    }
}
