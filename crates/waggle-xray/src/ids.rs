//! X-Ray ids and OpenTelemetry's: `1-58406520-a006649127e371903a2de979` is the 128-bit trace id
//! `58406520a006649127e371903a2de979` (the first 32 bits are the epoch seconds), as AWS maps them
//! for OpenTelemetry; segment ids are 64-bit span ids in 16 hex characters.

use waggle_model::{SpanId, TraceId};

/// Parses an X-Ray trace id (`1-{8 hex}-{24 hex}`); a 32-hex OpenTelemetry id is accepted too.
pub fn parse_trace_id(text: &str) -> Result<TraceId, String> {
    let hex = match text.split('-').collect::<Vec<_>>().as_slice() {
        ["1", epoch, random] if epoch.len() == 8 && random.len() == 24 => format!("{epoch}{random}"),
        [plain] if plain.len() == 32 => (*plain).to_owned(),
        _ => return Err(format!("trace id {text:?} is not of the form 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx")),
    };
    TraceId::from_hex(&hex).map_err(|err| format!("trace id {text:?}: {err}"))
}

/// The X-Ray spelling of a trace id.
pub fn format_trace_id(id: TraceId) -> String {
    let hex = id.to_hex();
    format!("1-{}-{}", &hex[..8], &hex[8..])
}

/// Parses a segment id: 16 hex characters.
pub fn parse_segment_id(text: &str) -> Result<SpanId, String> {
    if text.len() != 16 {
        return Err(format!("segment id {text:?} must be 16 hex characters"));
    }
    SpanId::from_hex(text).map_err(|err| format!("segment id {text:?}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_trace_id_maps_as_aws_does_for_opentelemetry() {
        let id = parse_trace_id("1-58406520-a006649127e371903a2de979").unwrap();
        assert_eq!(id.to_hex(), "58406520a006649127e371903a2de979");
        assert_eq!(format_trace_id(id), "1-58406520-a006649127e371903a2de979");
        assert_eq!(parse_trace_id("58406520a006649127e371903a2de979").unwrap(), id);
    }

    #[test]
    fn test_trace_id_rejects_other_shapes() {
        for bad in ["2-58406520-a006649127e371903a2de979", "1-5840652-a006649127e371903a2de9790", "1-zz", ""] {
            assert!(parse_trace_id(bad).is_err(), "{bad}");
        }
        assert!(parse_segment_id("53995c3f42cd8ad8").is_ok());
        assert!(parse_segment_id("53995c3f42cd8ad").is_err());
    }
}
