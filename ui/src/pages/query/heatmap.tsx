// HEATMAP(column) as a real heatmap: x = time buckets, y = the column on a log scale, colour = count.
// Drag a rectangle to select a region (BubbleUp), click a cell for its traces, hover one for its
// count. ECharts draws the axes and the colour scale; the cells are painted on a canvas of their own
// over the plot area, because ECharts builds, styles and draws an element per cell, which was most
// of the time to draw a heatmap (thousands of cells). The mouse is read from ECharts' zrender
// events and the drag, hover and tooltip drawn as overlays; the grid is laid out in fixed pixels so
// cells map to pixels by arithmetic. `data-grid` and `data-rows` expose that mapping (tests use it
// to drag over a duration band).

import { type EChartsCoreOption, color } from "echarts/core";
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
let palette: string[] | undefined;
/** The visualMap's colour at `fraction` of its scale, from 256 steps made once: finer than the
 * eye tells apart, and interpolating every cell's colour anew parses the stops every time. */
function shade(fraction: number): string {
  palette ??= Array.from({ length: 256 }, (_, i) => color.lerp(i / 255, COLORS));
  return palette[Math.round(fraction * 255)];
}

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
  const cellCanvas = useRef<HTMLCanvasElement>(null);
  const painted = useRef<{ grid: HeatGrid; width: number } | null>(null);
  const [drag, setDrag] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);
  const [hover, setHover] = useState<{ x: number; y: number; px: number; py: number } | null>(null);
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
      // Exactly where GRID says (cells map to pixels by arithmetic): ECharts would otherwise measure
      // the axis labels first, to shrink the grid should they overflow the chart.
      grid: { ...GRID, outerBoundsMode: "none" },
      xAxis: {
        type: "category",
        data: shaped.times.map((t) => t),
        axisLabel: {
          color: "#667085",
          fontSize: 11,
          hideOverlap: true,
          interval: timeLabelInterval(shaped),
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
      // Empty: the cells are painted by `paintCells`; the series gives the visualMap its scale.
      series: [{ type: "heatmap", data: [] }],
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
      const w = instance.getWidth();
      setHover(!start && inside(event.offsetX, event.offsetY, w) ? { ...cellAt(event.offsetX, event.offsetY, w), px: event.offsetX, py: event.offsetY } : null);
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
      setHover(null);
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

  // Painted in the same effects flush as ECharts' setOption (the box is measured here, not taken
  // from `width`, which is only known after the first render), again when the grid or width change.
  useEffect(() => {
    const w = box.current!.clientWidth;
    if (painted.current?.grid === grid && painted.current.width === w) return;
    painted.current = { grid, width: w };
    paintCells(cellCanvas.current!, grid, shaped.times.length, rect(w));
  }, [grid, width]);

  const peak = useMemo(() => grid.cells.reduce<[number, number, number] | null>((best, cell) => (!best || cell[2] > best[2] ? cell : best), null), [grid]);

  // Where cells lie in the chart, to draw the persistent selection and the hovered cell over them.
  const over = (cells: CellRange) => cellsBox(cells, rect(width), shaped.times.length, grid.rows.length);
  const hovered = hover && !drag && width > 0 ? grid.counts[hover.x * grid.rows.length + hover.y] : 0;

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
      data-peak-count={peak?.[2]}
    >
      <Chart option={option} style={{ height: `${HEIGHT}px` }} onReady={ready} />
      <canvas class="qb-cells" ref={cellCanvas} style={{ left: `${GRID.left}px`, top: `${GRID.top}px` }} data-testid="heatmap-cells" />
      {hover && hovered > 0 && (
        <>
          <div class="qb-hover" style={over({ x0: hover.x, x1: hover.x, y0: hover.y, y1: hover.y })} />
          <div class="qb-heat-tip" data-testid="heatmap-tip" style={tipPosition(hover, rect(width))}>
            <div class="qb-tip">
              <div class="qb-tip-time">
                {formatTime(new Date(shaped.times[hover.x]))} (+{shaped.granularity} s)
              </div>
              <div>
                {column}: <b>{rowLabel(hover.y)}</b>
              </div>
              <div>
                count: <b data-testid="heatmap-tip-count">{formatNumber(hovered)}</b>
              </div>
            </div>
          </div>
        </>
      )}
      {drag && (
        <div
          class="qb-drag"
          style={{ left: `${Math.min(drag.x0, drag.x1)}px`, top: `${Math.min(drag.y0, drag.y1)}px`, width: `${Math.abs(drag.x1 - drag.x0)}px`, height: `${Math.abs(drag.y1 - drag.y0)}px` }}
        />
      )}
      {!drag && selection && width > 0 && <div class="qb-selection" data-testid="heatmap-selection" style={over(selection)} />}
    </div>
  );
}

/** Seconds between time labels: round steps of the clock. */
const LABEL_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/**
 * Which buckets get a time label: at most about twelve, a round step of the clock apart, and on
 * round local times when the buckets start on them. Chosen here, not by ECharts, whose automatic
 * interval measures every bucket's label first (180 of them for 3 hours).
 */
function timeLabelInterval(shaped: Shaped): (index: number) => boolean {
  const span = shaped.times.length * shaped.granularity;
  const step = LABEL_STEPS.find((s) => s >= span / 12) ?? LABEL_STEPS[LABEL_STEPS.length - 1];
  const every = Math.max(1, Math.round(step / Math.max(1, shaped.granularity)));
  return (index) => {
    const time = shaped.times[index];
    const local = time / 1000 - new Date(time).getTimezoneOffset() * 60;
    return Math.round(local / Math.max(1, shaped.granularity)) % every === 0;
  };
}

/** Paints the non-empty cells over the plot area `box`, edges on device pixels so that neighbours
 * meet without seams, coloured as the visualMap maps counts (linearly from 0 to the peak). */
function paintCells(canvas: HTMLCanvasElement, grid: HeatGrid, buckets: number, box: { w: number; h: number }) {
  const ratio = window.devicePixelRatio || 1;
  canvas.style.width = `${box.w}px`;
  canvas.style.height = `${box.h}px`;
  canvas.width = Math.round(box.w * ratio);
  canvas.height = Math.round(box.h * ratio);
  const context = canvas.getContext("2d");
  if (!context) return;
  const nx = Math.max(1, buckets);
  const ny = Math.max(1, grid.rows.length);
  const max = Math.max(1, grid.max);
  const { width, height } = canvas;
  for (const [x, y, count] of grid.cells) {
    const left = Math.round((x / nx) * width);
    const top = Math.round(((ny - 1 - y) / ny) * height);
    context.fillStyle = shade(count / max);
    context.fillRect(left, top, Math.round(((x + 1) / nx) * width) - left, Math.round(((ny - y) / ny) * height) - top);
  }
}

/** The pixel box, as CSS, of a range of cells in the plot area `plot`. */
function cellsBox(cells: CellRange, plot: { x: number; y: number; w: number; h: number }, buckets: number, rows: number) {
  const cw = plot.w / Math.max(1, buckets);
  const ch = plot.h / Math.max(1, rows);
  return {
    left: `${plot.x + cells.x0 * cw}px`,
    top: `${plot.y + plot.h - (cells.y1 + 1) * ch}px`,
    width: `${(cells.x1 - cells.x0 + 1) * cw}px`,
    height: `${(cells.y1 - cells.y0 + 1) * ch}px`,
  };
}

/** A tooltip beside the pointer, on the side towards the plot's middle, so that it stays inside. */
function tipPosition(pointer: { px: number; py: number }, plot: { x: number; y: number; w: number; h: number }) {
  const right = pointer.px < plot.x + plot.w / 2;
  const below = pointer.py < plot.y + plot.h / 2;
  return {
    left: `${pointer.px + (right ? 16 : -16)}px`,
    top: `${pointer.py + (below ? 12 : -12)}px`,
    transform: `translate(${right ? 0 : "-100%"}, ${below ? 0 : "-100%"})`,
  };
}
