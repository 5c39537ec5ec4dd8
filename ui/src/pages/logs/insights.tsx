// Logs Insights: a query editor over the selected group, StartQuery then GetQueryResults every
// half second until the query completes, a results table, and a bar chart when the query counts
// `by bin(...)`.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import { Chart } from "../../components/chart";
import { Empty, ErrorBox } from "../../components/common";
import { formatNumber } from "../../format";
import { type TimeRange, rangeBounds } from "../../time";
import { type QueryResults, logs } from "./cw";
import { normalizeTraceId } from "./traceid";

const POLL_MS = 500;

export const SAMPLES: { label: string; query: string }[] = [
  { label: "Latest events", query: "fields @timestamp, @message, @logStream\n| sort @timestamp desc\n| limit 100" },
  { label: "Events per minute", query: "stats count(*) by bin(1m)" },
  { label: "Server errors", query: "fields @timestamp, method, path, status, error, trace_id\n| filter status >= 500\n| sort @timestamp desc\n| limit 100" },
  { label: "Latency by path", query: "stats count(*) as requests, avg(duration_ms) as avg_ms, pct(duration_ms, 99) as p99_ms by path\n| sort p99_ms desc" },
  { label: "Errors per 5 minutes", query: 'filter level = "ERROR"\n| stats count(*) as errors by bin(5m)' },
];

interface Run {
  id: string;
  status: QueryResults["status"] | "Starting";
  results?: QueryResults;
  error?: Error;
  started: number;
  elapsedMs?: number;
}

export function InsightsView({ group, query, range, onQuery, onLoaded }: {
  group: string;
  query: string;
  range: TimeRange;
  onQuery: (query: string) => void;
  onLoaded: (loaded: boolean) => void;
}) {
  const [draft, setDraft] = useState(query);
  const [run, setRun] = useState<Run | null>(null);
  const [nonce, setNonce] = useState(0);
  const generation = useRef(0);

  useEffect(() => setDraft(query), [query]);

  // The URL's query runs on arrival and whenever it, the group or the range changes.
  useEffect(() => {
    const mine = ++generation.current;
    let timer = 0;
    const started = performance.now();
    onLoaded(false);
    setRun({ id: "", status: "Starting", started });
    const { start, end } = rangeBounds(range);
    const fail = (error: Error) => {
      if (mine !== generation.current) return;
      setRun({ id: "", status: "Failed", error, started });
      onLoaded(true);
    };
    logs.startQuery([group], query, start, end).then(({ queryId }) => {
      const poll = () =>
        logs.results(queryId).then((results) => {
          if (mine !== generation.current) return;
          const done = !["Scheduled", "Running"].includes(results.status);
          setRun({ id: queryId, status: results.status, results, started, elapsedMs: done ? performance.now() - started : undefined });
          if (done) onLoaded(true);
          else timer = window.setTimeout(poll, POLL_MS);
        }, fail);
      poll();
    }, fail);
    return () => {
      window.clearTimeout(timer);
      generation.current++;
    };
  }, [group, query, JSON.stringify(range), nonce]);

  const running = run?.status === "Starting" || run?.status === "Running" || run?.status === "Scheduled";
  const stop = () => {
    if (run?.id) logs.stopQuery(run.id).catch(() => undefined);
    generation.current++;
    setRun(run && { ...run, status: "Cancelled" });
    onLoaded(true);
  };
  // The same query again runs again (new events may have arrived).
  const submit = () => (draft.trim() === query.trim() ? setNonce(nonce + 1) : onQuery(draft.trim()));

  return (
    <div class="logs-insights" data-testid="insights">
      <section class="card">
        <div class="card-header">
          <h2>
            Logs Insights <span class="muted logs-insights-on">on</span> <span class="mono">{group}</span>
          </h2>
          <div class="row">
            <select
              aria-label="Sample queries"
              data-testid="sample-query"
              onChange={(e) => {
                const sample = SAMPLES.find((s) => s.label === e.currentTarget.value);
                if (sample) setDraft(sample.query);
                e.currentTarget.value = "";
              }}
            >
              <option value="">Sample queries…</option>
              {SAMPLES.map((s) => (
                <option value={s.label}>{s.label}</option>
              ))}
            </select>
          </div>
        </div>
        <textarea
          class="logs-editor"
          data-testid="insights-query"
          rows={Math.min(10, Math.max(4, draft.split("\n").length + 1))}
          value={draft}
          spellcheck={false}
          onInput={(e) => setDraft(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              submit();
            }
          }}
        />
        <div class="row logs-editor-actions">
          <button class="button primary" type="button" data-testid="insights-run" onClick={submit} disabled={running}>
            Run query
          </button>
          {running && (
            <button class="button" type="button" onClick={stop} data-testid="insights-stop">
              Cancel
            </button>
          )}
          <span class="muted">Ctrl+Enter runs it · commands: fields, filter, stats, sort, limit, parse, display</span>
          <span class="spacer" />
          <RunStatus run={run} />
        </div>
      </section>
      {run?.error && <ErrorBox title="The query cannot run" error={run.error} />}
      {run?.results && <Results results={run.results} query={query} />}
    </div>
  );
}

function RunStatus({ run }: { run: Run | null }) {
  if (!run) return null;
  const stats = run.results?.statistics;
  return (
    <span class="logs-run-status" data-testid="insights-status">
      {(run.status === "Starting" || run.status === "Running" || run.status === "Scheduled") && <span class="spinner" />}
      <span class={`badge ${run.status === "Complete" ? "ok" : run.status === "Failed" ? "error" : ""}`}>{run.status}</span>
      {stats && (
        <span class="muted">
          {formatNumber(stats.recordsMatched)} of {formatNumber(stats.recordsScanned)} records matched
          {run.elapsedMs !== undefined ? ` · ${(run.elapsedMs / 1000).toFixed(2)} s` : ""}
        </span>
      )}
    </span>
  );
}

/** The bin column of `stats ... by bin(...)`: its name in the results (an alias or `bin(1m)`). */
function binColumn(query: string, columns: string[]): string | null {
  const match = /\bby\b[^|]*?\b(bin\s*\([^)]*\))(?:\s+as\s+([\w@.]+))?/i.exec(query);
  if (!match) return null;
  const names = [match[2], match[1], match[1].replace(/\s+/g, "")].filter(Boolean) as string[];
  return columns.find((c) => names.includes(c)) ?? columns.find((c) => /^bin\(/i.test(c)) ?? null;
}

function Results({ results, query }: { results: QueryResults; query: string }) {
  const columns = useMemo(() => {
    const seen: string[] = [];
    for (const row of results.results) for (const cell of row) if (cell.field !== "@ptr" && !seen.includes(cell.field)) seen.push(cell.field);
    return seen;
  }, [results]);
  const rows = useMemo(
    () => results.results.map((row) => Object.fromEntries(row.map((cell) => [cell.field, cell.value]))),
    [results],
  );
  const bin = binColumn(query, columns);
  const numeric = bin ? columns.filter((c) => c !== bin && rows.every((r) => r[c] === undefined || Number.isFinite(Number(r[c])))) : [];

  if (results.status !== "Complete" && rows.length === 0) return null;
  return (
    <>
      {bin && numeric.length > 0 && <BinChart rows={rows} bin={bin} series={numeric} />}
      <section class="card" data-testid="insights-results">
        <div class="card-header">
          <h2>Results</h2>
          <span class="muted">
            {formatNumber(rows.length)} row{rows.length === 1 ? "" : "s"}
          </span>
        </div>
        {rows.length === 0 ? (
          <Empty>No records matched. Widen the time range or change the filter.</Empty>
        ) : (
          <div class="logs-table-wrap">
            <table class="data logs-results" data-testid="insights-table">
              <thead>
                <tr>
                  <th class="num">#</th>
                  {columns.map((c) => (
                    <th class={numericColumn(rows, c) ? "num" : ""}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((row, i) => (
                  <tr>
                    <td class="num faint">{i + 1}</td>
                    {columns.map((c) => (
                      <Cell column={c} value={row[c]} numeric={numericColumn(rows, c)} />
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

const numericCache = new WeakMap<object, Map<string, boolean>>();
function numericColumn(rows: Record<string, string>[], column: string): boolean {
  let cache = numericCache.get(rows);
  if (!cache) numericCache.set(rows, (cache = new Map()));
  if (!cache.has(column)) {
    const values = rows.map((r) => r[column]).filter((v) => v !== undefined && v !== "");
    cache.set(column, values.length > 0 && values.every((v) => Number.isFinite(Number(v))));
  }
  return cache.get(column)!;
}

function Cell({ column, value, numeric }: { column: string; value: string | undefined; numeric: boolean }) {
  if (value === undefined) return <td class="faint">–</td>;
  const linked = /trace_?id/i.test(column) ? normalizeTraceId(value) : null;
  if (linked) {
    return (
      <td class="mono">
        <a href={`/trace/${linked}`} data-testid="trace-link">
          {value}
        </a>
      </td>
    );
  }
  if (numeric) return <td class="num mono" title={value}>{formatNumber(Number(value))}</td>;
  return <td class={column === "@message" ? "mono logs-cell-message" : "mono"}>{value}</td>;
}

function BinChart({ rows, bin, series }: { rows: Record<string, string>[]; bin: string; series: string[] }) {
  const option = useMemo(() => {
    const sorted = [...rows].sort((a, b) => (a[bin] < b[bin] ? -1 : a[bin] > b[bin] ? 1 : 0));
    // Times are UTC (`2026-11-21 10:00:00.000`); the axis shows local time.
    const times = sorted.map((r) => Date.parse(r[bin].replace(" ", "T") + "Z"));
    const local = (t: number) => {
      const d = new Date(t);
      const pad = (n: number) => String(n).padStart(2, "0");
      return `${pad(d.getHours())}:${pad(d.getMinutes())}${d.getSeconds() ? `:${pad(d.getSeconds())}` : ""}`;
    };
    return {
      animation: false,
      grid: { left: 48, right: 16, top: series.length > 1 ? 28 : 12, bottom: 28 },
      legend: series.length > 1 ? { top: 0 } : undefined,
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        valueFormatter: (v: number) => formatNumber(v),
      },
      xAxis: {
        type: "category",
        data: times.map((t, i) => (Number.isFinite(t) ? local(t) : sorted[i][bin])),
        axisTick: { alignWithLabel: true },
      },
      yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eef0f4" } } },
      series: series.map((name, i) => ({
        name,
        type: "bar",
        stack: series.length > 1 ? undefined : "one",
        data: sorted.map((r) => (r[name] === undefined ? null : Number(r[name]))),
        itemStyle: { color: ["#4c7cf0", "#f5a524", "#18a77a", "#d9480f", "#9b5de5"][i % 5], borderRadius: [2, 2, 0, 0] },
        barMaxWidth: 28,
      })),
    };
  }, [rows, bin, series.join(",")]);
  return (
    <section class="card" data-testid="insights-chart">
      <div class="card-header">
        <h2>
          {series.join(", ")} by <span class="mono">{bin}</span>
        </h2>
        <span class="muted">{rows.length} bins</span>
      </div>
      <Chart option={option} style={{ height: "240px" }} testid="insights-bars" />
    </section>
  );
}
