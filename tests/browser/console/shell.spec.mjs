// The console's frame: every page of the navigation opens from the sidebar without a browser error,
// an unknown path says so, and back/forward move between pages.

import { check, run, specName } from "./lib.mjs";

const PAGES = [
  ["Home", "/", "home"],
  ["Query", "/query", "query"],
  ["Service map", "/map", "map"],
  ["X-Ray traces", "/xray", "xray"],
  ["Logs", "/logs", "logs"],
  ["Errors", "/errors", "errors"],
];

await run(specName(import.meta.url), async ({ page, base, shot }) => {
  await page.goto(`${base}/`);
  for (const [label, path, name] of PAGES) {
    await page.locator("nav.sidebar a", { hasText: label }).click();
    await page.locator(`main[data-page="${name}"]`).waitFor();
    check(new URL(page.url()).pathname === path, `${label} opened ${page.url()}, not ${path}`);
    await page.locator(`nav.sidebar a[aria-current="page"]`, { hasText: label }).waitFor();
  }
  await page.goBack();
  await page.locator('main[data-page="logs"]').waitFor();
  await page.goto(`${base}/no/such/page`);
  await page.locator('main[data-page="not-found"]').waitFor();
  await shot("not-found");
  return { pages: PAGES.length };
});
