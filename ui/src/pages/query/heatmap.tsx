// HEATMAP(column) as a real heatmap: x = time buckets, y = the column on a log scale, colour = count.
// Drag a rectangle to select a region (BubbleUp), click a cell for its traces. The drag is read
// from ECharts' zrender events (so tooltips keep working) and drawn as an overlay; the grid is laid
// out in fixed pixels so cells map to pixels by arithmetic. `data-grid` and `data-rows` expose that
// mapping (tests use it to drag over a duration band).

import type { EChartsCoreOption } from "echarts/core";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import { Chart, type ECharts } from "../../components/chart";
import { formatDuration, formatNumber, formatTime } from "../../format";
import { type HeatGrid, type Shaped, heatGrid } from "./results";

/** A rectangle of cells, inclusive bucket and row indices. */
export interface CellRange {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}
export interface HeatPick {
  kind: "cell" | "region";
  cells: CellRange;
  /** Unix seconds. */
  start: number;
  end: number;
  min: number;
  max: number;
}

const GRID = { left: 72, right: 96, top: 10, bottom: 30 };
const HEIGHT = 320;
/** Height of the cells' area, in pixels. */
const PLOT_HEIGHT = HEIGHT - GRID.top - GRID.bottom;
const COLORS = ["#eef3fe", "#c5d5fb", "#8fb0f6", "#5b86ee", "#3560d4", "#1f3f9e", "#f5a524"];

export function Heatmap({ shaped, calc, column, selection, onPick }: {
  shaped: Shaped;
  calc: string;
  column: string;
  selection: CellRange | null;
  onPick: (pick: HeatPick) => void;
}) {
  const grid = useMemo<HeatGrid>(() => heatGrid(shaped, calc), [shaped, calc]);
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const [drag, setDrag] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);
  const [width, setWidth] = useState(0);
  const state = useRef({ grid, shaped, onPick, dragging: null as null | { x: number; y: number } });
  state.current.grid = grid;
  state.current.shaped = shaped;
  state.current.onPick = onPick;

  const format = column.endsWith("duration_ms") ? formatDuration : (v: number) => formatNumber(v);
  const rowLabel = (i: number) => {
    const row = grid.rows[i];
    return row.upper <= 0 ? `≤ 0` : `${format(row.lower)} – ${format(row.upper)}`;
  };

  const option = useMemo<EChartsCoreOption>(() => {
    return {
      animation: false,
      grid: { ...GRID },
      tooltip: {
        confine: true,
        formatter: (params: { value: [number, number, number] }) => {
          const [x, y, count] = params.value;
          const start = shaped.times[x];
          return `<div class="qb-tip"><div class="qb-tip-time">${formatTime(new Date(start))} (+${shaped.granularity} s)</div><div>${column}: <b>${rowLabel(y)}</b></div><div>count: <b>${count.toLocaleString("en")}</b></div></div>`;
        },
      },
      xAxis: {
        type: "category",
        data: shaped.times.map((t) => t),
        axisLabel: {
          color: "#667085",
          fontSize: 11,
          hideOverlap: true,
          formatter: (value: string) => {
            const date = new Date(Number(value));
            const pad = (n: number) => String(n).padStart(2, "0");
            const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}${shaped.granularity < 60 ? `:${pad(date.getSeconds())}` : ""}`;
            return shaped.granularity >= 1800 ? `${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock}` : clock;
          },
        },
        axisTick: { show: false },
        axisLine: { lineStyle: { color: "#cfd4dc" } },
        splitArea: { show: false },
      },
      yAxis: {
        type: "category",
        data: grid.rows.map((_, i) => i),
        axisLabel: {
          color: "#667085",
          fontSize: 11,
          interval: (index: number) => {
            const row = grid.rows[index];
            if (row.upper <= 0) return true;
            const exp = Math.log2(row.lower);
            return Math.abs(exp - Math.round(exp)) < 1e-6 && (grid.rows.length < 24 || Math.round(exp) % 2 === 0);
          },
          // A row is labelled with its lower bound, so the label sits on the row's lower edge
          // (ECharts centres category labels on their row): padding as tall as a row above the
          // text moves its middle down by half a row. The zero row's "0" stays centred.
          formatter: (value: string) => {
            const row = grid.rows[Number(value)];
            return row.upper <= 0 ? "0" : `{edge|${format(row.lower)}}`;
          },
          rich: { edge: { padding: [PLOT_HEIGHT / Math.max(1, grid.rows.length), 0, 0, 0] } },
        },
        axisTick: { show: false },
        axisLine: { show: false },
      },
      visualMap: {
        min: 0,
        max: Math.max(1, grid.max),
        calculable: false,
        orient: "vertical",
        right: 8,
        top: GRID.top,
        itemHeight: PLOT_HEIGHT - 40,
        itemWidth: 10,
        text: [formatNumber(grid.max), "0"],
        textStyle: { color: "#667085", fontSize: 11 },
        inRange: { color: COLORS },
      },
      series: [
        {
          type: "heatmap",
          data: grid.cells,
          progressive: 0,
          emphasis: { itemStyle: { borderColor: "#1d2330", borderWidth: 1 } },
        },
      ],
    };
  }, [grid, shaped]);

  // Pixel mapping of the fixed grid.
  const rect = (w: number) => ({ x: GRID.left, y: GRID.top, w: Math.max(1, w - GRID.left - GRID.right), h: PLOT_HEIGHT });
  const cellAt = (px: number, py: number, w: number) => {
    const r = rect(w);
    const nx = Math.max(1, state.current.shaped.times.length);
    const ny = Math.max(1, state.current.grid.rows.length);
    const x = Math.min(nx - 1, Math.max(0, Math.floor(((px - r.x) / r.w) * nx)));
    const y = Math.min(ny - 1, Math.max(0, Math.floor(((r.y + r.h - py) / r.h) * ny)));
    return { x, y };
  };
  const inside = (px: number, py: number, w: number) => {
    const r = rect(w);
    return px >= r.x && px <= r.x + r.w && py >= r.y && py <= r.y + r.h;
  };

  const pick = (kind: HeatPick["kind"], cells: CellRange) => {
    const { shaped: s, grid: g } = state.current;
    const start = s.times[cells.x0] / 1000;
    const end = s.times[cells.x1] / 1000 + s.granularity;
    const low = g.rows[cells.y0];
    const high = g.rows[cells.y1];
    // The zero row selects values in [0, smallest positive row); others their row bounds.
    const min = low.upper <= 0 ? -Number.MAX_VALUE : low.lower;
    const max = high.upper <= 0 ? (g.rows[1]?.lower ?? Number.MIN_VALUE) : high.upper;
    state.current.onPick({ kind, cells, start, end, min, max });
  };

  const ready = (instance: ECharts) => {
    chart.current = instance;
    const zr = instance.getZr();
    zr.on("mousedown", (event: { offsetX: number; offsetY: number }) => {
      if (!inside(event.offsetX, event.offsetY, instance.getWidth())) return;
      state.current.dragging = { x: event.offsetX, y: event.offsetY };
      setDrag({ x0: event.offsetX, y0: event.offsetY, x1: event.offsetX, y1: event.offsetY });
    });
    zr.on("mousemove", (event: { offsetX: number; offsetY: number }) => {
      const start = state.current.dragging;
      if (start) setDrag({ x0: start.x, y0: start.y, x1: event.offsetX, y1: event.offsetY });
    });
    const finish = (event: { offsetX: number; offsetY: number }) => {
      const start = state.current.dragging;
      if (!start) return;
      state.current.dragging = null;
      setDrag(null);
      const w = instance.getWidth();
      const a = cellAt(start.x, start.y, w);
      const b = cellAt(event.offsetX, event.offsetY, w);
      const moved = Math.abs(event.offsetX - start.x) > 4 || Math.abs(event.offsetY - start.y) > 4;
      const cells = { x0: Math.min(a.x, b.x), x1: Math.max(a.x, b.x), y0: Math.min(a.y, b.y), y1: Math.max(a.y, b.y) };
      pick(moved ? "region" : "cell", cells);
    };
    zr.on("mouseup", finish);
    zr.on("globalout", (event: { offsetX: number; offsetY: number }) => {
      if (state.current.dragging) finish(event);
    });
  };

  useEffect(() => {
    const element = box.current!;
    const observer = new ResizeObserver(() => setWidth(element.clientWidth));
    observer.observe(element);
    setWidth(element.clientWidth);
    return () => observer.disconnect();
  }, []);

  const peak = grid.cells.reduce<[number, number, number] | null>((best, cell) => (!best || cell[2] > best[2] ? cell : best), null);

  // The persistent selection, drawn over its cells.
  let selectionBox: { left: number; top: number; width: number; height: number } | null = null;
  if (selection && width) {
    const r = rect(width);
    const nx = Math.max(1, shaped.times.length);
    const ny = Math.max(1, grid.rows.length);
    const cw = r.w / nx;
    const ch = r.h / ny;
    selectionBox = { left: r.x + selection.x0 * cw, width: (selection.x1 - selection.x0 + 1) * cw, top: r.y + r.h - (selection.y1 + 1) * ch, height: (selection.y1 - selection.y0 + 1) * ch };
  }

  return (
    <div
      class="qb-heatmap"
      ref={box}
      data-testid="heatmap"
      data-grid={width ? JSON.stringify(rect(width)) : undefined}
      data-rows={JSON.stringify(grid.rows.map((r) => [r.lower, r.upper]))}
      data-buckets={shaped.times.length}
      data-total={grid.total}
      data-peak={peak ? `${peak[0]},${peak[1]}` : undefined}
    >
      <Chart option={option} style={{ height: `${HEIGHT}px` }} onReady={ready} />
      {drag && (
        <div
          class="qb-drag"
          style={{ left: `${Math.min(drag.x0, drag.x1)}px`, top: `${Math.min(drag.y0, drag.y1)}px`, width: `${Math.abs(drag.x1 - drag.x0)}px`, height: `${Math.abs(drag.y1 - drag.y0)}px` }}
        />
      )}
      {!drag && selectionBox && (
        <div
          class="qb-selection"
          data-testid="heatmap-selection"
          style={{ left: `${selectionBox.left}px`, top: `${selectionBox.top}px`, width: `${selectionBox.width}px`, height: `${selectionBox.height}px` }}
        />
      )}
    </div>
  );
}
