// X-Ray traces (route /xray): a filter expression, groups, the matching traces (GetTraceSummaries,
// 100 a page), their response-time distribution (drag to narrow the filter) and HTTP status shares.
// The URL holds the expression (`q`), the group (`group`) and the range (xray/url.ts).

import { useEffect, useRef, useState } from "preact/hooks";

import { ApiError } from "../../api";
import { Card, Empty, ErrorBox, Loading, PageHeader, TimePicker, useAsync } from "../../components/common";
import { formatNumber } from "../../format";
import { navigate } from "../../router";
import { type TimeRange, describeRange, rangeBounds } from "../../time";
import { FilterBox } from "./filter-box";
import { GroupBar } from "./groups";
import { DEFAULT_GROUP, type TraceSummary, quote, xrayApi } from "./model";
import { ResponseTimeChart, binResponseTimes } from "./response-times";
import { StatusBreakdown } from "./status";
import { TraceList } from "./trace-list";
import { type XrayLocation, parseXrayLocation, xrayHref } from "./url";
import "./xray.css";

/** The expression sent: the group's (by name) and the user's, both applying. */
function effectiveFilter(filter: string, group: string): { expression: string; prefix: number } {
  if (!group || group === DEFAULT_GROUP) return { expression: filter, prefix: 0 };
  const head = `group.name = ${quote(group)}`;
  if (!filter) return { expression: head, prefix: 0 };
  return { expression: `${head} AND (${filter})`, prefix: head.length + 6 };
}

const RANGE_CLAUSE = /^(?:\((.*)\) AND )?responsetime >= ([\d.]+) AND responsetime <= ([\d.]+)$/s;

/** The user's expression with a response-time range (replacing one added before). */
export function withResponseTime(filter: string, lower: number, upper: number): string {
  const match = RANGE_CLAUSE.exec(filter.trim());
  const base = match ? (match[1] ?? "") : filter.trim();
  const number = (n: number) => String(Number(n.toFixed(3)));
  const clause = `responsetime >= ${number(Math.floor(lower * 1000) / 1000)} AND responsetime <= ${number(Math.ceil(upper * 1000) / 1000)}`;
  return base ? `(${base}) AND ${clause}` : clause;
}

function selectedRange(filter: string): { lower: number; upper: number } | null {
  const match = RANGE_CLAUSE.exec(filter.trim());
  return match ? { lower: Number(match[2]), upper: Number(match[3]) } : null;
}

interface Pages {
  traces: TraceSummary[];
  nextToken?: string;
  processed: number;
  loading: boolean;
  error?: Error;
  /** The bounds every page of this list was asked with. */
  bounds?: { start: number; end: number };
  /** The request (expression, range, refresh) the state answers. */
  key?: string;
}

/** GetTraceSummaries' pages for one expression and range: the first at once, more on demand. */
function useTracePages(expression: string, range: TimeRange, refresh: string): Pages & { more: () => void } {
  const [state, setState] = useState<Pages>({ traces: [], processed: 0, loading: true });
  const generation = useRef(0);
  const rangeKey = JSON.stringify(range);
  const key = `${expression}|${rangeKey}|${refresh}`;
  useEffect(() => {
    const mine = ++generation.current;
    const { start, end } = rangeBounds(range);
    const bounds = { start: Math.floor(start), end: Math.ceil(end) };
    setState((previous) => ({ ...previous, loading: true, error: undefined }));
    xrayApi.traceSummaries({ ...bounds, filter: expression }).then(
      (page) =>
        mine === generation.current &&
        setState({ traces: page.TraceSummaries, nextToken: page.NextToken, processed: page.TracesProcessedCount, loading: false, bounds, key }),
      (error: Error) => mine === generation.current && setState({ traces: [], processed: 0, loading: false, error, bounds, key }),
    );
  }, [key]);
  const more = () => {
    if (!state.nextToken || !state.bounds || state.loading) return;
    const mine = generation.current;
    const token = state.nextToken;
    setState((previous) => ({ ...previous, loading: true }));
    xrayApi.traceSummaries({ ...state.bounds, filter: expression, nextToken: token }).then(
      (page) =>
        mine === generation.current &&
        setState((previous) => ({ ...previous, traces: [...previous.traces, ...page.TraceSummaries], nextToken: page.NextToken, loading: false })),
      (error: Error) => mine === generation.current && setState((previous) => ({ ...previous, loading: false, error })),
    );
  };
  // Until the effect above has started the current request, the state answers an older one.
  return { ...state, loading: state.loading || state.key !== key, more };
}

export function XrayPage({ query }: { query: URLSearchParams }) {
  const location = parseXrayLocation(query);
  const { filter, group, range } = location;
  const refresh = query.get("r") ?? "";
  const go = (changes: Partial<XrayLocation>) => navigate(xrayHref({ ...location, ...changes }));

  const groups = useAsync(() => xrayApi.groups(), [refresh]);
  const { expression, prefix } = effectiveFilter(filter, group);
  const pages = useTracePages(expression, range, refresh);

  const invalid = pages.error instanceof ApiError && pages.error.status === 400;
  // Positions in the server's message count from the start of the sent expression: make them the user's.
  const filterError = invalid
    ? pages.error!.message.replace(/(position|character) (\d+)/, (_all, word: string, n: string) => `${word} ${Math.max(0, Number(n) - prefix)}`)
    : undefined;
  const loaded = !pages.loading;
  const bins = binResponseTimes(
    pages.traces.filter((t) => t.ResponseTime !== undefined).map((t) => ({ value: t.ResponseTime!, count: 1, faults: t.HasFault ? 1 : 0 })),
  );
  const rangeSelection = selectedRange(filter);
  const listed = pages.traces.length;
  const scope = `${formatNumber(listed)} listed trace${listed === 1 ? "" : "s"}${pages.nextToken ? " (newest; load more to widen)" : ""}`;

  return (
    <main class="page xray-page" data-page="xray" data-loaded={loaded ? "true" : "false"}>
      <PageHeader
        title="X-Ray traces"
        subtitle={
          <span data-testid="xray-summary">
            {invalid
              ? "Invalid filter expression: nothing searched"
              : pages.loading && !listed
              ? "Searching traces…"
              : `${formatNumber(listed)}${pages.nextToken ? "+" : ""} matching of ${formatNumber(pages.processed)} traces · ${describeRange(range).toLowerCase()}`}
          </span>
        }
      >
        <TimePicker value={range} onChange={(next) => go({ range: next })} />
        <button type="button" class="button" onClick={() => navigate(`${xrayHref(location)}&r=${Date.now()}`, true)} title="Search again" data-testid="xray-refresh">
          ↻ Refresh
        </button>
      </PageHeader>

      <Card class="xray-query">
        <GroupBar
          groups={groups.data}
          value={group}
          expression={filter}
          onChange={(next) => go({ group: next === DEFAULT_GROUP ? "" : next })}
          onCreated={(created) => navigate(`${xrayHref({ ...location, group: created.GroupName, filter: "" })}&r=${Date.now()}`)}
        />
        <FilterBox value={filter} onApply={(next) => go({ filter: next })} error={filterError} busy={pages.loading} />
      </Card>

      {pages.error && !invalid && <ErrorBox title="The traces could not be listed" error={pages.error} />}
      {groups.error && <ErrorBox title="The X-Ray groups could not be loaded" error={groups.error} />}

      {!invalid && (
        <>
          <div class="xray-charts">
            <Card
              title="Response time distribution"
              actions={
                rangeSelection ? (
                  <span class="chip" data-testid="xray-range-chip">
                    {rangeSelection.lower} s – {rangeSelection.upper} s
                    <button type="button" aria-label="Remove the response-time range" onClick={() => go({ filter: (RANGE_CLAUSE.exec(filter.trim())?.[1] ?? "").trim() })}>
                      ×
                    </button>
                  </span>
                ) : (
                  <span class="muted xray-card-note">drag across bars to filter</span>
                )
              }
              testid="xray-distribution"
            >
              {bins.length ? (
                <ResponseTimeChart
                  bins={bins}
                  height={170}
                  selected={rangeSelection}
                  onSelect={(lower, upper) => go({ filter: withResponseTime(filter, lower, upper) })}
                  testid="xray-histogram"
                />
              ) : (
                <div class="xray-chart-empty muted">{pages.loading ? "…" : "No response times to show."}</div>
              )}
              <div class="muted xray-card-note">Of the {scope}.</div>
            </Card>
            <Card title="HTTP code percentage" testid="xray-status-card">
              {listed ? <StatusBreakdown traces={pages.traces} onFilter={(next) => go({ filter: next })} /> : <div class="xray-chart-empty muted">{pages.loading ? "…" : "No traces."}</div>}
              <div class="muted xray-card-note">Of the {scope}; click a class to filter on it.</div>
            </Card>
          </div>

          <Card
            title={
              <>
                Traces <span class="muted xray-count">{formatNumber(listed)}{pages.nextToken ? "+" : ""}</span>
              </>
            }
            testid="xray-traces-card"
          >
            {pages.loading && !listed && <Loading label="Searching traces" />}
            {!pages.loading && !listed && !pages.error && (
              <Empty>
                <div data-testid="xray-empty">
                  <strong>No trace matches{filter || group ? " this filter" : ""} in {describeRange(range).toLowerCase()}.</strong>
                  <div class="muted">
                    {pages.processed ? `${formatNumber(pages.processed)} traces were searched. ` : ""}
                    Widen the time range{filter ? ", loosen the expression" : ""}{group ? " or pick another group" : ""}.
                  </div>
                </div>
              </Empty>
            )}
            {listed > 0 && (
              <div class="xray-table-wrap">
                <TraceList traces={pages.traces} />
              </div>
            )}
            {pages.nextToken && (
              <div class="xray-more">
                <button type="button" class="button" onClick={pages.more} disabled={pages.loading} data-testid="xray-more">
                  {pages.loading ? "Loading…" : "Load 100 more"}
                </button>
              </div>
            )}
          </Card>
        </>
      )}
    </main>
  );
}
