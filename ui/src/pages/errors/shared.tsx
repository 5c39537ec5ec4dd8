// Pieces both errors pages use: level and status badges, times, the hourly occurrences chart.

import { useMemo } from "preact/hooks";

import { Chart } from "../../components/chart";
import { formatAgo, formatNumber, formatTime } from "../../format";

export const LEVELS = ["critical", "error", "warning", "info", "debug"];
export const LEVEL_COLORS: Record<string, string> = {
  critical: "#9f1239",
  error: "#d92d20",
  warning: "#f5a524",
  info: "#4c7cf0",
  debug: "#98a2b3",
};

export function LevelBadge({ level }: { level: string }) {
  return (
    <span class={`badge errors-level errors-level-${level}`} data-testid="item-level">
      {level}
    </span>
  );
}

export function StatusBadge({ status, testid }: { status: string; testid?: string }) {
  return (
    <span class={`errors-status errors-status-${status}`} data-testid={testid}>
      {status}
    </span>
  );
}

/** `3 min ago`, the exact local time as its tooltip. */
export function Ago({ seconds }: { seconds: number | null | undefined }) {
  if (!seconds) return <span class="faint">–</span>;
  const date = new Date(seconds * 1000);
  return <time title={formatTime(date)}>{formatAgo(date)}</time>;
}

/** Occurrences per hour over the last hours (oldest first), stacked by level when several series. */
export function HourlyChart({ series, height = 160, testid }: { series: { name: string; counts: number[]; color: string }[]; height?: number; testid?: string }) {
  const option = useMemo(() => {
    const hours = series[0]?.counts.length ?? 24;
    const now = Date.now();
    const labels = Array.from({ length: hours }, (_, i) => {
      const start = new Date(now - (hours - i) * 3600_000);
      return `${String(start.getHours()).padStart(2, "0")}:${String(start.getMinutes()).padStart(2, "0")}`;
    });
    return {
      animation: false,
      grid: { left: 36, right: 8, top: 10, bottom: 22 },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: (params: { axisValue: string; seriesName: string; value: number; color: string; dataIndex: number }[]) => {
          const index = params[0]?.dataIndex ?? 0;
          const end = new Date(now - (hours - index - 1) * 3600_000);
          const head = `${params[0]?.axisValue} – ${String(end.getHours()).padStart(2, "0")}:${String(end.getMinutes()).padStart(2, "0")}`;
          const lines = params
            .filter((p) => p.value > 0 || params.length === 1)
            .map((p) => `<span style="display:inline-block;width:8px;height:8px;border-radius:2px;background:${p.color};margin-right:6px"></span>${p.seriesName}: <b>${formatNumber(p.value)}</b>`);
          return [head, ...lines].join("<br/>");
        },
      },
      xAxis: { type: "category", data: labels, axisTick: { show: false }, axisLabel: { interval: Math.max(0, Math.floor(hours / 8) - 1), color: "#667085" } },
      yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eef0f4" } }, axisLabel: { color: "#667085" } },
      series: series.map((s) => ({
        name: s.name,
        type: "bar",
        stack: "all",
        data: s.counts,
        itemStyle: { color: s.color },
        barMaxWidth: 22,
      })),
    };
  }, [JSON.stringify(series)]);
  return <Chart option={option} style={{ height: `${height}px` }} testid={testid} />;
}
