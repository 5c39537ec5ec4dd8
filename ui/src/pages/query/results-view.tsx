// A query's answer drawn: a heatmap per HEATMAP calculation, a line chart per other calculation,
// the results table, and what a selection asks for (BubbleUp, example traces). The time from the
// API's answer to the charts being drawn is measured and exposed as `data-draw-ms`.

import { useEffect, useLayoutEffect, useMemo, useRef } from "preact/hooks";

import { type QueryResult, type QuerySpec, type Selection, honeycomb } from "../../api";
import { Card, useAsync } from "../../components/common";
import { formatDuration, formatNumber, formatTime } from "../../format";
import { BubbleUp } from "./bubbleup";
import { Exemplars } from "./exemplars";
import { type CellRange, type HeatPick, Heatmap } from "./heatmap";
import { LineChart, MAX_SERIES, type PointPick } from "./lines";
import { calcKey, isHeatmap } from "./model";
import { type Group, shape } from "./results";
import { ResultsTable } from "./table";

/** What the user picked in the results. */
export interface Pick {
  kind: "cell" | "region" | "point" | "row";
  title: string;
  selection: Selection;
  /** The heatmap calculation the pick was made on, and its cells. */
  heatmap?: { calc: string; cells: CellRange };
  group?: string;
}

export interface RunOutput {
  dataset: string;
  spec: QuerySpec;
  result: QueryResult;
  /** performance.now() when the API answered. */
  receivedAt: number;
  apiMs: number;
  rangeSeconds: number;
}

export function ResultsView({ output, pick, onPick }: { output: RunOutput; pick: Pick | null; onPick: (pick: Pick | null) => void }) {
  const { dataset, spec, result } = output;
  const breakdowns = spec.breakdowns ?? [];
  const calculations = spec.calculations?.length ? spec.calculations : [{ op: "COUNT" }];
  const shaped = useMemo(() => shape(result.data, breakdowns, output.rangeSeconds), [result]);
  const container = useRef<HTMLDivElement>(null);

  // Draw time: from the API's answer to the DOM committed (shaping, rendering), plus the charts'
  // setOption calls (the effects flush, from its first effect to this last one). Waiting for the
  // browser's next frame in between is idle time: it is reported apart, as data-paint-ms.
  const committed = useRef(0);
  const flushStart = useRef(0);
  useLayoutEffect(() => {
    committed.current = performance.now();
  }, [output]);
  useEffect(() => {
    const end = performance.now();
    const busy = committed.current - output.receivedAt + (end - flushStart.current);
    container.current?.setAttribute("data-draw-ms", busy.toFixed(1));
    container.current?.setAttribute("data-paint-ms", (end - output.receivedAt).toFixed(1));
  }, [output]);

  const bucketBounds = (bucket: number) => {
    const start = shaped.times[bucket] / 1000;
    return { start_time: start, end_time: start + shaped.granularity };
  };
  const timeText = (start: number, end: number) => `${formatTime(new Date(start * 1000)).slice(11, 19)}–${formatTime(new Date(end * 1000)).slice(11, 19)}`;

  const pickHeat = (calc: string, column: string) => (heat: HeatPick) => {
    const range = heat.min < 0 ? `${column} < ${format(column, heat.max)}` : `${column} ${format(column, heat.min)} – ${format(column, heat.max)}`;
    onPick({
      kind: heat.kind,
      title: `${heat.kind === "region" ? "Region" : "Cell"}: ${timeText(heat.start, heat.end)}${range ? `, ${range}` : ""}`,
      selection: { start_time: heat.start, end_time: heat.end, column, min: heat.min, max: heat.max },
      heatmap: { calc, cells: heat.cells },
    });
  };
  const pickPoint = (calc: string) => ({ group, bucket }: PointPick) => {
    const bounds = bucketBounds(bucket);
    onPick({
      kind: "point",
      title: `${group.label} at ${timeText(bounds.start_time, bounds.end_time)} (${calc})`,
      selection: breakdowns.length ? { ...bounds, group: group.values } : bounds,
      group: group.key,
    });
  };
  const pickRow = (group: Group) =>
    onPick({ kind: "row", title: `group ${group.label}`, selection: breakdowns.length ? { group: group.values } : {}, group: group.key });

  const exemplars = useAsync(() => (pick ? honeycomb.exemplars(dataset, spec, pick.selection, 10) : Promise.resolve(undefined)), [pick]);
  const bubble = useAsync(
    () => (pick?.kind === "region" ? honeycomb.bubbleUp(dataset, spec, pick.selection) : Promise.resolve(undefined)),
    [pick],
  );

  const exemplarCard = pick && (
    <Exemplars title={pick.title} exemplars={exemplars.data} error={exemplars.error} loading={exemplars.loading} onClose={() => onPick(null)} />
  );
  const heatmaps = calculations.filter(isHeatmap);
  const lines = calculations.filter((c) => !isHeatmap(c));
  const groupsNote =
    shaped.groups.length > MAX_SERIES ? <span class="muted qb-sub">the top {MAX_SERIES} of {shaped.groups.length} groups</span> : null;

  return (
    <div class="qb-results" ref={container} data-testid="results" data-rows={shaped.groups.length} data-api-ms={output.apiMs.toFixed(1)}>
      <FlushMark mark={flushStart} />
      {heatmaps.map((calc) => {
        const key = calcKey(calc);
        const selection = pick?.heatmap?.calc === key ? pick.heatmap.cells : null;
        return (
          <Card
            title={
              <span>
                {key} <span class="muted qb-sub">drag a region to compare it with the rest (BubbleUp); click a cell for its traces</span>
              </span>
            }
            testid="heatmap-card"
            class="qb-chart-card"
          >
            <Heatmap shaped={shaped} calc={key} column={calc.column ?? "duration_ms"} selection={selection} onPick={pickHeat(key, calc.column ?? "duration_ms")} />
          </Card>
        );
      })}
      {pick?.kind === "region" && (
        <BubbleUp title={pick.title} result={bubble.data} error={bubble.error} loading={bubble.loading} exclude={pick.selection.column ?? "duration_ms"} onClose={() => onPick(null)} />
      )}
      {(pick?.kind === "region" || pick?.kind === "cell") && exemplarCard}
      {lines.length > 0 && (
        <div class={`qb-lines ${lines.length > 1 ? "two" : ""}`}>
          {lines.map((calc) => {
            const key = calcKey(calc);
            return (
              <Card title={<span>{key} {groupsNote}</span>} class="qb-chart-card" testid="line-card">
                <LineChart shaped={shaped} calc={key} onPick={pickPoint(key)} />
              </Card>
            );
          })}
        </div>
      )}
      {pick?.kind === "point" && exemplarCard}
      <Card
        title={
          <span>
            Results <span class="muted qb-sub">{formatNumber(shaped.groups.length)} {shaped.groups.length === 1 ? "row" : "rows"} · {formatDuration(output.apiMs)} · click a row for its traces</span>
          </span>
        }
        testid="results-card"
      >
        {shaped.groups.length === 0 ? (
          <div class="empty">No events match in this time range. Widen the time range or remove a filter.</div>
        ) : (
          <ResultsTable groups={shaped.groups} breakdowns={breakdowns} calculations={calculations} selected={pick?.group ?? null} onPick={pickRow} />
        )}
      </Card>
      {pick?.kind === "row" && exemplarCard}
    </div>
  );
}

/** Renders nothing; its effect runs first in the effects flush (children before parents, in order). */
function FlushMark({ mark }: { mark: { current: number } }) {
  useEffect(() => {
    mark.current = performance.now();
  });
  return null;
}

const format = (column: string, value: number) => (column.endsWith("duration_ms") ? formatDuration(value) : formatNumber(value));
