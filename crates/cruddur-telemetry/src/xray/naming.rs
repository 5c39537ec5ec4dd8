//! Segment names: the X-Ray SDKs' wildcard patterns (`*` any run of characters, `?` one, case
//! ignored), also used by sampling rules, and dynamic naming: a request whose `Host` matches the
//! pattern (`AWS_XRAY_URL`, e.g. `*4567*`) is named after its host, any other after the fallback
//! service name, as the Python SDK's `DefaultDynamicNaming` does.

/// X-Ray's longest segment name.
const MAX_NAME_CHARS: usize = 200;

/// True when `text` matches `pattern`: `*` matches any run of characters (none too), `?` exactly
/// one, everything else itself, ignoring case.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let pattern: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let text: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let (mut p, mut t) = (0, 0);
    // The last `*` seen and the text position it is currently stretched to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            // Let the last `*` swallow one more character and retry after it.
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|ch| *ch == '*')
}

/// Names segments: the request's host when it matches the pattern, else the fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicNaming {
    pattern: Option<String>,
    fallback: String,
}

impl DynamicNaming {
    /// `pattern` is `AWS_XRAY_URL` (none: every segment is named `fallback`).
    pub fn new(pattern: Option<String>, fallback: &str) -> Self {
        let fallback = sanitize_name(fallback).unwrap_or_else(|| "cruddur".to_owned());
        Self { pattern: pattern.filter(|pattern| !pattern.is_empty()), fallback }
    }

    /// The segment name of a request to `host` (the `Host` header, port included).
    pub fn name_for(&self, host: Option<&str>) -> String {
        match (&self.pattern, host) {
            (Some(pattern), Some(host)) if wildcard_match(pattern, host) => {
                sanitize_name(host).unwrap_or_else(|| self.fallback.clone())
            }
            _ => self.fallback.clone(),
        }
    }
}

/// `name` with the characters X-Ray refuses in names dropped (it takes letters, digits,
/// whitespace and `_ . : / % & # = + \ - @`), cut to 200 characters; `None` when nothing is left.
fn sanitize_name(name: &str) -> Option<String> {
    let allowed = |ch: &char| ch.is_alphanumeric() || ch.is_whitespace() || "_.:/%&#=+\\-@".contains(*ch);
    let clean: String = name.chars().filter(allowed).take(MAX_NAME_CHARS).collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_wildcard_match() {
        let cases = [
            ("*", "", true),
            ("*", "anything", true),
            ("", "", true),
            ("", "a", false),
            ("GET", "get", true),
            ("GET", "POST", false),
            ("/api/*", "/api/activities/home", true),
            ("/api/*", "/api", false),
            ("/api/activities/?ome", "/api/activities/home", true),
            ("/api/activities/?ome", "/api/activities/ome", false),
            ("*4567*", "127.0.0.1:4567", true),
            ("*4567*", "4567-abc.gitpod.io", true),
            ("*4567*", "localhost:3000", false),
            ("*.example.com", "api.EXAMPLE.com", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("a*b", "abab", true),
            ("**", "x", true),
            ("?", "", false),
            ("?*", "x", true),
            ("ünï*", "ÜNÏCODE", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(wildcard_match(pattern, text), expected, "{pattern:?} ~ {text:?}");
        }
    }

    #[test]
    fn test_dynamic_naming_uses_the_host_when_it_matches() {
        let naming = DynamicNaming::new(Some("*4567*".into()), "backend-flask");
        assert_eq!(naming.name_for(Some("127.0.0.1:4567")), "127.0.0.1:4567");
        assert_eq!(naming.name_for(Some("localhost:3000")), "backend-flask");
        assert_eq!(naming.name_for(None), "backend-flask");
        let fixed = DynamicNaming::new(None, "backend-flask");
        assert_eq!(fixed.name_for(Some("127.0.0.1:4567")), "backend-flask");
        assert_eq!(DynamicNaming::new(Some(String::new()), "x").name_for(Some("h")), "x");
    }

    #[test]
    fn test_names_keep_only_what_xray_accepts() {
        let naming = DynamicNaming::new(Some("*".into()), "backend-flask");
        assert_eq!(naming.name_for(Some("evil<script>:4567")), "evilscript:4567");
        assert_eq!(naming.name_for(Some("<>")), "backend-flask");
        assert_eq!(naming.name_for(Some(&"h".repeat(300))).len(), MAX_NAME_CHARS);
        assert_eq!(DynamicNaming::new(None, "<>").name_for(None), "cruddur");
    }
}
