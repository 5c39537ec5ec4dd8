// ECharts on a div, tree-shaken to the charts the console draws, resized with its container.

import { BarChart, GraphChart, HeatmapChart, LineChart, ScatterChart } from "echarts/charts";
import {
  BrushComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  ToolboxComponent,
  TooltipComponent,
  VisualMapComponent,
} from "echarts/components";
import * as echarts from "echarts/core";
import type { EChartsCoreOption } from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { useEffect, useRef } from "preact/hooks";

echarts.use([
  BarChart,
  GraphChart,
  HeatmapChart,
  LineChart,
  ScatterChart,
  BrushComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  ToolboxComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type ECharts = echarts.ECharts;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ChartHandler = (params: any, chart: ECharts) => void;

export interface ChartProps {
  option: EChartsCoreOption;
  /** ECharts events by name (`click`, `brushEnd`, ...), bound to this chart. */
  on?: Record<string, ChartHandler>;
  /** Called once with the chart instance (e.g. to enable a brush). */
  onReady?: (chart: ECharts) => void;
  style?: Record<string, string | number>;
  class?: string;
  testid?: string;
  /** Replace rather than merge the previous option (series removed between renders disappear). */
  notMerge?: boolean;
}

/** One chart. `option` changes are applied in place; the instance lives as long as the element. */
export function Chart({ option, on, onReady, style, class: className, testid, notMerge = true }: ChartProps) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const handlers = useRef(on);
  handlers.current = on;

  useEffect(() => {
    const instance = echarts.init(element.current!, undefined, { renderer: "canvas" });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(element.current!);
    onReady?.(instance);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge, lazyUpdate: false });
  }, [option]);

  useEffect(() => {
    const instance = chart.current;
    if (!instance || !on) return;
    const names = Object.keys(on);
    for (const name of names) instance.on(name, (params: unknown) => handlers.current?.[name]?.(params, instance));
    return () => names.forEach((name) => instance.off(name));
  }, [on ? Object.keys(on).join(",") : ""]);

  return <div ref={element} class={className} style={{ width: "100%", height: "300px", ...style }} data-testid={testid} />;
}
