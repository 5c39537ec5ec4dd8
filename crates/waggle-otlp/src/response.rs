//! Response bodies for OTLP/HTTP, in the request's encoding: the `Export*ServiceResponse` on success
//! (with `partial_success` only when something was rejected) and a `google.rpc.Status` on error.
//!
//! The JSON bodies are written by hand rather than through opentelemetry-proto's serde derives,
//! which would print `"partialSuccess": null` for a full success and `rejectedSpans` as a JSON number
//! where OTLP/JSON wants 64-bit integers as strings.

use opentelemetry_proto::tonic::collector::logs::v1::{ExportLogsPartialSuccess, ExportLogsServiceResponse};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTracePartialSuccess, ExportTraceServiceResponse};
use prost::Message;
use serde_json::{Map, Value as Json, json};

use crate::decode::Encoding;

/// `google.rpc.Status`, which opentelemetry-proto does not ship.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    /// A `google.rpc.Code` value.
    #[prost(int32, tag = "1")]
    code: i32,
    /// Developer-facing message.
    #[prost(string, tag = "2")]
    message: String,
    /// Details; always empty here.
    #[prost(message, repeated, tag = "3")]
    details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`, only so [`RpcStatus`] has the right shape.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoAny {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// A `google.rpc.Status` body (`code` is a gRPC code number, e.g. 3 for invalid argument), as
/// OTLP/HTTP error responses carry.
pub fn encode_status(encoding: Encoding, code: i32, message: &str) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => RpcStatus { code, message: message.to_owned(), details: Vec::new() }.encode_to_vec(),
        Encoding::Json => json!({"code": code, "message": message}).to_string().into_bytes(),
    }
}

/// The `ExportTraceServiceResponse` body: empty on full success, `partial_success` when
/// `rejected > 0`.
pub fn encode_trace_response(encoding: Encoding, rejected: u64, error_message: Option<&str>) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => {
            let partial_success = (rejected > 0).then(|| ExportTracePartialSuccess {
                rejected_spans: saturating_i64(rejected),
                error_message: error_message.unwrap_or("").to_owned(),
            });
            ExportTraceServiceResponse { partial_success }.encode_to_vec()
        }
        Encoding::Json => json_response("rejectedSpans", rejected, error_message),
    }
}

/// The `ExportLogsServiceResponse` body: empty on full success, `partial_success` when
/// `rejected > 0`.
pub fn encode_logs_response(encoding: Encoding, rejected: u64, error_message: Option<&str>) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => {
            let partial_success = (rejected > 0).then(|| ExportLogsPartialSuccess {
                rejected_log_records: saturating_i64(rejected),
                error_message: error_message.unwrap_or("").to_owned(),
            });
            ExportLogsServiceResponse { partial_success }.encode_to_vec()
        }
        Encoding::Json => json_response("rejectedLogRecords", rejected, error_message),
    }
}

fn json_response(count_key: &str, rejected: u64, error_message: Option<&str>) -> Vec<u8> {
    let mut body = Map::new();
    if rejected > 0 {
        let mut partial = Map::new();
        partial.insert(count_key.to_owned(), Json::String(saturating_i64(rejected).to_string()));
        if let Some(message) = error_message.filter(|message| !message.is_empty()) {
            partial.insert("errorMessage".to_owned(), Json::String(message.to_owned()));
        }
        body.insert("partialSuccess".to_owned(), Json::Object(partial));
    }
    Json::Object(body).to_string().into_bytes()
}

fn saturating_i64(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_encode_status_protobuf_round_trip() {
        let body = encode_status(Encoding::Protobuf, 3, "bad data");
        let status = RpcStatus::decode(body.as_slice()).unwrap();
        assert_eq!(status.code, 3);
        assert_eq!(status.message, "bad data");
        // Field 1 varint 3, field 2 length-delimited "bad data".
        assert_eq!(&body[..2], &[0x08, 0x03]);
        assert_eq!(body[2], 0x12);
    }

    #[test]
    fn test_encode_status_json() {
        let body = encode_status(Encoding::Json, 3, "bad \"data\"");
        let json: Json = serde_json::from_slice(&body).unwrap();
        assert_eq!(json, json!({"code": 3, "message": "bad \"data\""}));
    }

    #[test]
    fn test_encode_trace_response_success_is_empty() {
        assert_eq!(encode_trace_response(Encoding::Json, 0, None), b"{}");
        assert_eq!(encode_trace_response(Encoding::Json, 0, Some("ignored")), b"{}");
        assert!(encode_trace_response(Encoding::Protobuf, 0, None).is_empty());
        assert_eq!(encode_logs_response(Encoding::Json, 0, None), b"{}");
        assert!(encode_logs_response(Encoding::Protobuf, 0, None).is_empty());
    }

    #[test]
    fn test_encode_trace_response_partial_success() {
        let body = encode_trace_response(Encoding::Json, 3, Some("3 spans rejected"));
        let json: Json = serde_json::from_slice(&body).unwrap();
        assert_eq!(json, json!({"partialSuccess": {"rejectedSpans": "3", "errorMessage": "3 spans rejected"}}));
        let body = encode_trace_response(Encoding::Protobuf, 3, Some("3 spans rejected"));
        let response = ExportTraceServiceResponse::decode(body.as_slice()).unwrap();
        let partial = response.partial_success.unwrap();
        assert_eq!(partial.rejected_spans, 3);
        assert_eq!(partial.error_message, "3 spans rejected");
    }

    #[test]
    fn test_encode_logs_response_partial_success() {
        let body = encode_logs_response(Encoding::Json, 2, Some("why"));
        let json: Json = serde_json::from_slice(&body).unwrap();
        assert_eq!(json, json!({"partialSuccess": {"rejectedLogRecords": "2", "errorMessage": "why"}}));
        let body = encode_logs_response(Encoding::Protobuf, 2, None);
        let response = ExportLogsServiceResponse::decode(body.as_slice()).unwrap();
        assert_eq!(response.partial_success.unwrap().rejected_log_records, 2);
    }
}
