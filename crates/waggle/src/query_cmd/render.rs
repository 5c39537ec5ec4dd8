//! Printing a query result: a table of the result rows (breakdown columns, then one column per
//! calculation), and a terminal heatmap for each HEATMAP calculation.

use serde_json::Value as Json;

/// The key a calculation's values have in result rows: `COUNT`, `P99(duration_ms)`.
pub fn calc_key(calc: &Json) -> String {
    let op = calc["op"].as_str().unwrap_or("COUNT");
    match calc["column"].as_str() {
        Some(column) => format!("{op}({column})"),
        None => op.to_owned(),
    }
}

fn cell(value: &Json) -> String {
    match value {
        Json::Null => "(none)".to_owned(),
        Json::String(text) => text.clone(),
        Json::Number(number) => match number.as_i64() {
            Some(int) => int.to_string(),
            None => {
                let float = number.as_f64().unwrap_or(f64::NAN);
                if float.abs() >= 100.0 { format!("{float:.1}") } else { format!("{float:.3}") }
            }
        },
        other => other.to_string(),
    }
}

/// The whole printout.
pub fn render(spec: &Json, data: &Json, color: bool) -> String {
    let breakdowns: Vec<String> =
        spec["breakdowns"].as_array().into_iter().flatten().filter_map(|b| b.as_str().map(str::to_owned)).collect();
    let calcs: Vec<&Json> = spec["calculations"].as_array().map(|calcs| calcs.iter().collect()).unwrap_or_default();
    let count = serde_json::json!({"op": "COUNT"});
    let calcs = if calcs.is_empty() { vec![&count] } else { calcs };
    let (heatmaps, scalars): (Vec<&Json>, Vec<&Json>) =
        calcs.into_iter().partition(|calc| calc["op"].as_str() == Some("HEATMAP"));
    let mut out = String::new();
    for heatmap in &heatmaps {
        out += &self::heatmap(&calc_key(heatmap), data, color);
    }
    let rows = data["results"].as_array().cloned().unwrap_or_default();
    if !scalars.is_empty() || heatmaps.is_empty() {
        let headers: Vec<String> =
            breakdowns.iter().cloned().chain(scalars.iter().map(|calc| calc_key(calc))).collect();
        let body: Vec<Vec<String>> =
            rows.iter().map(|row| headers.iter().map(|key| cell(&row["data"][key])).collect()).collect();
        out += &table(&headers, &body, breakdowns.len());
    }
    out += &format!("{} row{}\n", rows.len(), if rows.len() == 1 { "" } else { "s" });
    out
}

/// Aligned columns: text left, numbers (calculations) right.
fn table(headers: &[String], body: &[Vec<String>], left_columns: usize) -> String {
    let widths: Vec<usize> = (0..headers.len())
        .map(|column| {
            body.iter().map(|row| row[column].chars().count()).chain([headers[column].len()]).max().unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(column, text)| {
                if column < left_columns {
                    format!("{text:<width$}", width = widths[column])
                } else {
                    format!("{text:>width$}", width = widths[column])
                }
            })
            .collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(headers);
    out += &line(&widths.iter().map(|width| "-".repeat(*width)).collect::<Vec<_>>());
    for row in body {
        out += &line(row);
    }
    out
}

/// Shades from empty to full, for counts relative to the busiest cell.
const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];
/// Value bands drawn.
const HEATMAP_ROWS: usize = 12;
/// Widest heatmap drawn: more time buckets are merged in equal groups.
const HEATMAP_MAX_COLUMNS: usize = 80;

/// One series point's buckets of a HEATMAP: `(lower, count)`.
fn heatmap_buckets(point: &Json, key: &str) -> Vec<(f64, u64)> {
    point["data"][key]["buckets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|bucket| Some((bucket["lower"].as_f64()?, bucket["count"].as_u64()?)))
        .collect()
}

/// A HEATMAP as value bands (largest on top, log scale) by time buckets, shaded by count.
pub fn heatmap(key: &str, data: &Json, color: bool) -> String {
    let points: Vec<&Json> = data["series"].as_array().map(|points| points.iter().collect()).unwrap_or_default();
    let per_column = points.len().div_ceil(HEATMAP_MAX_COLUMNS).max(1);
    let columns: Vec<Vec<(f64, u64)>> = points
        .chunks(per_column)
        .map(|group| group.iter().flat_map(|point| heatmap_buckets(point, key)).collect())
        .collect();
    let values = columns.iter().flatten().map(|(lower, _)| *lower);
    let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(min, max), v| (min.min(v), max.max(v)));
    if !min.is_finite() {
        return format!("{key}: no values in the time range\n");
    }
    // Log bands over [min, max]; values at or below zero share the bottom band.
    let floor = min.max(1e-3);
    let span = (max.max(floor * 1.0001) / floor).ln();
    let band = |value: f64| -> usize {
        if value <= floor {
            return 0;
        }
        (((value / floor).ln() / span) * (HEATMAP_ROWS as f64 - 1.0)).round() as usize
    };
    let mut grid = vec![vec![0u64; columns.len()]; HEATMAP_ROWS];
    for (column, buckets) in columns.iter().enumerate() {
        for (lower, count) in buckets {
            grid[band(*lower).min(HEATMAP_ROWS - 1)][column] += count;
        }
    }
    let busiest = grid.iter().flatten().copied().max().unwrap_or(0).max(1);
    let mut out = format!("{key}  (rows: value, log scale; columns: time; darker = more events)\n");
    for (row, counts) in grid.iter().enumerate().rev() {
        let label = floor * (span * row as f64 / (HEATMAP_ROWS as f64 - 1.0)).exp();
        let cells: String = counts
            .iter()
            .map(|count| {
                let shade = if *count == 0 { 0 } else { 1 + (*count * 3 / busiest) as usize };
                SHADES[shade.min(SHADES.len() - 1)]
            })
            .collect();
        let cells = if color { format!("\x1b[33m{cells}\x1b[0m") } else { cells };
        out += &format!("{label:>10.2} |{cells}|\n");
    }
    let first = points.first().and_then(|point| point["time"].as_str()).unwrap_or("");
    let last = points.last().and_then(|point| point["time"].as_str()).unwrap_or("");
    out += &format!("{:>10}  {first} .. {last} ({} buckets)\n", "", points.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn test_render_table_with_breakdown_and_calcs() {
        let spec = json!({"breakdowns": ["app.user_id"], "calculations": [{"op": "COUNT"}, {"op": "P99", "column": "duration_ms"}]});
        let data = json!({"results": [
            {"data": {"app.user_id": "worf", "COUNT": 12, "P99(duration_ms)": 1234.5678}},
            {"data": {"app.user_id": null, "COUNT": 3, "P99(duration_ms)": 1.5}}
        ]});
        let text = render(&spec, &data, false);
        assert_eq!(
            text,
            "app.user_id  COUNT  P99(duration_ms)\n\
             -----------  -----  ----------------\n\
             worf            12            1234.6\n\
             (none)           3             1.500\n\
             2 rows\n"
        );
    }

    #[test]
    fn test_render_heatmap_puts_slow_values_on_top() {
        let point = |time: &str, buckets: serde_json::Value| json!({"time": time, "data": {"HEATMAP(duration_ms)": {"buckets": buckets}}});
        let data = json!({"series": [
            point("t0", json!([{"lower": 1.0, "upper": 1.1, "count": 90}])),
            point("t1", json!([{"lower": 1.0, "upper": 1.1, "count": 30}, {"lower": 1000.0, "upper": 1010.0, "count": 30}])),
        ]});
        let text = heatmap("HEATMAP(duration_ms)", &data, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2 + HEATMAP_ROWS);
        assert!(lines[1].ends_with("| ▒|"), "slow band on top, only in the second bucket: {text}");
        assert!(lines[HEATMAP_ROWS].ends_with("|█▒|"), "fast band at the bottom: {text}");
        assert!(heatmap("HEATMAP(duration_ms)", &json!({"series": []}), false).contains("no values"));
    }
}
