//! The browser frontend's listener: the built files (`scripts/build-frontend.sh`) and `/config.js`.
//!
//! `/config.js` tells the page where the backend and the OTLP/HTTP receiver are, so one build works
//! against waggle on any port or against Honeycomb. Paths that are not files (`/notifications`,
//! `/@worf`) get `index.html`: the page routes on the client.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use tower_http::services::{ServeDir, ServeFile};

/// What the page needs to know, served as `window.CRUDDUR_CONFIG`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowserConfig {
    /// Backend base URL; `None`: the page's own host name on `backend_port`.
    pub backend_url: Option<String>,
    /// Port of the backend, for the default above.
    pub backend_port: u16,
    /// Where the browser sends its spans (`.../v1/traces`).
    pub otlp_traces_url: String,
    /// Headers for the browser's exports (an ingest-only key for Honeycomb, never the backend's key).
    pub otlp_headers: Vec<(String, String)>,
    /// The browser's `service.name`.
    pub service_name: String,
    /// The header the page names its user in.
    pub user_header: &'static str,
}

/// The frontend router, serving `dir`.
pub fn app(dir: &Path, config: BrowserConfig) -> Router {
    let index = dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(dir = %dir.display(), "frontend is not built: run scripts/build-frontend.sh");
    }
    Router::new()
        .route("/config.js", get(config_js))
        .fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)))
        .with_state(config)
}

async fn config_js(State(config): State<BrowserConfig>, headers: HeaderMap) -> impl IntoResponse {
    let mut config = config;
    if config.backend_url.is_none() {
        // The page reaches the backend by the host name it was loaded from (localhost, 127.0.0.1,
        // a Gitpod-like forwarded name), so CORS origins and cookies stay consistent.
        let host = headers.get(header::HOST).and_then(|host| host.to_str().ok()).unwrap_or("localhost");
        config.backend_url = Some(format!("http://{}:{}", host_name(host), config.backend_port));
    }
    // Serializing these plain strings cannot fail; an empty object would only leave the page unconfigured.
    let json = serde_json::to_string(&config).unwrap_or_else(|_| "{}".to_owned());
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
        format!("window.CRUDDUR_CONFIG = {json};\n"),
    )
}

/// `host` of a `Host` header without its port (`[::1]:3000` -> `[::1]`).
fn host_name(host: &str) -> &str {
    match host.rfind(':') {
        Some(colon) if !host[colon..].contains(']') => &host[..colon],
        _ => host,
    }
}

/// `k1=v1,k2=v2` (the `OTEL_EXPORTER_OTLP_HEADERS` format) as pairs; entries without `=` are skipped.
pub fn parse_headers(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .filter(|(key, _)| !key.is_empty())
        .collect()
}

/// `endpoint` + `/v1/traces`, as the OTLP exporters derive it.
pub fn traces_url(endpoint: &str) -> String {
    let endpoint = endpoint.trim_end_matches('/');
    if endpoint.ends_with("/v1/traces") { endpoint.to_owned() } else { format!("{endpoint}/v1/traces") }
}

/// Where the built frontend is by default: `frontend/dist` next to this crate's sources.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("frontend").join("dist")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_host_name_drops_port() {
        assert_eq!(host_name("localhost:3000"), "localhost");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
        assert_eq!(host_name("[::1]:3000"), "[::1]");
        assert_eq!(host_name("[::1]"), "[::1]");
    }

    #[test]
    fn test_parse_headers() {
        assert_eq!(
            parse_headers("x-honeycomb-team=KEY, x-honeycomb-dataset = front ,junk"),
            vec![("x-honeycomb-team".into(), "KEY".into()), ("x-honeycomb-dataset".into(), "front".into())]
        );
        assert!(parse_headers("").is_empty());
    }

    #[test]
    fn test_traces_url() {
        assert_eq!(traces_url("http://localhost:4318"), "http://localhost:4318/v1/traces");
        assert_eq!(traces_url("https://api.honeycomb.io/"), "https://api.honeycomb.io/v1/traces");
        assert_eq!(traces_url("http://x/v1/traces"), "http://x/v1/traces");
    }
}
