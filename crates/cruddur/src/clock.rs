//! Timestamps as stored and served: RFC 3339, UTC, microseconds (`2023-02-20T10:00:00.123456Z`).
//! The fixed width makes text order time order, in SQLite and PostgreSQL alike.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

/// `time` in the stored form.
pub fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Now, in the stored form.
pub fn now() -> String {
    timestamp(Utc::now())
}

/// `offset` from now, in the stored form (negative for the past).
pub fn from_now(offset: TimeDelta) -> String {
    timestamp(Utc::now() + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_timestamp_is_fixed_width_utc() {
        let time = DateTime::from_timestamp(1_676_887_200, 5_000).unwrap();
        assert_eq!(timestamp(time), "2023-02-20T10:00:00.000005Z");
        assert!(from_now(TimeDelta::hours(-1)) < now());
    }
}
