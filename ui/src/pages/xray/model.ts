// X-Ray's API shapes the service map and the traces page read (docs/API.md "AWS X-Ray"), and the
// few computations on them: percentiles from response-time histograms, trace id spelling.

import { xray } from "../../api";
import { formatDuration } from "../../format";

export interface ServiceId {
  Name: string;
  Names?: string[];
  Type?: string;
}
export interface SummaryStatistics {
  OkCount: number;
  ErrorStatistics: { ThrottleCount: number; OtherCount: number; TotalCount: number };
  FaultStatistics: { OtherCount: number; TotalCount: number };
  TotalCount: number;
  TotalResponseTime: number;
}
/** Response time in seconds -> count. */
export type Histogram = { Value: number; Count: number }[];
export interface Edge {
  ReferenceId: number;
  StartTime: number;
  EndTime: number;
  SummaryStatistics: SummaryStatistics;
  ResponseTimeHistogram: Histogram;
}
export interface Service extends ServiceId {
  ReferenceId: number;
  Root: boolean;
  State: string;
  StartTime: number;
  EndTime: number;
  Edges: Edge[];
  SummaryStatistics: SummaryStatistics;
  ResponseTimeHistogram: Histogram;
}
export interface ServiceGraph {
  StartTime: number;
  EndTime: number;
  Services: Service[];
}
export interface Group {
  GroupName: string;
  GroupARN: string;
  FilterExpression?: string;
}
export interface AnnotationValue {
  NumberValue?: number;
  StringValue?: string;
  BooleanValue?: boolean;
}
export interface TraceSummary {
  Id: string;
  StartTime: number;
  Duration: number;
  ResponseTime?: number;
  HasFault: boolean;
  HasError: boolean;
  HasThrottle: boolean;
  IsPartial: boolean;
  Http?: { HttpURL?: string; HttpStatus?: number; HttpMethod?: string; UserAgent?: string; ClientIp?: string };
  Annotations: Record<string, { AnnotationValue: AnnotationValue; ServiceIds: ServiceId[] }[]>;
  Users: { UserName: string }[];
  EntryPoint?: ServiceId;
  ServiceIds: ServiceId[];
}
export interface TraceSummaryPage {
  TraceSummaries: TraceSummary[];
  NextToken?: string;
  TracesProcessedCount: number;
  ApproximateTime: number;
}

/** The group the API applies when none is named: every trace. */
export const DEFAULT_GROUP = "Default";

export const xrayApi = {
  serviceGraph: (start: number, end: number, group?: string) =>
    xray<ServiceGraph>("/ServiceGraph", {
      StartTime: start,
      EndTime: end,
      ...(group && group !== DEFAULT_GROUP ? { GroupName: group } : {}),
    }),
  groups: () => xray<{ Groups: Group[] }>("/Groups").then((r) => r.Groups),
  createGroup: (name: string, filterExpression: string) =>
    xray<{ Group: Group }>("/CreateGroup", { GroupName: name, FilterExpression: filterExpression }).then((r) => r.Group),
  traceSummaries: (body: { start: number; end: number; filter?: string; nextToken?: string }) =>
    xray<TraceSummaryPage>("/TraceSummaries", {
      StartTime: body.start,
      EndTime: body.end,
      Sampling: false,
      ...(body.filter?.trim() ? { FilterExpression: body.filter.trim() } : {}),
      ...(body.nextToken ? { NextToken: body.nextToken } : {}),
    }),
};

/** `1-58406520-a006649127e371903a2de979` -> `58406520a006649127e371903a2de979` (the trace view's id). */
export function traceIdFromXray(id: string): string {
  const match = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/i.exec(id);
  return match ? `${match[1]}${match[2]}`.toLowerCase() : id;
}

/** The `q`-th quantile (0..1) of a histogram, in seconds; null when it is empty. */
export function histogramQuantile(histogram: Histogram, q: number): number | null {
  const sorted = [...histogram].sort((a, b) => a.Value - b.Value);
  const total = sorted.reduce((sum, bucket) => sum + bucket.Count, 0);
  if (total === 0) return null;
  // Nearest rank, as Honeycomb's and X-Ray's percentiles are read.
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const bucket of sorted) {
    seen += bucket.Count;
    if (seen >= rank) return bucket.Value;
  }
  return sorted[sorted.length - 1].Value;
}

/** Shares and rates of a node's or an edge's calls. */
export interface CallStats {
  total: number;
  ok: number;
  /** 4xx other than throttles. */
  error: number;
  throttle: number;
  fault: number;
  errorShare: number;
  throttleShare: number;
  faultShare: number;
  /** Requests per minute over the graph's time range. */
  perMinute: number;
  /** Milliseconds. */
  avg: number | null;
  p50: number | null;
  p99: number | null;
}

export function callStats(statistics: SummaryStatistics, histogram: Histogram, seconds: number): CallStats {
  const total = statistics.TotalCount;
  const share = (n: number) => (total ? n / total : 0);
  const ms = (s: number | null) => (s === null ? null : s * 1000);
  return {
    total,
    ok: statistics.OkCount,
    error: statistics.ErrorStatistics.OtherCount,
    throttle: statistics.ErrorStatistics.ThrottleCount,
    fault: statistics.FaultStatistics.TotalCount,
    errorShare: share(statistics.ErrorStatistics.OtherCount),
    throttleShare: share(statistics.ErrorStatistics.ThrottleCount),
    faultShare: share(statistics.FaultStatistics.TotalCount),
    perMinute: seconds > 0 ? total / (seconds / 60) : 0,
    avg: total ? (statistics.TotalResponseTime / total) * 1000 : null,
    p50: ms(histogramQuantile(histogram, 0.5)),
    p99: ms(histogramQuantile(histogram, 0.99)),
  };
}

/** A quoted string of the filter grammar. */
export function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The filter expression of a node (`service("name")`, with its type when it has one). */
export function serviceFilter(node: ServiceId): string {
  return node.Type ? `service(id(name: ${quote(node.Name)}, type: ${quote(node.Type)}))` : `service(${quote(node.Name)})`;
}

export function edgeFilter(source: ServiceId, target: ServiceId): string {
  const part = (node: ServiceId) => (node.Type ? `id(name: ${quote(node.Name)}, type: ${quote(node.Type)})` : quote(node.Name));
  return `edge(${part(source)}, ${part(target)})`;
}

/** A percentile read from a 1 ms histogram: its 0 bucket holds everything under half a millisecond. */
export function formatPercentile(ms: number | null): string {
  if (ms === null) return "–";
  return ms === 0 ? "<1 ms" : formatDuration(ms);
}
