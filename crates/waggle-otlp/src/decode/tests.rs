//! Content types, decompression, protobuf decoding, and fuzzing of both decoders.

use std::io::Write;

use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use proptest::prelude::*;
use prost::Message;

use super::*;

const CAP: usize = 1 << 20;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn zstd_compress(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}

fn sample_payload() -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span { name: "GET /".into(), ..Default::default() }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// The first span of a decoded trace request.
pub(super) fn first_span(request: &ExportTraceServiceRequest) -> &Span {
    &request.resource_spans[0].scope_spans[0].spans[0]
}

pub(super) fn first_attribute(span: &Span) -> Option<&any_value::Value> {
    span.attributes[0].value.as_ref().and_then(|value: &AnyValue| value.value.as_ref())
}

#[test]
fn test_encoding_from_content_type() {
    let protobuf = Ok(Encoding::Protobuf);
    assert_eq!(Encoding::from_content_type(Some("application/x-protobuf")), protobuf);
    assert_eq!(Encoding::from_content_type(Some("application/protobuf")), protobuf);
    assert_eq!(Encoding::from_content_type(Some("Application/X-Protobuf")), protobuf);
    assert_eq!(Encoding::from_content_type(Some("application/json")), Ok(Encoding::Json));
    assert_eq!(Encoding::from_content_type(Some("application/json; charset=utf-8")), Ok(Encoding::Json));
    assert_eq!(Encoding::from_content_type(Some(" APPLICATION/JSON ;charset=UTF-8")), Ok(Encoding::Json));
    for refused in [None, Some(""), Some("text/plain"), Some("application/jsonx"), Some("json")] {
        let error = Encoding::from_content_type(refused).unwrap_err();
        assert!(matches!(error, OtlpError::UnsupportedContentType(_)), "{refused:?}");
        assert_eq!(error.http_status(), 415);
    }
}

#[test]
fn test_encoding_content_type_round_trip() {
    for encoding in [Encoding::Protobuf, Encoding::Json] {
        assert_eq!(Encoding::from_content_type(Some(encoding.content_type())), Ok(encoding));
    }
}

#[test]
fn test_decompress_round_trips_every_encoding() {
    let payload = sample_payload();
    let cases = [
        (None, payload.clone()),
        (Some("identity"), payload.clone()),
        (Some(""), payload.clone()),
        (Some("gzip"), gzip(&payload)),
        (Some("GZIP"), gzip(&payload)),
        (Some("deflate"), zlib(&payload)),
        (Some("deflate"), raw_deflate(&payload)),
        (Some("zstd"), zstd_compress(&payload)),
    ];
    for (encoding, body) in cases {
        assert_eq!(decompress(encoding, &body, CAP).unwrap(), payload, "{encoding:?}");
    }
}

#[test]
fn test_decompress_empty_body_is_empty() {
    for encoding in [None, Some("gzip"), Some("deflate"), Some("zstd")] {
        assert_eq!(decompress(encoding, b"", CAP).unwrap(), Vec::<u8>::new(), "{encoding:?}");
    }
}

#[test]
fn test_decompress_exactly_at_cap_is_accepted() {
    let payload = vec![7u8; 1000];
    assert_eq!(decompress(Some("gzip"), &gzip(&payload), 1000).unwrap(), payload);
    assert_eq!(decompress(None, &payload, 1000).unwrap(), payload);
    assert_eq!(decompress(None, &payload, 999), Err(OtlpError::TooLarge { limit: 999 }));
}

#[test]
fn test_decompress_bomb_over_cap_is_too_large() {
    // 64 MiB of zeros compresses to a few tens of kilobytes.
    let bomb = vec![0u8; 64 << 20];
    let cases = [("gzip", gzip(&bomb)), ("deflate", zlib(&bomb)), ("zstd", zstd_compress(&bomb))];
    for (encoding, body) in cases {
        assert!(body.len() < CAP, "{encoding} bomb is {} bytes", body.len());
        let error = decompress(Some(encoding), &body, CAP).unwrap_err();
        assert_eq!(error, OtlpError::TooLarge { limit: CAP }, "{encoding}");
        assert_eq!(error.http_status(), 413);
        assert_eq!(error.grpc_code(), tonic::Code::ResourceExhausted);
    }
}

#[test]
fn test_decompress_garbage_is_an_error() {
    let garbage = b"this is not compressed at all, not even a little";
    for encoding in ["gzip", "deflate", "zstd"] {
        let error = decompress(Some(encoding), garbage, CAP).unwrap_err();
        assert!(matches!(error, OtlpError::Decompress(_)), "{encoding}: {error:?}");
        assert_eq!(error.http_status(), 400);
    }
    // A valid gzip stream cut short.
    let truncated = gzip(&sample_payload());
    let error = decompress(Some("gzip"), &truncated[..truncated.len() / 2], CAP).unwrap_err();
    assert!(matches!(error, OtlpError::Decompress(_)), "{error:?}");
}

#[test]
fn test_decompress_unknown_encoding_is_unsupported() {
    let error = decompress(Some("br"), b"abc", CAP).unwrap_err();
    assert_eq!(error, OtlpError::UnsupportedEncoding("br".into()));
    assert_eq!(error.http_status(), 415);
    assert_eq!(error.grpc_code(), tonic::Code::Unimplemented);
}

#[test]
fn test_decode_traces_protobuf() {
    let request = decode_traces(Encoding::Protobuf, &sample_payload()).unwrap();
    assert_eq!(first_span(&request).name, "GET /");
    let empty = decode_traces(Encoding::Protobuf, b"").unwrap();
    assert!(empty.resource_spans.is_empty());
}

#[test]
fn test_decode_traces_protobuf_garbage_is_decode_error() {
    let error = decode_traces(Encoding::Protobuf, b"\x0a\xff\xff\xff\xff\x0f").unwrap_err();
    assert!(matches!(error, OtlpError::Decode(_)), "{error:?}");
    assert_eq!(error.http_status(), 400);
    assert!(decode_logs(Encoding::Protobuf, b"\xff").is_err());
}

proptest! {
    #[test]
    fn test_decode_traces_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_traces(Encoding::Protobuf, &bytes);
        let _ = decode_traces(Encoding::Json, &bytes);
    }

    #[test]
    fn test_decode_logs_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_logs(Encoding::Protobuf, &bytes);
        let _ = decode_logs(Encoding::Json, &bytes);
    }

    #[test]
    fn test_decode_json_like_text_never_panics(text in r#"[\[\]{}",:0-9a-zA-Z ]{0,200}"#) {
        let _ = decode_traces(Encoding::Json, text.as_bytes());
        let _ = decode_logs(Encoding::Json, text.as_bytes());
    }

    #[test]
    fn test_decompress_never_panics_and_respects_cap(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        cap in 0usize..2048,
        encoding in prop::sample::select(vec!["identity", "gzip", "deflate", "zstd", "br"]),
    ) {
        if let Ok(out) = decompress(Some(encoding), &bytes, cap) {
            prop_assert!(out.len() <= cap);
        }
    }

    #[test]
    fn test_decompress_valid_streams_respect_cap(
        payload in proptest::collection::vec(any::<u8>(), 0..4096),
        cap in 0usize..4096,
    ) {
        for (encoding, body) in [("gzip", gzip(&payload)), ("deflate", zlib(&payload)),
                                 ("deflate", raw_deflate(&payload)), ("zstd", zstd_compress(&payload))] {
            match decompress(Some(encoding), &body, cap) {
                Ok(out) => prop_assert_eq!(&out, &payload),
                Err(error) => {
                    prop_assert!(payload.len() > cap, "{encoding}: {error}");
                    prop_assert_eq!(error, OtlpError::TooLarge { limit: cap });
                }
            }
        }
    }
}
