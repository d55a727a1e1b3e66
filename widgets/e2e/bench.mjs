// Front-end performance, in Debian's Chromium (headless) against a running Parvis whose wiki
// holds many pages: the JavaScript a first load of the wiki needs (raw and gzip-compressed),
// and the time until the page tree is shown and usable, then until search results are.
//
// Started by the ignored test `web_performance` in `tests/tests/browser.rs` (see BENCHMARKS.md),
// with PARVIS_URL, HS_URL, SPACE_ID, ALICE_ID, ALICE_TOKEN, PAGES, RUNS and optionally CHROMIUM.
// Prints one JSON line of figures.
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`bench: ${name} is not set`);
  return value;
};
const PARVIS_URL = env("PARVIS_URL");
const SPACE_ID = env("SPACE_ID");
const PAGES = Number(env("PAGES"));
const RUNS = Number(process.env.RUNS || "7");
const session = { homeserver: env("HS_URL"), accessToken: env("ALICE_TOKEN"), userId: env("ALICE_ID") };

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const interactive = [];
  const searched = [];
  let scripts = null;
  try {
    for (let run = 0; run < RUNS; run += 1) {
      // A new context each time: a first visit, nothing cached.
      const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1280, height: 860 } });
      await context.addInitScript((value) => sessionStorage.setItem("parvis.session", value), JSON.stringify(session));
      const page = await context.newPage();
      const javascript = new Map();
      page.on("response", async (response) => {
        if (response.url().endsWith(".js")) javascript.set(response.url(), await response.body().catch(() => Buffer.alloc(0)));
      });
      const url = `${PARVIS_URL}/widgets/index.html#/c/${SPACE_ID}/wiki`;
      await page.goto(url, { waitUntil: "commit" });
      // Interactive: every page of the tree is a link in the document, and the page answers
      // input (a click on the first link is handled by the next frame).
      await page.waitForFunction((count) => document.querySelectorAll(".tree a").length >= count, PAGES, {
        timeout: 30_000,
        polling: "raf",
      });
      const tti = await page.evaluate(
        () =>
          new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0))),
      );
      interactive.push(tti);

      const started = await page.evaluate(() => performance.now());
      await page.getByRole("link", { name: "Recherche" }).click();
      await page.getByLabel("Mots à chercher").fill("continuité");
      await page.getByRole("button", { name: "Chercher", exact: true }).click();
      await page.locator(".results li").first().waitFor({ timeout: 30_000 });
      searched.push((await page.evaluate(() => performance.now())) - started);

      if (scripts === null) {
        const bodies = [...javascript.values()];
        scripts = {
          files: bodies.length,
          raw_kb: bodies.reduce((sum, body) => sum + body.length, 0) / 1024,
          gzip_kb: bodies.reduce((sum, body) => sum + gzipSync(body, { level: 9 }).length, 0) / 1024,
        };
      }
      await context.close();
    }
  } finally {
    await browser.close();
  }
  const round = (value) => Math.round(value * 10) / 10;
  process.stdout.write(
    `${JSON.stringify({
      pages: PAGES,
      runs: RUNS,
      tti_ms: { median: round(median(interactive)), max: round(Math.max(...interactive)), all: interactive.map(round) },
      search_ms: { median: round(median(searched)), max: round(Math.max(...searched)) },
      javascript: { files: scripts.files, raw_kb: round(scripts.raw_kb), gzip_kb: round(scripts.gzip_kb) },
    })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
