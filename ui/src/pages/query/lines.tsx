// One line chart per calculation: a series per group (the top groups, in result order), legend,
// tooltip with every group's exact value. Clicking a point asks for that group's traces in that
// time bucket.

import type { EChartsCoreOption } from "echarts/core";
import { useMemo } from "preact/hooks";

import { Chart } from "../../components/chart";
import { formatTime } from "../../format";
import { type Group, type Shaped, formatterFor } from "./results";

/** More groups than this are left off the charts (the table still lists them). */
export const MAX_SERIES = 50;

export interface PointPick {
  group: Group;
  bucket: number;
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export function LineChart({ shaped, calc, onPick }: { shaped: Shaped; calc: string; onPick: (pick: PointPick) => void }) {
  const groups = shaped.groups.slice(0, MAX_SERIES);
  const option = useMemo<EChartsCoreOption>(() => {
    const format = formatterFor(calc);
    const showSymbol = shaped.times.length <= 60 && shaped.times.length * groups.length <= 3000;
    return {
      animation: false,
      grid: { left: 64, right: 16, top: 12, bottom: groups.length > 1 ? 56 : 28 },
      tooltip: {
        trigger: "axis",
        confine: true,
        axisPointer: { type: "line" },
        formatter: (params: { seriesIndex: number; value: [number, number | null]; color: string }[]) => {
          if (!params.length) return "";
          const time = formatTime(new Date(params[0].value[0]));
          const sorted = [...params].filter((p) => p.value[1] !== null && p.value[1] !== undefined).sort((a, b) => (b.value[1] as number) - (a.value[1] as number));
          const lines = sorted.slice(0, 15).map(
            (p) =>
              `<div class="qb-tip-row"><span class="qb-tip-dot" style="background:${p.color}"></span><span class="qb-tip-name">${escapeHtml(groups[p.seriesIndex].label)}</span><b>${escapeHtml(format(p.value[1]))}</b></div>`,
          );
          const more = sorted.length > 15 ? `<div class="qb-tip-more">+${sorted.length - 15} more</div>` : "";
          return `<div class="qb-tip"><div class="qb-tip-time">${time} · ${escapeHtml(calc)}</div>${lines.join("")}${more}</div>`;
        },
      },
      legend: groups.length > 1 ? { type: "scroll", bottom: 0, icon: "roundRect", itemWidth: 10, itemHeight: 4, textStyle: { fontSize: 11 } } : { show: false },
      xAxis: { type: "time", axisLine: { lineStyle: { color: "#cfd4dc" } }, axisLabel: { color: "#667085", fontSize: 11, hideOverlap: true }, splitLine: { show: false } },
      yAxis: {
        type: "value",
        axisLabel: { color: "#667085", fontSize: 11, formatter: (v: number) => format(v) },
        splitLine: { lineStyle: { color: "#f0f2f5" } },
      },
      series: groups.map((group) => ({
        name: group.label,
        type: "line",
        showSymbol,
        symbolSize: 5,
        triggerEvent: true,
        connectNulls: false,
        color: group.color,
        lineStyle: { width: 1.5 },
        emphasis: { focus: "series" },
        data: shaped.times.map((time, i) => [time, (shaped.points.get(group.key)?.[i]?.[calc] as number | null | undefined) ?? null]),
      })),
    };
  }, [shaped, calc]);

  return (
    <Chart
      option={option}
      style={{ height: "240px" }}
      testid={`line-chart-${calc}`}
      on={{
        click: (params: { seriesIndex?: number; dataIndex?: number; value?: [number, number] }) => {
          if (params.seriesIndex === undefined) return;
          const group = groups[params.seriesIndex];
          let bucket = params.dataIndex ?? -1;
          if (bucket < 0 && params.value) bucket = shaped.times.indexOf(params.value[0]);
          if (group && bucket >= 0) onPick({ group, bucket });
        },
      }}
    />
  );
}
