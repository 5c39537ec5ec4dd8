// The query builder's URL: how any page links to a query ("spans like this"), and how the query
// page keeps its whole state in the address bar (reload, share, back button).
//
//   /query?dataset=D&q=<JSON>&t=1h
//
//   dataset   a dataset name (`cruddur-backend`) or `__all__` for every dataset. Default `__all__`.
//   q         the query as compact JSON: Honeycomb's spec (docs/QUERY.md) without the time fields,
//             e.g. {"calculations":[{"op":"HEATMAP","column":"duration_ms"}],
//                   "filters":[{"column":"http.route","op":"=","value":"/api/activities/home"}],
//                   "breakdowns":["app.user_id"],"orders":[{"op":"P99","column":"duration_ms","order":"descending"}],
//                   "limit":100,"granularity":60}
//             Missing fields take Honeycomb's defaults (COUNT, no filters, limit 100). Time fields
//             inside q (time_range, start_time, end_time) are honoured when t/from/to are absent.
//   t         relative time range: 10m, 1h, 2h, 24h, 7d (ui/src/time.ts); or
//   from, to  absolute range in unix seconds. Default: the last hour.
//   where     (optional, repeatable) a filter hint added to q's filters: `COLUMN=VALUE`
//             (e.g. where=trace.trace_id%3D5b8e...), `COLUMN!=VALUE`, `COLUMN>=N`, `COLUMN<N`, ...,
//             or just `COLUMN` for "exists". Values are sent as strings; waggle coerces them to the
//             column's type (docs/QUERY.md "Filters and coercion").
//   query_id  (optional) a stored query, as in Honeycomb results' `links.query_url`
//             (`/query?dataset=D&query_id=ID`): the page loads GET /1/queries/D/ID and runs it.
//
// The page runs the query as soon as it opens. Build links with `queryHref` below, e.g. from the
// trace view:
//
//   import { queryHref } from "../query/url";
//   <a href={queryHref({ dataset: span.dataset, where: { name: span.name }, spec: { calculations:
//     [{ op: "HEATMAP", column: "duration_ms" }] } })}>Spans like this</a>

import type { Filter, QuerySpec } from "../../api";
import { DEFAULT_RANGE, type TimeRange, rangeFromQuery, rangeToQuery } from "../../time";

export const ALL_DATASETS = "__all__";

/** A dataset as the page names it: "all datasets" for `__all__`. */
export const datasetLabel = (dataset: string) => (dataset === ALL_DATASETS ? "all datasets" : dataset);

/** What the query page's URL holds. */
export interface QueryLocation {
  dataset: string;
  /** The spec without time fields. */
  spec: QuerySpec;
  range: TimeRange;
  /** A stored query to load (`query_id`), replacing `spec` once loaded. */
  queryId?: string;
}

export interface QueryLink {
  dataset?: string;
  spec?: QuerySpec;
  /** Extra equality filters, `{column: value}` (added to spec.filters). */
  where?: Record<string, string | number | boolean>;
  range?: TimeRange;
}

const TIME_FIELDS = ["time_range", "start_time", "end_time"] as const;

/** Drops empty lists and default values so URLs stay short. */
export function compactSpec(spec: QuerySpec): QuerySpec {
  const out: QuerySpec = {};
  if (spec.calculations?.length) out.calculations = spec.calculations.map((c) => (c.column ? { op: c.op, column: c.column } : { op: c.op }));
  if (spec.filters?.length) out.filters = spec.filters;
  if (spec.filter_combination === "OR") out.filter_combination = "OR";
  if (spec.breakdowns?.length) out.breakdowns = spec.breakdowns;
  if (spec.orders?.length) out.orders = spec.orders;
  if (spec.havings?.length) out.havings = spec.havings;
  if (spec.limit !== undefined && spec.limit !== 100) out.limit = spec.limit;
  if (spec.granularity) out.granularity = spec.granularity;
  return out;
}

/** A link to the query page. */
export function queryHref(link: QueryLink = {}): string {
  const spec: QuerySpec = { ...(link.spec ?? {}) };
  const filters: Filter[] = [...(spec.filters ?? [])];
  for (const [column, value] of Object.entries(link.where ?? {})) filters.push({ column, op: "=", value });
  spec.filters = filters;
  return queryUrl({ dataset: link.dataset ?? ALL_DATASETS, spec, range: link.range ?? DEFAULT_RANGE });
}

/** The URL of a query page state (what the page pushes to history when it runs a query). */
export function queryUrl(state: { dataset: string; spec: QuerySpec; range: TimeRange }): string {
  const params = new URLSearchParams();
  params.set("dataset", state.dataset);
  const compact = compactSpec(stripTime(state.spec));
  if (Object.keys(compact).length) params.set("q", JSON.stringify(compact));
  for (const [key, value] of Object.entries(rangeToQuery(state.range))) if (value !== undefined) params.set(key, value);
  return `/query?${params.toString()}`;
}

function stripTime(spec: QuerySpec): QuerySpec {
  const copy = { ...spec };
  for (const field of TIME_FIELDS) delete copy[field];
  return copy;
}

const WHERE = /^(.+?)\s*(!=|>=|<=|=|>|<)\s*(.*)$/;

/** Parses one `where` hint (`col=value`, `col>=3`, `col`). */
export function parseWhere(text: string): Filter | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const match = WHERE.exec(trimmed);
  if (!match) return { column: trimmed, op: "exists" };
  const [, column, op, raw] = match;
  const numeric = op !== "=" && op !== "!=" && raw !== "" && Number.isFinite(Number(raw));
  return { column: column.trim(), op, value: numeric ? Number(raw) : raw };
}

/** Reads the query page's state from its URL (never throws: a bad `q` falls back to COUNT). */
export function parseQueryLocation(query: URLSearchParams): QueryLocation & { problem?: string } {
  const dataset = query.get("dataset") || ALL_DATASETS;
  let spec: QuerySpec = {};
  let problem: string | undefined;
  const text = query.get("q");
  if (text) {
    try {
      const parsed = JSON.parse(text);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) spec = parsed as QuerySpec;
      else problem = "the q parameter is not a JSON object";
    } catch (error) {
      problem = `the q parameter is not valid JSON (${(error as Error).message})`;
    }
  }
  let fallback = DEFAULT_RANGE;
  if (spec.start_time !== undefined && spec.end_time !== undefined) fallback = { kind: "absolute", start: spec.start_time, end: spec.end_time };
  else if (spec.time_range !== undefined) fallback = { kind: "relative", seconds: spec.time_range };
  const range = rangeFromQuery(query, fallback);
  spec = stripTime(spec);
  const hints = query.getAll("where").map(parseWhere).filter((f): f is Filter => f !== null);
  if (hints.length) spec = { ...spec, filters: [...(spec.filters ?? []), ...hints] };
  return { dataset, spec, range, queryId: query.get("query_id") ?? undefined, problem };
}
