//! The X-Ray variables: the X-Ray SDKs' own, plus two polling periods for tests.

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::time::Duration;

use crate::error::{Result, TelemetryError};

/// `host:port` of the daemon (UDP for segments, TCP for sampling), or `tcp:host:port udp:host:port`.
/// Unset: no X-Ray at all.
pub const ENV_DAEMON_ADDRESS: &str = "AWS_XRAY_DAEMON_ADDRESS";
/// Dynamic naming: requests whose `Host` matches this pattern (`*4567*`) are named after the host.
pub const ENV_DYNAMIC_NAMING: &str = "AWS_XRAY_URL";
/// The segment name otherwise (the SDKs' override of the configured service name).
pub const ENV_TRACING_NAME: &str = "AWS_XRAY_TRACING_NAME";
/// Seconds between two `GetSamplingRules` calls (the SDKs: 300).
pub const ENV_RULES_INTERVAL: &str = "CRUDDUR_XRAY_SAMPLING_RULES_INTERVAL";
/// Seconds between two `SamplingTargets` calls (the SDKs: 10).
pub const ENV_TARGETS_INTERVAL: &str = "CRUDDUR_XRAY_SAMPLING_TARGETS_INTERVAL";
/// The segment name without `AWS_XRAY_TRACING_NAME` or a dynamic-naming match: the bootcamp's
/// `xray_recorder.configure(service='backend-flask')`. It differs from the OTLP `service.name`
/// (`cruddur-backend`) on purpose: waggle files segments under their name, so the X-Ray copy of
/// a request never lands in the OpenTelemetry dataset.
pub const DEFAULT_SEGMENT_NAME: &str = "backend-flask";

const DEFAULT_RULES_INTERVAL: Duration = Duration::from_secs(300);
const DEFAULT_TARGETS_INTERVAL: Duration = Duration::from_secs(10);

/// Where segments go and how they are named and sampled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XrayConfig {
    /// The daemon's UDP address (segment documents).
    pub udp: SocketAddr,
    /// The daemon's TCP address (`/GetSamplingRules`, `/SamplingTargets`).
    pub tcp: SocketAddr,
    /// Name of segments whose host does not match [`XrayConfig::dynamic_naming`].
    pub segment_name: String,
    /// The dynamic naming pattern (`AWS_XRAY_URL`).
    pub dynamic_naming: Option<String>,
    /// Period of `GetSamplingRules`.
    pub rules_interval: Duration,
    /// Period of `SamplingTargets`.
    pub targets_interval: Duration,
}

impl XrayConfig {
    /// Reads the variables through `lookup`; `None` when `AWS_XRAY_DAEMON_ADDRESS` is unset or empty.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let Some(address) = lookup(ENV_DAEMON_ADDRESS).filter(|value| !value.trim().is_empty()) else {
            return Ok(None);
        };
        let (udp, tcp) = parse_daemon_address(&address)?;
        let seconds = |name: &str, default: Duration| -> Result<Duration> {
            match lookup(name).filter(|value| !value.trim().is_empty()) {
                None => Ok(default),
                Some(value) => value
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| {
                        TelemetryError::Config(format!("{name}={value:?}: give a number of seconds above 0"))
                    }),
            }
        };
        Ok(Some(Self {
            udp,
            tcp,
            segment_name: lookup(ENV_TRACING_NAME)
                .filter(|name| !name.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_SEGMENT_NAME.to_owned()),
            dynamic_naming: lookup(ENV_DYNAMIC_NAMING).filter(|pattern| !pattern.trim().is_empty()),
            rules_interval: seconds(ENV_RULES_INTERVAL, DEFAULT_RULES_INTERVAL)?,
            targets_interval: seconds(ENV_TARGETS_INTERVAL, DEFAULT_TARGETS_INTERVAL)?,
        }))
    }
}

/// `(udp, tcp)` of `host:port` or `tcp:host:port udp:host:port` (either order).
fn parse_daemon_address(value: &str) -> Result<(SocketAddr, SocketAddr)> {
    let bad = |why: String| {
        TelemetryError::Config(format!(
            "{ENV_DAEMON_ADDRESS}={value:?}: {why}; use host:port (127.0.0.1:2000) or tcp:host:port udp:host:port"
        ))
    };
    let parts: Vec<&str> = value.split_whitespace().collect();
    match parts.as_slice() {
        [single] if !single.starts_with("tcp:") && !single.starts_with("udp:") => {
            let address = resolve(single).map_err(bad)?;
            Ok((address, address))
        }
        [first, second] => {
            let (mut udp, mut tcp) = (None, None);
            for part in [first, second] {
                if let Some(rest) = part.strip_prefix("udp:") {
                    udp = Some(resolve(rest).map_err(bad)?);
                } else if let Some(rest) = part.strip_prefix("tcp:") {
                    tcp = Some(resolve(rest).map_err(bad)?);
                }
            }
            match (udp, tcp) {
                (Some(udp), Some(tcp)) => Ok((udp, tcp)),
                _ => Err(bad("both a tcp: and a udp: address are needed".into())),
            }
        }
        _ => Err(bad("not an address".into())),
    }
}

/// An address for `host:port`, IPv4 first (a daemon on `localhost` usually listens on 127.0.0.1).
fn resolve(host_port: &str) -> Result<SocketAddr, String> {
    let addresses: Vec<SocketAddr> =
        host_port.to_socket_addrs().map_err(|err| format!("cannot resolve {host_port:?}: {err}"))?.collect();
    addresses
        .iter()
        .find(|address| address.is_ipv4())
        .or_else(|| addresses.first())
        .copied()
        .ok_or_else(|| format!("{host_port:?} resolves to no address"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Option<XrayConfig>> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        XrayConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn test_no_daemon_address_means_no_xray() {
        assert_eq!(config(&[]).unwrap(), None);
        assert_eq!(config(&[(ENV_DAEMON_ADDRESS, " ")]).unwrap(), None);
    }

    #[test]
    fn test_one_address_for_both_and_defaults() {
        let config = config(&[(ENV_DAEMON_ADDRESS, "127.0.0.1:2000")]).unwrap().unwrap();
        assert_eq!(config.udp, "127.0.0.1:2000".parse().unwrap());
        assert_eq!(config.tcp, config.udp);
        assert_eq!(config.segment_name, DEFAULT_SEGMENT_NAME);
        assert_eq!(config.dynamic_naming, None);
        assert_eq!(config.rules_interval, Duration::from_secs(300));
        assert_eq!(config.targets_interval, Duration::from_secs(10));
    }

    #[test]
    fn test_separate_tcp_and_udp_addresses_names_and_intervals() {
        let config = config(&[
            (ENV_DAEMON_ADDRESS, "udp:127.0.0.1:3000 tcp:127.0.0.2:3001"),
            (ENV_DYNAMIC_NAMING, "*4567*"),
            (ENV_TRACING_NAME, "Cruddur"),
            (ENV_RULES_INTERVAL, "0.5"),
            (ENV_TARGETS_INTERVAL, "2"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.udp, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(config.tcp, "127.0.0.2:3001".parse().unwrap());
        assert_eq!(config.dynamic_naming.as_deref(), Some("*4567*"));
        assert_eq!(config.segment_name, "Cruddur");
        assert_eq!(config.rules_interval, Duration::from_millis(500));
        assert_eq!(config.targets_interval, Duration::from_secs(2));
    }

    #[test]
    fn test_localhost_resolves_to_ipv4_first() {
        let config = config(&[(ENV_DAEMON_ADDRESS, "localhost:2000")]).unwrap().unwrap();
        assert_eq!(config.udp, "127.0.0.1:2000".parse().unwrap());
    }

    #[test]
    fn test_bad_values_are_refused_with_the_expected_form() {
        for bad in ["nonsense", "tcp:127.0.0.1:2000", "udp:127.0.0.1:1 udp:127.0.0.1:2", "a b c"] {
            let err = config(&[(ENV_DAEMON_ADDRESS, bad)]).unwrap_err().to_string();
            assert!(err.contains("tcp:host:port udp:host:port"), "{bad}: {err}");
        }
        let err = config(&[(ENV_DAEMON_ADDRESS, "127.0.0.1:2000"), (ENV_RULES_INTERVAL, "0")]).unwrap_err();
        assert!(err.to_string().contains(ENV_RULES_INTERVAL));
    }
}
