//! The daemon's UDP protocol: one datagram is a header line and one segment document,
//! `{"format": "json", "version": 1}\n{...}`. The header is parsed as JSON (SDKs differ in spacing);
//! only format `json` (any case) and version 1 are accepted, as the daemon does.

/// The largest datagram the daemon reads (its buffer is 64 KB).
pub const MAX_DATAGRAM_BYTES: usize = 64 * 1024;

/// Why a datagram was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatagramError {
    /// Over [`MAX_DATAGRAM_BYTES`].
    #[error("datagram of {0} bytes is over the 64 KB limit")]
    TooLarge(usize),
    /// No `\n` after the header.
    #[error("no header line: a datagram is {{\"format\": \"json\", \"version\": 1}}, a newline, then the segment")]
    NoHeader,
    /// The header is not the JSON object the protocol needs.
    #[error("bad header {0:?}: expected {{\"format\": \"json\", \"version\": 1}}")]
    BadHeader(String),
    /// The document is not UTF-8 text.
    #[error("segment document is not UTF-8")]
    NotUtf8,
}

/// The segment document of a datagram, still as text.
pub fn decode_datagram(datagram: &[u8]) -> Result<&str, DatagramError> {
    if datagram.len() > MAX_DATAGRAM_BYTES {
        return Err(DatagramError::TooLarge(datagram.len()));
    }
    let newline = datagram.iter().position(|byte| *byte == b'\n').ok_or(DatagramError::NoHeader)?;
    let (header, document) = (&datagram[..newline], &datagram[newline + 1..]);
    let header_text = String::from_utf8_lossy(header);
    let bad_header = || DatagramError::BadHeader(header_text.chars().take(100).collect());
    let parsed: serde_json::Value = serde_json::from_slice(header).map_err(|_| bad_header())?;
    let format_ok =
        parsed.get("format").and_then(|format| format.as_str()).is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let version_ok = parsed.get("version").and_then(serde_json::Value::as_i64) == Some(1);
    if !format_ok || !version_ok {
        return Err(bad_header());
    }
    std::str::from_utf8(document).map_err(|_| DatagramError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn test_decode_datagram_accepts_sdk_headers() {
        for header in [
            "{\"format\": \"json\", \"version\": 1}",
            "{\"format\":\"json\",\"version\":1}",
            "{\"format\":\"JSON\",\"version\":1}",
        ] {
            let datagram = format!("{header}\n{{\"name\":\"a\"}}");
            assert_eq!(decode_datagram(datagram.as_bytes()), Ok("{\"name\":\"a\"}"));
        }
    }

    #[test]
    fn test_decode_datagram_rejects_bad_headers() {
        assert_eq!(decode_datagram(b"{\"name\":\"a\"}"), Err(DatagramError::NoHeader));
        assert!(matches!(decode_datagram(b"{\"format\":\"xml\",\"version\":1}\n{}"), Err(DatagramError::BadHeader(_))));
        assert!(matches!(
            decode_datagram(b"{\"format\":\"json\",\"version\":2}\n{}"),
            Err(DatagramError::BadHeader(_))
        ));
        assert!(matches!(decode_datagram(b"not json\n{}"), Err(DatagramError::BadHeader(_))));
        assert_eq!(
            decode_datagram(&vec![b' '; MAX_DATAGRAM_BYTES + 1]),
            Err(DatagramError::TooLarge(MAX_DATAGRAM_BYTES + 1))
        );
    }

    proptest! {
        /// Any bytes: an error or a document, never a panic; a document is what followed the header.
        #[test]
        fn test_decode_datagram_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(document) = decode_datagram(&bytes) {
                prop_assert!(bytes.ends_with(document.as_bytes()));
            }
        }

        /// Valid headers with arbitrary documents round-trip.
        #[test]
        fn test_decode_datagram_keeps_the_document(document in "[ -~]{0,300}") {
            let datagram = format!("{{\"format\": \"json\", \"version\": 1}}\n{document}");
            prop_assert_eq!(decode_datagram(datagram.as_bytes()), Ok(document.as_str()));
        }
    }
}
