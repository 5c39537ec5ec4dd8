// Trace ids in log lines, as waggle links them (docs/API.md, "Where events go"): `trace_id`,
// `traceId`, `otelTraceID`, `xray_trace_id` in JSON or as `key=value` text, or an X-Ray id.

const KEYS = ["trace_id", "traceId", "otelTraceID", "xray_trace_id"];
const HEX32 = /^[0-9a-fA-F]{32}$/;
const XRAY = /\b1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24})\b/;

/** 32 lowercase hex digits, from a plain or an X-Ray (`1-xxxxxxxx-xxx…`) id. */
export function normalizeTraceId(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const text = value.trim();
  if (HEX32.test(text)) return /^0+$/.test(text) ? null : text.toLowerCase();
  const xray = XRAY.exec(text);
  return xray ? (xray[1] + xray[2]).toLowerCase() : null;
}

/** The trace id of a line: `json` is the parsed message when it is a JSON object. */
export function traceIdOf(message: string, json: Record<string, unknown> | null): string | null {
  if (json) {
    for (const key of KEYS) {
      const id = normalizeTraceId(json[key]);
      if (id) return id;
    }
  }
  for (const key of KEYS) {
    const match = new RegExp(`\\b${key}[=:]\\s*"?([0-9a-fA-F-]{32,40})`).exec(message);
    const id = match && normalizeTraceId(match[1]);
    if (id) return id;
  }
  return normalizeTraceId(XRAY.exec(message)?.[0]);
}

/** The message as a JSON object, or null. */
export function parseJsonObject(message: string): Record<string, unknown> | null {
  const text = message.trim();
  if (!text.startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
