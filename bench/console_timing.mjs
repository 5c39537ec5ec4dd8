// Times waggle's console in headless Chromium (Debian's, through tests/browser's playwright-core):
// for each view, several fresh page loads (new browser context: cold cache), then medians of
//   paint      first contentful paint (the console's frame is on screen)
//   loaded     navigation start -> the page's <main data-loaded="true"> (its data drawn)
//   api        the slowest API call the view made (resource timing)
//   draw       the query page's own measure of drawing results (`data-draw-ms`), when present
// Prints one JSON object: {views: {name: {runs, paint_ms, loaded_ms, api_ms, draw_ms}}}.
//
//   node bench/console_timing.mjs http://127.0.0.1:7070 [runs]

import { createRequire } from "node:module";

const require = createRequire(new URL("../tests/browser/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const [base, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 7);
if (!base) {
  console.error("usage: node bench/console_timing.mjs WAGGLE_WEB_URL [runs]");
  process.exit(2);
}

const query = (dataset, spec) => `/query?dataset=${dataset}&t=3h&q=${encodeURIComponent(JSON.stringify(spec))}`;
const recent = await (await fetch(`${base}/api/traces?limit=1&start=0`)).json();
const traceId = recent.traces[0]?.trace_id;
if (!traceId) {
  console.error(`no traces at ${base}: load some spans first`);
  process.exit(1);
}

const VIEWS = {
  home: ["/", "home"],
  heatmap: [query("__all__", { calculations: [{ op: "HEATMAP", column: "duration_ms" }] }), "query"],
  p99_by_user: [
    query("__all__", {
      calculations: [{ op: "P99", column: "duration_ms" }, { op: "COUNT" }],
      breakdowns: ["app.user_id"],
      orders: [{ op: "P99", column: "duration_ms", order: "descending" }],
      limit: 10,
    }),
    "query",
  ],
  trace: [`/trace/${traceId}`, "trace"],
};

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
});
const report = { base, runs, trace_id: traceId, views: {} };
try {
  for (const [name, [path, pageName]] of Object.entries(VIEWS)) {
    const samples = { paint_ms: [], loaded_ms: [], api_ms: [], draw_ms: [] };
    for (let run = 0; run < runs; run++) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${base}${path}`);
      const loaded = await page.waitForFunction(
        (selector) => document.querySelector(selector) && performance.now(),
        `main[data-page="${pageName}"][data-loaded="true"]`,
        { timeout: 60_000, polling: "raf" },
      );
      const timings = await page.evaluate(() => {
        const paint = performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null;
        const api = performance
          .getEntriesByType("resource")
          .filter((entry) => /\/(api|1|aws)\b/.test(new URL(entry.name).pathname))
          .map((entry) => entry.duration);
        const draw = document.querySelector("[data-draw-ms]")?.getAttribute("data-draw-ms");
        return { paint, api: api.length ? Math.max(...api) : null, draw: draw === null || draw === undefined ? null : Number(draw) };
      });
      samples.paint_ms.push(timings.paint);
      samples.loaded_ms.push(await loaded.jsonValue());
      samples.api_ms.push(timings.api);
      samples.draw_ms.push(timings.draw);
      await context.close();
    }
    report.views[name] = { path, ...Object.fromEntries(Object.entries(samples).map(([key, values]) => [key, median(values)])) };
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
