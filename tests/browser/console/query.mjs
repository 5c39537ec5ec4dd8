// What the query builder's specs share.

/** Waits until the query page has loaded a result whose summary line contains `text`. */
export async function waitForQuery(page, text) {
  await page.waitForFunction(
    (expected) => {
      const main = document.querySelector('main[data-page="query"]');
      const shown = document.querySelector('[data-testid="query-summary"]')?.textContent ?? "";
      return main?.getAttribute("data-loaded") === "true" && shown.includes(expected);
    },
    text,
  );
}
