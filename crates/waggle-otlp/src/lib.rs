//! OTLP (OpenTelemetry protocol) decoding and conversion into waggle's wide events, independent of
//! the transport: the HTTP and gRPC servers (in `waggle-server`) hand this crate bytes and headers
//! and get back a [`waggle_model::Batch`] plus the partial-success counts to answer with.
//!
//! ```text
//! HTTP body / gRPC message
//!   -> decompress (gzip, deflate, zstd; capped)      decode.rs
//!   -> decode_traces / decode_logs (protobuf, JSON)   decode.rs
//!   -> traces_to_batch / logs_to_batch                convert.rs  (Honeycomb's dataset and field rules)
//!   -> Batch to the store; encode_*_response back     response.rs
//! ```
//!
//! Layout: `error` (the one error type, with HTTP status and gRPC code), `decode` (content type,
//! content encoding, protobuf and OTLP/JSON), `convert` (OTLP messages to events), `response`
//! (response and `google.rpc.Status` bodies).

#![warn(missing_docs)]

mod convert;
mod decode;
mod error;
mod response;

pub use convert::{
    Converted, DATASET_HEADER, RequestContext, TEAM_HEADER, UNKNOWN_LOG_SOURCE, UNKNOWN_SERVICE, is_classic_key,
    logs_to_batch, traces_to_batch,
};
pub use decode::{Encoding, decode_logs, decode_traces, decompress};
pub use error::{OtlpError, Result};
pub use response::{encode_logs_response, encode_status, encode_trace_response};

/// The opentelemetry-proto collector messages and tonic services, for the servers.
pub use opentelemetry_proto::tonic::collector::{
    logs::v1 as logs_service, metrics::v1 as metrics_service, trace::v1 as trace_service,
};
