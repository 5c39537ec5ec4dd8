// The CloudWatch Logs calls the log explorer makes (docs/API.md, "CloudWatch Logs"), typed.

import { cloudwatch } from "../../api";

export interface LogGroup {
  logGroupName: string;
  creationTime: number;
  storedBytes: number;
  retentionInDays?: number;
}
export interface LogStream {
  logStreamName: string;
  creationTime: number;
  storedBytes: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
}
export interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
  logStreamName?: string;
  eventId?: string;
}
export interface FilterResult {
  events: LogEvent[];
  nextToken?: string;
}
export interface GetResult {
  events: LogEvent[];
  nextForwardToken: string;
  nextBackwardToken: string;
}
export interface QueryResults {
  status: "Scheduled" | "Running" | "Complete" | "Failed" | "Cancelled" | "Timeout" | "Unknown";
  results: { field: string; value: string }[][];
  statistics?: { recordsMatched: number; recordsScanned: number; bytesScanned: number };
}

export const logs = {
  groups: () => cloudwatch<{ logGroups: LogGroup[]; nextToken?: string }>("DescribeLogGroups", { limit: 50 }),
  streams: (group: string) =>
    cloudwatch<{ logStreams: LogStream[] }>("DescribeLogStreams", {
      logGroupName: group,
      orderBy: "LastEventTime",
      descending: true,
      limit: 50,
    }),
  /** The latest `limit` events of one stream in the range (or those before `token`). */
  get: (group: string, stream: string, startMs: number, endMs: number, limit: number, token?: string) =>
    cloudwatch<GetResult>("GetLogEvents", {
      logGroupName: group,
      logStreamName: stream,
      startTime: startMs,
      endTime: endMs,
      limit,
      startFromHead: false,
      nextToken: token,
    }),
  /** Events matching `pattern`, oldest first from `startMs` (both bounds inclusive). */
  filter: (group: string, stream: string | undefined, pattern: string, startMs: number, endMs: number | undefined, limit: number, token?: string) =>
    cloudwatch<FilterResult>("FilterLogEvents", {
      logGroupName: group,
      logStreamNames: stream ? [stream] : undefined,
      filterPattern: pattern || undefined,
      startTime: startMs,
      endTime: endMs,
      limit,
      nextToken: token,
    }),
  startQuery: (groups: string[], query: string, startSeconds: number, endSeconds: number) =>
    cloudwatch<{ queryId: string }>("StartQuery", {
      logGroupNames: groups,
      queryString: query,
      startTime: Math.floor(startSeconds),
      endTime: Math.ceil(endSeconds),
      limit: 1000,
    }),
  results: (queryId: string) => cloudwatch<QueryResults>("GetQueryResults", { queryId }),
  stopQuery: (queryId: string) => cloudwatch<{ success: boolean }>("StopQuery", { queryId }),
};
