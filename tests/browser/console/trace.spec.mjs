// The trace view, on a trace made for it: Cruddur's frontend is opened in the same browser, so a
// browser -> backend -> SQL trace exists (the frontend exports its spans to waggle). Its waterfall
// must nest the three services' spans as the API does, show db.statement on the SQL span, collapse
// and expand, narrow on search, mark the critical path, show the request's log line, and link to the
// query page with the span's filters. Then an error trace: its marker, exception and Rollbar occurrence.

import { check, loaded, run, specName } from "./lib.mjs";

const frontend = process.env.CRUDDUR_FRONTEND_URL;

async function api(base, path, headers = {}) {
  const response = await fetch(`${base}${path}`, { headers });
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/** Polls `probe` (returns a value or null) until it answers, up to `seconds`. */
async function eventually(seconds, what, probe) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting ${seconds}s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const isSql = (span) => span.attributes["db.statement"] !== undefined;

/** The visible rows: span id, service, depth, critical. */
const rowsOf = (page) =>
  page.locator('[data-testid="span-row"], [data-testid="missing-parent"]').evaluateAll((rows) =>
    rows
      .map((row) => ({ id: row.dataset.spanId, service: row.dataset.service, depth: Number(row.dataset.depth), critical: row.dataset.critical === "true", top: parseFloat(row.style.top) }))
      .sort((a, b) => a.top - b.top),
  );

await run(specName(import.meta.url), async ({ page, base, shot, context }) => {
  check(frontend, "set CRUDDUR_FRONTEND_URL to Cruddur's frontend");

  // 1. Make a browser -> backend -> SQL trace: open Cruddur's home feed in this browser, in a page
  // of its own: the demo fails one request in 30 on purpose (a 500 is then no console problem of
  // waggle's), so the feed is reloaded until it shows.
  const startedAt = Date.now() / 1000 - 5;
  const cruddur = await context.newPage();
  for (let attempt = 1; ; attempt++) {
    await cruddur.goto(`${frontend}/`);
    await cruddur.locator('main[data-loaded="/"]').waitFor();
    const feed = cruddur.locator('[data-testid="activity"]', { hasText: "Cloud is fun!" });
    if (await feed.waitFor({ timeout: 5000 }).then(() => true, () => false)) break;
    check(attempt < 5, "Cruddur's home feed did not show in 5 attempts");
  }
  await cruddur.waitForTimeout(1500); // the frontend's batch span processor exports every 500 ms
  await cruddur.goto("about:blank"); // leaving the page flushes the rest
  await cruddur.close();

  const found = await eventually(30, "a cruddur-frontend trace with backend and SQL spans", async () => {
    const { traces } = await api(base, `/api/traces?dataset=cruddur-frontend&start=${startedAt}&limit=100`);
    for (const summary of traces) {
      const trace = await api(base, `/api/traces/${summary.trace_id}`);
      const services = new Set(trace.spans.map((s) => s.service_name));
      if (services.has("cruddur-frontend") && services.has("cruddur-backend") && trace.spans.some(isSql)) return trace;
    }
    return null;
  });
  const byId = new Map(found.spans.map((s) => [s.span_id, s]));
  const sql = found.spans.find(isSql);
  const chain = [];
  for (let span = sql; span; span = byId.get(span.parent_span_id)) chain.unshift(span);
  const server = chain.find((s) => s.service_name === "cruddur-backend" && s.kind === "server");
  const browserSpan = chain.find((s) => s.service_name === "cruddur-frontend");
  check(server && browserSpan && chain[0].service_name === "cruddur-frontend", `unexpected chain ${chain.map((s) => `${s.service_name}:${s.name}`).join(" > ")}`);

  // The backend logs one line per request with its trace id to CloudWatch (sent every 5 s).
  const withLogs = await eventually(30, "the request's log line in the trace", async () => {
    const trace = await api(base, `/api/traces/${found.trace_id}`);
    return trace.logs.some((log) => log.dataset === "cruddur") ? trace : null;
  });
  const logLine = withLogs.logs.find((log) => log.dataset === "cruddur");

  // 2. The waterfall nests browser -> backend -> SQL as the API does.
  await page.goto(`${base}/trace/${found.trace_id}`);
  await loaded(page, "trace");
  let rows = await rowsOf(page);
  check(rows.length === withLogs.spans.length, `${rows.length} rows for ${withLogs.spans.length} spans`);
  const index = (id) => rows.findIndex((r) => r.id === id);
  for (let i = 1; i < chain.length; i++) {
    const [parent, child] = [rows[index(chain[i - 1].span_id)], rows[index(chain[i].span_id)]];
    check(parent && child && child.depth === parent.depth + 1 && index(chain[i].span_id) > index(chain[i - 1].span_id), `${chain[i].name} is not nested under ${chain[i - 1].name}: ${JSON.stringify(rows)}`);
  }
  check(rows[index(browserSpan.span_id)].service === "cruddur-frontend" && rows[index(server.span_id)].service === "cruddur-backend", "services of the rows");
  const summarySpans = await page.locator('[data-testid="summary-spans"]').innerText();
  check(Number(summarySpans) === withLogs.spans.length, `summary says ${summarySpans} spans`);
  const summaryServices = await page.locator('[data-testid="summary-services"]').innerText();
  check(Number(summaryServices) === new Set(withLogs.spans.map((s) => s.service_name)).size, `summary says ${summaryServices} services`);
  const axis = await page.locator('[data-testid="time-axis"] .tw-tick').allInnerTexts();
  check(axis.length >= 3 && axis[0] === "0 ms", `time axis ticks: ${JSON.stringify(axis)}`);

  // 3. The critical path: the root, and from it the chain of last-ending children, is marked.
  const root = withLogs.spans.find((s) => !s.parent_span_id);
  check(rows[index(root.span_id)].critical, "the root is not on the critical path");
  const children = withLogs.spans.filter((s) => s.parent_span_id === root.span_id).sort((a, b) => b.end_time_unix_nano - a.end_time_unix_nano);
  if (children.length) check(rows[index(children[0].span_id)].critical, `the root's last-ending child ${children[0].name} is not critical`);
  const segments = await page.locator('[data-testid="critical-segment"]').count();
  check(segments === rows.filter((r) => r.critical).length && segments > 0, `${segments} critical segments drawn`);
  await page.locator('[data-testid="critical-toggle"]').uncheck();
  check((await page.locator('[data-testid="critical-segment"]').count()) === 0, "the critical path toggle does not hide it");
  await page.locator('[data-testid="critical-toggle"]').check();

  // 4. The request's log line is inline: in the log panel, with its severity, tied to its span.
  const logRow = page.locator('[data-testid="log-line"]').first();
  await logRow.waitFor();
  const logText = await logRow.innerText();
  const message = JSON.parse(logLine.body).message;
  check(logText.includes(message) && logText.includes("INFO"), `log panel shows "${logText}", expected "${message}" (INFO)`);
  const logSpan = byId.get(logLine.span_id) ?? withLogs.spans.find((s) => s.span_id === logLine.span_id);
  if (logSpan) check(logText.includes(logSpan.name), `log line is not tied to span ${logSpan.name}: "${logText}"`);
  await shot("waterfall");

  // 5. Select the SQL span: its details show db.statement.
  await page.locator(`[data-testid="span-row"][data-span-id="${sql.span_id}"]`).click();
  const details = page.locator(`[data-testid="span-details"][data-span-id="${sql.span_id}"]`);
  await details.waitFor();
  const statement = await details.locator('[data-testid="attribute"][data-key="db.statement"] td').innerText();
  check(statement === sql.attributes["db.statement"], `db.statement shows "${statement}"`);
  check((await details.locator('[data-testid="details-name"]').innerText()) === sql.name, "details name");
  check(new URL(page.url()).searchParams.get("span") === sql.span_id, `the URL does not keep the selected span: ${page.url()}`);
  await shot("span-details");

  // 6. Collapse the backend request: its subtree disappears; expand brings it back; then all.
  const total = rows.length;
  const topLevel = rows.filter((r) => r.depth === 0).length;
  const below = withLogs.spans.filter((s) => {
    for (let p = byId.get(s.parent_span_id) ?? withLogs.spans.find((x) => x.span_id === s.parent_span_id); p; p = withLogs.spans.find((x) => x.span_id === p.parent_span_id)) {
      if (p.span_id === server.span_id) return true;
    }
    return false;
  }).length;
  await page.locator(`[data-testid="span-row"][data-span-id="${server.span_id}"] [data-testid="toggle"]`).click();
  rows = await rowsOf(page);
  check(rows.length === total - below && index(sql.span_id) === -1, `collapsing the backend span left ${rows.length} rows (expected ${total - below})`);
  await page.locator(`[data-testid="span-row"][data-span-id="${server.span_id}"] [data-testid="toggle"]`).click();
  rows = await rowsOf(page);
  check(rows.length === total, `expanding again shows ${rows.length} of ${total} rows`);
  await page.locator('[data-testid="collapse-all"]').click();
  rows = await rowsOf(page);
  check(rows.length === topLevel && index(root.span_id) >= 0, `collapse all left ${rows.length} rows, not the ${topLevel} top-level ones`);
  await page.locator('[data-testid="expand-all"]').click();
  check((await rowsOf(page)).length === total, "expand all");

  // 7. Search narrows the rows to the matches and their ancestors: by attribute key, then by span id.
  const search = page.locator('[data-testid="trace-search"]');
  await search.fill("db.statement");
  await page.locator('[data-testid="search-count"]').waitFor();
  const sqlCount = withLogs.spans.filter(isSql).length;
  const countText = await page.locator('[data-testid="search-count"]').innerText();
  check(countText.startsWith(`${sqlCount} of ${total}`), `search count "${countText}", expected ${sqlCount} of ${total}`);
  const matches = await page.locator(".tw-row.match").count();
  check(matches === sqlCount, `${matches} rows highlighted as matches, ${sqlCount} spans have db.statement`);
  await search.fill(sql.span_id);
  await page.locator('[data-testid="search-count"]', { hasText: `1 of ${total}` }).waitFor();
  rows = await rowsOf(page);
  check(rows.length === chain.length && rows.every((r, i) => r.id === chain[i].span_id), `searching the SQL span's id shows ${JSON.stringify(rows.map((r) => r.id))}, expected its chain`);
  await page.locator('[data-testid="trace-search"]').fill("no such span anywhere");
  await page.locator('[data-testid="search-empty"]').waitFor();
  await page.locator('[data-testid="trace-search"]').fill("");
  check((await rowsOf(page)).length === total, "clearing the search");

  // 8. "Query spans like this" opens the query page filtered on the span's name and service.
  await page.locator('[data-testid="query-like-this"]').click();
  await page.locator('main[data-page="query"]').waitFor();
  const target = new URL(page.url());
  check(target.pathname === "/query" && target.searchParams.get("dataset") === sql.dataset, `query link opened ${page.url()}`);
  const filters = JSON.parse(target.searchParams.get("q")).filters;
  const has = (column, value) => filters.some((f) => f.column === column && f.op === "=" && f.value === value);
  check(has("name", sql.name) && has("service.name", "cruddur-backend"), `query filters ${JSON.stringify(filters)}`);
  await page.goBack();
  await loaded(page, "trace");

  // 9. An error trace with a Rollbar occurrence: marker on the row, the exception, the occurrence.
  const config = await api(base, "/api/console/config");
  const token = { "x-rollbar-access-token": config.rollbar.access_token };
  const failed = await eventually(60, "an error trace with a Rollbar occurrence", async () => {
    const { traces } = await api(base, `/api/traces?error=true&limit=100&start=${Date.now() / 1000 - 3600}`);
    for (const summary of traces) {
      const { result } = await api(base, `/api/1/instances?trace_id=${summary.trace_id}`, token);
      if (result.instances.length) return { summary, occurrence: result.instances[0] };
    }
    return null;
  });
  const errorTrace = await api(base, `/api/traces/${failed.summary.trace_id}`);
  const errorSpan = errorTrace.spans.find((s) => s.status_code === 2);
  await page.goto(`${base}/trace/${failed.summary.trace_id}`);
  await loaded(page, "trace");
  const errorRow = page.locator(`[data-testid="span-row"][data-span-id="${errorSpan.span_id}"]`);
  check((await errorRow.getAttribute("data-error")) === "true" && (await errorRow.locator(".tw-error-icon").count()) === 1, "the error span is not marked");
  check(Number(await page.locator('[data-testid="summary-errors"]').innerText()) >= 1, "the summary counts no error");
  const occurrence = page.locator('[data-testid="occurrence"]').first();
  await occurrence.waitFor();
  const title = await occurrence.locator('[data-testid="occurrence-title"]').innerText();
  check(title === failed.occurrence.item.title, `occurrence "${title}", Rollbar says "${failed.occurrence.item.title}"`);
  check((await occurrence.locator('[data-testid="occurrence-title"]').getAttribute("href")) === `/errors/${failed.occurrence.item_id}`, "the occurrence links to its item");
  await page.locator('[data-testid="next-error"]').waitFor();
  await errorRow.click();
  const errorDetails = page.locator(`[data-testid="span-details"][data-span-id="${errorSpan.span_id}"]`);
  await errorDetails.waitFor();
  const exceptionEvent = errorSpan.events.find((e) => e.name === "exception");
  if (exceptionEvent) {
    const text = await errorDetails.locator('[data-testid="exception"]').first().innerText();
    check(text.includes(String(exceptionEvent.attributes["exception.type"])), `exception block shows "${text}"`);
  } else {
    const status = await errorDetails.locator('[data-testid="status-message"]').innerText();
    check(status === errorSpan.status_message, `status message "${status}", expected "${errorSpan.status_message}"`);
  }
  await occurrence.locator("summary").first().click();
  await shot("error");
  return { trace: found.trace_id, spans: total, chain: chain.map((s) => `${s.service_name}:${s.name}`), error_trace: failed.summary.trace_id, occurrence: title };
});
