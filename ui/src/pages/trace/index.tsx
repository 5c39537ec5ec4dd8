// The trace view: GET /api/traces/{id} as a waterfall (tree, timing bars on a shared axis, colours
// per service, critical path, errors, missing parents), the selected span's details, the trace's log
// lines and its error occurrences. The selected span is in the URL (`?span=ID`).

import { useMemo, useState } from "preact/hooks";

import { ApiError, traces } from "../../api";
import { ErrorBox, Loading, PageHeader, useAsync } from "../../components/common";
import { colorFor, formatDuration, formatNumber, formatTimeNanos } from "../../format";
import { href, navigate } from "../../router";
import { SpanDetails } from "./details";
import { type TraceModel, buildModel, searchSpans, visibleRows } from "./model";
import { traceOccurrences } from "./occurrences";
import { ErrorsPanel, LogsPanel } from "./panels";
import "./trace.css";
import { Waterfall } from "./waterfall";

export function TracePage({ traceId, query }: { traceId: string; query: URLSearchParams }) {
  const { data: trace, error, loading, reload } = useAsync(() => traces.get(traceId), [traceId]);
  const errors = useAsync(() => traceOccurrences(traceId), [traceId]);
  const model = useMemo(() => (trace ? buildModel(trace) : null), [trace]);
  const ready = Boolean(model) || Boolean(error && !loading);
  return (
    <main class="page tw-page" data-page="trace" data-loaded={ready ? "true" : "false"}>
      {error && !trace ? (
        <>
          <PageHeader title="Trace" subtitle={<span class="mono">{traceId}</span>} />
          <ErrorBox error={explain(error, traceId)} title={error instanceof ApiError && error.status === 404 ? "Trace not found" : "Cannot load the trace"} />
          <div>
            <button type="button" class="button" onClick={reload}>
              Try again
            </button>
          </div>
        </>
      ) : !trace || !model ? (
        <>
          <PageHeader title="Trace" subtitle={<span class="mono">{traceId}</span>} />
          <Loading label="Loading the trace" />
        </>
      ) : (
        <TraceView
          key={traceId}
          traceId={traceId}
          model={model}
          logs={trace.logs}
          selected={query.get("span")}
          occurrences={errors.data}
          occurrencesProblem={errors.error?.message}
        />
      )}
    </main>
  );
}

function explain(error: Error, traceId: string): string {
  if (error instanceof ApiError && error.status === 404) {
    return `No span or log has trace id ${traceId}. It may be older than waggle's retention, or still on its way (senders export in batches): try again in a few seconds.`;
  }
  return error.message;
}

function TraceView({ traceId, model, logs, selected, occurrences, occurrencesProblem }: {
  traceId: string;
  model: TraceModel;
  logs: import("../../api").LogRecord[];
  selected: string | null;
  occurrences: import("./occurrences").Occurrence[] | null | undefined;
  occurrencesProblem?: string;
}) {
  const [collapsed, setCollapsed] = useState<Set<string>>(() => new Set());
  const [search, setSearch] = useState("");
  const [showCritical, setShowCritical] = useState(true);
  const matches = useMemo(() => (search.trim() ? searchSpans(model, search) : null), [model, search]);
  const rows = useMemo(() => visibleRows(model, collapsed, matches), [model, collapsed, matches]);
  const selectedNode = selected ? model.byId.get(selected) ?? null : null;

  const select = (id: string | null) => navigate(href(`/trace/${traceId}`, { span: id }), true);
  const toggle = (id: string) => {
    const next = new Set(collapsed);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setCollapsed(next);
  };
  const collapseAll = () => setCollapsed(new Set(model.order.filter((node) => node.children.length > 0).map((node) => node.id)));
  const expandAll = () => setCollapsed(new Set());
  const errorNodes = model.order.filter((node) => node.error);
  const nextError = () => {
    if (!errorNodes.length) return;
    const index = errorNodes.findIndex((node) => node.id === selected);
    const target = errorNodes[(index + 1) % errorNodes.length];
    // Open its ancestors so the row is visible.
    const next = new Set(collapsed);
    for (let parent = target.parent; parent; parent = parent.parent) next.delete(parent.id);
    setCollapsed(next);
    select(target.id);
  };

  const occurrenceCounts = useMemo(() => {
    const counts = new Map<string, number>();
    for (const occurrence of occurrences ?? []) {
      if (occurrence.span_id) counts.set(occurrence.span_id, (counts.get(occurrence.span_id) ?? 0) + 1);
    }
    return counts;
  }, [occurrences]);
  // Rollbar occurrences are log rows too; once they are listed as errors, leave them out of the logs.
  const logLines = useMemo(() => (occurrences ? logs.filter((log) => log.dataset !== "rollbar") : logs), [logs, occurrences]);

  const logGroup = logLines.find((log) => log.dataset)?.dataset;
  const root = model.root;
  const rootService = root ? root.service_name || root.dataset : "";
  const duration = (model.end - model.start) / 1e6;
  return (
    <>
      <PageHeader
        title={
          <span class="tw-title">
            {root && <span class="tw-swatch big" style={{ background: colorFor(rootService) }} />}
            {root ? root.name : "Trace without a root span"}
            {model.errorCount > 0 && <span class="badge error">error</span>}
          </span>
        }
        subtitle={
          <>
            {rootService && <>{rootService} · </>}
            trace <span class="mono">{traceId}</span>
          </>
        }
      >
        {logGroup && (
          <a
            class="button small"
            href={href("/logs", {
              group: logGroup,
              pattern: `"${traceId}"`,
              from: Math.floor(model.start / 1e9) - 300,
              to: Math.ceil(model.end / 1e9) + 300,
            })}
            title={`This trace's lines in the log group ${logGroup}`}
            data-testid="open-logs"
          >
            ☰ Open in Logs
          </a>
        )}
      </PageHeader>

      <section class="card tw-summary" data-testid="trace-summary">
        <Stat label="Duration" value={formatDuration(duration)} testid="summary-duration" />
        <Stat label="Spans" value={formatNumber(model.spanCount)} testid="summary-spans" />
        <Stat label="Services" value={String(model.services.length)} testid="summary-services" />
        <Stat label="Errors" value={String(model.errorCount)} testid="summary-errors" tone={model.errorCount ? "error" : undefined} />
        <Stat label="Log lines" value={String(logLines.length)} testid="summary-logs" />
        <Stat label="Started" value={formatTimeNanos(model.start)} testid="summary-start" />
        <div class="tw-services">
          {model.services.map((service) => (
            <span class="tw-service-chip">
              <span class="tw-swatch" style={{ background: colorFor(service) }} />
              {service}
            </span>
          ))}
        </div>
      </section>

      {model.missingParents > 0 && (
        <div class="tw-warning" data-testid="missing-parents-note">
          ⚠ {model.missingParents} parent span{model.missingParents > 1 ? "s are" : " is"} missing from this trace: their children are
          shown under a placeholder row. A service may not export spans, or they are still on their way.
        </div>
      )}

      <div class="tw-toolbar">
        <div class="tw-search">
          <input
            type="search"
            placeholder="Search spans: name, service, attribute values…"
            value={search}
            onInput={(event) => setSearch(event.currentTarget.value)}
            data-testid="trace-search"
            aria-label="Search within the trace"
          />
          {matches && (
            <span class="muted" data-testid="search-count">
              {matches.size} of {model.spanCount} spans match
            </span>
          )}
        </div>
        <span class="spacer" />
        <label class="tw-check" title="The chain of spans that determines the trace's end-to-end latency">
          <input type="checkbox" checked={showCritical} onChange={(event) => setShowCritical(event.currentTarget.checked)} data-testid="critical-toggle" />
          <span class="tw-critical-key" /> Critical path <span class="faint">({model.criticalCount} spans)</span>
        </label>
        {errorNodes.length > 0 && (
          <button type="button" class="button small danger" onClick={nextError} data-testid="next-error">
            ⚠ Next error ({errorNodes.length})
          </button>
        )}
        <button type="button" class="button small" onClick={collapseAll} data-testid="collapse-all">
          Collapse all
        </button>
        <button type="button" class="button small" onClick={expandAll} data-testid="expand-all">
          Expand all
        </button>
      </div>

      <div class={selectedNode ? "tw-body with-details" : "tw-body"}>
        <div class="tw-main">
          {matches && matches.size === 0 ? (
            <div class="empty" data-testid="search-empty">
              No span matches “{search}”. Search looks at span names, services, ids, status messages, attribute keys and values.
            </div>
          ) : (
            <Waterfall
              model={model}
              rows={rows}
              collapsed={collapsed}
              selected={selected}
              matches={matches}
              showCritical={showCritical}
              occurrences={occurrenceCounts}
              onSelect={(id) => select(id === selected ? null : id)}
              onToggle={toggle}
            />
          )}
          {!selectedNode && <div class="faint tw-hint">Click a span for its attributes, events and logs. ↑/↓ move, ←/→ collapse and expand.</div>}
        </div>
        {selectedNode && <SpanDetails node={selectedNode} traceStart={model.start} onSelect={select} onClose={() => select(null)} />}
      </div>

      <ErrorsPanel occurrences={occurrences} problem={occurrencesProblem} model={model} onSelect={select} />
      <LogsPanel logs={logLines} model={model} onSelect={select} />
    </>
  );
}

function Stat({ label, value, testid, tone }: { label: string; value: string; testid: string; tone?: "error" }) {
  return (
    <div class={tone ? `tw-stat ${tone}` : "tw-stat"}>
      <div class="tw-stat-label">{label}</div>
      <div class="tw-stat-value" data-testid={testid}>
        {value}
      </div>
    </div>
  );
}
