// Ways into the query builder other than the builder itself: Honeycomb's `links.query_url`
// (`/query?dataset=D&query_id=ID`), the `where` hint other pages link with, the query history;
// a table row lists its group's traces; a broken link and an impossible query say what to fix.

import { check, run, specName } from "./lib.mjs";
import { waitForQuery } from "./query.mjs";

await run(specName(import.meta.url), async ({ page, base, shot }) => {
  // --- Honeycomb's query_url: a query created through the API opens and runs.
  const spec = {
    calculations: [{ op: "COUNT" }, { op: "AVG", column: "duration_ms" }],
    filters: [{ column: "span.kind", op: "=", value: "server" }],
    breakdowns: ["http.route"],
    time_range: 3600,
  };
  const created = await (await fetch(`${base}/1/queries/cruddur-backend`, { method: "POST", body: JSON.stringify(spec) })).json();
  check(typeof created.id === "string", `creating a query answered ${JSON.stringify(created)}`);
  await page.goto(`${base}/query?dataset=cruddur-backend&query_id=${created.id}`);
  await waitForQuery(page, "COUNT, AVG(duration_ms) where span.kind = server by http.route");
  const url = new URL(page.url());
  check(!url.searchParams.has("query_id") && JSON.parse(url.searchParams.get("q")).breakdowns[0] === "http.route", `query_url was not turned into the full URL: ${page.url()}`);
  check(url.searchParams.get("t") === "1h", `the stored time range did not carry over: ${page.url()}`);
  const routes = await page.locator('[data-testid="result-row"] td[data-column="http.route"]').allTextContents();
  check(routes.includes("/api/activities/home"), `routes listed: ${routes.join(", ")}`);
  check((await page.locator('[data-testid="qb-breakdown-0"]').inputValue()) === "http.route", "the builder does not show the stored group by");

  // --- A table row lists its group's traces.
  await page.locator('[data-testid="result-row"]', { hasText: "/api/activities/home" }).first().click();
  await page.locator('[data-testid="exemplars"][data-loaded="true"]').waitFor();
  const exemplars = await page.locator('[data-testid="exemplar-link"]').count();
  check(exemplars >= 1, "the /api/activities/home row listed no traces");
  check((await page.locator('[data-testid="exemplars"]').textContent()).includes("/api/activities/home"), "the traces panel does not say which group it shows");
  await shot("row-exemplars");

  // --- The `where` hint other pages link with ("spans like this").
  const q = JSON.stringify({ calculations: [{ op: "COUNT" }], breakdowns: ["http.route"] });
  await page.goto(`${base}/query?dataset=cruddur-backend&q=${encodeURIComponent(q)}&where=${encodeURIComponent("app.user_id=garek")}&t=1h`);
  await waitForQuery(page, "COUNT where app.user_id = garek by http.route");
  check((await page.locator('[data-testid="qb-filter-value-0"]').inputValue()) === "garek", "the where hint is not in the builder");
  const counts = await page.locator('[data-testid="result-row"] td[data-column="COUNT"]').allTextContents();
  check(counts.length > 0 && counts.every((c) => Number(c.replace(/,/g, "")) > 0), `garek's routes: ${counts.join(", ")}`);

  // --- The history lists what ran; an entry runs again.
  await page.locator('[data-testid="tab-history"]').click();
  const entry = page.locator('[data-testid="history-entry"]', { hasText: "COUNT, AVG(duration_ms) where span.kind = server by http.route" }).first();
  await entry.waitFor();
  await shot("history");
  await entry.locator("button").click();
  await waitForQuery(page, "COUNT, AVG(duration_ms) where span.kind = server by http.route");

  // --- A broken link and an impossible query say what to do.
  await page.goto(`${base}/query?dataset=cruddur-backend&q=%7Bnot-json`);
  await page.locator('main[data-page="query"][data-loaded="true"]').waitFor();
  const broken = await page.locator('[data-testid="error"]').textContent();
  check(broken.includes("cannot be read"), `a broken q parameter showed: ${broken}`);
  await page.locator('[data-testid="qb-calc-op-0"]').selectOption("P99");
  await page.locator('[data-testid="qb-calc-column-0"]').fill("http.route");
  await page.keyboard.press("Escape");
  await page.locator('[data-testid="qb-run"]').click();
  const impossible = page.locator('[data-testid="error"]', { hasText: "needs a numeric column" });
  await impossible.waitFor();
  check((await impossible.textContent()).includes("http.route"), "the error does not name the column to change");
  await shot("error");
  return { queryId: created.id, routes: routes.length, exemplars };
});
