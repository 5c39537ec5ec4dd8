// Below the waterfall: the trace's log lines (CloudWatch, OTLP logs) and its error occurrences
// (waggle's Rollbar), each tied to its span when it names one.

import { useState } from "preact/hooks";

import type { LogRecord } from "../../api";
import { Card } from "../../components/common";
import { formatDuration, formatNumber, formatTimeNanos } from "../../format";
import { type TraceModel, logSeverity, logText, severityClass } from "./model";
import { type Occurrence, exceptionsOf, formatFrames, occurrenceTitle } from "./occurrences";

const LOGS_SHOWN = 200;

export function LogsPanel({ logs, model, onSelect }: { logs: LogRecord[]; model: TraceModel; onSelect: (id: string) => void }) {
  const [all, setAll] = useState(false);
  const [expanded, setExpanded] = useState<number | null>(null);
  const shown = all ? logs : logs.slice(0, LOGS_SHOWN);
  return (
    <Card title={<>Log lines <span class="faint">{logs.length}</span></>} testid="trace-logs" class="tw-panel">
      {logs.length === 0 ? (
        <div class="muted tw-none">
          No log line carries this trace id. Log lines join their trace when they carry its id (OTLP logs, or a{" "}
          <span class="mono">trace_id</span> in a CloudWatch message).
        </div>
      ) : (
        <table class="data tw-logs">
          <thead>
            <tr>
              <th>Offset</th>
              <th>Severity</th>
              <th>Source</th>
              <th>Span</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((log, index) => {
              const severity = logSeverity(log);
              const node = log.span_id ? model.byId.get(log.span_id) : undefined;
              const open = expanded === index;
              return (
                <tr data-testid="log-line" class="clickable" onClick={() => setExpanded(open ? null : index)} title={formatTimeNanos(log.time_unix_nano)}>
                  <td class="num mono">+{formatDuration((log.time_unix_nano - model.start) / 1e6)}</td>
                  <td>
                    <span class={`badge ${severityClass(severity)}`}>{severity}</span>
                  </td>
                  <td class="muted">{log.dataset}</td>
                  <td>
                    {node?.span ? (
                      <button
                        type="button"
                        class="tw-linklike"
                        onClick={(event) => {
                          event.stopPropagation();
                          onSelect(node.id);
                        }}
                      >
                        {node.span.name}
                      </button>
                    ) : (
                      <span class="faint">–</span>
                    )}
                  </td>
                  <td class="mono tw-log-body">
                    {open ? <pre class="tw-log-full">{prettyBody(log.body)}</pre> : logText(log)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {!all && logs.length > LOGS_SHOWN && (
        <button type="button" class="button small" onClick={() => setAll(true)}>
          Show all {formatNumber(logs.length)} lines
        </button>
      )}
    </Card>
  );
}

function prettyBody(body: unknown): string {
  if (typeof body === "string") {
    try {
      return JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      return body;
    }
  }
  return JSON.stringify(body, null, 2);
}

export function ErrorsPanel({ occurrences, problem, model, onSelect }: {
  occurrences: Occurrence[] | null | undefined;
  problem?: string;
  model: TraceModel;
  onSelect: (id: string) => void;
}) {
  const count = occurrences?.length ?? 0;
  return (
    <Card title={<>Error occurrences <span class="faint">{occurrences ? count : ""}</span></>} testid="trace-errors" class="tw-panel">
      {problem ? (
        <div class="muted tw-none">Error occurrences could not be read: {problem}</div>
      ) : occurrences === undefined ? (
        <div class="muted tw-none">Loading error occurrences…</div>
      ) : occurrences === null ? (
        <div class="muted tw-none">Rollbar has no token that can read; create one with the read scope to see error occurrences here.</div>
      ) : count === 0 ? (
        <div class="muted tw-none">No error was reported to Rollbar with this trace id.</div>
      ) : (
        occurrences.map((occurrence) => {
          const node = occurrence.span_id ? model.byId.get(occurrence.span_id) : undefined;
          const level = occurrence.data.level ?? occurrence.item?.level ?? "error";
          return (
            <div class="tw-occurrence" data-testid="occurrence">
              <div class="tw-occurrence-head">
                <span class={`badge ${level}`}>{level}</span>
                <a href={`/errors/${occurrence.item_id}`} class="tw-occurrence-title" data-testid="occurrence-title">
                  {occurrenceTitle(occurrence)}
                </a>
                <span class="spacer" />
                {occurrence.item && (
                  <span class="muted" title="occurrences of this item in total">
                    #{occurrence.item.counter} · {formatNumber(occurrence.item.total_occurrences)} total · {occurrence.item.status}
                  </span>
                )}
              </div>
              <div class="tw-occurrence-meta muted">
                {formatTimeNanos(occurrence.timestamp * 1e9)}
                {occurrence.data.environment && <> · {occurrence.data.environment}</>}
                {occurrence.data.request?.url && (
                  <>
                    {" "}
                    · <span class="mono">{occurrence.data.request.method ?? ""} {occurrence.data.request.url}</span>
                  </>
                )}
                {node?.span && (
                  <>
                    {" "}
                    · on span{" "}
                    <button type="button" class="tw-linklike" onClick={() => onSelect(node.id)}>
                      {node.span.name}
                    </button>
                  </>
                )}
              </div>
              {exceptionsOf(occurrence).map((trace) => (
                <details class="tw-stack-details">
                  <summary>
                    <strong>{trace.exception?.class ?? "Exception"}</strong>: {trace.exception?.message ?? ""}{" "}
                    <span class="faint">({trace.frames?.length ?? 0} frames)</span>
                  </summary>
                  <pre class="tw-stack">{formatFrames(trace.frames ?? [])}</pre>
                </details>
              ))}
            </div>
          );
        })
      )}
    </Card>
  );
}
