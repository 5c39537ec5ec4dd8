//! `waggle export`: a time range of one table to Parquet, read from the data directory.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use waggle_export::{ExportRequest, export_parquet};
use waggle_model::SignalTable;
use waggle_store::{DiskStore, StoreConfig};

use crate::config::default_data_dir;
use crate::units::parse_duration;

pub struct ExportArgs {
    pub out: PathBuf,
    pub table: String,
    pub dataset: Option<String>,
    pub from: String,
    pub to: String,
    pub data_dir: Option<PathBuf>,
}

/// A point in time: unix seconds, an age before now (`2h`), or RFC 3339 UTC (`2026-11-21T10:00:00Z`).
fn parse_time(text: &str, now_nanos: i64) -> Result<i64> {
    if let Ok(seconds) = text.parse::<f64>() {
        return Ok((seconds * 1e9) as i64);
    }
    if let Ok(age) = parse_duration(text) {
        return Ok(now_nanos.saturating_sub(age.as_nanos().min(i64::MAX as u128) as i64));
    }
    parse_rfc3339(text).with_context(|| {
        format!("{text:?} is not a time: use unix seconds, an age such as 2h, or 2026-11-21T10:00:00Z")
    })
}

/// Minimal RFC 3339 in UTC (`Z`), to the second.
fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.split('-').map(|part| part.parse::<i64>().ok());
    let (year, month, day) = (date_parts.next()??, date_parts.next()??, date_parts.next()??);
    let mut time_parts = time.split(':');
    let (hour, minute) = (time_parts.next()?.parse::<i64>().ok()?, time_parts.next()?.parse::<i64>().ok()?);
    let second: f64 = time_parts.next().unwrap_or("0").parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let shifted_year = if month <= 2 { year - 1 } else { year };
    let era = shifted_year.div_euclid(400);
    let year_of_era = shifted_year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60;
    Some(seconds * 1_000_000_000 + (second * 1e9) as i64)
}

pub fn run(args: ExportArgs) -> Result<()> {
    let Some(table) = SignalTable::parse(&args.table) else {
        bail!("--table must be traces or logs, not {:?}", args.table);
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as i64;
    let start = parse_time(&args.from, now)?;
    let end = parse_time(&args.to, now)?.max(start);
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    let mut config = StoreConfig::new(&data_dir);
    config.retention_max_age = std::time::Duration::from_secs(u64::MAX / 4_000_000_000);
    let store = DiskStore::open_read_only(config)
        .with_context(|| format!("cannot read the data directory {}", data_dir.display()))?;
    let request = ExportRequest { table, dataset: args.dataset, start_unix_nano: start, end_unix_nano: end };
    let summary = export_parquet(&store, &request, &args.out, &mut |rows| eprint!("\rwritten {rows} rows"))?;
    eprintln!();
    println!(
        "wrote {} rows and {} columns to {} ({} bytes); try: duckdb -c \"select * from '{}' limit 10\"",
        summary.rows,
        summary.columns,
        args.out.display(),
        summary.bytes,
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_parse_time_forms() {
        let now = 1_000_000 * 1_000_000_000;
        assert_eq!(parse_time("2h", now).unwrap(), now - 7200 * 1_000_000_000);
        assert_eq!(parse_time("1700000000", now).unwrap(), 1_700_000_000 * 1_000_000_000);
        assert_eq!(parse_time("2023-11-14T22:13:20Z", now).unwrap(), 1_700_000_000 * 1_000_000_000);
        assert!(parse_time("yesterday", now).is_err());
    }
}
