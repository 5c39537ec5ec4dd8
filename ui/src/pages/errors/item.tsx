// One item: its state and actions (resolve, mute, reactivate), occurrences per hour, the list of
// occurrences, and the selected occurrence's stack trace, request, person, server and trace.

import { useMemo, useState } from "preact/hooks";

import { Card, ErrorBox, Loading, PageHeader, useAsync } from "../../components/common";
import { type Occurrence, type RollbarItem, occurrenceTraceId, rollbar } from "../../components/rollbar";
import { formatNumber, formatTime } from "../../format";
import { href, navigate } from "../../router";
import { PersonDetails, RawPayload, RequestDetails, ServerDetails } from "./details";
import { Ago, HourlyChart, LEVEL_COLORS, LevelBadge, StatusBadge } from "./shared";
import { StackTrace } from "./stack";

type Tab = "request" | "person" | "server";

export function ItemPage({ itemId, query }: { itemId: string; query: URLSearchParams }) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const chosen = query.get("occurrence");
  const item = useAsync(() => rollbar.item(itemId), [itemId]);
  const instances = useAsync(() => rollbar.instances(itemId, page), [itemId, page]);
  const report = useAsync(() => rollbar.topActive(24), [itemId]);
  const [action, setAction] = useState<{ busy: boolean; error?: Error }>({ busy: false });
  const [tab, setTab] = useState<Tab>("request");
  // The item as the latest PATCH answered it (a reload could race a new occurrence reactivating it).
  const [patched, setPatched] = useState<RollbarItem | null>(null);

  const occurrences = instances.data?.instances ?? [];
  const selected: Occurrence | undefined = occurrences.find((o) => String(o.id) === chosen) ?? occurrences[0];
  const counts = useMemo(() => report.data?.find((row) => String(row.item.id) === itemId)?.counts ?? new Array(24).fill(0), [report.data, itemId]);
  const day = counts.reduce((a: number, b: number) => a + b, 0);

  const setStatus = async (status: string) => {
    setAction({ busy: true });
    try {
      setPatched(await rollbar.update(itemId, { status }));
      setAction({ busy: false });
    } catch (error) {
      setAction({ busy: false, error: error as Error });
    }
  };

  const loaded = (!!item.data && !!instances.data && !item.loading) || !!item.error;
  const data = patched ?? item.data;
  return (
    <main class="page errors-page" data-page="errors" data-loaded={String(loaded)}>
      <nav class="errors-crumbs">
        <a href="/errors">Errors</a> <span class="faint">/</span> <span class="mono">#{data?.counter ?? itemId}</span>
      </nav>
      {item.error && (
        <ErrorBox
          title={`Cannot open item ${itemId}`}
          error={`${item.error.message}. Go back to the item list and pick another one.`}
        />
      )}
      {!data && !item.error && <Loading label="Loading the item" />}
      {data && (
        <>
          <PageHeader
            title={
              <span class="errors-item-title">
                <LevelBadge level={data.level} /> <span data-testid="item-title">{data.title}</span>
              </span>
            }
            subtitle={
              <>
                <span class="mono">#{data.counter}</span> · {data.environment}
                {data.exception_class ? <> · <span class="mono">{data.exception_class}</span></> : null}
                {data.framework ? ` · ${data.framework}` : ""}
                {data.language ? ` · ${data.language}` : ""}
              </>
            }
          >
            <StatusBadge status={data.status} testid="item-status" />
            {data.status !== "resolved" && (
              <button class="button primary" type="button" disabled={action.busy} onClick={() => setStatus("resolved")} data-testid="resolve">
                ✓ Resolve
              </button>
            )}
            {data.status !== "muted" && (
              <button class="button" type="button" disabled={action.busy} onClick={() => setStatus("muted")} data-testid="mute">
                Mute
              </button>
            )}
            {data.status !== "active" && (
              <button class="button" type="button" disabled={action.busy} onClick={() => setStatus("active")} data-testid="reactivate">
                Reactivate
              </button>
            )}
          </PageHeader>
          {action.error && <ErrorBox title="The status did not change" error={action.error} />}
          <div class="errors-stats">
            <Stat label="Total occurrences" value={formatNumber(data.total_occurrences)} testid="stat-total" />
            <Stat label="Last 24 hours" value={report.data ? formatNumber(day) : "…"} testid="stat-day" />
            <Stat label="First seen" value={<Ago seconds={data.first_occurrence_timestamp} />} />
            <Stat label="Last seen" value={<Ago seconds={data.last_occurrence_timestamp} />} />
            <Stat
              label={data.status === "resolved" ? "Resolved" : "Active since"}
              value={<Ago seconds={data.status === "resolved" ? data.last_resolved_timestamp : data.last_activated_timestamp} />}
            />
          </div>
          <Card title="Occurrences per hour, last 24 hours">
            {report.error ? (
              <ErrorBox title="Cannot read the hourly counts" error={report.error} />
            ) : (
              <HourlyChart series={[{ name: "occurrences", counts, color: LEVEL_COLORS[data.level] ?? "#4c7cf0" }]} height={130} testid="item-chart" />
            )}
          </Card>
        </>
      )}
      {instances.error && <ErrorBox title="Cannot list the occurrences" error={instances.error} />}
      {data && instances.data && (
        <div class="errors-item-layout">
          <section class="card errors-occurrences" data-testid="occurrences">
            <div class="card-header">
              <h2>Occurrences</h2>
              <span class="muted">page {page}</span>
            </div>
            {occurrences.length === 0 ? (
              <div class="muted">No occurrences on this page.</div>
            ) : (
              <table class="data">
                <thead>
                  <tr>
                    <th>Time</th>
                    <th>Person</th>
                    <th>Trace</th>
                  </tr>
                </thead>
                <tbody>
                  {occurrences.map((occurrence) => {
                    const trace = occurrenceTraceId(occurrence.data);
                    return (
                      <tr
                        class={occurrence === selected ? "clickable errors-selected" : "clickable"}
                        data-testid="occurrence"
                        onClick={(e) =>
                          !(e.target as Element).closest("a") &&
                          navigate(href(`/errors/${itemId}`, { page: page > 1 ? page : undefined, occurrence: occurrence.id }), true)
                        }
                      >
                        <td class="mono" title={`occurrence ${occurrence.id} · ${formatTime(new Date(occurrence.timestamp * 1000))}`}>
                          {shortTime(occurrence.timestamp)}
                        </td>
                        <td>{occurrence.data.person?.username ?? occurrence.data.person?.id ?? <span class="faint">–</span>}</td>
                        <td>
                          {trace ? (
                            <a class="mono" href={`/trace/${trace}`} data-testid="occurrence-trace" title={trace}>
                              {trace.slice(0, 8)}…
                            </a>
                          ) : (
                            <span class="faint">–</span>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
            <div class="row errors-pager">
              <button class="button small" disabled={page <= 1} onClick={() => navigate(href(`/errors/${itemId}`, { page: page - 1 > 1 ? page - 1 : undefined }))}>
                Newer
              </button>
              <button class="button small" disabled={occurrences.length < 20} onClick={() => navigate(href(`/errors/${itemId}`, { page: page + 1 }))}>
                Older
              </button>
            </div>
          </section>
          {selected && <OccurrenceView occurrence={selected} tab={tab} onTab={setTab} />}
        </div>
      )}
    </main>
  );
}

/** `21:26:37` today, `11-20 21:26` before. */
function shortTime(seconds: number): string {
  const text = formatTime(new Date(seconds * 1000));
  return new Date(seconds * 1000).toDateString() === new Date().toDateString() ? text.slice(11, 19) : text.slice(5, 16);
}

function Stat({ label, value, testid }: { label: string; value: preact.ComponentChildren; testid?: string }) {
  return (
    <div class="errors-stat">
      <div class="errors-stat-label">{label}</div>
      <div class="errors-stat-value" data-testid={testid}>
        {value}
      </div>
    </div>
  );
}

function OccurrenceView({ occurrence, tab, onTab }: { occurrence: Occurrence; tab: Tab; onTab: (tab: Tab) => void }) {
  const trace = occurrenceTraceId(occurrence.data);
  return (
    <div class="errors-occurrence" data-testid="occurrence-detail">
      <section class="card">
        <div class="card-header">
          <h2>
            Occurrence <span class="mono">{occurrence.id}</span>{" "}
            <span class="muted errors-when-inline">{formatTime(new Date(occurrence.timestamp * 1000))}</span>
          </h2>
          {trace ? (
            <a class="button small" href={`/trace/${trace}`} data-testid="trace-link" title={`Trace ${trace}`}>
              Open trace <span class="mono">{trace.slice(0, 12)}…</span> ↗
            </a>
          ) : (
            <span class="muted">no trace id</span>
          )}
        </div>
        <StackTrace data={occurrence.data} />
      </section>
      <section class="card">
        <div class="tabs">
          {(["request", "person", "server"] as const).map((name) => (
            <button type="button" class={tab === name ? "tab active" : "tab"} onClick={() => onTab(name)} data-testid={`tab-${name}`}>
              {name === "request" ? "Request" : name === "person" ? "Person" : "Server & context"}
            </button>
          ))}
        </div>
        <div class="errors-tab-body">
          {tab === "request" && <RequestDetails data={occurrence.data} />}
          {tab === "person" && <PersonDetails data={occurrence.data} />}
          {tab === "server" && <ServerDetails data={occurrence.data} />}
        </div>
        <RawPayload data={occurrence.data} />
      </section>
    </div>
  );
}
