//! The AWS edge port (default `127.0.0.1:4566`, like LocalStack): one listener for the AWS APIs
//! waggle speaks. CloudWatch Logs is AWS JSON 1.1: `POST /` with `X-Amz-Target:
//! Logs_20140328.<Operation>`; rest-json services (X-Ray) add their own paths by merging their
//! router into [`aws_router`]'s.
//!
//! SigV4 `Authorization` headers are parsed, not verified: the access key id is recorded on what
//! is stored and the region shapes ARNs.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use waggle_logs::CallContext;

use crate::AppState;

/// The CloudWatch Logs target prefix (service `logs`, API version 2014-03-28).
const LOGS_TARGET_PREFIX: &str = "Logs_20140328";
/// AWS JSON 1.1's content type.
const AMZ_JSON: &str = "application/x-amz-json-1.1";
/// Bodies up to this size are read (PutLogEvents itself stops at 1 MiB of messages).
const MAX_AWS_BODY_BYTES: usize = 16 << 20;

/// The parts of a SigV4 `Authorization` header waggle uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4 {
    /// The access key id (first part of `Credential=`).
    pub access_key_id: String,
    /// The scope's date, `YYYYMMDD`.
    pub date: String,
    /// The scope's region.
    pub region: String,
    /// The scope's service (`logs`, `xray`).
    pub service: String,
}

/// Parses `AWS4-HMAC-SHA256 Credential=<AKID>/<date>/<region>/<service>/aws4_request, ...`; `None`
/// when the header is missing or not SigV4. The signature is not checked.
pub fn parse_sigv4(headers: &HeaderMap) -> Option<SigV4> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?;
    let credential = rest.split(',').find_map(|part| part.trim().strip_prefix("Credential="))?;
    let mut scope = credential.split('/');
    let (access_key_id, date, region, service) = (scope.next()?, scope.next()?, scope.next()?, scope.next()?);
    if access_key_id.is_empty() {
        return None;
    }
    Some(SigV4 {
        access_key_id: access_key_id.into(),
        date: date.into(),
        region: region.into(),
        service: service.into(),
    })
}

/// The AWS edge port's routes: CloudWatch Logs on `POST /`. Merge other AWS services' routers in.
pub fn aws_router(state: AppState) -> Router {
    Router::new().route("/", post(aws_json)).layer(DefaultBodyLimit::max(MAX_AWS_BODY_BYTES)).with_state(state)
}

/// A JSON 1.1 answer: `__type` names the error for botocore and the SDKs.
fn amz_json(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(AMZ_JSON));
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

fn amz_error(status: StatusCode, type_name: &str, message: &str) -> Response {
    amz_json(status, &json!({"__type": type_name, "message": message}))
}

async fn aws_json(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers.get("x-amz-target").and_then(|value| value.to_str().ok()).unwrap_or("");
    let Some((LOGS_TARGET_PREFIX, operation)) = target.split_once('.') else {
        let message = match target {
            "" => {
                "missing X-Amz-Target: waggle's AWS port speaks CloudWatch Logs (Logs_20140328.<Operation>)".to_owned()
            }
            other => format!("waggle does not implement {other} (it speaks Logs_20140328.<Operation> here)"),
        };
        return amz_error(StatusCode::BAD_REQUEST, "UnknownOperationException", &message);
    };
    let signature = parse_sigv4(&headers);
    let context = CallContext {
        access_key_id: signature.as_ref().map(|signature| signature.access_key_id.clone()),
        region: signature.map(|signature| signature.region),
    };
    match state.logs.call(operation, &body, &context).await {
        Ok(answer) => amz_json(StatusCode::OK, &answer),
        Err(err) => {
            let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
            if status.is_server_error() {
                tracing::warn!(%err, operation, "cloudwatch logs call failed");
            }
            let mut response = amz_error(status, err.type_name(), &err.to_string());
            if status == StatusCode::SERVICE_UNAVAILABLE {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_parse_sigv4() {
        let mut headers = HeaderMap::new();
        assert_eq!(parse_sigv4(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/eu-west-1/logs/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0123abcd",
            ),
        );
        let parsed = parse_sigv4(&headers).unwrap();
        assert_eq!(parsed.access_key_id, "AKIDEXAMPLE");
        assert_eq!((parsed.region.as_str(), parsed.service.as_str()), ("eu-west-1", "logs"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic dXNlcjpwYXNz"));
        assert_eq!(parse_sigv4(&headers), None);
    }
}
