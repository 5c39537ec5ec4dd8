// The service map: the demo's nodes (Cruddur's frontend when its browser app is served, the
// backend, its SQL database) plus an X-Ray service with a DynamoDB call this spec sends; the numbers
// of an edge are GetServiceGraph's; clicking the backend node and "View traces" opens the X-Ray
// traces page filtered by service("cruddur-backend") with traces listed; the group selector
// narrows the map to a group's traces.

import { check, loaded, run, specName } from "./lib.mjs";

const aws = process.env.WAGGLE_AWS_URL;
const frontend = process.env.CRUDDUR_FRONTEND_URL;
const stamp = Date.now().toString(36);
const SERVICE = `checkout-${stamp}`;
const GROUP = `map-spec-${stamp}`;

const hex = (n) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");

async function api(base, path, body) {
  const response = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await response.text();
  check(response.ok, `POST ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

/** Four X-Ray traces of SERVICE, each calling DynamoDB (an `aws` subsegment); the last one faults. */
async function putSegments(now) {
  const documents = [];
  for (let i = 0; i < 4; i++) {
    const start = now - 300 + i * 10;
    documents.push(JSON.stringify({
      name: SERVICE,
      id: hex(16),
      trace_id: `1-${Math.floor(start).toString(16).padStart(8, "0")}-${hex(24)}`,
      start_time: start,
      end_time: start + 0.2,
      http: { request: { method: "POST", url: `https://${SERVICE}.example/pay` }, response: { status: i === 3 ? 502 : 200 } },
      fault: i === 3,
      annotations: { tenant: "acme" },
      subsegments: [{ id: hex(16), name: "DynamoDB", namespace: "aws", start_time: start + 0.02, end_time: start + 0.08, aws: { operation: "PutItem", table_name: "orders" } }],
    }));
  }
  const answer = await api(aws, "/TraceSegments", { TraceSegmentDocuments: documents });
  check(answer.UnprocessedTraceSegments.length === 0, `segments refused: ${JSON.stringify(answer)}`);
}

/** Cruddur's browser app, in a page of its own (its problems are not the console's): frontend spans. */
async function visitFrontend(context) {
  if (!frontend) return false;
  const served = await fetch(`${frontend}/`).then((r) => r.ok, () => false);
  if (!served) return false;
  const page = await context.newPage();
  await page.goto(`${frontend}/`);
  await page.locator('main[data-loaded="/"]').waitFor();
  await page.waitForTimeout(1500);
  await page.close({ runBeforeUnload: true });
  return true;
}

const nodeKey = (service) => (service.Type ? `${service.Name}|${service.Type}` : service.Name);

/** What the page shows for a percentile of a 1 ms histogram (nearest rank), as model.ts computes it. */
function p99(histogram) {
  const sorted = [...histogram].sort((a, b) => a.Value - b.Value);
  const total = sorted.reduce((sum, b) => sum + b.Count, 0);
  const rank = Math.max(1, Math.ceil(0.99 * total));
  let seen = 0;
  for (const bucket of sorted) {
    seen += bucket.Count;
    if (seen >= rank) return bucket.Value * 1000;
  }
  return null;
}

await run(specName(import.meta.url), async ({ page, base, shot, context }) => {
  check(aws, "set WAGGLE_AWS_URL (test_console.py does)");
  const sawFrontend = await visitFrontend(context);
  const now = Date.now() / 1000;
  await putSegments(now);
  await api(aws, "/CreateGroup", { GroupName: GROUP, FilterExpression: `service("${SERVICE}")` });
  // An absolute range that ended a while ago (longer than the exporters' batching): nothing arriving
  // later changes its numbers, so the page and GetServiceGraph below must agree exactly. It still
  // covers the frontend visit.
  const SETTLE_S = 12;
  if (sawFrontend) await page.waitForTimeout((SETTLE_S + 4) * 1000);
  const to = Math.floor(Date.now() / 1000) - SETTLE_S;
  const from = to - 3600;
  const graph = await api(aws, "/ServiceGraph", { StartTime: from, EndTime: to });
  const byRef = new Map(graph.Services.map((s) => [s.ReferenceId, s]));
  const names = graph.Services.map(nodeKey);
  const backend = graph.Services.find((s) => s.Name === "cruddur-backend" && !s.Type);
  check(backend, `GetServiceGraph has no cruddur-backend node: ${names.join(", ")}`);
  const edge = backend.Edges.find((e) => byRef.get(e.ReferenceId)?.Type?.startsWith("Database::"));
  check(edge, `GetServiceGraph has no cruddur-backend -> database edge: ${names.join(", ")}`);
  const database = byRef.get(edge.ReferenceId);

  await page.goto(`${base}/map?from=${from}&to=${to}`);
  await loaded(page, "map");
  await page.locator('[data-testid="map-canvas"][data-positions]').waitFor();

  // Every node of the graph is on the page, with its kind.
  const rows = page.locator('[data-testid="map-node-row"]');
  check((await rows.count()) === graph.Services.length, `the page lists ${await rows.count()} nodes, GetServiceGraph has ${graph.Services.length}`);
  const rowText = async (key) => (await page.locator(`[data-testid="map-node-row"][data-node="${key}"]`).innerText()).replace(/\s+/g, " ");
  check((await rowText("cruddur-backend")).includes("cruddur-backend"), "no cruddur-backend row");
  check((await rowText(nodeKey(database))).includes("SQL database"), `the database node is not shown as a SQL database: ${await rowText(nodeKey(database))}`);
  check((await rowText(`DynamoDB|AWS::DynamoDB`)).includes("AWS DynamoDB"), "no AWS DynamoDB node for the aws subsegments");
  if (sawFrontend) {
    check(names.includes("cruddur-frontend"), `the frontend was visited but GetServiceGraph has no cruddur-frontend: ${names.join(", ")}`);
    check((await rowText("cruddur-frontend")).includes("cruddur-frontend"), "no cruddur-frontend row");
  }

  // The backend -> database edge: the page's numbers are GetServiceGraph's.
  const edgeRow = page.locator(`[data-testid="map-edge-row"][data-source="cruddur-backend"][data-target="${nodeKey(database)}"]`);
  const cell = async (col) => edgeRow.locator(`[data-col="${col}"]`);
  const requests = Number(await (await cell("requests")).getAttribute("data-value"));
  check(requests === edge.SummaryStatistics.TotalCount, `edge requests: page ${requests}, API ${edge.SummaryStatistics.TotalCount}`);
  check((await (await cell("requests")).innerText()) === edge.SummaryStatistics.TotalCount.toLocaleString("en"), "edge request count text differs");
  const expectedP99 = p99(edge.ResponseTimeHistogram);
  const shownP99 = Number(await (await cell("p99")).getAttribute("data-value"));
  check(Math.abs(shownP99 - expectedP99) < 1e-6, `edge P99: page ${shownP99} ms, API histogram ${expectedP99} ms`);
  const minutes = (to - from) / 60;
  const rateText = await (await cell("rate")).innerText();
  check(rateText === `${(edge.SummaryStatistics.TotalCount / minutes).toFixed(1)}/min`, `edge rate ${rateText}, expected ${(edge.SummaryStatistics.TotalCount / minutes).toFixed(1)}/min`);
  // The backend's own faults (the demo's 1 in 30 500s) as a share.
  const backendFaults = backend.SummaryStatistics.FaultStatistics.TotalCount;
  const faultText = await page.locator('[data-testid="map-node-row"][data-node="cruddur-backend"] [data-col="faults"]').innerText();
  const expectedShare = `${((backendFaults / backend.SummaryStatistics.TotalCount) * 100).toFixed(1)}%`;
  check(faultText === expectedShare, `backend fault share ${faultText}, API ${expectedShare}`);
  check(backendFaults > 0, "the demo's failing requests should show as backend faults");

  // No edge runs through a node it does not connect, as ECharts drew them. With the frontend
  // visited, backend-flask -> sqlite skips the column of cruddur-backend and DynamoDB.
  const drawn = JSON.parse(await page.locator('[data-testid="map-canvas"]').getAttribute("data-edges"));
  const centres = JSON.parse(await page.locator('[data-testid="map-canvas"]').getAttribute("data-positions"));
  check(Object.keys(drawn).length === graph.Services.reduce((sum, s) => sum + s.Edges.length, 0), `edges drawn: ${Object.keys(drawn).join(", ")}`);
  for (const [key, [from, to, control]] of Object.entries(drawn)) {
    const [source, target] = key.split("->");
    for (const [node, centre] of Object.entries(centres)) {
      if (node === source || node === target) continue;
      const nearest = Math.min(...Array.from({ length: 41 }, (_, step) => {
        const t = step / 40;
        const via = control ?? [(from[0] + to[0]) / 2, (from[1] + to[1]) / 2];
        const [a, b, c] = [(1 - t) ** 2, 2 * t * (1 - t), t ** 2];
        return Math.hypot(a * from[0] + b * via[0] + c * to[0] - centre[0], a * from[1] + b * via[1] + c * to[1] - centre[1]);
      }));
      check(nearest >= 28, `edge ${key} runs ${nearest.toFixed(0)} px from the centre of ${node}`);
    }
  }
  await shot("overview");

  // Click the backend node on the map itself.
  const positions = JSON.parse(await page.locator('[data-testid="map-canvas"]').getAttribute("data-positions"));
  const [x, y] = positions["cruddur-backend"];
  const box = await page.locator('[data-testid="map-canvas"]').boundingBox();
  await page.mouse.click(box.x + x, box.y + y);
  const details = page.locator('[data-testid="map-details"][data-node="cruddur-backend"]');
  await details.waitFor();
  const detailRequests = await details.locator('[data-stat="requests"]').innerText();
  check(detailRequests === backend.SummaryStatistics.TotalCount.toLocaleString("en"), `details show ${detailRequests} requests, API ${backend.SummaryStatistics.TotalCount}`);
  await page.mouse.move(5, 5);
  await shot("node-selected");

  // ... and open its traces.
  await details.locator('[data-testid="map-view-traces"]').click();
  await loaded(page, "xray");
  const url = new URL(page.url());
  check(url.pathname === "/xray" && url.searchParams.get("q") === 'service("cruddur-backend")', `View traces opened ${page.url()}`);
  check(url.searchParams.get("from") === String(from) && url.searchParams.get("to") === String(to), "the time range did not carry over to the traces");
  check((await page.locator('[data-testid="xray-filter"]').inputValue()) === 'service("cruddur-backend")', "the filter box does not hold the service filter");
  const listed = await page.locator('[data-testid="xray-trace-row"]').count();
  const expected = await api(aws, "/TraceSummaries", { StartTime: from, EndTime: to, FilterExpression: 'service("cruddur-backend")' });
  check(listed > 0 && listed === expected.TraceSummaries.length, `the traces page lists ${listed} traces, GetTraceSummaries ${expected.TraceSummaries.length}`);

  // Back on the map, the group narrows it to the group's traces: SERVICE and its DynamoDB calls.
  await page.goBack();
  await loaded(page, "map");
  await page.locator('[data-testid="map-group"]').selectOption(GROUP);
  await page.waitForURL((u) => u.searchParams.get("group") === GROUP);
  await loaded(page, "map");
  await page.locator(`[data-testid="map-node-row"][data-node="${SERVICE}"]`).waitFor();
  const grouped = (await page.locator('[data-testid="map-node-row"]').evaluateAll((els) => els.map((e) => e.dataset.node))).sort();
  check(JSON.stringify(grouped) === JSON.stringify(["DynamoDB|AWS::DynamoDB", SERVICE].sort()), `group ${GROUP} shows ${grouped.join(", ")}`);
  const groupEdge = page.locator(`[data-testid="map-edge-row"][data-source="${SERVICE}"][data-target="DynamoDB|AWS::DynamoDB"]`);
  check((await groupEdge.locator('[data-col="requests"]').innerText()) === "4", "the group's edge should count the 4 DynamoDB calls");
  const serviceFaults = await page.locator(`[data-testid="map-node-row"][data-node="${SERVICE}"] [data-col="faults"]`).innerText();
  check(serviceFaults === "25.0%", `${SERVICE} should show 1 fault in 4 (25.0%), shows ${serviceFaults}`);
  await shot("group");
  return { nodes: names, frontend: sawFrontend, edgeRequests: requests, group: grouped };
});
