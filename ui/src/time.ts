// Time ranges as the pages share them: a relative preset ("last 2 hours") or absolute bounds, and
// their URL form (`t=2h`, or `from`/`to` in unix seconds).

export type TimeRange = { kind: "relative"; seconds: number } | { kind: "absolute"; start: number; end: number };

export const PRESETS: { label: string; token: string; seconds: number }[] = [
  { label: "Last 10 minutes", token: "10m", seconds: 600 },
  { label: "Last 30 minutes", token: "30m", seconds: 1800 },
  { label: "Last hour", token: "1h", seconds: 3600 },
  { label: "Last 2 hours", token: "2h", seconds: 7200 },
  { label: "Last 6 hours", token: "6h", seconds: 21_600 },
  { label: "Last 24 hours", token: "24h", seconds: 86_400 },
  { label: "Last 7 days", token: "7d", seconds: 604_800 },
];

export const DEFAULT_RANGE: TimeRange = { kind: "relative", seconds: 3600 };

/** `10m`, `2h`, `7d`, `90s` -> seconds. */
export function parseDuration(token: string): number | null {
  const match = /^(\d+)([smhd])$/.exec(token.trim());
  if (!match) return null;
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "s" | "m" | "h" | "d"];
}

export function durationToken(seconds: number): string {
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["m", 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** Reads `t` or `from`/`to` from a URL query. */
export function rangeFromQuery(query: URLSearchParams, fallback: TimeRange = DEFAULT_RANGE): TimeRange {
  const from = Number(query.get("from"));
  const to = Number(query.get("to"));
  if (query.has("from") && query.has("to") && Number.isFinite(from) && Number.isFinite(to) && to > from) {
    return { kind: "absolute", start: from, end: to };
  }
  const seconds = query.has("t") ? parseDuration(query.get("t")!) : null;
  return seconds ? { kind: "relative", seconds } : fallback;
}

/** URL parameters for a range (merge them into a page's own). */
export function rangeToQuery(range: TimeRange): Record<string, string | undefined> {
  return range.kind === "relative"
    ? { t: durationToken(range.seconds), from: undefined, to: undefined }
    : { t: undefined, from: String(Math.floor(range.start)), to: String(Math.ceil(range.end)) };
}

/** Resolved bounds in unix seconds (relative ranges end now). */
export function rangeBounds(range: TimeRange, now = Date.now() / 1000): { start: number; end: number } {
  return range.kind === "relative" ? { start: now - range.seconds, end: now } : { start: range.start, end: range.end };
}

/** Honeycomb spec fields for a range. */
export function rangeToSpec(range: TimeRange): { time_range?: number; start_time?: number; end_time?: number } {
  return range.kind === "relative"
    ? { time_range: range.seconds }
    : { start_time: Math.floor(range.start), end_time: Math.ceil(range.end) };
}

export function describeRange(range: TimeRange): string {
  if (range.kind === "relative") {
    return PRESETS.find((p) => p.seconds === range.seconds)?.label ?? `Last ${durationToken(range.seconds)}`;
  }
  const format = (s: number) => new Date(s * 1000).toLocaleString("en-GB", { dateStyle: "short", timeStyle: "medium" });
  return `${format(range.start)} – ${format(range.end)}`;
}
