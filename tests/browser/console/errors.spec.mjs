// The errors pages against `waggle up`'s demo: the UpstreamError item the demo's 500s report is
// listed with its count; its page shows the frames, the request and the person; its trace link
// opens the trace; resolve, mute and reactivate change the status shown, checked through the API.

import { check, loaded, run, specName } from "./lib.mjs";

await run(specName(import.meta.url), async ({ page, base, shot }) => {
  const config = await (await fetch(`${base}/api/console/config`)).json();
  const token = config.rollbar?.access_token;
  check(token, `no Rollbar token in /api/console/config: ${JSON.stringify(config)}`);
  const api = async (path, init = {}) => {
    const response = await fetch(`${base}${path}`, { ...init, headers: { "x-rollbar-access-token": token, "content-type": "application/json" } });
    const body = await response.json();
    check(response.ok && body.err === 0, `${path}: ${response.status} ${JSON.stringify(body)}`);
    return body.result;
  };
  const items = await api("/api/1/items");
  const upstream = items.items.find((item) => item.exception_class === "UpstreamError");
  check(upstream, `the demo's UpstreamError item is not there: ${items.items.map((i) => i.title)}`);
  if (upstream.status !== "active") await api(`/api/1/item/${upstream.id}`, { method: "PATCH", body: JSON.stringify({ status: "active" }) });

  // The list: level, title, environment, counts.
  await page.goto(`${base}/errors`);
  await loaded(page, "errors");
  const row = page.locator(`[data-testid="item-row"][data-item-id="${upstream.id}"]`);
  await row.waitFor();
  const title = await row.locator('[data-testid="item-title"]').textContent();
  check(title.startsWith("UpstreamError: "), `the row's title is ${title}`);
  check((await row.locator('[data-testid="item-level"]').textContent()) === "error", "the row's level is not error");
  check((await row.locator('[data-testid="item-environment"]').textContent()) === upstream.environment, "the row's environment differs");
  const total = Number((await row.locator('[data-testid="item-total"]').textContent()).replace(/,/g, ""));
  const after = await api(`/api/1/item/${upstream.id}`);
  check(total >= upstream.total_occurrences && total <= after.total_occurrences, `the row counts ${total}, the API ${upstream.total_occurrences}..${after.total_occurrences}`);
  const day = Number((await row.locator('[data-testid="item-day"]').textContent()).replace(/,/g, ""));
  check(day > 0 && day <= total, `the last-24-hours count is ${day} of ${total}`);
  check((await row.locator('[data-testid="item-status"]').textContent()) === "active", "the row is not active");
  await page.locator('[data-testid="day-chart"] canvas').waitFor();
  await shot("list");

  // Filters: a level without items empties the list; Resolved does not show the active item.
  await page.locator('[data-testid="status-filter"] button', { hasText: "Resolved" }).click();
  await page.waitForURL((url) => url.searchParams.get("status") === "resolved");
  await loaded(page, "errors");
  check((await row.count()) === 0, "the active item is listed under Resolved");

  // The item page: frames, request, person.
  await page.goto(`${base}/errors`);
  await loaded(page, "errors");
  await row.locator('[data-testid="item-title"]').click();
  await page.waitForURL((url) => url.pathname === `/errors/${upstream.id}`);
  await loaded(page, "errors");
  const [latest] = (await api(`/api/1/item/${upstream.id}/instances`)).instances;
  const frames = await page.locator('[data-testid="frame"] [data-testid="frame-method"]').allTextContents();
  const sent = latest.data.body.trace.frames.length;
  check(sent === 0 || frames.length > 0, `no frames shown though the occurrence has ${sent}`);
  const folded = await page.locator(".errors-frame-fold").count();
  check(frames.length + folded > 0 || sent === 0, "the stack trace is empty");
  const exception = await page.locator('[data-testid="stack-trace"] .errors-exception').first().textContent();
  check(exception.includes("UpstreamError") && exception.includes("connection reset"), `the exception shown is ${exception}`);
  const requestLine = await page.locator('[data-testid="request-line"]').textContent();
  const shownOccurrence = page.locator('[data-testid="occurrence"].errors-selected');
  check((await shownOccurrence.count()) === 1, "no occurrence is selected");
  check(/^(GET|POST|PUT|DELETE|PATCH) http/.test(requestLine.trim()), `the request line is ${requestLine}`);
  const headers = await page.locator('[data-testid="request-headers"]').textContent();
  check(headers.toLowerCase().includes("user-agent") || headers.toLowerCase().includes("host"), `no request headers shown: ${headers}`);
  await shot("item");
  await page.locator('[data-testid="tab-person"]').click();
  const person = await page.locator('[data-testid="person"]').textContent().catch(() => "");
  const who = latest.data.person?.id;
  check(!who || person.includes(String(who)) || (await page.locator('[data-testid="occurrence-detail"]').textContent()).includes("No person"), `the person ${who} is not shown: ${person}`);

  // Status changes, shown and checked through the API.
  const since = Math.floor(Date.now() / 1000);
  await page.locator('[data-testid="resolve"]').click();
  await page.locator('[data-testid="item-status"]', { hasText: "resolved" }).waitFor();
  const resolved = await api(`/api/1/item/${upstream.id}`);
  // A new occurrence reactivates a resolved item (Rollbar's rule): then it happened after resolving.
  check(
    resolved.status === "resolved" || (resolved.status === "active" && resolved.last_resolved_timestamp >= since && resolved.last_occurrence_timestamp >= since),
    `after Resolve the API says ${JSON.stringify(resolved)}`,
  );
  await page.locator('[data-testid="reactivate"]').click();
  await page.locator('[data-testid="item-status"]', { hasText: "active" }).waitFor();
  check((await api(`/api/1/item/${upstream.id}`)).status === "active", "after Reactivate the API does not say active");
  await page.locator('[data-testid="mute"]').click();
  await page.locator('[data-testid="item-status"]', { hasText: "muted" }).waitFor();
  check((await api(`/api/1/item/${upstream.id}`)).status === "muted", "after Mute the API does not say muted");
  await page.locator('[data-testid="reactivate"]').click();
  await page.locator('[data-testid="item-status"]', { hasText: "active" }).waitFor();
  check((await api(`/api/1/item/${upstream.id}`)).status === "active", "after Reactivate the API does not say active");

  // The occurrence's trace link opens its trace.
  const link = page.locator('[data-testid="occurrence-detail"] [data-testid="trace-link"]');
  const target = await link.getAttribute("href");
  const traceId = target.replace("/trace/", "");
  const recent = (await api(`/api/1/item/${upstream.id}/instances`)).instances.map((o) => o.data.custom?.trace_id);
  check(/^[0-9a-f]{32}$/.test(traceId) && recent.includes(traceId), `the trace link ${target} is not an occurrence's trace (${recent})`);
  check((await fetch(`${base}/api/traces/${traceId}`)).status === 200, `the linked trace ${traceId} does not exist`);
  await link.click();
  await page.waitForURL((url) => url.pathname === `/trace/${traceId}`);
  await page.locator('main[data-page="trace"]').waitFor();
  return { item: upstream.id, total, day, frames: frames.length, trace: traceId };
});
