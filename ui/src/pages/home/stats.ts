// The home page's numbers: per trace dataset, its requests (root and server spans), errors and P99
// over the range, as totals and as series for the sparklines. Two Honeycomb queries per dataset
// (COUNT + P99, and COUNT by `error`), run in parallel; the same two over every dataset for the totals.

import { type Filter, type QuerySpec, honeycomb } from "../../api";
import { type TimeRange, rangeBounds, rangeToSpec } from "../../time";

/** Requests: server spans, and root spans (whatever their kind: a browser's page load, a job). */
export const REQUEST_FILTERS: Filter[] = [
  { column: "span.kind", op: "=", value: "server" },
  { column: "trace.parent_id", op: "does-not-exist" },
];

const GRANULARITIES = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** About 60 points per sparkline. */
export function sparkGranularity(seconds: number): number {
  return GRANULARITIES.find((g) => seconds / g <= 60) ?? Math.ceil(seconds / 60 / 86400) * 86400;
}

export interface ServiceStats {
  dataset: string;
  count: number;
  errors: number;
  p99: number | null;
  /** Requests per minute over the range. */
  perMinute: number;
  series: { count: number[]; errorRate: (number | null)[]; p99: (number | null)[] };
  /** The spec the numbers come from (to open it on the query page). */
  spec: QuerySpec;
}

export async function serviceStats(dataset: string, range: TimeRange): Promise<ServiceStats> {
  const { start, end } = rangeBounds(range);
  const seconds = Math.max(1, end - start);
  const spec: QuerySpec = {
    calculations: [{ op: "COUNT" }, { op: "P99", column: "duration_ms" }],
    filters: REQUEST_FILTERS,
    filter_combination: "OR",
    granularity: sparkGranularity(seconds),
    ...rangeToSpec(range),
  };
  const [main, byError] = await Promise.all([
    honeycomb.run(dataset, spec),
    honeycomb.run(dataset, { ...spec, calculations: [{ op: "COUNT" }], breakdowns: ["error"] }),
  ]);
  const total = main.data.results[0]?.data ?? {};
  const count = Number(total.COUNT ?? 0);
  const errors = byError.data.results.filter((row) => row.data.error === true).reduce((sum, row) => sum + Number(row.data.COUNT ?? 0), 0);
  const errorsAt = new Map<string, number>();
  for (const point of byError.data.series) {
    if (point.data.error === true) errorsAt.set(point.time, (errorsAt.get(point.time) ?? 0) + Number(point.data.COUNT ?? 0));
  }
  const counts: number[] = [];
  const errorRate: (number | null)[] = [];
  const p99: (number | null)[] = [];
  for (const point of main.data.series) {
    const n = Number(point.data.COUNT ?? 0);
    counts.push(n);
    errorRate.push(n > 0 ? (errorsAt.get(point.time) ?? 0) / n : null);
    const value = point.data["P99(duration_ms)"];
    p99.push(typeof value === "number" ? value : null);
  }
  const p99Total = total["P99(duration_ms)"];
  return {
    dataset,
    count,
    errors,
    p99: typeof p99Total === "number" ? p99Total : null,
    perMinute: count / (seconds / 60),
    series: { count: counts, errorRate, p99 },
    spec: { calculations: spec.calculations, filters: REQUEST_FILTERS, filter_combination: "OR" },
  };
}
