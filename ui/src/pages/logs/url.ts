// The log explorer's state in the URL: group, stream, filter pattern, time range, tab and the
// Logs Insights query, so a view can be shared and the back button works.

import { href } from "../../router";
import { DEFAULT_RANGE, type TimeRange, rangeFromQuery, rangeToQuery } from "../../time";

export type Tab = "events" | "insights";

export interface LogsState {
  group?: string;
  /** One stream, or all the group's streams when absent. */
  stream?: string;
  pattern: string;
  range: TimeRange;
  tab: Tab;
  /** The Logs Insights query. */
  query: string;
}

export const DEFAULT_QUERY = "fields @timestamp, @message, @logStream\n| sort @timestamp desc\n| limit 100";

export function parseState(query: URLSearchParams): LogsState {
  return {
    group: query.get("group") || undefined,
    stream: query.get("stream") || undefined,
    pattern: query.get("pattern") ?? "",
    range: rangeFromQuery(query, DEFAULT_RANGE),
    tab: query.get("tab") === "insights" ? "insights" : "events",
    query: query.get("q") ?? DEFAULT_QUERY,
  };
}

export function stateHref(state: LogsState): string {
  return href("/logs", {
    group: state.group,
    stream: state.stream,
    pattern: state.pattern,
    ...rangeToQuery(state.range),
    tab: state.tab === "insights" ? "insights" : undefined,
    q: state.tab === "insights" && state.query !== DEFAULT_QUERY ? state.query : undefined,
  });
}
