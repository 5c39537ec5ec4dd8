//! Turns the bytes of an OTLP request into opentelemetry-proto request messages, whatever transport
//! carried them: pick the encoding from the content type, undo the content encoding under a size
//! cap, then decode protobuf or OTLP/JSON.
//!
//! ```text
//! body --decompress--> bytes (<= max_bytes) --decode_traces / decode_logs--> Export*ServiceRequest
//!                                                                              |
//!                                                                 convert.rs --+--> waggle_model::Batch
//! ```
//!
//! OTLP/JSON goes through opentelemetry-proto's serde derives, with a fallback for what they refuse
//! but OTLP/JSON allows (see `json.rs`).

use std::io::Read;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::error::{OtlpError, Result};

mod json;

/// The two OTLP/HTTP payload encodings. The response uses the request's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Binary protobuf (`application/x-protobuf`).
    Protobuf,
    /// OTLP/JSON (`application/json`).
    Json,
}

impl Encoding {
    /// Picks the encoding from a `Content-Type` header value, ignoring parameters such as
    /// `; charset=utf-8` and case. Missing or anything else is refused (HTTP 415).
    pub fn from_content_type(content_type: Option<&str>) -> Result<Self> {
        let Some(content_type) = content_type else {
            return Err(OtlpError::UnsupportedContentType(String::new()));
        };
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        if media_type.eq_ignore_ascii_case("application/x-protobuf")
            || media_type.eq_ignore_ascii_case("application/protobuf")
        {
            Ok(Self::Protobuf)
        } else if media_type.eq_ignore_ascii_case("application/json") {
            Ok(Self::Json)
        } else {
            Err(OtlpError::UnsupportedContentType(content_type.chars().take(100).collect()))
        }
    }

    /// The `Content-Type` to answer with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Protobuf => "application/x-protobuf",
            Self::Json => "application/json",
        }
    }
}

/// Undoes `Content-Encoding` (none/`identity`, `gzip`, `deflate`, `zstd`), refusing output larger than
/// `max_bytes`.
///
/// The decompressed stream is read through `Read::take(max_bytes + 1)`, so a compression bomb
/// allocates at most the cap before it is refused. `deflate` is zlib-wrapped as HTTP specifies and as
/// opentelemetry-python sends it; raw deflate is accepted too when the zlib header is absent. An
/// empty body is an empty payload whatever the encoding claims.
pub fn decompress(content_encoding: Option<&str>, body: &[u8], max_bytes: usize) -> Result<Vec<u8>> {
    let encoding = content_encoding.unwrap_or("").trim().to_ascii_lowercase();
    if body.is_empty() && is_known_encoding(&encoding) {
        return Ok(Vec::new());
    }
    match encoding.as_str() {
        "" | "identity" | "none" => {
            if body.len() > max_bytes {
                return Err(OtlpError::TooLarge { limit: max_bytes });
            }
            Ok(body.to_vec())
        }
        "gzip" | "x-gzip" => read_capped(flate2::read::MultiGzDecoder::new(body), "gzip", max_bytes),
        "deflate" if has_zlib_header(body) => read_capped(flate2::read::ZlibDecoder::new(body), "deflate", max_bytes),
        "deflate" => read_capped(flate2::read::DeflateDecoder::new(body), "deflate", max_bytes),
        "zstd" => {
            let decoder = zstd::stream::read::Decoder::with_buffer(body)
                .map_err(|error| OtlpError::Decompress(format!("zstd: {error}")))?;
            read_capped(decoder, "zstd", max_bytes)
        }
        _ => Err(OtlpError::UnsupportedEncoding(encoding.chars().take(100).collect())),
    }
}

fn is_known_encoding(encoding: &str) -> bool {
    matches!(encoding, "" | "identity" | "none" | "gzip" | "x-gzip" | "deflate" | "zstd")
}

/// RFC 1950: compression method 8 (deflate), window at most 32 KiB, header checksum divisible by 31.
fn has_zlib_header(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

fn read_capped(reader: impl Read, encoding: &str, max_bytes: usize) -> Result<Vec<u8>> {
    let limit = u64::try_from(max_bytes).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    reader.take(limit).read_to_end(&mut out).map_err(|error| OtlpError::Decompress(format!("{encoding}: {error}")))?;
    if out.len() > max_bytes {
        return Err(OtlpError::TooLarge { limit: max_bytes });
    }
    Ok(out)
}

/// Decodes an `ExportTraceServiceRequest` (already decompressed).
pub fn decode_traces(encoding: Encoding, bytes: &[u8]) -> Result<ExportTraceServiceRequest> {
    decode_message(encoding, bytes)
}

/// Decodes an `ExportLogsServiceRequest` (already decompressed).
pub fn decode_logs(encoding: Encoding, bytes: &[u8]) -> Result<ExportLogsServiceRequest> {
    decode_message(encoding, bytes)
}

fn decode_message<T>(encoding: Encoding, bytes: &[u8]) -> Result<T>
where
    T: prost::Message + Default + serde::de::DeserializeOwned + json::AnyValues,
{
    match encoding {
        Encoding::Protobuf => T::decode(bytes).map_err(|error| OtlpError::Decode(format!("invalid protobuf: {error}"))),
        Encoding::Json => json::decode_json(bytes),
    }
}

#[cfg(test)]
mod tests;
