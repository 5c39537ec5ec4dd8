// Example traces of a selection (a heatmap cell or region, a chart point, a table row), slowest
// first, each opening the trace view.

import type { Exemplar } from "../../api";
import { ErrorBox, Loading } from "../../components/common";
import { formatDuration, formatTimeNanos } from "../../format";

export function Exemplars({ title, exemplars, error, loading, onClose }: {
  title: string;
  exemplars: Exemplar[] | undefined;
  error: Error | undefined;
  loading: boolean;
  onClose: () => void;
}) {
  return (
    <section class="card qb-exemplars" data-testid="exemplars" data-loaded={!loading && (exemplars !== undefined || error !== undefined) ? "true" : "false"}>
      <div class="card-header">
        <h2>
          Example traces <span class="muted qb-sub">{title}</span>
        </h2>
        <button type="button" class="button small" onClick={onClose} aria-label="Close example traces">
          Close
        </button>
      </div>
      {loading && !exemplars && <Loading label="Finding traces" />}
      {error && <ErrorBox title="Could not load example traces" error={error} />}
      {exemplars && exemplars.length === 0 && <div class="empty">No traces in this selection. Select a larger region or a longer time range.</div>}
      {exemplars && exemplars.length > 0 && (
        <table class="data">
          <thead>
            <tr>
              <th>Trace</th>
              <th>Dataset</th>
              <th>Started</th>
              <th class="num">Duration</th>
            </tr>
          </thead>
          <tbody>
            {exemplars.map((e) => (
              <tr>
                <td>
                  <a class="mono" href={`/trace/${e.trace_id}`} data-testid="exemplar-link">
                    {e.trace_id}
                  </a>
                </td>
                <td>{e.dataset}</td>
                <td class="mono">{formatTimeNanos(e.time_unix_nano)}</td>
                <td class="num">{formatDuration(e.duration_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
