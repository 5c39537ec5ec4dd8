//! Settings: defaults, then `waggle.toml`, then `WAGGLE_*` environment variables, then flags.
//!
//! ```toml
//! data_dir = "/var/lib/waggle"
//! [listen]
//! otlp_grpc = "127.0.0.1:4317"
//! otlp_http = "127.0.0.1:4318"
//! web = "127.0.0.1:7070"
//! aws = "127.0.0.1:4566"
//! xray_daemon = "127.0.0.1:2000"
//! [retention]
//! max_age = "7d"
//! max_bytes = "10GiB"
//! check_interval = "60s"
//! [storage]
//! flush_interval = "30s"
//! flush_max_rows = 200000
//! flush_max_bytes = "64MiB"
//! max_head_bytes = "128MiB"
//! max_queued_batches = 256
//! max_columns_per_segment = 1000
//! query_cache_bytes = "256MiB"
//! [limits]
//! max_body_bytes = "64MiB"
//! max_grpc_message_bytes = "16MiB"
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;
use waggle_server::Limits;
use waggle_store::StoreConfig;

use crate::units::{parse_duration, parse_size};

/// The config file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    #[serde(default)]
    listen: ListenSection,
    #[serde(default)]
    retention: RetentionSection,
    #[serde(default)]
    storage: StorageSection,
    #[serde(default)]
    limits: LimitsSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListenSection {
    otlp_grpc: Option<SocketAddr>,
    otlp_http: Option<SocketAddr>,
    web: Option<SocketAddr>,
    aws: Option<SocketAddr>,
    xray_daemon: Option<SocketAddr>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionSection {
    max_age: Option<String>,
    max_bytes: Option<String>,
    check_interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StorageSection {
    flush_interval: Option<String>,
    flush_max_rows: Option<u64>,
    flush_max_bytes: Option<String>,
    max_head_bytes: Option<String>,
    max_queued_batches: Option<usize>,
    max_columns_per_segment: Option<usize>,
    query_cache_bytes: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    max_body_bytes: Option<String>,
    max_grpc_message_bytes: Option<String>,
}

/// Flags shared by `waggle up` and `waggle serve`; each also reads a `WAGGLE_*` variable.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// TOML config file (see `waggle.example.toml`)
    #[arg(long, env = "WAGGLE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where data is kept [default: $XDG_DATA_HOME/waggle or ~/.local/share/waggle]
    #[arg(long, env = "WAGGLE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// OTLP/gRPC listen address [default: 127.0.0.1:4317]
    #[arg(long, env = "WAGGLE_OTLP_GRPC_ADDR", value_name = "ADDR")]
    pub otlp_grpc_addr: Option<SocketAddr>,
    /// OTLP/HTTP listen address [default: 127.0.0.1:4318]
    #[arg(long, env = "WAGGLE_OTLP_HTTP_ADDR", value_name = "ADDR")]
    pub otlp_http_addr: Option<SocketAddr>,
    /// Web port: console and JSON APIs [default: 127.0.0.1:7070]
    #[arg(long, env = "WAGGLE_WEB_ADDR", value_name = "ADDR")]
    pub web_addr: Option<SocketAddr>,
    /// AWS edge port: CloudWatch Logs (and X-Ray's API) [default: 127.0.0.1:4566]
    #[arg(long, env = "WAGGLE_AWS_ADDR", value_name = "ADDR")]
    pub aws_addr: Option<SocketAddr>,
    /// X-Ray daemon: segments over UDP, sampling rules and targets over TCP [default: 127.0.0.1:2000]
    #[arg(long, env = "WAGGLE_XRAY_DAEMON_ADDR", value_name = "ADDR")]
    pub xray_daemon_addr: Option<SocketAddr>,
    /// Keep data this long, by event time [default: 7d]
    #[arg(long, env = "WAGGLE_RETENTION_MAX_AGE", value_name = "DURATION", value_parser = parse_duration)]
    pub retention_max_age: Option<std::time::Duration>,
    /// Delete the oldest data beyond this total size [default: 10GiB]
    #[arg(long, env = "WAGGLE_RETENTION_MAX_BYTES", value_name = "SIZE", value_parser = parse_size)]
    pub retention_max_bytes: Option<u64>,
    /// How often retention runs [default: 60s]
    #[arg(long, env = "WAGGLE_RETENTION_CHECK_INTERVAL", value_name = "DURATION", value_parser = parse_duration)]
    pub retention_check_interval: Option<std::time::Duration>,
    /// Flush in-memory data to segments at least this often [default: 30s]
    #[arg(long, env = "WAGGLE_FLUSH_INTERVAL", value_name = "DURATION", value_parser = parse_duration)]
    pub flush_interval: Option<std::time::Duration>,
    /// ... or when this many rows are in memory [default: 200000]
    #[arg(long, env = "WAGGLE_FLUSH_MAX_ROWS", value_name = "N")]
    pub flush_max_rows: Option<u64>,
    /// ... or when this many compressed bytes are in memory [default: 64MiB]
    #[arg(long, env = "WAGGLE_FLUSH_MAX_BYTES", value_name = "SIZE", value_parser = parse_size)]
    pub flush_max_bytes: Option<u64>,
    /// Refuse writes (503) while more than this is waiting in memory [default: 128MiB]
    #[arg(long, env = "WAGGLE_MAX_HEAD_BYTES", value_name = "SIZE", value_parser = parse_size)]
    pub max_head_bytes: Option<u64>,
    /// Refuse writes (503) while this many batches wait for the write-ahead log [default: 256]
    #[arg(long, env = "WAGGLE_MAX_QUEUED_BATCHES", value_name = "N")]
    pub max_queued_batches: Option<usize>,
    /// Attribute keys with a column of their own per segment; rarer keys share one [default: 1000]
    #[arg(long, env = "WAGGLE_MAX_COLUMNS_PER_SEGMENT", value_name = "N")]
    pub max_columns_per_segment: Option<usize>,
    /// Decoded columns kept in memory for the next query; 0 turns the cache off [default: 256MiB]
    #[arg(long, env = "WAGGLE_QUERY_CACHE_BYTES", value_name = "SIZE", value_parser = parse_size)]
    pub query_cache_bytes: Option<u64>,
    /// Largest OTLP/HTTP body after decompression [default: 64MiB]
    #[arg(long, env = "WAGGLE_MAX_BODY_BYTES", value_name = "SIZE", value_parser = parse_size)]
    pub max_body_bytes: Option<u64>,
    /// Largest OTLP/gRPC message after decompression [default: 16MiB]
    #[arg(long, env = "WAGGLE_MAX_GRPC_MESSAGE_BYTES", value_name = "SIZE", value_parser = parse_size)]
    pub max_grpc_message_bytes: Option<u64>,
}

/// Everything `serve` needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub store: StoreConfig,
    pub limits: Limits,
    pub otlp_grpc_addr: SocketAddr,
    pub otlp_http_addr: SocketAddr,
    pub web_addr: SocketAddr,
    pub aws_addr: SocketAddr,
    pub xray_daemon_addr: SocketAddr,
}

/// The default data directory.
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir).join("waggle");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/waggle"),
        None => PathBuf::from("waggle-data"),
    }
}

fn read_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config file {} is invalid", path.display()))
}

/// A setting written with a unit: the flag (or its environment variable) wins over the file's
/// text, which is parsed with `parse` and reported under `key` when it is wrong.
fn layered<T>(
    flag: Option<T>,
    file: &Option<String>,
    key: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>> {
    let from_file =
        file.as_deref().map(|text| parse(text).map_err(|err| anyhow::anyhow!("{key}: {err}"))).transpose()?;
    Ok(flag.or(from_file))
}

impl ServeArgs {
    /// Layers defaults, the config file and these flags (which already include the environment).
    pub fn resolve(&self) -> Result<Settings> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = self.data_dir.clone().or(file.data_dir).unwrap_or_else(default_data_dir);
        let mut store = StoreConfig::new(data_dir);
        let (retention, storage, limits) = (&file.retention, &file.storage, &file.limits);
        store.retention_max_age =
            layered(self.retention_max_age, &retention.max_age, "retention.max_age", parse_duration)?
                .unwrap_or(store.retention_max_age);
        store.retention_check_interval = layered(
            self.retention_check_interval,
            &retention.check_interval,
            "retention.check_interval",
            parse_duration,
        )?
        .unwrap_or(store.retention_check_interval);
        store.flush_interval =
            layered(self.flush_interval, &storage.flush_interval, "storage.flush_interval", parse_duration)?
                .unwrap_or(store.flush_interval);
        store.retention_max_bytes =
            layered(self.retention_max_bytes, &retention.max_bytes, "retention.max_bytes", parse_size)?
                .unwrap_or(store.retention_max_bytes);
        store.max_head_bytes =
            layered(self.max_head_bytes, &storage.max_head_bytes, "storage.max_head_bytes", parse_size)?
                .unwrap_or(store.max_head_bytes);
        store.flush_max_bytes =
            layered(self.flush_max_bytes, &storage.flush_max_bytes, "storage.flush_max_bytes", parse_size)?
                .unwrap_or(store.flush_max_bytes);
        store.flush_max_rows = self.flush_max_rows.or(storage.flush_max_rows).unwrap_or(store.flush_max_rows);
        store.max_queued_batches =
            self.max_queued_batches.or(storage.max_queued_batches).unwrap_or(store.max_queued_batches).max(1);
        store.max_columns_per_segment =
            self.max_columns_per_segment.or(storage.max_columns_per_segment).unwrap_or(store.max_columns_per_segment);
        store.column_cache_bytes =
            layered(self.query_cache_bytes, &storage.query_cache_bytes, "storage.query_cache_bytes", parse_size)?
                .map_or(store.column_cache_bytes, |bytes| usize::try_from(bytes).unwrap_or(usize::MAX));
        let defaults = Limits::default();
        let limits = Limits {
            max_body_bytes: layered(self.max_body_bytes, &limits.max_body_bytes, "limits.max_body_bytes", parse_size)?
                .map_or(defaults.max_body_bytes, |bytes| bytes as usize),
            max_grpc_message_bytes: layered(
                self.max_grpc_message_bytes,
                &limits.max_grpc_message_bytes,
                "limits.max_grpc_message_bytes",
                parse_size,
            )?
            .map_or(defaults.max_grpc_message_bytes, |bytes| bytes as usize),
        };
        let localhost = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        Ok(Settings {
            store,
            limits,
            otlp_grpc_addr: self.otlp_grpc_addr.or(file.listen.otlp_grpc).unwrap_or(localhost(4317)),
            otlp_http_addr: self.otlp_http_addr.or(file.listen.otlp_http).unwrap_or(localhost(4318)),
            web_addr: self.web_addr.or(file.listen.web).unwrap_or(localhost(7070)),
            aws_addr: self.aws_addr.or(file.listen.aws).unwrap_or(localhost(4566)),
            xray_daemon_addr: self.xray_daemon_addr.or(file.listen.xray_daemon).unwrap_or(localhost(2000)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_config_flags_override_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("waggle.toml");
        std::fs::write(
            &path,
            "data_dir = \"/from/file\"\n[retention]\nmax_age = \"2d\"\n[listen]\nweb = \"127.0.0.1:9000\"\naws = \"127.0.0.1:9001\"\n",
        )
        .unwrap();
        let args = ServeArgs { config: Some(path.clone()), data_dir: Some("/from/flag".into()), ..Default::default() };
        let settings = args.resolve().unwrap();
        assert_eq!(settings.store.data_dir, PathBuf::from("/from/flag"));
        assert_eq!(settings.store.retention_max_age, std::time::Duration::from_secs(2 * 86400));
        assert_eq!(settings.web_addr.port(), 9000);
        assert_eq!(settings.aws_addr.port(), 9001);
        assert_eq!(settings.otlp_http_addr.port(), 4318);
    }

    #[test]
    fn test_config_example_file_sets_every_store_setting() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../waggle.example.toml");
        let settings = ServeArgs { config: Some(path), ..Default::default() }.resolve().unwrap();
        assert_eq!(settings.store.data_dir, PathBuf::from("/var/lib/waggle"));
        assert_eq!(settings.store.flush_max_bytes, 64 << 20);
        assert_eq!(settings.store.max_queued_batches, 256);
        assert_eq!(settings.store.column_cache_bytes, 256 << 20);
        assert_eq!(settings.limits.max_grpc_message_bytes, 16 << 20);
        assert_eq!(settings.aws_addr.port(), 4566);
        assert_eq!(settings.xray_daemon_addr.port(), 2000);
    }

    #[test]
    fn test_config_rejects_unknown_keys_and_bad_units() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("waggle.toml");
        std::fs::write(&path, "[retention]\nmax_agee = \"2d\"\n").unwrap();
        let err = ServeArgs { config: Some(path.clone()), ..Default::default() }.resolve().unwrap_err();
        assert!(format!("{err:#}").contains("max_agee"), "{err:#}");
        std::fs::write(&path, "[retention]\nmax_age = \"2 weeks\"\n").unwrap();
        let err = ServeArgs { config: Some(path), ..Default::default() }.resolve().unwrap_err();
        assert!(format!("{err:#}").contains("retention.max_age"), "{err:#}");
    }
}
