// A response-time distribution as bars on log-spaced bins (linear when the spread is small), drawn in
// one setOption. With `onSelect`, dragging across the bars (or clicking one) picks a range.

import type { EChartsCoreOption } from "echarts/core";
import { useEffect, useMemo, useRef } from "preact/hooks";

import { Chart, type ECharts } from "../../components/chart";
import { formatDuration, formatNumber, formatPercent } from "../../format";

export interface Bin {
  /** Seconds, inclusive lower and upper bound. */
  lower: number;
  upper: number;
  count: number;
  faults: number;
}

/** Response times (seconds, with counts and fault counts) into at most `target` bins. */
export function binResponseTimes(values: { value: number; count: number; faults?: number }[], target = 24): Bin[] {
  const present = values.filter((v) => v.count > 0 && Number.isFinite(v.value));
  if (!present.length) return [];
  const lo = Math.max(1e-6, Math.min(...present.map((v) => v.value)));
  const hi = Math.max(lo * 1.0001, ...present.map((v) => v.value));
  const logScale = hi / lo > 20;
  const edges: number[] = [];
  for (let i = 0; i <= target; i++) {
    edges.push(logScale ? lo * Math.pow(hi / lo, i / target) : lo + ((hi - lo) * i) / target);
  }
  const bins: Bin[] = edges.slice(0, -1).map((lower, i) => ({ lower, upper: edges[i + 1], count: 0, faults: 0 }));
  for (const v of present) {
    let index = logScale ? Math.floor((Math.log(Math.max(v.value, lo) / lo) / Math.log(hi / lo)) * target) : Math.floor(((v.value - lo) / (hi - lo)) * target);
    index = Math.min(target - 1, Math.max(0, index));
    bins[index].count += v.count;
    bins[index].faults += v.faults ?? 0;
  }
  bins[0].lower = lo;
  bins[bins.length - 1].upper = hi;
  return bins;
}

export function ResponseTimeChart({ bins, height = 180, onSelect, selected, testid }: {
  bins: Bin[];
  height?: number;
  /** A range of bins was chosen: their bounds in seconds. */
  onSelect?: (lower: number, upper: number) => void;
  /** Seconds; bins inside are highlighted. */
  selected?: { lower: number; upper: number } | null;
  testid?: string;
}) {
  const total = bins.reduce((sum, bin) => sum + bin.count, 0);
  const option = useMemo<EChartsCoreOption>(() => {
    const inside = (bin: Bin) => !selected || (bin.upper >= selected.lower && bin.lower <= selected.upper);
    return {
      animation: false,
      grid: { left: 44, right: 12, top: 12, bottom: 30 },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: (params: { dataIndex: number }[]) => {
          const bin = bins[params[0].dataIndex];
          return (
            `<b>${formatDuration(bin.lower * 1000)} – ${formatDuration(bin.upper * 1000)}</b><br/>` +
            `${formatNumber(bin.count)} traces (${formatPercent(total ? bin.count / total : 0)})` +
            (bin.faults ? `<br/><span style="color:#d92d20">${formatNumber(bin.faults)} with faults</span>` : "") +
            (onSelect ? `<br/><span style="color:#98a2b3">Drag across bars to filter</span>` : "")
          );
        },
      },
      xAxis: {
        type: "category",
        data: bins.map((bin) => formatDuration(bin.lower * 1000)),
        axisTick: { alignWithLabel: true },
        axisLabel: { color: "#667085", fontSize: 10, hideOverlap: true },
        axisLine: { lineStyle: { color: "#cfd4dc" } },
      },
      yAxis: {
        type: "value",
        minInterval: 1,
        axisLabel: { color: "#667085", fontSize: 10 },
        splitLine: { lineStyle: { color: "#f0f2f5" } },
      },
      brush: onSelect ? { xAxisIndex: 0, brushType: "lineX", brushMode: "single", throttleType: "debounce", brushStyle: { color: "rgba(76,124,240,0.12)", borderColor: "#4c7cf0" } } : undefined,
      toolbox: { show: false },
      series: [
        {
          type: "bar",
          name: "traces",
          stack: "t",
          barCategoryGap: "12%",
          data: bins.map((bin) => ({ value: bin.count - bin.faults, itemStyle: { color: inside(bin) ? "#4c7cf0" : "#c9d6f8" } })),
        },
        {
          type: "bar",
          name: "faults",
          stack: "t",
          data: bins.map((bin) => ({ value: bin.faults, itemStyle: { color: inside(bin) ? "#d92d20" : "#f1b5af" } })),
        },
      ],
    };
  }, [bins, selected]);

  // Dragging draws a brush at once (no toolbox button); a new option (notMerge) drops it: take it again.
  const chartRef = useRef<ECharts | null>(null);
  const enableBrush = (chart: ECharts) => {
    chartRef.current = chart;
    if (onSelect) chart.dispatchAction({ type: "takeGlobalCursor", key: "brush", brushOption: { brushType: "lineX", brushMode: "single" } });
  };
  useEffect(() => {
    const timer = setTimeout(() => chartRef.current && enableBrush(chartRef.current), 0);
    return () => clearTimeout(timer);
  }, [option]);

  return (
    <Chart
      option={option}
      style={{ height: `${height}px` }}
      testid={testid}
      onReady={enableBrush}
      on={
        onSelect
          ? {
              brushEnd: (params, chart) => {
                const range = params.areas?.[0]?.coordRange as [number, number] | undefined;
                chart.dispatchAction({ type: "brush", areas: [] });
                if (!range) return;
                const [from, to] = [Math.max(0, range[0]), Math.min(bins.length - 1, range[1])];
                if (from > to || !bins[from]) return;
                onSelect(bins[from].lower, bins[to].upper);
              },
              click: (params) => {
                const bin = bins[params.dataIndex];
                if (bin) onSelect(bin.lower, bin.upper);
              },
            }
          : undefined
      }
    />
  );
}
