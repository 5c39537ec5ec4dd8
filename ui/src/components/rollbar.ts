// Rollbar's read API (docs/API.md, "Rollbar") from the console: the local project's token comes
// from GET /api/console/config once, then every call sends it in X-Rollbar-Access-Token. Answers
// are unwrapped from Rollbar's `{"err": 0, "result": ...}`.

import { ApiError, getJSON, sendJSON } from "../api";

export interface RollbarItem {
  id: number;
  counter: number;
  hash: string;
  title: string;
  level: "debug" | "info" | "warning" | "error" | "critical" | string;
  environment: string;
  status: "active" | "resolved" | "muted" | string;
  framework: string;
  platform: string;
  language: string;
  total_occurrences: number;
  first_occurrence_timestamp: number;
  last_occurrence_timestamp: number;
  first_occurrence_id: number;
  last_occurrence_id: number;
  last_activated_timestamp: number;
  last_resolved_timestamp: number | null;
  exception_class: string | null;
}

export interface RollbarFrame {
  filename?: string;
  lineno?: number;
  colno?: number;
  method?: string;
  code?: string;
  context?: { pre?: string[]; post?: string[] };
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  locals?: Record<string, unknown>;
}
export interface RollbarTrace {
  frames?: RollbarFrame[];
  exception?: { class?: string; message?: string; description?: string };
}
/** An occurrence's `data`, as the notifier sent it. */
export interface OccurrenceData {
  environment?: string;
  level?: string;
  timestamp?: number;
  platform?: string;
  language?: string;
  framework?: string;
  context?: string;
  code_version?: string;
  uuid?: string;
  title?: string;
  body?: {
    trace?: RollbarTrace;
    trace_chain?: RollbarTrace[];
    message?: { body?: string; [key: string]: unknown };
    crash_report?: { raw?: string };
  };
  request?: {
    url?: string;
    method?: string;
    headers?: Record<string, string>;
    GET?: Record<string, unknown>;
    POST?: Record<string, unknown>;
    body?: string;
    user_ip?: string;
    query_string?: string;
  };
  person?: { id?: string | number; username?: string; email?: string };
  server?: { host?: string; root?: string; branch?: string; pid?: number; argv?: string[] };
  client?: Record<string, unknown>;
  custom?: Record<string, unknown>;
  notifier?: { name?: string; version?: string };
  trace_id?: string;
  [key: string]: unknown;
}
export interface Occurrence {
  id: number;
  item_id: number;
  timestamp: number;
  data: OccurrenceData;
}

let config: Promise<string | null> | null = null;

/** The project's read token, `null` when it has none (fetched once; a failure is retried next call). */
export function consoleRollbarToken(): Promise<string | null> {
  config ??= getJSON<{ rollbar: { access_token: string } | null }>("/api/console/config").then(
    (answer) => answer.rollbar?.access_token ?? null,
    (error) => {
      config = null;
      throw error;
    },
  );
  return config;
}

/** The project's token; an error naming the fix when it has none with the read scope. */
export async function rollbarToken(): Promise<string> {
  const token = await consoleRollbarToken();
  if (token === null) {
    throw new ApiError(403, "the Rollbar project has no token with the read scope; add one to rollbar.json in the data directory", null);
  }
  return token;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const token = await rollbarToken();
  const answer = await sendJSON<{ err: number; result: T; message?: string }>(method, path, body, { "x-rollbar-access-token": token });
  if (answer.err !== 0) throw new ApiError(200, answer.message ?? "Rollbar call failed", answer);
  return answer.result;
}

const query = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
};

export const rollbar = {
  items: (filters: { status?: string; level?: string; environment?: string; page?: number } = {}) =>
    call<{ items: RollbarItem[]; page: number; total_count: number }>("GET", `/api/1/items${query(filters)}`),
  item: (id: number | string) => call<RollbarItem>("GET", `/api/1/item/${encodeURIComponent(String(id))}`),
  instances: (id: number | string, page = 1) =>
    call<{ instances: Occurrence[]; page: number }>("GET", `/api/1/item/${encodeURIComponent(String(id))}/instances${query({ page })}`),
  update: (id: number | string, patch: { status?: string; level?: string; title?: string }) =>
    call<RollbarItem>("PATCH", `/api/1/item/${encodeURIComponent(String(id))}`, patch),
  /** The occurrences carrying a trace id, latest first, each with a summary of its item (waggle's addition). */
  traceInstances: (traceId: string) =>
    call<{ instances: (Occurrence & { span_id: string | null; item: RollbarItem | null })[] }>(
      "GET",
      `/api/1/instances${query({ trace_id: traceId })}`,
    ),
  /** Items with occurrences in the last `hours` hours and their counts per hour (oldest first). */
  topActive: (hours = 24, environments?: string) =>
    call<{ item: RollbarItem & { occurrences: number }; counts: number[] }[]>("GET", `/api/1/reports/top_active_items${query({ hours, environments })}`),
};

/** The trace id an occurrence links to (`custom.trace_id`, `data.trace_id`, `traceparent`, `X-Amzn-Trace-Id`). */
export function occurrenceTraceId(data: OccurrenceData): string | null {
  const hex = (value: unknown) => (typeof value === "string" && /^[0-9a-fA-F]{32}$/.test(value) ? value.toLowerCase() : null);
  const direct = hex(data.custom?.trace_id) ?? hex(data.trace_id);
  if (direct) return direct;
  const headers = Object.fromEntries(Object.entries(data.request?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const parent = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/i.exec(headers.traceparent ?? "");
  if (parent) return parent[1].toLowerCase();
  const amzn = /Root=1-([0-9a-f]{8})-([0-9a-f]{24})/i.exec(headers["x-amzn-trace-id"] ?? "");
  return amzn ? (amzn[1] + amzn[2]).toLowerCase() : null;
}
