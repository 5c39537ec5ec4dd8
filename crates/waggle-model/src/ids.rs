//! Trace and span ids: fixed-size byte arrays, shown as lowercase hex.

use std::fmt;

/// Why an id could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    /// The input had the wrong number of bytes.
    #[error("{what} must be {expected} bytes, got {actual}")]
    Length {
        /// `trace id` or `span id`.
        what: &'static str,
        /// Required length in bytes.
        expected: usize,
        /// Length received.
        actual: usize,
    },
    /// The input was not hexadecimal.
    #[error("{what} is not hex: {input:?}")]
    NotHex {
        /// `trace id` or `span id`.
        what: &'static str,
        /// The offending text.
        input: String,
    },
    /// All-zero ids are invalid in OpenTelemetry.
    #[error("{what} is all zeros")]
    Zero {
        /// `trace id` or `span id`.
        what: &'static str,
    },
}

macro_rules! id_type {
    ($name:ident, $len:expr, $what:expr, $doc:expr) => {
        #[doc = $doc]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Number of bytes in this id.
            pub const LEN: usize = $len;

            /// Takes an id from raw bytes, refusing a wrong length or all zeros.
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdError> {
                let array: [u8; $len] = bytes.try_into().map_err(|_| IdError::Length {
                    what: $what,
                    expected: $len,
                    actual: bytes.len(),
                })?;
                if array == [0; $len] {
                    return Err(IdError::Zero { what: $what });
                }
                Ok(Self(array))
            }

            /// Parses a hex id (case-insensitive).
            pub fn from_hex(text: &str) -> Result<Self, IdError> {
                let bytes = hex::decode(text)
                    .map_err(|_| IdError::NotHex { what: $what, input: text.chars().take(64).collect() })?;
                Self::from_bytes(&bytes)
            }

            /// Lowercase hex.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }
    };
}

id_type!(TraceId, 16, "trace id", "A 16-byte trace id.");
id_type!(SpanId, 8, "span id", "An 8-byte span id.");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_trace_id_hex_round_trip() {
        let id = TraceId::from_hex("5B8EFFF798038103D269B633813FC60C").unwrap();
        assert_eq!(id.to_hex(), "5b8efff798038103d269b633813fc60c");
    }

    #[test]
    fn test_ids_reject_wrong_length_and_zero() {
        assert!(matches!(SpanId::from_bytes(&[1; 7]), Err(IdError::Length { expected: 8, actual: 7, .. })));
        assert_eq!(SpanId::from_bytes(&[0; 8]), Err(IdError::Zero { what: "span id" }));
        assert!(TraceId::from_hex("zz").is_err());
    }
}
