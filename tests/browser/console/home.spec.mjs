// Home: every service with its requests, errors and P99 as the query API counts them (the page's
// numbers must lie between two API answers taken before and after it loaded, since the demo keeps
// sending), sparklines drawn to scale, totals, and a recent trace that opens the trace view.

import { check, loaded, run, specName } from "./lib.mjs";

const REQUESTS = {
  filters: [
    { column: "span.kind", op: "=", value: "server" },
    { column: "trace.parent_id", op: "does-not-exist" },
  ],
  filter_combination: "OR",
  time_range: 3600,
};

async function api(base, path, body) {
  const response = await fetch(`${base}${path}`, body ? { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {});
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

async function query(base, dataset, spec) {
  const { id } = await api(base, `/1/queries/${encodeURIComponent(dataset)}`, spec);
  return (await api(base, `/1/query_results/${encodeURIComponent(dataset)}`, { query_id: id })).data.results;
}

/** The traces of the last hour, as GET /api/traces lists them. */
async function recentTraces(base) {
  return (await api(base, `/api/traces?limit=1000&start=${Date.now() / 1000 - 3600}`)).traces;
}

/** Requests and errors of one dataset, as the page defines them. */
async function counts(base, dataset) {
  const rows = await query(base, dataset, { ...REQUESTS, calculations: [{ op: "COUNT" }], breakdowns: ["error"] });
  const total = rows.reduce((sum, row) => sum + row.data.COUNT, 0);
  const errors = rows.filter((row) => row.data.error === true).reduce((sum, row) => sum + row.data.COUNT, 0);
  const [p99] = await query(base, dataset, { ...REQUESTS, calculations: [{ op: "P99", column: "duration_ms" }] });
  return { total, errors, p99: p99.data["P99(duration_ms)"] };
}

await run(specName(import.meta.url), async ({ page, base, shot }) => {
  const { datasets } = await api(base, "/api/datasets");
  const services = datasets.filter((d) => d.table === "traces").map((d) => d.name);
  check(services.includes("cruddur-backend"), `no cruddur-backend dataset in ${JSON.stringify(services)}`);
  const before = Object.fromEntries(await Promise.all(services.map(async (name) => [name, await counts(base, name)])));
  const allBefore = await counts(base, "__all__");
  const tracesBefore = await recentTraces(base);

  await page.goto(`${base}/`);
  await loaded(page, "home");
  const after = Object.fromEntries(await Promise.all(services.map(async (name) => [name, await counts(base, name)])));
  const allAfter = await counts(base, "__all__");

  // One row per service, numbers between the two API answers, the shown text matching the raw value.
  const rows = page.locator('[data-testid="service-row"]');
  check((await rows.count()) === services.length, `${await rows.count()} service rows for ${services.length} datasets`);
  const seen = {};
  for (const name of services) {
    const row = page.locator(`[data-testid="service-row"][data-dataset="${name}"]`);
    const count = Number(await row.getAttribute("data-count"));
    const errors = Number(await row.getAttribute("data-errors"));
    check(before[name].total <= count && count <= after[name].total, `${name}: ${count} requests shown, the API counted ${before[name].total} then ${after[name].total}`);
    check(before[name].errors <= errors && errors <= after[name].errors, `${name}: ${errors} errors shown, the API counted ${before[name].errors} then ${after[name].errors}`);
    const text = await row.locator('[data-testid="service-count"]').innerText();
    check(Number(text.replace(/,/g, "")) === count || count >= 10_000, `${name}: shows "${text}" for ${count} requests`);
    // The request rate as the service map writes it: 12.3/min, or per hour when below one a minute.
    const perMinute = await row.locator('[data-testid="service-rate"]').innerText();
    check(/^([\d,]+|\d+(\.\d)?K|\d+\.\d)(\/min|\/h)$/.test(perMinute), `${name}: request rate "${perMinute}"`);
    const rate = await row.locator('[data-testid="service-error-rate"]').innerText();
    if (count > 0) check(Math.abs(parseFloat(rate) - (100 * errors) / count) < 0.006, `${name}: error rate "${rate}" for ${errors}/${count}`);
    const p99Title = await row.locator('[data-testid="service-p99"]').locator("xpath=..").getAttribute("title");
    const p99 = parseFloat(p99Title);
    if (after[name].p99) check(p99 >= after[name].p99 * 0.5 && p99 <= after[name].p99 * 2, `${name}: P99 ${p99Title}, the API says ${after[name].p99} ms`);
    seen[name] = { count, errors, rate, p99: await row.locator('[data-testid="service-p99"]').innerText() };
  }
  const backend = seen["cruddur-backend"];
  check(backend.count >= 100 && backend.errors >= 1, `the demo's backend should have traffic and errors: ${JSON.stringify(backend)}`);

  // The totals.
  const total = Number(await page.locator('[data-testid="total-requests"]').getAttribute("data-value"));
  check(allBefore.total <= total && total <= allAfter.total, `total ${total}, the API counted ${allBefore.total} then ${allAfter.total}`);

  // Sparklines are drawn: each row's three lines have points, inside the box, the highest at the top.
  const drawn = await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="service-row"]')].map((row) =>
      ["spark-requests", "spark-errors", "spark-p99"].map((id) => {
        const svg = row.querySelector(`[data-testid="${id}"]`);
        const d = svg?.querySelector(".spark-line")?.getAttribute("d") ?? "";
        const points = [...d.matchAll(/([\d.]+),([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
        const [width, height] = [svg?.viewBox.baseVal.width ?? 0, svg?.viewBox.baseVal.height ?? 0];
        const inside = points.every(([x, y]) => x >= 0 && x <= width && y >= 0 && y <= height);
        return { points: points.length, inside, top: points.length ? Math.min(...points.map(([, y]) => y)) : null };
      }),
    ),
  );
  const backendIndex = services.indexOf("cruddur-backend");
  const rowOrder = await rows.evaluateAll((elements) => elements.map((e) => e.dataset.dataset));
  const backendDrawn = drawn[rowOrder.indexOf("cruddur-backend")];
  // The demo has sent for a minute or two: each line has points in at least two buckets. The
  // error-rate line may sit flat on zero, but it is drawn.
  const [requestsDrawn, errorsDrawn, p99Drawn] = backendDrawn ?? [];
  check(
    backendIndex >= 0 && requestsDrawn?.points >= 2 && p99Drawn?.points >= 2 && errorsDrawn?.points >= 2,
    `cruddur-backend's sparklines are blank: ${JSON.stringify(backendDrawn)}`,
  );
  check(
    backendDrawn.every((line) => line.inside) && requestsDrawn.top === 2 && p99Drawn.top === 2,
    `cruddur-backend's sparklines leave their box or do not reach its top: ${JSON.stringify(backendDrawn)}`,
  );

  // The service links to the query page with its dataset.
  const link = await page.locator('[data-testid="service-row"][data-dataset="cruddur-backend"] [data-testid="service-link"]').getAttribute("href");
  const linkUrl = new URL(link, base);
  check(linkUrl.pathname === "/query" && linkUrl.searchParams.get("dataset") === "cruddur-backend", `service link ${link}`);
  check(JSON.parse(linkUrl.searchParams.get("q")).calculations.some((c) => c.op === "P99"), `the link's query has no P99: ${link}`);

  // Recent traces are the API's, one row per trace: the demo's X-Ray-sampled requests are traced
  // twice under one trace id (a server span and a segment, two roots), and are still one row.
  const shownIds = await page.locator('[data-testid="recent-trace"]').evaluateAll((trs) => trs.map((tr) => tr.dataset.traceId));
  check(shownIds.length > 0 && new Set(shownIds).size === shownIds.length, `a trace is listed twice: ${JSON.stringify(shownIds)}`);
  const first = page.locator('[data-testid="recent-trace"]').first();
  const traceId = await first.getAttribute("data-trace-id");
  // The newest trace may still be arriving (OTLP spans come in export batches, X-Ray segments one
  // by one), so the row lies between the API's answers from before and after the page loaded.
  const summary = (await recentTraces(base)).find((t) => t.trace_id === traceId);
  check(summary, `recent trace ${traceId} is not in GET /api/traces`);
  const earlier = tracesBefore.find((t) => t.trace_id === traceId);
  const shownRoot = await first.locator("td").nth(1).innerText();
  check(
    [earlier?.root_name, summary.root_name].includes(shownRoot),
    `row shows root "${shownRoot}", the API "${earlier?.root_name}" then "${summary.root_name}"`,
  );
  const shownSpans = Number((await first.locator("td").nth(4).innerText()).replace(/,/g, ""));
  check(
    (earlier?.span_count ?? 1) <= shownSpans && shownSpans <= summary.span_count,
    `row shows ${shownSpans} spans, the API ${earlier?.span_count ?? "none"} then ${summary.span_count}`,
  );
  await shot("home");

  // "Errors only" lists failed traces only.
  await page.locator('[data-testid="errors-only"]').check();
  await page.waitForFunction(() => new URL(location.href).searchParams.get("errors") === "1");
  await loaded(page, "home");
  await page.locator('[data-testid="recent-trace"]').first().waitFor();
  const badges = await page.locator('[data-testid="recent-trace"]').evaluateAll((trs) => trs.map((tr) => Boolean(tr.querySelector(".badge.error"))));
  check(badges.length > 0 && badges.every(Boolean), `"Errors only" shows traces without an error badge: ${JSON.stringify(badges)}`);

  const failed = page.locator('[data-testid="recent-trace"]').first();
  const failedId = await failed.getAttribute("data-trace-id");
  const spansBefore = (await api(base, `/api/traces/${failedId}`)).spans.length;
  await failed.click();
  await loaded(page, "trace");
  const opened = new URL(page.url()).pathname;
  check(opened === `/trace/${failedId}`, `clicking recent trace ${failedId} opened ${opened}`);
  const spansAfter = (await api(base, `/api/traces/${failedId}`)).spans.length;
  const spans = Number((await page.locator('[data-testid="summary-spans"]').innerText()).replace(/,/g, ""));
  check(
    spansBefore <= spans && spans <= spansAfter,
    `trace page shows ${spans} spans, the API had ${spansBefore} before and ${spansAfter} after`,
  );
  await page.locator('[data-testid="summary-errors"]').filter({ hasNotText: /^0$/ }).waitFor();
  return { services: seen, total, opened: failedId };
});
