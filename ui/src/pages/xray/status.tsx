// "HTTP code percentage", as the X-Ray console shows it: the share of 2xx, 3xx, 4xx and 5xx
// responses among the listed traces. Clicking a class filters on it.

import { formatNumber, formatPercent } from "../../format";
import type { TraceSummary } from "./model";

export const STATUS_CLASSES: { key: string; label: string; color: string; filter: string }[] = [
  { key: "2xx", label: "2xx OK", color: "#18a77a", filter: "http.status >= 200 AND http.status < 300" },
  { key: "3xx", label: "3xx redirect", color: "#4c7cf0", filter: "http.status >= 300 AND http.status < 400" },
  { key: "4xx", label: "4xx error", color: "#f5a524", filter: "http.status >= 400 AND http.status < 500" },
  { key: "5xx", label: "5xx fault", color: "#d92d20", filter: "http.status >= 500" },
];

export function statusClass(status: number | undefined): string {
  if (status === undefined || status < 200 || status >= 600) return "none";
  return `${Math.floor(status / 100)}xx`;
}

export function StatusBreakdown({ traces, onFilter }: { traces: TraceSummary[]; onFilter: (expression: string) => void }) {
  const counts = new Map<string, number>();
  for (const trace of traces) {
    const key = statusClass(trace.Http?.HttpStatus);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const total = traces.length;
  const none = counts.get("none") ?? 0;
  return (
    <div class="xray-status" data-testid="xray-status">
      <div class="xray-status-bar" aria-hidden="true">
        {STATUS_CLASSES.map((c) => {
          const count = counts.get(c.key) ?? 0;
          return count ? <span style={{ flexGrow: count, background: c.color }} title={`${c.label}: ${formatNumber(count)}`} /> : null;
        })}
        {none > 0 && <span style={{ flexGrow: none, background: "#cfd4dc" }} title={`No HTTP status: ${formatNumber(none)}`} />}
      </div>
      <table class="data xray-status-table">
        <tbody>
          {STATUS_CLASSES.map((c) => {
            const count = counts.get(c.key) ?? 0;
            return (
              <tr class="clickable" data-testid="xray-status-row" data-class={c.key} onClick={() => onFilter(c.filter)} title={`Filter: ${c.filter}`}>
                <td>
                  <i class="xray-swatch" style={{ background: c.color }} /> {c.label}
                </td>
                <td class="num" data-col="share">
                  <strong>{formatPercent(total ? count / total : 0)}</strong>
                </td>
                <td class="num muted" data-col="count">
                  {formatNumber(count)}
                </td>
              </tr>
            );
          })}
          {none > 0 && (
            <tr data-class="none">
              <td>
                <i class="xray-swatch" style={{ background: "#cfd4dc" }} /> No HTTP status
              </td>
              <td class="num">{formatPercent(none / total)}</td>
              <td class="num muted">{formatNumber(none)}</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
