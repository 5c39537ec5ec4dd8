// Typed calls to waggle's HTTP APIs on the console's own origin (docs/API.md, docs/QUERY.md).
// Honeycomb's query API under /1, waggle's additions under /api, the AWS APIs (X-Ray, CloudWatch
// Logs) under /aws, Rollbar's under /api/1.

/** An API answered with an error; `message` is the server's own explanation. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

async function request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, `waggle is not reachable (${String(error)}); is it still running?`, null);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, parsed), parsed);
  return parsed as T;
}

function errorMessage(status: number, body: unknown): string {
  if (body && typeof body === "object") {
    const record = body as Record<string, unknown>;
    const detail = record.type_detail as { field?: string; description?: string }[] | undefined;
    if (detail?.length) return detail.map((d) => (d.field ? `${d.field}: ${d.description}` : String(d.description))).join("; ");
    for (const key of ["error", "message", "Message", "__type"]) {
      if (typeof record[key] === "string") return record[key] as string;
    }
  }
  return typeof body === "string" && body ? body : `HTTP ${status}`;
}

export const getJSON = <T>(path: string, params?: Record<string, string | number | boolean | undefined>): Promise<T> => {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) if (value !== undefined) query.set(key, String(value));
  const text = query.toString();
  return request<T>("GET", text ? `${path}?${text}` : path);
};
export const postJSON = <T>(path: string, body: unknown): Promise<T> => request<T>("POST", path, body);
export const sendJSON = <T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> =>
  request<T>(method, path, body, headers);

// ---- Honeycomb's query model -------------------------------------------------------------------

export interface Calculation {
  op: string;
  column?: string;
}
export interface Filter {
  column: string;
  op: string;
  value?: unknown;
}
export interface Order {
  op?: string;
  column?: string;
  order?: "ascending" | "descending";
}
export interface Having {
  calculate_op: string;
  column?: string;
  op: string;
  value: number;
}
export interface QuerySpec {
  calculations?: Calculation[];
  filters?: Filter[];
  filter_combination?: "AND" | "OR";
  breakdowns?: string[];
  orders?: Order[];
  havings?: Having[];
  limit?: number;
  time_range?: number;
  start_time?: number;
  end_time?: number;
  granularity?: number;
}
export type Row = Record<string, unknown>;
export interface HeatmapValue {
  buckets: { lower: number; upper: number; count: number }[];
}
export interface QueryData {
  series: { time: string; data: Row }[];
  results: { data: Row }[];
}
export interface QueryResult {
  id: string;
  query_id: string;
  complete: boolean;
  data: QueryData;
}
export interface Dataset {
  name: string;
  table: string;
  rows: number;
  first_time_unix_nano: number;
  last_time_unix_nano: number;
}
export interface Column {
  id: string;
  key_name: string;
  type: "string" | "integer" | "float" | "boolean";
  last_written?: string;
}
export interface Selection {
  start_time?: number;
  end_time?: number;
  column?: string;
  min?: number;
  max?: number;
  filters?: Filter[];
  /** A result row's breakdown values, in the query's breakdown order (`null`: absent). */
  group?: unknown[];
}
export interface BubbleUpValue {
  value: unknown;
  selected_count: number;
  baseline_count: number;
  selected_fraction: number;
  baseline_fraction: number;
}
export interface BubbleUpResult {
  selected_count: number;
  baseline_count: number;
  columns: { column: string; score: number; binned: boolean; values: BubbleUpValue[] }[];
}
export interface Exemplar {
  trace_id: string;
  span_id: string;
  dataset: string;
  duration_ms: number;
  timestamp: string;
  time_unix_nano: number;
}
export interface SavedQuery {
  id: string;
  name: string;
  description: string;
  query_id: string;
  dataset: string;
}
export interface HistoryEntry {
  query_id: string;
  dataset: string;
  ran_at: string;
  duration_ms: number;
  results: number;
}

const ds = (dataset: string) => encodeURIComponent(dataset);

export const honeycomb = {
  datasets: () => getJSON<{ datasets: Dataset[] }>("/api/datasets").then((r) => r.datasets),
  columns: (dataset: string) => getJSON<Column[]>(`/1/columns/${ds(dataset)}`),
  /** Validates and stores a spec (400 names the bad field); the same spec always gets the same id. */
  createQuery: (dataset: string, spec: QuerySpec) => postJSON<QuerySpec & { id: string }>(`/1/queries/${ds(dataset)}`, spec),
  getQuery: (dataset: string, id: string) => getJSON<QuerySpec & { id: string }>(`/1/queries/${ds(dataset)}/${id}`),
  /** Creates the query and runs it now. */
  async run(dataset: string, spec: QuerySpec, options: { disable_series?: boolean; limit?: number; record_history?: boolean } = {}) {
    const query = await honeycomb.createQuery(dataset, spec);
    return postJSON<QueryResult>(`/1/query_results/${ds(dataset)}`, { query_id: query.id, ...options });
  },
  history: () => getJSON<{ history: HistoryEntry[] }>("/api/query_history").then((r) => r.history),
  saved: (dataset: string) => getJSON<SavedQuery[]>(`/1/query_annotations/${ds(dataset)}`),
  save: (dataset: string, body: { name: string; description?: string; query_id: string }) =>
    postJSON<SavedQuery>(`/1/query_annotations/${ds(dataset)}`, body),
  deleteSaved: (dataset: string, id: string) => sendJSON<unknown>("DELETE", `/1/query_annotations/${ds(dataset)}/${id}`),
  bubbleUp: (dataset: string, query: QuerySpec, selection: Selection) =>
    postJSON<BubbleUpResult>(`/api/bubbleup/${ds(dataset)}`, { query, selection }),
  exemplars: (dataset: string, query: QuerySpec, selection: Selection, limit = 10) =>
    postJSON<{ exemplars: Exemplar[] }>(`/api/exemplars/${ds(dataset)}`, { query, selection, limit }).then((r) => r.exemplars),
};

// ---- Traces -------------------------------------------------------------------------------------

export type Attributes = Record<string, unknown>;
export interface Span {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  start_time_unix_nano: number;
  end_time_unix_nano: number;
  duration_ms: number;
  status_code: number;
  status_message: string;
  trace_state?: string;
  flags?: number;
  dataset: string;
  service_name: string;
  attributes: Attributes;
  resource: Attributes;
  scope: { name: string; version: string; attributes: Attributes };
  events: { name: string; time_unix_nano: number; attributes: Attributes }[];
  links: { trace_id: string; span_id: string; trace_state: string; attributes: Attributes }[];
}
export interface LogRecord {
  time_unix_nano: number;
  severity_number: number;
  severity_text: string;
  body: unknown;
  trace_id: string;
  span_id: string;
  dataset: string;
  attributes: Attributes;
  resource: Attributes;
}
export interface Trace {
  trace_id: string;
  spans: Span[];
  logs: LogRecord[];
}
export interface TraceSummary {
  trace_id: string;
  root_name: string;
  service_name: string;
  dataset: string;
  start_time_unix_nano: number;
  duration_ms: number;
  span_count: number;
  error: boolean;
}
export interface TraceListParams {
  dataset?: string;
  start?: number;
  end?: number;
  min_duration_ms?: number;
  max_duration_ms?: number;
  error?: boolean;
  limit?: number;
  cursor?: string;
}

export const traces = {
  list: (params: TraceListParams = {}) =>
    getJSON<{ traces: TraceSummary[]; next_cursor: string | null }>("/api/traces", params as Record<string, string | number | boolean | undefined>),
  get: (traceId: string) => getJSON<Trace>(`/api/traces/${encodeURIComponent(traceId)}`),
};

// ---- AWS (X-Ray rest-json, CloudWatch Logs JSON 1.1) --------------------------------------------

/** An X-Ray API call: `path` like `/TraceSummaries`, body as the AWS API reference names it. */
export const xray = <T>(path: string, body: unknown = {}) => postJSON<T>(`/aws${path}`, body);

/** A CloudWatch Logs call: `operation` like `FilterLogEvents`. */
export const cloudwatch = <T>(operation: string, body: unknown = {}) =>
  sendJSON<T>("POST", "/aws", body, {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": `Logs_20140328.${operation}`,
  });
