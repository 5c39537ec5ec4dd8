// The query builder's vocabulary: calculations, filter operators, result keys, and the editable
// draft (filter values as typed text) converted to and from Honeycomb's spec.

import type { Calculation, Column, Filter, Having, Order, QuerySpec } from "../../api";
import type { TimeRange } from "../../time";

export const PERCENTILES = ["P001", "P01", "P05", "P10", "P20", "P25", "P50", "P75", "P80", "P90", "P95", "P99", "P999"];
export const CALC_OPS = ["COUNT", "CONCURRENCY", "SUM", "AVG", "COUNT_DISTINCT", "MAX", "MIN", ...PERCENTILES, "HEATMAP", "RATE_AVG", "RATE_SUM", "RATE_MAX"];
/** Calculations without a column. */
export const NO_COLUMN = new Set(["COUNT", "CONCURRENCY"]);
/** Calculations that need a numeric column. */
export const NUMERIC_OPS = new Set(CALC_OPS.filter((op) => !NO_COLUMN.has(op) && op !== "COUNT_DISTINCT"));

export const FILTER_OPS: { op: string; label: string }[] = [
  { op: "=", label: "=" },
  { op: "!=", label: "!=" },
  { op: ">", label: ">" },
  { op: ">=", label: ">=" },
  { op: "<", label: "<" },
  { op: "<=", label: "<=" },
  { op: "starts-with", label: "starts with" },
  { op: "does-not-start-with", label: "does not start with" },
  { op: "ends-with", label: "ends with" },
  { op: "does-not-end-with", label: "does not end with" },
  { op: "contains", label: "contains" },
  { op: "does-not-contain", label: "does not contain" },
  { op: "exists", label: "exists" },
  { op: "does-not-exist", label: "does not exist" },
  { op: "in", label: "in" },
  { op: "not-in", label: "not in" },
];
export const NO_VALUE = new Set(["exists", "does-not-exist"]);
export const LIST_OPS = new Set(["in", "not-in"]);
export const HAVING_OPS = ["=", "!=", ">", ">=", "<", "<="];

/** A calculation's key in results: `COUNT`, `P99(duration_ms)`. */
export const calcKey = (c: { op: string; column?: string }) => (c.column && !NO_COLUMN.has(c.op) ? `${c.op}(${c.column})` : c.op);

export const isHeatmap = (c: Calculation) => c.op === "HEATMAP";

/** A filter as the builder edits it: the value as typed. */
export interface DraftFilter {
  column: string;
  op: string;
  text: string;
}
export interface DraftHaving {
  calc: string;
  op: string;
  text: string;
}
/** Everything the builder edits. */
export interface Draft {
  dataset: string;
  calculations: Calculation[];
  filters: DraftFilter[];
  combination: "AND" | "OR";
  breakdowns: string[];
  orders: Order[];
  havings: DraftHaving[];
  limit: number;
  granularity?: number;
  range: TimeRange;
}

export const DEFAULT_CALCULATIONS: Calculation[] = [{ op: "COUNT" }];

const valueText = (value: unknown): string => {
  if (Array.isArray(value)) return value.map(valueText).join(", ");
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
};

export function draftFromSpec(dataset: string, spec: QuerySpec, range: TimeRange): Draft {
  return {
    dataset,
    calculations: spec.calculations?.length ? spec.calculations.map((c) => ({ ...c })) : [...DEFAULT_CALCULATIONS],
    filters: (spec.filters ?? []).map((f) => ({ column: f.column, op: f.op, text: valueText(f.value) })),
    combination: spec.filter_combination === "OR" ? "OR" : "AND",
    breakdowns: [...(spec.breakdowns ?? [])],
    orders: (spec.orders ?? []).map((o) => ({ ...o })),
    havings: (spec.havings ?? []).map((h) => ({ calc: calcKey({ op: h.calculate_op, column: h.column }), op: h.op, text: String(h.value) })),
    limit: spec.limit ?? 100,
    granularity: spec.granularity,
    range,
  };
}

/** A typed value for a column: numbers for numeric columns, booleans for boolean ones, else text. */
function typedValue(text: string, type: Column["type"] | undefined): unknown {
  const trimmed = text.trim();
  const number = Number(trimmed);
  if (type === "string") return trimmed;
  if (type === "boolean" && (trimmed === "true" || trimmed === "false")) return trimmed === "true";
  if (trimmed !== "" && Number.isFinite(number) && (type === "integer" || type === "float" || type === undefined)) return number;
  return trimmed;
}

export function filterFromDraft(f: DraftFilter, types: Map<string, Column["type"]>): Filter {
  const type = types.get(f.column);
  if (NO_VALUE.has(f.op)) return { column: f.column, op: f.op };
  if (LIST_OPS.has(f.op)) {
    return { column: f.column, op: f.op, value: f.text.split(",").map((s) => s.trim()).filter(Boolean).map((s) => typedValue(s, type)) };
  }
  if (["starts-with", "does-not-start-with", "ends-with", "does-not-end-with", "contains", "does-not-contain"].includes(f.op)) {
    return { column: f.column, op: f.op, value: f.text };
  }
  return { column: f.column, op: f.op, value: typedValue(f.text, type) };
}

function parseCalcKey(key: string): { op: string; column?: string } {
  const match = /^([A-Z0-9_]+)\((.*)\)$/.exec(key);
  return match ? { op: match[1], column: match[2] } : { op: key };
}

/** The spec (without time fields) a draft stands for; incomplete rows (no column yet) are left out. */
export function specFromDraft(draft: Draft, types: Map<string, Column["type"]>): QuerySpec {
  const calculations = draft.calculations.filter((c) => NO_COLUMN.has(c.op) || c.column).map((c) => (NO_COLUMN.has(c.op) ? { op: c.op } : c));
  const keys = new Set(calculations.map(calcKey));
  const orders = draft.orders.filter((o) => (o.op ? keys.has(calcKey({ op: o.op, column: o.column })) && o.op !== "HEATMAP" : o.column && draft.breakdowns.includes(o.column)));
  const havings: Having[] = draft.havings
    .filter((h) => keys.has(h.calc) && h.text.trim() !== "" && Number.isFinite(Number(h.text)))
    .map((h) => {
      const { op, column } = parseCalcKey(h.calc);
      return column ? { calculate_op: op, column, op: h.op, value: Number(h.text) } : { calculate_op: op, op: h.op, value: Number(h.text) };
    });
  const spec: QuerySpec = {
    calculations: calculations.length ? calculations : [...DEFAULT_CALCULATIONS],
    filters: draft.filters.filter((f) => f.column.trim()).map((f) => filterFromDraft(f, types)),
    breakdowns: draft.breakdowns.filter((b) => b.trim()),
    orders,
    havings,
    limit: draft.limit,
  };
  if (draft.combination === "OR") spec.filter_combination = "OR";
  if (draft.granularity) spec.granularity = draft.granularity;
  return spec;
}

/** A one-line description of a spec: `HEATMAP(duration_ms), COUNT where span.kind = server by app.user_id`. */
export function describeSpec(spec: QuerySpec): string {
  const calcs = (spec.calculations?.length ? spec.calculations : DEFAULT_CALCULATIONS).map(calcKey).join(", ");
  const joiner = spec.filter_combination === "OR" ? " or " : " and ";
  const filters = (spec.filters ?? []).map((f) => (NO_VALUE.has(f.op) ? `${f.column} ${f.op}` : `${f.column} ${f.op} ${valueText(f.value)}`)).join(joiner);
  const groups = spec.breakdowns?.length ? ` by ${spec.breakdowns.join(", ")}` : "";
  return `${calcs}${filters ? ` where ${filters}` : ""}${groups}`;
}

/** Granularity choices (seconds) valid for a range of `seconds`: at most 1000 buckets, at least one. */
export function granularityChoices(seconds: number): number[] {
  const all = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400];
  return all.filter((g) => g >= Math.ceil(seconds / 1000) && g <= seconds);
}

/** What stops a draft from running, said so the user knows what to change (null when it can run). */
export function draftProblem(draft: Draft, types: Map<string, Column["type"]>): string | null {
  for (const calc of draft.calculations) {
    if (NO_COLUMN.has(calc.op)) continue;
    if (!calc.column?.trim()) return `${calc.op} needs a column: pick one in VISUALIZE (duration_ms, for example).`;
    const type = types.get(calc.column);
    if (NUMERIC_OPS.has(calc.op) && type && type !== "integer" && type !== "float" && !calc.column.startsWith("root.")) {
      return `${calc.op} needs a numeric column, and ${calc.column} holds ${type === "boolean" ? "booleans" : "text"}: pick a number column such as duration_ms, or use COUNT_DISTINCT.`;
    }
  }
  for (const filter of draft.filters) {
    if (!filter.column.trim()) return "A filter in WHERE has no column: pick one or remove the filter.";
    if (!NO_VALUE.has(filter.op) && filter.text.trim() === "" && filter.op !== "=" && filter.op !== "!=") {
      return `The filter on ${filter.column} needs a value.`;
    }
  }
  if (new Set(draft.breakdowns.filter(Boolean)).size !== draft.breakdowns.filter(Boolean).length) return "GROUP BY names a column twice: remove one.";
  return null;
}
