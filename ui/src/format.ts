// Number, duration and time formatting shared by every page, and one colour per service.

/** `12.3 ms`, `1.24 s`, `850 µs`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s`;
  if (ms >= 1) return `${ms.toFixed(ms >= 100 ? 0 : ms >= 10 ? 1 : 2)} ms`;
  if (ms > 0) return `${Math.round(ms * 1000)} µs`;
  return "0 ms";
}

// Intl formatters, made on first use and kept: `toLocaleString` makes one anew at every call, which
// costs more than the formatting.
const NUMBER_FORMATS = {
  integer: {},
  decimal: { maximumSignificantDigits: 4 },
  compact: { notation: "compact", maximumFractionDigits: 1 },
} satisfies Record<string, Intl.NumberFormatOptions>;
const formatters = new Map<keyof typeof NUMBER_FORMATS, Intl.NumberFormat>();
function numberFormat(kind: keyof typeof NUMBER_FORMATS): Intl.NumberFormat {
  let format = formatters.get(kind);
  if (!format) formatters.set(kind, (format = new Intl.NumberFormat("en", NUMBER_FORMATS[kind])));
  return format;
}

/** `1,234`, `12.5k`, `3.2M` (compact), or a number with a few significant digits. */
export function formatNumber(value: unknown, compact = false): string {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return String(value);
  if (compact && Math.abs(value) >= 10_000) return numberFormat("compact").format(value);
  return numberFormat(Number.isInteger(value) ? "integer" : "decimal").format(value);
}

/**
 * Loads the browser's number-formatting data while it is idle: the first number formatted on a
 * page otherwise pays for it, 15 to 40 ms in headless Chromium, in the middle of drawing results.
 */
export function warmUpFormats() {
  const idle = window.requestIdleCallback ?? ((run: () => void) => window.setTimeout(run, 0));
  idle(() => formatNumber(1.5));
}

/** A request rate: `1,234/min`, `6.4/min`, or per hour below one a minute (`2.0/h`). */
export function formatRate(perMinute: number): string {
  if (perMinute >= 100) return `${formatNumber(Math.round(perMinute), true)}/min`;
  if (perMinute >= 1) return `${perMinute.toFixed(1)}/min`;
  return `${(perMinute * 60).toFixed(1)}/h`;
}

export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return "–";
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** Local date and time of unix nanoseconds, milliseconds shown. */
export function formatTimeNanos(nanos: number): string {
  return formatTime(new Date(nanos / 1e6));
}

export function formatTime(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
  );
}

/** `5 s ago`, `3 min ago`, `2 h ago`. */
export function formatAgo(date: Date, now = Date.now()): string {
  const seconds = Math.max(0, (now - date.getTime()) / 1000);
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

/** An attribute value as text (strings unquoted, others as JSON). */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "(none)";
  if (typeof value === "string") return value;
  if (typeof value === "number") return formatNumber(value);
  return JSON.stringify(value);
}

const PALETTE = ["#4c7cf0", "#f5a524", "#18a77a", "#d9480f", "#9b5de5", "#0fa3b1", "#e0569b", "#7a8b1f", "#c2410c", "#2563eb"];

/** A stable colour per service (or any name): the same in the waterfall, the map and the charts. */
export function colorFor(name: string): string {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619);
  return PALETTE[(hash >>> 0) % PALETTE.length];
}

/** The chart series palette, in order. */
export const SERIES_COLORS = PALETTE;
