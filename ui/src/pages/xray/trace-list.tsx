// The trace list: one row per GetTraceSummaries entry, newest first; a row opens the shared trace
// view (/trace/{32-hex id}).

import { formatAgo, formatDuration, formatTime } from "../../format";
import { navigate } from "../../router";
import { type AnnotationValue, type TraceSummary, traceIdFromXray } from "./model";
import { statusClass } from "./status";

function annotationText(value: AnnotationValue): string {
  if (value.StringValue !== undefined) return value.StringValue;
  if (value.NumberValue !== undefined) return String(value.NumberValue);
  if (value.BooleanValue !== undefined) return String(value.BooleanValue);
  return "";
}

function StatusBadge({ trace }: { trace: TraceSummary }) {
  const status = trace.Http?.HttpStatus;
  const level = trace.HasFault ? "fault" : trace.HasThrottle ? "throttle" : trace.HasError ? "warning" : "ok";
  const label = status ?? (trace.HasFault ? "fault" : trace.HasError ? "error" : "ok");
  return <span class={`badge ${level}`}>{label}</span>;
}

/** The URL without scheme and host when it is on the same service: shorter, the path is what differs. */
function shortUrl(url: string | undefined): string {
  if (!url) return "";
  try {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  } catch {
    return url;
  }
}

export function TraceList({ traces }: { traces: TraceSummary[] }) {
  const now = Date.now();
  return (
    <table class="data xray-traces" data-testid="xray-traces">
      <thead>
        <tr>
          <th>ID</th>
          <th>Age</th>
          <th>Method</th>
          <th>Response</th>
          <th class="num">Response time</th>
          <th class="num">Duration</th>
          <th>URL</th>
          <th>Entry point</th>
          <th>Annotations</th>
        </tr>
      </thead>
      <tbody>
        {traces.map((trace) => {
          const hex = traceIdFromXray(trace.Id);
          const started = new Date(trace.StartTime * 1000);
          const annotations = Object.entries(trace.Annotations ?? {}).flatMap(([key, values]) =>
            values.map((value) => `${key}=${annotationText(value.AnnotationValue)}`),
          );
          return (
            <tr
              class={trace.HasFault ? "clickable fault" : "clickable"}
              data-testid="xray-trace-row"
              data-trace-id={trace.Id}
              data-status={trace.Http?.HttpStatus ?? ""}
              data-status-class={statusClass(trace.Http?.HttpStatus)}
              data-response-time={trace.ResponseTime ?? ""}
              data-fault={String(trace.HasFault)}
              onClick={(event) => {
                if ((event.target as Element).closest("a")) return;
                navigate(`/trace/${hex}`);
              }}
            >
              <td class="mono">
                <a href={`/trace/${hex}`} title={trace.Id}>
                  …{trace.Id.slice(-12)}
                </a>
              </td>
              <td class="nowrap" title={formatTime(started)}>
                {formatAgo(started, now)}
              </td>
              <td>{trace.Http?.HttpMethod ?? <span class="faint">–</span>}</td>
              <td>
                <StatusBadge trace={trace} />
              </td>
              <td class="num">{formatDuration(trace.ResponseTime !== undefined ? trace.ResponseTime * 1000 : undefined)}</td>
              <td class="num muted">{formatDuration(trace.Duration * 1000)}</td>
              <td class="xray-url mono" title={trace.Http?.HttpURL}>
                {shortUrl(trace.Http?.HttpURL) || <span class="faint">–</span>}
              </td>
              <td class="nowrap">{trace.EntryPoint?.Name ?? <span class="faint">–</span>}</td>
              <td class="xray-annotations">
                <span title={annotations.join("\n")}>
                  {annotations.slice(0, 2).map((text) => (
                    <span class="chip">{text}</span>
                  ))}
                  {annotations.length > 2 && <span class="muted">+{annotations.length - 2}</span>}
                </span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
