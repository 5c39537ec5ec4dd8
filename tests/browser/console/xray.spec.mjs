// The X-Ray traces page over the demo's OpenTelemetry traces plus five X-Ray traces this spec sends
// (annotated, one failing with a 500): the HTTP status breakdown shows the 5xx share of the listed
// traces; `http.status = 500` lists only failing traces; a syntax error is shown inline with the
// server's message; annotation and service() filters find exactly the sent traces; a group created
// from the expression applies it; dragging across the response-time distribution narrows the list
// to that range; a row opens the shared trace view.

import { check, loaded, run, specName } from "./lib.mjs";

const aws = process.env.WAGGLE_AWS_URL;
const stamp = Date.now().toString(36);
const SERVICE = `orders-${stamp}`;
const CUSTOMER = `spec-${stamp}`;
const GROUP = `orders-${stamp}`;

const hex = (n) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");

async function putSegments() {
  const now = Date.now() / 1000;
  const documents = [];
  for (let i = 0; i < 5; i++) {
    // The failing one is the newest, so it is on the first page whatever the demo sends.
    const start = i === 4 ? now - 2 : now - 120 + i * 10;
    const failing = i === 4;
    documents.push(JSON.stringify({
      name: SERVICE,
      id: hex(16),
      trace_id: `1-${Math.floor(start).toString(16).padStart(8, "0")}-${hex(24)}`,
      start_time: start,
      end_time: start + 0.05 + i * 0.01,
      http: { request: { method: "PUT", url: `https://${SERVICE}.example/orders/${i}` }, response: { status: failing ? 500 : 201 } },
      fault: failing,
      annotations: { customer: CUSTOMER, attempt: i },
    }));
  }
  const response = await fetch(`${aws}/TraceSegments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ TraceSegmentDocuments: documents }),
  });
  const answer = await response.json();
  check(response.ok && answer.UnprocessedTraceSegments.length === 0, `segments refused: ${JSON.stringify(answer)}`);
}

/** Rows of the trace list: what each shows. */
const rows = (page) =>
  page.locator('[data-testid="xray-trace-row"]').evaluateAll((els) =>
    els.map((e) => ({
      id: e.dataset.traceId,
      status: e.dataset.status,
      statusClass: e.dataset.statusClass,
      responseTime: Number(e.dataset.responseTime),
      fault: e.dataset.fault === "true",
      text: e.innerText,
    })),
  );

async function applyFilter(page, expression) {
  await page.locator('[data-testid="xray-filter"]').fill(expression);
  await page.locator('[data-testid="xray-filter"]').press("Enter");
  await page.waitForURL((url) => url.searchParams.get("q") === expression);
  await loaded(page, "xray");
}

await run(
  specName(import.meta.url),
  async ({ page, base, shot }) => {
    check(aws, "set WAGGLE_AWS_URL (test_console.py does)");
    await putSegments();

    await page.goto(`${base}/xray?t=30m`);
    await loaded(page, "xray");
    const all = await rows(page);
    check(all.length > 0, "no traces listed for the last 30 minutes");
    check(all.some((r) => r.text.includes(SERVICE)), `the newest X-Ray trace of ${SERVICE} is not on the first page`);

    // HTTP code percentage: the 5xx share of the listed traces.
    const fives = all.filter((r) => r.statusClass === "5xx").length;
    check(fives > 0, "the listed traces should include the sent 500");
    const share = await page.locator('[data-testid="xray-status-row"][data-class="5xx"] [data-col="share"]').innerText();
    const expectedShare = `${((fives / all.length) * 100).toFixed(1)}%`;
    check(share === expectedShare, `5xx share shows ${share}, the list has ${fives} of ${all.length} (${expectedShare})`);
    await shot("list");

    // Only failing traces.
    await applyFilter(page, "http.status = 500");
    const failing = await rows(page);
    check(failing.length > 0 && failing.every((r) => r.status === "500" && r.fault), `http.status = 500 listed ${JSON.stringify(failing.map((r) => r.status))}`);
    check(failing.some((r) => r.text.includes(SERVICE)), "the sent 500 is missing from http.status = 500");
    await applyFilter(page, "fault = true");
    check((await rows(page)).every((r) => r.fault), "fault = true listed a trace without a fault");

    // A syntax error: the server's message, inline, with the culprit marked; no list.
    await applyFilter(page, "http.status = = 500");
    const problem = page.locator('[data-testid="xray-filter-error"]');
    await problem.waitFor();
    const message = await problem.innerText();
    check(/http\.status needs a value, found "="/.test(message), `inline error says: ${message}`);
    check((await page.locator('[data-testid="xray-filter-echo"] mark').innerText()) === "=", "the error does not mark the second =");
    check((await page.locator('[data-testid="xray-trace-row"]').count()) === 0, "a list is shown under an invalid expression");
    await shot("syntax-error");

    // Annotations and service(): exactly the five sent traces, and the one that failed.
    await applyFilter(page, `annotation.customer = "${CUSTOMER}"`);
    const annotated = await rows(page);
    check(annotated.length === 5, `annotation.customer listed ${annotated.length} traces, 5 were sent`);
    check(annotated.every((r) => r.text.includes(`customer=${CUSTOMER}`)), "the annotation column does not show customer=…");
    await applyFilter(page, `service("${SERVICE}") { fault }`);
    const faulted = await rows(page);
    check(faulted.length === 1 && faulted[0].status === "500", `service(...) { fault } listed ${JSON.stringify(faulted.map((r) => r.status))}`);

    // A group from the expression `service("...")`: choosing it applies its filter.
    await applyFilter(page, `service("${SERVICE}")`);
    await page.locator('[data-testid="xray-group-create"]').click();
    await page.locator('[data-testid="xray-group-name"]').fill(GROUP);
    await page.locator('[data-testid="xray-group-save"]').click();
    await page.waitForURL((url) => url.searchParams.get("group") === GROUP && !url.searchParams.get("q"));
    await loaded(page, "xray");
    check((await page.locator('[data-testid="xray-group"]').inputValue()) === GROUP, "the new group is not selected");
    check((await rows(page)).length === 5, "the group's filter should list the five sent traces");
    await page.locator('[data-testid="xray-group"]').selectOption("Default");
    await page.waitForURL((url) => !url.searchParams.get("group"));
    await loaded(page, "xray");

    // Drag across the slow half of the response-time distribution: the list narrows to that range.
    const before = await rows(page);
    const chart = await page.locator('[data-testid="xray-histogram"]').boundingBox();
    const y = chart.y + chart.height / 2;
    await page.mouse.move(chart.x + 44 + (chart.width - 56) * 0.55, y);
    await page.mouse.down();
    await page.mouse.move(chart.x + chart.width - 14, y, { steps: 8 });
    await page.mouse.up();
    await page.waitForURL((url) => /responsetime >= [\d.]+ AND responsetime <= [\d.]+$/.test(url.searchParams.get("q") ?? ""));
    await loaded(page, "xray");
    const q = new URL(page.url()).searchParams.get("q");
    const [, lower, upper] = /responsetime >= ([\d.]+) AND responsetime <= ([\d.]+)/.exec(q).map(Number);
    const narrowed = await rows(page);
    check(narrowed.length > 0, `no trace in the selected range ${lower}-${upper} s`);
    check(narrowed.every((r) => r.responseTime >= lower - 1e-6 && r.responseTime <= upper + 1e-6), `a listed trace is outside ${lower}-${upper} s`);
    check(before.some((r) => r.responseTime < lower), "the selection should leave the faster traces out");
    await page.locator('[data-testid="xray-range-chip"]').waitFor();
    await shot("range");

    // A row opens the shared trace view with the trace's 32-hex id.
    const first = narrowed[0];
    await page.locator('[data-testid="xray-trace-row"]').first().locator("a").click();
    await page.locator('main[data-page="trace"]').waitFor();
    const expectedPath = `/trace/${first.id.replace(/^1-/, "").replace("-", "")}`;
    check(new URL(page.url()).pathname === expectedPath, `opened ${page.url()}, not ${expectedPath}`);
    return { listed: all.length, fiveShare: expectedShare, failing: failing.length, range: [lower, upper], narrowed: narrowed.length };
  },
  { expectedErrorResponses: [/\/aws\/TraceSummaries$/] },
);
