// A small line without axes: a trend at a glance, as SVG. A page shows many at once (three per
// service on the home page, one per error item); as ECharts instances, one each, they cost the
// home page about 145 ms of drawing.

const WIDTH = 120;
const HEIGHT = 32;
/** Room above and below the line, so that its stroke is not cut. */
const PAD = 2;

/**
 * `values` over equal steps, scaled from 0 to the largest; nulls are gaps (nothing measured there).
 * The line is the `.spark-line` path, the shaded area under it `.spark-area`.
 */
export function Sparkline({ values, color = "#4c7cf0", testid }: { values: (number | null)[]; color?: string; testid?: string }) {
  const measured = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);
  const max = Math.max(0, ...values.filter(measured)) || 1;
  const x = (i: number) => (values.length > 1 ? (i / (values.length - 1)) * WIDTH : WIDTH / 2);
  const y = (v: number) => PAD + (1 - v / max) * (HEIGHT - 2 * PAD);
  // One sub-path per run of measured values.
  const runs: [number, number][][] = [];
  values.forEach((v, i) => {
    if (!measured(v)) return;
    const point: [number, number] = [x(i), y(v)];
    if (measured(values[i - 1])) runs[runs.length - 1].push(point);
    else runs.push([point]);
  });
  const fixed = (n: number) => n.toFixed(1);
  const through = (run: [number, number][]) => run.map(([px, py]) => `${fixed(px)},${fixed(py)}`).join("L");
  const line = runs.map((run) => `M${through(run)}`).join("");
  const base = fixed(HEIGHT - PAD);
  const area = runs
    .filter((run) => run.length > 1)
    .map((run) => `M${fixed(run[0][0])},${base}L${through(run)}L${fixed(run[run.length - 1][0])},${base}Z`)
    .join("");
  return (
    <svg class="sparkline" width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} data-testid={testid} aria-hidden="true">
      <path class="spark-area" d={area} fill={color} fill-opacity="0.12" />
      <path class="spark-line" d={line} fill="none" stroke={color} stroke-width="1.5" stroke-linejoin="round" />
    </svg>
  );
}
