// Home: the services sending to this waggle (requests, error rate, P99, each with a sparkline), the
// totals, the other data (log groups, Rollbar), recent traces; a getting-started card while empty.

import { useState } from "preact/hooks";

import { type Dataset, honeycomb, traces as tracesApi } from "../../api";
import { Card, ErrorBox, Loading, PageHeader, TimePicker, useAsync } from "../../components/common";
import { formatAgo, formatNumber } from "../../format";
import { href, navigate } from "../../router";
import { type TimeRange, describeRange, rangeBounds, rangeFromQuery, rangeToQuery } from "../../time";
import { GettingStarted } from "./empty";
import "./home.css";
import { RecentTraces } from "./recent";
import { ServicesTable, TotalsStrip } from "./services";
import { serviceStats } from "./stats";

export function HomePage({ query }: { query: URLSearchParams }) {
  const range = rangeFromQuery(query);
  const traceDataset = query.get("service") || undefined;
  const errorsOnly = query.get("errors") === "1";
  const [refreshed, setRefreshed] = useState(0);
  const rangeKey = JSON.stringify(range);

  const go = (changes: { range?: TimeRange; service?: string | null; errors?: boolean }) => {
    const nextRange = changes.range ?? range;
    navigate(
      href("/", {
        ...rangeToQuery(nextRange),
        service: changes.service === undefined ? traceDataset : changes.service,
        errors: (changes.errors ?? errorsOnly) ? "1" : undefined,
      }),
      true,
    );
  };

  const datasets = useAsync(() => honeycomb.datasets(), [refreshed]);
  const traceDatasets = (datasets.data ?? []).filter((d) => d.table === "traces");
  const otherDatasets = (datasets.data ?? []).filter((d) => d.table !== "traces");
  const names = traceDatasets.map((d) => d.name).join(",");

  const stats = useAsync(async () => {
    if (!names) return null;
    const [totals, ...services] = await Promise.all([serviceStats("__all__", range), ...names.split(",").map((name) => serviceStats(name, range))]);
    services.sort((a, b) => b.count - a.count || a.dataset.localeCompare(b.dataset));
    return { totals, services };
  }, [names, rangeKey, refreshed]);

  const recent = useAsync(() => {
    const { start, end } = rangeBounds(range);
    return tracesApi.list({ start, end: end + 1, limit: 25, dataset: traceDataset, error: errorsOnly ? true : undefined });
  }, [rangeKey, traceDataset, errorsOnly, refreshed]);

  const empty = datasets.data !== undefined && traceDatasets.length === 0;
  const loaded = empty || (stats.data !== undefined && recent.data !== undefined && !stats.loading && !recent.loading);
  const now = Date.now();

  return (
    <main class="page hm-page" data-page="home" data-loaded={loaded || datasets.error ? "true" : "false"}>
      <PageHeader
        title="Home"
        subtitle={
          empty ? "Nothing has been sent to this waggle yet." : <>Services sending spans to this waggle · {describeRange(range).toLowerCase()}</>
        }
      >
        <TimePicker value={range} onChange={(next) => go({ range: next })} />
        <button type="button" class="button" onClick={() => setRefreshed(refreshed + 1)} title="Run the queries again" data-testid="refresh">
          ↻ Refresh
        </button>
      </PageHeader>

      {datasets.error && <ErrorBox error={datasets.error} title="Cannot list the datasets" />}
      {empty && <GettingStarted logs={otherDatasets} />}

      {!empty && (
        <>
          {stats.error && <ErrorBox error={stats.error} title="Cannot compute the services' numbers" />}
          {stats.data ? (
            <TotalsStrip totals={stats.data.totals} services={stats.data.services.length} />
          ) : (
            !stats.error && <div class="card hm-totals-placeholder"><Loading label="Counting requests" /></div>
          )}

          <Card
            title="Services"
            actions={<span class="muted hm-note">requests = server spans and root spans · click a name to query it</span>}
            testid="services-card"
          >
            {stats.data ? (
              <ServicesTable services={stats.data.services} range={range} onTraces={(service) => go({ service })} />
            ) : (
              !stats.error && <Loading label="Running the queries" />
            )}
          </Card>

          <Card
            title={
              <>
                Recent traces
                {traceDataset && (
                  <span class="chip hm-filter-chip">
                    {traceDataset}
                    <button type="button" aria-label="Show every service" onClick={() => go({ service: null })}>
                      ×
                    </button>
                  </span>
                )}
              </>
            }
            actions={
              <div class="row">
                <select
                  value={traceDataset ?? ""}
                  onChange={(event) => go({ service: event.currentTarget.value || null })}
                  aria-label="Service"
                  data-testid="trace-service"
                >
                  <option value="">All services</option>
                  {traceDatasets.map((d) => (
                    <option value={d.name}>{d.name}</option>
                  ))}
                </select>
                <label class="hm-check">
                  <input type="checkbox" checked={errorsOnly} onChange={(event) => go({ errors: event.currentTarget.checked })} data-testid="errors-only" />
                  Errors only
                </label>
              </div>
            }
            testid="recent-card"
          >
            {recent.error && <ErrorBox error={recent.error} title="Cannot list recent traces" />}
            {recent.data === undefined && !recent.error && <Loading label="Loading recent traces" />}
            {recent.data && recent.data.traces.length === 0 && (
              <div class="empty" data-testid="no-traces">
                No {errorsOnly ? "failed " : ""}trace{traceDataset ? ` of ${traceDataset}` : ""} started in the {describeRange(range).toLowerCase()}. Widen the
                time range{errorsOnly || traceDataset ? " or clear the filters" : ""}.
              </div>
            )}
            {recent.data && recent.data.traces.length > 0 && <RecentTraces traces={recent.data.traces} now={now} />}
          </Card>

          {otherDatasets.length > 0 && <OtherData datasets={otherDatasets} now={now} />}
        </>
      )}
    </main>
  );
}

/** Log groups and Rollbar: where their rows are, and which page shows them. */
function OtherData({ datasets, now }: { datasets: Dataset[]; now: number }) {
  return (
    <Card title="Logs and errors" testid="other-data">
      <table class="data">
        <thead>
          <tr>
            <th>Dataset</th>
            <th>Kind</th>
            <th class="num">Rows</th>
            <th>Last received</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {datasets.map((d) => {
            const rollbar = d.name === "rollbar";
            return (
              <tr data-testid="other-dataset" data-dataset={d.name}>
                <td class="mono">{d.name}</td>
                <td class="muted">{rollbar ? "Rollbar occurrences" : "log lines"}</td>
                <td class="num">{formatNumber(d.rows)}</td>
                <td class="muted">{formatAgo(new Date(d.last_time_unix_nano / 1e6), now)}</td>
                <td>
                  <a href={rollbar ? "/errors" : href("/logs", { group: d.name })}>{rollbar ? "Open errors" : "Open logs"} →</a>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Card>
  );
}
