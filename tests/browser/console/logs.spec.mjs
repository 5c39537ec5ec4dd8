// The log explorer against `waggle up`'s demo: the `cruddur` group and its stream are listed, its
// events shown; filter patterns narrow the lines (every shown line matches), an invalid pattern
// shows CloudWatch's error inline; live tail appends a line put with PutLogEvents; a line's trace
// link opens its trace; Logs Insights `stats count(*) by bin(1m)` draws bars and a table.

import { check, loaded, run, specName } from "./lib.mjs";

const aws = process.env.WAGGLE_AWS_URL;

async function cloudwatch(operation, body) {
  const response = await fetch(aws, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `Logs_20140328.${operation}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const messages = (page) => page.locator('[data-testid="log-line"] [data-testid="log-message"]').allTextContents();

await run(specName(import.meta.url), async ({ page, base, shot }) => {
  check(aws, "set WAGGLE_AWS_URL to waggle's AWS address");
  const streams = await cloudwatch("DescribeLogStreams", { logGroupName: "cruddur", orderBy: "LastEventTime", descending: true });
  check(streams.status === 200 && streams.body.logStreams.length > 0, `the demo has no cruddur stream yet: ${JSON.stringify(streams)}`);
  const stream = streams.body.logStreams[0].logStreamName;

  // Groups -> streams -> events; the page opens the demo's group by itself.
  await page.goto(`${base}/logs`);
  await loaded(page, "logs");
  check(new URL(page.url()).searchParams.get("group") === "cruddur", `the page did not open the cruddur group: ${page.url()}`);
  const groups = await page.locator('[data-testid="log-group"]').allTextContents();
  check(groups.some((text) => text.includes("cruddur")), `cruddur is not among the log groups: ${groups}`);
  const streamNames = await page.locator('[data-testid="log-stream"]').allTextContents();
  check(streamNames.some((text) => text.includes(stream)), `the stream ${stream} is not listed: ${streamNames}`);
  const all = await page.locator('[data-testid="log-line"]').count();
  check(all > 0, "no events shown for the cruddur group");

  await page.locator('[data-testid="log-stream"]', { hasText: stream }).click();
  await page.waitForURL((url) => url.searchParams.get("stream") === stream);
  await loaded(page, "logs");
  const lines = await messages(page);
  check(lines.length > 0, `no events shown for the stream ${stream}`);
  check(lines.some((text) => /GET \/api\/activities\/\w+ 200/.test(text)), `the stream shows no request lines: ${lines.slice(0, 3)}`);
  // A JSON line expands into pretty JSON.
  await page.locator('[data-testid="log-line"] .logs-line-row').last().click();
  const detail = await page.locator('[data-testid="log-detail"]').first().textContent();
  check(detail.includes('"logger": "cruddur-backend"'), `the expanded line is not pretty JSON: ${detail}`);
  await shot("explorer");

  // A JSON filter pattern: every shown line is a 5xx.
  await page.locator('[data-testid="filter-pattern"]').fill("{ $.status >= 500 }");
  await page.locator('[data-testid="filter-apply"]').click();
  await page.waitForURL((url) => url.searchParams.get("pattern") === "{ $.status >= 500 }");
  await loaded(page, "logs");
  const failed = await messages(page);
  const expected = await cloudwatch("FilterLogEvents", { logGroupName: "cruddur", logStreamNames: [stream], filterPattern: "{ $.status >= 500 }", limit: 200 });
  check(failed.length > 0, "the 5xx pattern shows no lines (the demo fails one request in 30)");
  check(failed.length < lines.length || lines.length >= 200, `the pattern did not narrow the lines: ${failed.length} of ${lines.length}`);
  // The summary starts with the line's message, `GET /api/x 500`.
  const bad = failed.filter((text) => !/^[A-Z]+ \S+ 5\d\d(?!\d)/.test(text.trim()));
  check(bad.length === 0, `lines shown for { $.status >= 500 } that are not 5xx: ${bad.slice(0, 3)}`);
  check(Math.abs(failed.length - expected.body.events.length) <= 2, `the page shows ${failed.length} 5xx lines, the API ${expected.body.events.length}`);
  await shot("filtered");

  // A term: every line has it.
  await page.locator('[data-testid="filter-pattern"]').fill("garek");
  await page.locator('[data-testid="filter-apply"]').click();
  await page.waitForURL((url) => url.searchParams.get("pattern") === "garek");
  await loaded(page, "logs");
  const garek = await messages(page);
  check(garek.length > 0 && garek.every((text) => text.includes("garek")), `the term garek matched lines without it: ${garek.filter((t) => !t.includes("garek")).slice(0, 2)}`);

  // An invalid pattern: CloudWatch's own error, inline.
  const invalid = "{ $.status >= }";
  const refused = await cloudwatch("FilterLogEvents", { logGroupName: "cruddur", filterPattern: invalid });
  check(refused.status === 400, `the API accepted ${invalid}`);
  await page.locator('[data-testid="filter-pattern"]').fill(invalid);
  await page.locator('[data-testid="filter-apply"]').click();
  await page.locator('[data-testid="pattern-error"]').waitFor();
  const shown = await page.locator('[data-testid="pattern-error"]').textContent();
  check(shown.includes(refused.body.message), `the inline error "${shown}" is not the API's "${refused.body.message}"`);
  await shot("invalid-pattern");

  // Live tail appends a line put now, highlighted.
  await page.goto(`${base}/logs?group=cruddur&stream=${encodeURIComponent(stream)}&t=10m`);
  await loaded(page, "logs");
  await page.locator('[data-testid="live-tail"]').click();
  await page.locator('[data-testid="live-tail"][aria-pressed="true"]').waitFor();
  const marker = `console-live-tail-${Date.now()}`;
  const put = await cloudwatch("PutLogEvents", {
    logGroupName: "cruddur",
    logStreamName: stream,
    logEvents: [{ timestamp: Date.now(), message: JSON.stringify({ level: "WARNING", message: marker, status: 299 }) }],
  });
  check(put.status === 200, `PutLogEvents failed: ${JSON.stringify(put.body)}`);
  const appended = page.locator('[data-testid="log-line"]', { hasText: marker });
  await appended.waitFor({ timeout: 10_000 });
  check((await appended.getAttribute("class")).includes("logs-fresh"), "the tailed line is not highlighted");
  await shot("live-tail");
  await page.locator('[data-testid="live-tail"]').click();
  await page.locator('[data-testid="live-tail"][aria-pressed="false"]').waitFor();

  // A line's trace link opens its trace.
  const link = page.locator('[data-testid="log-line"] [data-testid="trace-link"]').first();
  const target = await link.getAttribute("href");
  const traceId = target.replace("/trace/", "");
  check(/^[0-9a-f]{32}$/.test(traceId), `the trace link ${target} has no trace id`);
  const traceAnswer = await fetch(`${base}/api/traces/${traceId}`);
  check(traceAnswer.status === 200, `the linked trace ${traceId} does not exist (${traceAnswer.status})`);
  await link.click();
  await page.waitForURL((url) => url.pathname === `/trace/${traceId}`);
  await page.locator('main[data-page="trace"]').waitFor();

  // Logs Insights: bars and a table for stats by bin.
  await page.goto(`${base}/logs?group=cruddur&tab=insights&t=30m`);
  await loaded(page, "logs");
  await page.locator('[data-testid="insights-query"]').fill("stats count(*) by bin(1m)");
  await page.locator('[data-testid="insights-run"]').click();
  await page.waitForURL((url) => url.searchParams.get("q") === "stats count(*) by bin(1m)");
  await loaded(page, "logs");
  await page.locator('[data-testid="insights-chart"] canvas').waitFor();
  const rows = await page.locator('[data-testid="insights-table"] tbody tr').count();
  check(rows > 0, "the Insights table has no rows");
  const headers = await page.locator('[data-testid="insights-table"] thead th').allTextContents();
  check(headers.includes("bin(1m)") && headers.includes("count(*)"), `unexpected columns: ${headers}`);
  const bins = await page.locator('[data-testid="insights-chart"] .card-header').textContent();
  check(bins.includes(`${rows} bins`), `the chart (${bins}) does not draw the table's ${rows} bins`);
  const status = await page.locator('[data-testid="insights-status"]').textContent();
  check(status.includes("Complete"), `the query did not complete: ${status}`);
  await shot("insights");

  // A malformed query shows the API's error.
  await page.locator('[data-testid="insights-query"]').fill("stats count(* by");
  await page.locator('[data-testid="insights-run"]').click();
  await page.locator('[data-testid="insights"] [data-testid="error"]').waitFor();
  return { stream, lines: lines.length, errors: failed.length, bins: rows };
}, {
  // The invalid filter pattern and the malformed Insights query are refused with a 400 on purpose.
  expectedErrorResponses: [/\/aws$/],
});
