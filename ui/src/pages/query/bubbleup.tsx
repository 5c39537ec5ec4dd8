// BubbleUp: what sets a selected region apart. Per column, ranked by score (most different first),
// each value's share of the selection (orange) against its share of the baseline (grey).

import { useState } from "preact/hooks";

import type { BubbleUpResult } from "../../api";
import { ErrorBox, Loading } from "../../components/common";
import { formatNumber, formatPercent, formatValue } from "../../format";

const SHOWN = 9;

function valueText(value: unknown): string {
  if (value && typeof value === "object" && "lower" in value && "upper" in value) {
    const bin = value as { lower: number; upper: number };
    return `${formatNumber(bin.lower)} – ${formatNumber(bin.upper)}`;
  }
  return formatValue(value);
}

export function BubbleUp({ title, result, error, loading, exclude, onClose }: {
  title: string;
  result: BubbleUpResult | undefined;
  error: Error | undefined;
  loading: boolean;
  /** The column the selection was made on (trivially different): left out of the ranking. */
  exclude: string;
  onClose: () => void;
}) {
  const [all, setAll] = useState(false);
  const columns = (result?.columns ?? []).filter((c) => c.column !== exclude && c.score > 0);
  const shown = all ? columns : columns.slice(0, SHOWN);
  return (
    <section class="card qb-bubbleup" data-testid="bubbleup" data-loaded={!loading && (result !== undefined || error !== undefined) ? "true" : "false"}>
      <div class="card-header">
        <h2>
          BubbleUp <span class="muted qb-sub">{title}</span>
        </h2>
        <div class="row">
          {result && (
            <span class="qb-legend">
              <span class="qb-key selected" /> selection {formatNumber(result.selected_count)}
              <span class="qb-key baseline" /> baseline {formatNumber(result.baseline_count)}
            </span>
          )}
          <button type="button" class="button small" onClick={onClose} aria-label="Close BubbleUp">
            Close
          </button>
        </div>
      </div>
      {loading && <Loading label="Comparing the selection with the rest" />}
      {error && <ErrorBox title="BubbleUp failed" error={error} />}
      {result && !loading && result.selected_count === 0 && <div class="empty">The selection holds no events. Drag over a region with coloured cells.</div>}
      {result && !loading && result.selected_count > 0 && columns.length === 0 && <div class="empty">No column sets this selection apart.</div>}
      {result && !loading && result.selected_count > 0 && (
        <div class="qb-bubble-grid">
          {shown.map((column, rank) => (
            <div class="qb-bubble-col" data-testid="bubbleup-column" data-column={column.column} data-rank={rank}>
              <div class="qb-bubble-head">
                <span class="qb-bubble-name mono" title={column.column}>
                  {column.column}
                </span>
                <span class="badge" title="Total variation distance between selection and baseline (0 to 1)">
                  {column.score.toFixed(2)}
                </span>
              </div>
              {column.values.slice(0, 6).map((value) => (
                <div class="qb-bubble-value" data-testid="bubbleup-value" title={`${valueText(value.value)}: selection ${formatPercent(value.selected_fraction)} (${value.selected_count}), baseline ${formatPercent(value.baseline_fraction)} (${value.baseline_count})`}>
                  <span class={`qb-bubble-label ${value.value === null ? "muted" : ""}`}>{valueText(value.value)}</span>
                  <span class="qb-bars">
                    <span class="qb-bar selected" style={{ width: `${value.selected_fraction * 100}%` }} />
                    <span class="qb-bar baseline" style={{ width: `${value.baseline_fraction * 100}%` }} />
                  </span>
                  <span class="qb-bubble-pct">
                    {formatPercent(value.selected_fraction, 0)}
                    <span class="muted"> / {formatPercent(value.baseline_fraction, 0)}</span>
                  </span>
                </div>
              ))}
            </div>
          ))}
        </div>
      )}
      {columns.length > SHOWN && (
        <button type="button" class="button small qb-more" onClick={() => setAll(!all)}>
          {all ? "Show fewer columns" : `Show all ${columns.length} columns`}
        </button>
      )}
    </section>
  );
}
