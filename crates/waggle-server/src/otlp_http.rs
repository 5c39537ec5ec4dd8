//! OTLP/HTTP (`:4318`): `POST /v1/traces`, `/v1/logs`; `/v1/metrics` is refused with 501.
//!
//! Responses use the request's encoding; errors carry a `google.rpc.Status`. Browsers get CORS on
//! every route, the preflight included, since the JS exporter posts JSON cross-origin.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use waggle_otlp::{Encoding, OtlpError, RequestContext};
use waggle_store::StoreError;

use crate::AppState;
use crate::ingest::{Export, IngestError, ingest};

/// `google.rpc.Status` codes are gRPC's.
const CODE_UNIMPLEMENTED: i32 = tonic::Code::Unimplemented as i32;
const CODE_INTERNAL: i32 = tonic::Code::Internal as i32;
const CODE_UNAVAILABLE: i32 = tonic::Code::Unavailable as i32;

/// The OTLP/HTTP router.
pub fn otlp_http_router(state: AppState) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([axum::http::Method::POST, axum::http::Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .allow_credentials(true)
        .max_age(Duration::from_secs(3600));
    Router::new()
        .route("/v1/traces", post(traces_export))
        .route("/v1/logs", post(logs_export))
        .route("/v1/metrics", post(metrics_export))
        .layer(cors)
        .with_state(state)
}

#[derive(Clone, Copy)]
enum Signal {
    Traces,
    Logs,
}

async fn traces_export(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    export(state, headers, body, Signal::Traces).await
}

async fn logs_export(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    export(state, headers, body, Signal::Logs).await
}

async fn metrics_export(headers: HeaderMap) -> Response {
    let encoding = request_encoding(&headers).unwrap_or(Encoding::Json);
    let message =
        "metrics are not supported by waggle: nothing was stored; send traces to /v1/traces and logs to /v1/logs";
    status_response(StatusCode::NOT_IMPLEMENTED, encoding, CODE_UNIMPLEMENTED, message)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn request_encoding(headers: &HeaderMap) -> Result<Encoding, OtlpError> {
    Encoding::from_content_type(header_str(headers, header::CONTENT_TYPE.as_str()))
}

async fn export(state: AppState, headers: HeaderMap, body: Body, signal: Signal) -> Response {
    let encoding = match request_encoding(&headers) {
        Ok(encoding) => encoding,
        Err(err) => return otlp_error_response(Encoding::Json, &err),
    };
    let max_bytes = state.limits.max_body_bytes;
    let Ok(body) = axum::body::to_bytes(body, max_bytes).await else {
        return otlp_error_response(encoding, &OtlpError::TooLarge { limit: max_bytes });
    };
    let content_encoding = header_str(&headers, header::CONTENT_ENCODING.as_str()).map(str::to_owned);
    let context = RequestContext {
        team: header_str(&headers, waggle_otlp::TEAM_HEADER).map(str::to_owned),
        dataset_header: header_str(&headers, waggle_otlp::DATASET_HEADER).map(str::to_owned),
    };
    let decode = move || {
        let raw = waggle_otlp::decompress(content_encoding.as_deref(), &body, max_bytes)?;
        Ok(match signal {
            Signal::Traces => Export::Traces(waggle_otlp::decode_traces(encoding, &raw)?),
            Signal::Logs => Export::Logs(waggle_otlp::decode_logs(encoding, &raw)?),
        })
    };
    match ingest(state.store.clone(), context, decode).await {
        Ok(accepted) => {
            if accepted.rejected > 0 {
                tracing::debug!(rejected = accepted.rejected, "otlp request partially rejected");
            }
            let message = accepted.error_message.as_deref();
            let body = match signal {
                Signal::Traces => waggle_otlp::encode_trace_response(encoding, accepted.rejected, message),
                Signal::Logs => waggle_otlp::encode_logs_response(encoding, accepted.rejected, message),
            };
            ([(header::CONTENT_TYPE, encoding.content_type())], body).into_response()
        }
        Err(IngestError::Otlp(err)) => otlp_error_response(encoding, &err),
        Err(IngestError::Store(err)) => store_error_response(encoding, &err),
    }
}

fn status_response(status: StatusCode, encoding: Encoding, code: i32, message: &str) -> Response {
    let body = waggle_otlp::encode_status(encoding, code, message);
    (status, [(header::CONTENT_TYPE, encoding.content_type())], body).into_response()
}

fn otlp_error_response(encoding: Encoding, err: &OtlpError) -> Response {
    let status = StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    status_response(status, encoding, err.grpc_code() as i32, &err.to_string())
}

fn store_error_response(encoding: Encoding, err: &StoreError) -> Response {
    match err {
        StoreError::Overloaded { retry_after } => {
            let mut response =
                status_response(StatusCode::SERVICE_UNAVAILABLE, encoding, CODE_UNAVAILABLE, &err.to_string());
            let seconds = retry_after.as_secs().max(1).to_string();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_str(&seconds).expect("digits"));
            response
        }
        StoreError::Unavailable(_) => {
            status_response(StatusCode::SERVICE_UNAVAILABLE, encoding, CODE_UNAVAILABLE, &err.to_string())
        }
        _ => {
            tracing::error!(%err, "store failed during ingest");
            status_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                encoding,
                CODE_INTERNAL,
                "internal storage error; see the waggle log",
            )
        }
    }
}
