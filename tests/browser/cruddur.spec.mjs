// Clicks through Cruddur's frontend in Debian's headless Chromium and checks what the page shows.
// The traces it leaves are checked by tests/interop/test_cruddur_browser.py through waggle's API.
//
//   CRUDDUR_FRONTEND_URL=http://127.0.0.1:3000 node tests/browser/cruddur.spec.mjs
//
// Prints one JSON line with what it did (the posted texts) on success; exits 1 with the reason otherwise.

import { chromium } from "playwright-core";

const frontend = process.env.CRUDDUR_FRONTEND_URL;
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!frontend) {
  console.error("set CRUDDUR_FRONTEND_URL to the frontend's URL");
  process.exit(2);
}

const TIMEOUT_MS = 15_000;
const stamp = Date.now().toString(36);
const posted = `Browser crud ${stamp}`;
const sent = `Browser message ${stamp}`;

const browser = await chromium.launch({
  executablePath,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
  timeout: TIMEOUT_MS,
});
const pageErrors = [];
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });

  // Home: the seeded feed, then post an activity.
  await page.goto(`${frontend}/`);
  await page.locator('main[data-loaded="/"]').waitFor();
  await page.locator('[data-testid="activity"]', { hasText: "Cloud is fun!" }).waitFor();
  await page.locator('[data-testid="post-form"] textarea').fill(posted);
  await page.locator('[data-testid="post-form"] button[type="submit"]').click();
  await page.locator('[data-testid="activity"]', { hasText: posted }).waitFor();

  // An empty post: the backend's 422 is shown, not swallowed.
  await page.locator('[data-testid="post-form"] button[type="submit"]').click();
  await page.locator('[data-testid="errors"]', { hasText: "message blank" }).waitFor();

  // Notifications: Worf's reply to Andrew Brown's activity.
  await page.getByRole("link", { name: "Notifications" }).click();
  await page.locator('main[data-loaded="/notifications"]').waitFor();
  await page.locator('[data-testid="activity"]', { hasText: "This post has no honor!" }).waitFor();

  // A user's feed, through a name link.
  await page.getByRole("link", { name: "Home" }).click();
  await page.locator('main[data-loaded="/"]').waitFor();
  await page.locator('[data-testid="activity"] a.name', { hasText: "Garek" }).first().click();
  await page.locator('main[data-loaded="/@{handle}"]').waitFor();

  // Messages: open the conversation with Worf and send one.
  await page.getByRole("link", { name: "Messages" }).click();
  await page.locator('main[data-loaded="/messages"]').waitFor();
  await page.locator('[data-testid="message-group"]', { hasText: "Worf" }).click();
  await page.locator('main[data-loaded="/messages/@{handle}"]').waitFor();
  await page.locator('[data-testid="send-form"] textarea').fill(sent);
  await page.locator('[data-testid="send-form"] button[type="submit"]').click();
  await page.locator('[data-testid="message"]', { hasText: sent }).waitFor();

  // Let the batch processor (500 ms) export, then hide the page, which flushes the rest.
  await page.waitForTimeout(1500);
  await page.close({ runBeforeUnload: true });

  const unexpected = pageErrors.filter((text) => !text.includes("422"));
  if (unexpected.length) throw new Error(`errors in the page: ${unexpected.join(" | ")}`);
  console.log(JSON.stringify({ posted, sent }));
} catch (error) {
  console.error(`browser test failed: ${error.stack ?? error}`);
  if (pageErrors.length) console.error(`page errors: ${pageErrors.join(" | ")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
