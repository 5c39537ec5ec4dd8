// Recent traces (GET /api/traces): root span, service, duration, span count, errors, age. A row opens
// the trace view.

import type { TraceSummary } from "../../api";
import { colorFor, formatAgo, formatDuration, formatNumber, formatTimeNanos } from "../../format";
import { navigate } from "../../router";

export function RecentTraces({ traces, now }: { traces: TraceSummary[]; now: number }) {
  const slowest = Math.max(1e-9, ...traces.map((trace) => trace.duration_ms));
  return (
    <table class="data hm-traces" data-testid="recent-traces">
      <thead>
        <tr>
          <th>When</th>
          <th>Root span</th>
          <th>Service</th>
          <th class="num">Duration</th>
          <th class="num">Spans</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {traces.map((trace) => {
          const target = `/trace/${trace.trace_id}`;
          return (
            <tr class="clickable" data-testid="recent-trace" data-trace-id={trace.trace_id} onClick={() => navigate(target)}>
              <td class="hm-when" title={formatTimeNanos(trace.start_time_unix_nano)}>
                {formatAgo(new Date(trace.start_time_unix_nano / 1e6), now)}
              </td>
              <td class="hm-root">
                <a href={target} onClick={(event) => event.stopPropagation()}>
                  {trace.root_name || "(unnamed)"}
                </a>
              </td>
              <td>
                <span class="hm-swatch" style={{ background: colorFor(trace.service_name || trace.dataset) }} />
                {trace.service_name || trace.dataset}
              </td>
              <td class="num hm-duration" title={`${trace.duration_ms} ms`}>
                <span class="hm-duration-bar" style={{ width: `${Math.max(2, (trace.duration_ms / slowest) * 64)}px` }} />
                {formatDuration(trace.duration_ms)}
              </td>
              <td class="num">{formatNumber(trace.span_count)}</td>
              <td>{trace.error && <span class="badge error">error</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
