//! AWS X-Ray over HTTP and UDP: the rest-json API (merged into the AWS edge port's router and
//! served on the daemon's TCP port, where SDKs fetch sampling rules and targets unsigned), and the
//! daemon's UDP receiver.
//!
//! ```text
//!  POST /TraceSegments, /TraceSummaries, ... ─> waggle_xray::Xray ─> Store (append, scan)
//!  UDP datagrams ─drain─> decode + convert (blocking pool) ─> Store::append (one batch per drain)
//! ```
//!
//! Errors are botocore's rest-json shape: the status, `x-amzn-ErrorType: <Code>`, and a body
//! `{"__type": "<Code>", "message": "..."}`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value as Json, json};
use tokio::net::UdpSocket;
use waggle_xray::{MAX_DATAGRAM_BYTES, Operation, Xray, XrayError, decode_datagram};

use crate::AppState;
use crate::aws::parse_sigv4;

/// Largest request body (PutTraceSegments batches of 50 documents of 64 KB fit).
const MAX_XRAY_BODY_BYTES: usize = 16 << 20;
/// Datagrams converted and appended together, at most.
const MAX_DATAGRAMS_PER_BATCH: usize = 256;

/// The X-Ray API routes: `POST /TraceSegments`, `/TraceSummaries`, `/Traces`, ... (every path of
/// [`Operation::ALL`]).
pub fn xray_router(state: AppState) -> Router {
    let mut router = Router::new();
    for (operation, path) in Operation::ALL {
        router = router.route(
            path,
            post(move |state: State<AppState>, headers: HeaderMap, body: Bytes| {
                xray_call(state, headers, body, operation)
            }),
        );
    }
    router.layer(DefaultBodyLimit::max(MAX_XRAY_BODY_BYTES)).with_state(state)
}

fn json_response(status: StatusCode, body: &Json) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error_response(err: &XrayError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
    if status.is_server_error() {
        tracing::warn!(%err, "x-ray call failed");
    }
    let message = err.to_string();
    let mut response = json_response(status, &json!({"__type": err.code(), "message": message, "Message": message}));
    response.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static(err.code()));
    if matches!(err, XrayError::Throttled(_)) {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

async fn xray_call(State(state): State<AppState>, headers: HeaderMap, body: Bytes, operation: Operation) -> Response {
    let request: Json = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(request @ Json::Object(_)) => request,
            _ => return error_response(&XrayError::invalid("the request body must be a JSON object")),
        }
    };
    let access_key_id = parse_sigv4(&headers).map(|signature| signature.access_key_id);
    let xray = state.xray.clone();
    let answer = if operation == Operation::PutTraceSegments {
        put_trace_segments(xray, request, access_key_id).await
    } else {
        tokio::task::spawn_blocking(move || xray.call(operation, &request))
            .await
            .unwrap_or_else(|err| Err(XrayError::Internal(format!("x-ray task failed: {err}"))))
    };
    match answer {
        Ok(answer) => json_response(StatusCode::OK, &answer),
        Err(err) => error_response(&err),
    }
}

/// Converts on the blocking pool, appends, and answers once the batch is durable.
async fn put_trace_segments(xray: Arc<Xray>, request: Json, access_key_id: Option<String>) -> Result<Json, XrayError> {
    let (ticket, answer) = tokio::task::spawn_blocking(move || -> Result<_, XrayError> {
        let (batch, answer) = xray.put_trace_segments(&request, access_key_id.as_deref())?;
        if let Some(key) = &access_key_id {
            tracing::debug!(access_key_id = %key, "PutTraceSegments");
        }
        let ticket = if batch.is_empty() { None } else { Some(xray.store().append(batch)?) };
        Ok((ticket, answer))
    })
    .await
    .map_err(|err| XrayError::Internal(format!("x-ray task failed: {err}")))??;
    if let Some(ticket) = ticket {
        ticket.wait().await?;
    }
    Ok(answer)
}

/// Receives daemon datagrams on `socket` until `shutdown` resolves. Malformed datagrams are
/// counted and logged (the first, then every 1000th), never fatal; UDP has no acknowledgement,
/// so a batch the store refuses is dropped with a warning.
pub async fn serve_xray_daemon_udp(
    socket: UdpSocket,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    // One more byte than the limit, so an oversize datagram is seen as such.
    let mut buffer = vec![0u8; MAX_DATAGRAM_BYTES + 1];
    loop {
        let first = tokio::select! {
            () = &mut shutdown => return Ok(()),
            received = socket.recv(&mut buffer) => received,
        };
        let mut datagrams = match first {
            Ok(length) => vec![buffer[..length].to_vec()],
            Err(err) => {
                tracing::warn!(%err, "x-ray daemon: receive failed");
                continue;
            }
        };
        while datagrams.len() < MAX_DATAGRAMS_PER_BATCH {
            match socket.try_recv(&mut buffer) {
                Ok(length) => datagrams.push(buffer[..length].to_vec()),
                Err(_) => break,
            }
        }
        let xray = state.xray.clone();
        tokio::spawn(async move {
            let appended = tokio::task::spawn_blocking(move || store_datagrams(&xray, datagrams)).await;
            if let Ok(Some(ticket)) = appended
                && let Err(err) = ticket.wait().await
            {
                tracing::warn!(%err, "x-ray daemon: segments were dropped (UDP cannot be retried)");
            }
        });
    }
}

/// Decodes and converts datagrams and appends them as one batch.
fn store_datagrams(xray: &Xray, datagrams: Vec<Vec<u8>>) -> Option<waggle_store::AppendTicket> {
    let counters = &xray.counters;
    let mut documents = Vec::with_capacity(datagrams.len());
    for datagram in &datagrams {
        counters.datagrams.fetch_add(1, Ordering::Relaxed);
        match decode_datagram(datagram) {
            Ok(document) => documents.push(document),
            Err(err) => malformed(xray, &err.to_string()),
        }
    }
    let (batch, unprocessed) = xray.convert_documents(documents, None);
    for refused in unprocessed {
        malformed(xray, refused["Message"].as_str().unwrap_or_default());
    }
    if batch.is_empty() {
        return None;
    }
    match xray.store().append(batch) {
        Ok(ticket) => Some(ticket),
        Err(err) => {
            tracing::warn!(%err, "x-ray daemon: segments were dropped (UDP cannot be retried)");
            None
        }
    }
}

fn malformed(xray: &Xray, reason: &str) {
    let count = xray.counters.malformed.fetch_add(1, Ordering::Relaxed) + 1;
    if count == 1 || count.is_multiple_of(1000) {
        tracing::warn!(num_malformed = count, reason, "x-ray daemon: dropped a malformed datagram");
    } else {
        tracing::debug!(num_malformed = count, reason, "x-ray daemon: dropped a malformed datagram");
    }
}
