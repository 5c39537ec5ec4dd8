// Shapes a query result for drawing: groups (one per result row, in result order, with a colour),
// time buckets, each group's values per bucket, and heatmap rows on a log scale.

import type { HeatmapValue, QueryData, Row } from "../../api";
import { SERIES_COLORS, formatDuration, formatNumber, formatValue } from "../../format";

export interface Group {
  key: string;
  label: string;
  /** Breakdown values in breakdown order (the exemplar/BubbleUp `group` selection). */
  values: unknown[];
  color: string;
  /** The result row. */
  row: Row;
}

export interface Shaped {
  groups: Group[];
  /** Bucket start times, unix ms. */
  times: number[];
  /** Bucket width in seconds. */
  granularity: number;
  /** Per group key: the series rows by bucket index. */
  points: Map<string, Row[]>;
}

export const groupKey = (row: Row, breakdowns: string[]) => JSON.stringify(breakdowns.map((b) => row[b] ?? null));

export function groupLabel(row: Row, breakdowns: string[]): string {
  if (!breakdowns.length) return "all";
  return breakdowns.map((b) => formatValue(row[b])).join(" · ");
}

/** `rangeSeconds` is the query's length, the bucket width when there is a single bucket. */
export function shape(data: QueryData, breakdowns: string[], rangeSeconds: number): Shaped {
  const groups: Group[] = data.results.map((result, i) => ({
    key: groupKey(result.data, breakdowns),
    label: groupLabel(result.data, breakdowns),
    values: breakdowns.map((b) => result.data[b] ?? null),
    color: SERIES_COLORS[i % SERIES_COLORS.length],
    row: result.data,
  }));
  const times: number[] = [];
  const index = new Map<string, number>();
  const points = new Map<string, Row[]>();
  for (const point of data.series) {
    let bucket = index.get(point.time);
    if (bucket === undefined) {
      bucket = times.length;
      index.set(point.time, bucket);
      times.push(Date.parse(point.time));
    }
    const key = groupKey(point.data, breakdowns);
    let list = points.get(key);
    if (!list) points.set(key, (list = []));
    list[bucket] = point.data;
  }
  const granularity = times.length > 1 ? Math.round((times[1] - times[0]) / 1000) : rangeSeconds;
  return { groups, times, granularity, points };
}

/** A value formatter for a calculation: durations for duration columns, else numbers. */
export function formatterFor(key: string): (value: unknown) => string {
  const durationLike = /^(?!COUNT|CONCURRENCY)[A-Z0-9_]+\((.*duration_ms)\)$/.test(key) && !key.startsWith("COUNT_DISTINCT") && !key.startsWith("RATE_");
  return (value) => (typeof value === "number" ? (durationLike ? formatDuration(value) : formatNumber(value)) : formatValue(value));
}

export interface HeatRow {
  lower: number;
  upper: number;
}
export interface HeatGrid {
  rows: HeatRow[];
  /** [bucket index, row index, count] per non-empty cell. */
  cells: [number, number, number][];
  /** Every cell's count, at `bucket * rows.length + row`. */
  counts: Float64Array;
  max: number;
  total: number;
}

/**
 * Heatmap cells: the returned histogram buckets (64 per power of two) regrouped into rows of equal
 * width on a log scale (at most ~48 rows, whole fractions of a power of two), summed over groups.
 * A row of zeros sits at the bottom when there are zeros; negative values are counted with them.
 */
export function heatGrid(shaped: Shaped, key: string): HeatGrid {
  let low = Infinity;
  let high = 0;
  let zeros = false;
  for (const list of shaped.points.values()) {
    for (const point of list) {
      const value = point?.[key] as HeatmapValue | null | undefined;
      for (const bucket of value?.buckets ?? []) {
        if (bucket.upper <= 0) zeros = true;
        else {
          low = Math.min(low, Math.max(bucket.lower, bucket.upper / 2));
          high = Math.max(high, bucket.upper);
        }
      }
    }
  }
  const rows: HeatRow[] = [];
  if (zeros) rows.push({ lower: 0, upper: 0 });
  let perOctave = 1;
  let base = 1;
  if (high > 0) {
    const lowExp = Math.floor(Math.log2(low));
    const highExp = Math.max(lowExp + 1, Math.ceil(Math.log2(high)));
    const octaves = highExp - lowExp;
    perOctave = Math.max(1, Math.min(8, Math.floor(48 / octaves)));
    base = 2 ** lowExp;
    for (let k = 0; k < octaves * perOctave; k++) rows.push({ lower: base * 2 ** (k / perOctave), upper: base * 2 ** ((k + 1) / perOctave) });
  }
  const offset = zeros ? 1 : 0;
  const positive = rows.length - offset;
  // Dense, for the tooltip's lookup: buckets x rows, 180 x 42 for 3 hours of durations.
  const counts = new Float64Array(shaped.times.length * rows.length);
  let total = 0;
  for (const list of shaped.points.values()) {
    list.forEach((point, t) => {
      const value = point?.[key] as HeatmapValue | null | undefined;
      for (const bucket of value?.buckets ?? []) {
        let row = 0;
        if (bucket.upper > 0) {
          const mid = Math.sqrt(Math.max(bucket.lower, bucket.upper / 2) * bucket.upper);
          row = offset + Math.min(positive - 1, Math.max(0, Math.floor(Math.log2(mid / base) * perOctave + 1e-9)));
        }
        counts[t * rows.length + row] += bucket.count;
        total += bucket.count;
      }
    });
  }
  const cells: [number, number, number][] = [];
  let max = 0;
  counts.forEach((count, cell) => {
    if (count === 0) return;
    cells.push([Math.floor(cell / rows.length), cell % rows.length, count]);
    max = Math.max(max, count);
  });
  return { rows, cells, counts, max, total };
}
