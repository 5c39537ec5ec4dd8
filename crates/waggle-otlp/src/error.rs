//! Errors of the OTLP decoding path, each knowing its HTTP status and gRPC code, so the server maps
//! them to both transports in one place instead of guessing from the message.
//!
//! Every variant is caused by the client; none of them is worth logging above `debug`.

/// Result of this crate's fallible functions.
pub type Result<T, E = OtlpError> = std::result::Result<T, E>;

/// Why an OTLP request could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtlpError {
    /// The `Content-Type` is missing or names neither protobuf nor JSON.
    #[error(
        "unsupported content-type {0:?}: content-type must be application/x-protobuf or \
         application/json"
    )]
    UnsupportedContentType(String),
    /// The `Content-Encoding` is not one waggle can decompress.
    #[error("unsupported content-encoding {0:?}: use gzip, deflate, zstd or no compression")]
    UnsupportedEncoding(String),
    /// The body is larger than the limit once decompressed.
    #[error("request body is larger than {limit} bytes after decompression: send smaller batches")]
    TooLarge {
        /// The limit, in decompressed bytes.
        limit: usize,
    },
    /// The body could not be decompressed with the encoding it claimed.
    #[error("could not decompress the request body: {0}")]
    Decompress(String),
    /// The body is not a valid OTLP message in the encoding it claimed.
    #[error("could not decode the request body: {0}")]
    Decode(String),
}

impl OtlpError {
    /// The HTTP status OTLP/HTTP answers with: 400, 413 or 415.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::UnsupportedContentType(_) | Self::UnsupportedEncoding(_) => 415,
            Self::TooLarge { .. } => 413,
            Self::Decompress(_) | Self::Decode(_) => 400,
        }
    }

    /// The gRPC status code OTLP/gRPC answers with.
    ///
    /// gRPC answers an unknown compression with `UNIMPLEMENTED` (per the gRPC compression spec);
    /// everything else the client sent wrong is `INVALID_ARGUMENT`, except a too large message,
    /// which is `RESOURCE_EXHAUSTED`.
    pub fn grpc_code(&self) -> tonic::Code {
        match self {
            Self::UnsupportedEncoding(_) => tonic::Code::Unimplemented,
            Self::TooLarge { .. } => tonic::Code::ResourceExhausted,
            Self::UnsupportedContentType(_) | Self::Decompress(_) | Self::Decode(_) => tonic::Code::InvalidArgument,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_otlp_error_codes() {
        let cases = [
            (OtlpError::UnsupportedContentType("text/plain".into()), 415, tonic::Code::InvalidArgument),
            (OtlpError::UnsupportedEncoding("br".into()), 415, tonic::Code::Unimplemented),
            (OtlpError::TooLarge { limit: 10 }, 413, tonic::Code::ResourceExhausted),
            (OtlpError::Decompress("bad".into()), 400, tonic::Code::InvalidArgument),
            (OtlpError::Decode("bad".into()), 400, tonic::Code::InvalidArgument),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.http_status(), status, "{error}");
            assert_eq!(error.grpc_code(), code, "{error}");
        }
    }

    #[test]
    fn test_otlp_error_messages_say_what_to_do() {
        let message = OtlpError::UnsupportedContentType("text/plain".into()).to_string();
        assert_eq!(
            message,
            "unsupported content-type \"text/plain\": content-type must be application/x-protobuf \
             or application/json"
        );
        let message = OtlpError::TooLarge { limit: 10 }.to_string();
        assert!(message.starts_with("request body is larger than 10 bytes"), "{message}");
    }
}
