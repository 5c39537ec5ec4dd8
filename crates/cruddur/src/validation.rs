//! Input rules, as the bootcamp's services check them; every broken rule is reported at once,
//! with the bootcamp's error codes (`message_blank`, `message_exceed_max_chars`, ...).

use chrono::TimeDelta;

/// Longest activity, in characters (the bootcamp's 280).
pub const MAX_ACTIVITY_CHARS: usize = 280;
/// Longest reply or direct message, in characters (the bootcamp's 1024).
pub const MAX_MESSAGE_CHARS: usize = 1024;

/// The broken rules, as error codes.
pub type Errors = Vec<&'static str>;

/// A new activity's text and lifetime (`ttl`: `30-days`, `7-days`, `3-days`, `1-day`, `12-hours`,
/// `3-hours`, `1-hour`).
pub fn validate_activity(message: Option<&str>, ttl: Option<&str>) -> Result<(String, TimeDelta), Errors> {
    let mut errors = Errors::new();
    let message = check_text(message, MAX_ACTIVITY_CHARS, &mut errors);
    let ttl = match ttl.map(str::trim) {
        None | Some("") => {
            errors.push("ttl_blank");
            None
        }
        Some(ttl) => {
            let lifetime = ttl_duration(ttl);
            if lifetime.is_none() {
                errors.push("ttl_invalid");
            }
            lifetime
        }
    };
    match (message, ttl) {
        (Some(message), Some(ttl)) if errors.is_empty() => Ok((message, ttl)),
        _ => Err(errors),
    }
}

/// A reply's text.
pub fn validate_reply(message: Option<&str>) -> Result<String, Errors> {
    let mut errors = Errors::new();
    check_text(message, MAX_MESSAGE_CHARS, &mut errors).ok_or(errors)
}

/// A direct message's text and receiver handle (with or without its `@`).
pub fn validate_message(message: Option<&str>, receiver_handle: Option<&str>) -> Result<(String, String), Errors> {
    let mut errors = Errors::new();
    let message = check_text(message, MAX_MESSAGE_CHARS, &mut errors);
    let receiver =
        receiver_handle.map(|handle| handle.trim().trim_start_matches('@')).filter(|handle| !handle.is_empty());
    if receiver.is_none() {
        errors.push("user_receiver_handle_blank");
    }
    match (message, receiver) {
        (Some(message), Some(receiver)) if errors.is_empty() => Ok((message, receiver.to_owned())),
        _ => Err(errors),
    }
}

/// A search term.
pub fn validate_search(term: Option<&str>) -> Result<String, Errors> {
    match term.map(str::trim) {
        Some(term) if !term.is_empty() => Ok(term.to_owned()),
        _ => Err(vec!["search_term_blank"]),
    }
}

fn check_text(text: Option<&str>, max_chars: usize, errors: &mut Errors) -> Option<String> {
    match text.map(str::trim) {
        None | Some("") => {
            errors.push("message_blank");
            None
        }
        Some(text) if text.chars().count() > max_chars => {
            errors.push("message_exceed_max_chars");
            None
        }
        Some(text) => Some(text.to_owned()),
    }
}

fn ttl_duration(ttl: &str) -> Option<TimeDelta> {
    let lifetime = match ttl {
        "30-days" => TimeDelta::days(30),
        "7-days" => TimeDelta::days(7),
        "3-days" => TimeDelta::days(3),
        "1-day" => TimeDelta::days(1),
        "12-hours" => TimeDelta::hours(12),
        "3-hours" => TimeDelta::hours(3),
        "1-hour" => TimeDelta::hours(1),
        _ => return None,
    };
    Some(lifetime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_validate_activity_accepts_bootcamp_ttls() {
        let (message, ttl) = validate_activity(Some("  Cloud is fun! "), Some("7-days")).unwrap();
        assert_eq!(message, "Cloud is fun!");
        assert_eq!(ttl, TimeDelta::days(7));
        assert_eq!(validate_activity(Some("x"), Some("1-hour")).unwrap().1, TimeDelta::hours(1));
    }

    #[test]
    fn test_validate_activity_reports_every_error() {
        assert_eq!(validate_activity(None, None).unwrap_err(), vec!["message_blank", "ttl_blank"]);
        assert_eq!(validate_activity(Some("   "), Some("2-weeks")).unwrap_err(), vec!["message_blank", "ttl_invalid"]);
    }

    #[test]
    fn test_validate_activity_max_chars_counts_characters() {
        let exactly = "🐝".repeat(MAX_ACTIVITY_CHARS);
        assert!(validate_activity(Some(&exactly), Some("1-day")).is_ok());
        let over = "a".repeat(MAX_ACTIVITY_CHARS + 1);
        assert_eq!(validate_activity(Some(&over), Some("1-day")).unwrap_err(), vec!["message_exceed_max_chars"]);
    }

    #[test]
    fn test_validate_reply_and_message_limits() {
        assert_eq!(validate_reply(Some("")).unwrap_err(), vec!["message_blank"]);
        assert!(validate_reply(Some(&"a".repeat(MAX_MESSAGE_CHARS))).is_ok());
        assert_eq!(
            validate_message(Some(&"a".repeat(MAX_MESSAGE_CHARS + 1)), None).unwrap_err(),
            vec!["message_exceed_max_chars", "user_receiver_handle_blank"]
        );
        assert_eq!(validate_message(Some("hi"), Some("@worf")).unwrap(), ("hi".to_owned(), "worf".to_owned()));
    }

    #[test]
    fn test_validate_search() {
        assert_eq!(validate_search(Some(" prune ")).unwrap(), "prune");
        assert_eq!(validate_search(Some("")).unwrap_err(), vec!["search_term_blank"]);
        assert_eq!(validate_search(None).unwrap_err(), vec!["search_term_blank"]);
    }
}
