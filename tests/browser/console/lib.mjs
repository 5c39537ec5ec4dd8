// Shared harness of the console's browser tests: Debian's headless Chromium through playwright-core,
// every browser console error and failed request collected (any fails the run), screenshots saved as
// test artifacts. Each *.spec.mjs in this directory is one run, started by tests/interop/test_console.py:
//
//   WAGGLE_URL=http://127.0.0.1:7070 node tests/browser/console/query.spec.mjs
//
// test_console.py also sets WAGGLE_AWS_URL, CRUDDUR_FRONTEND_URL and CRUDDUR_BACKEND_URL.
//
// A run prints one JSON line (what it saw) on success; on failure it saves `<name>-failure.png` and
// exits 1 with the reason.

import { mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

export const TIMEOUT_MS = 20_000;
export const base = process.env.WAGGLE_URL;
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const artifacts =
  process.env.CONSOLE_ARTIFACTS ?? join(dirname(fileURLToPath(import.meta.url)), "..", "artifacts", "console");

/** Fails the run with `message` unless `condition` holds. */
export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/**
 * Runs `body({ page, base, shot, browser })` in a fresh page; `name` prefixes the screenshots.
 * Resolves to what `body` returns, printed as the run's JSON line.
 * `options.expectedErrorResponses`: RegExps of request URLs whose 4xx/5xx answers the spec provokes on
 * purpose (e.g. a bad filter expression): Chromium's "Failed to load resource" line for them is not a
 * problem. Every other console error still is.
 */
export async function run(name, body, options = {}) {
  const expected = options.expectedErrorResponses ?? [];
  if (!base) {
    console.error("set WAGGLE_URL to waggle's web address, e.g. http://127.0.0.1:7070");
    process.exit(2);
  }
  mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
    timeout: TIMEOUT_MS,
  });
  const problems = [];
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on("pageerror", (error) => problems.push(`page error: ${error}`));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const provoked = message.text().startsWith("Failed to load resource") && expected.some((re) => re.test(message.location()?.url ?? ""));
    if (!provoked) problems.push(`console error: ${message.text()}`);
  });
  page.on("requestfailed", (request) => {
    // Navigating away cancels pending fetches: that is not a failure of the page.
    if (request.failure()?.errorText !== "net::ERR_ABORTED") problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  const shot = async (label) => {
    await page.screenshot({ path: join(artifacts, `${name}-${label}.png`), fullPage: true });
  };
  let code = 0;
  try {
    const result = await body({ page, base, shot, browser, context });
    check(problems.length === 0, `the browser reported problems:\n${problems.join("\n")}`);
    console.log(JSON.stringify({ ok: true, name, ...(result ?? {}) }));
  } catch (error) {
    code = 1;
    console.error(`${name}: ${error?.stack ?? error}`);
    if (problems.length) console.error(`browser problems:\n${problems.join("\n")}`);
    await page.screenshot({ path: join(artifacts, `${name}-failure.png`), fullPage: true }).catch(() => {});
  } finally {
    await browser.close();
  }
  process.exit(code);
}

/** The spec's own name (`query` for query.spec.mjs). */
export function specName(url) {
  return basename(fileURLToPath(url)).replace(/\.spec\.mjs$/, "");
}

/** Waits for a page's root to say it finished loading: `<main data-page=NAME data-loaded="true">`. */
export async function loaded(page, name) {
  await page.locator(`main[data-page="${name}"][data-loaded="true"]`).waitFor();
}
