// Front-end performance of the tasks board, in Debian's Chromium (headless) against a running
// Parvis whose board holds many cards: the time until every card is drawn and the page answers
// input, and the JavaScript loaded (all of it, and the tasks tool's own chunks), raw and gzip.
//
// Started by the ignored test `tasks_board_page_performance` in `tests/tests/browser.rs` (see
// BENCHMARKS.md), with PARVIS_URL, HS_URL, SPACE_ID, BOARD_ID, ALICE_ID, ALICE_TOKEN, CARDS,
// RUNS and optionally CHROMIUM. Prints one JSON line of figures.
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`bench: ${name} is not set`);
  return value;
};
const PARVIS_URL = env("PARVIS_URL");
const SPACE_ID = env("SPACE_ID");
const BOARD_ID = env("BOARD_ID");
const CARDS = Number(env("CARDS"));
const RUNS = Number(process.env.RUNS || "7");
const session = { homeserver: env("HS_URL"), accessToken: env("ALICE_TOKEN"), userId: env("ALICE_ID") };

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const sizes = (bodies) => ({
  files: bodies.length,
  raw_kb: bodies.reduce((sum, body) => sum + body.length, 0) / 1024,
  gzip_kb: bodies.reduce((sum, body) => sum + gzipSync(body, { level: 9 }).length, 0) / 1024,
});

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const interactive = [];
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
      const url = `${PARVIS_URL}/widgets/index.html#/c/${SPACE_ID}/tasks?board=${encodeURIComponent(BOARD_ID)}`;
      await page.goto(url, { waitUntil: "commit" });
      // Interactive: every card is in the document, and the page answers input (the next frame
      // after they are drawn handles an event).
      await page.waitForFunction((count) => document.querySelectorAll(".tasks-card").length >= count, CARDS, {
        timeout: 60_000,
        polling: "raf",
      });
      const tti = await page.evaluate(
        () =>
          new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0))),
      );
      interactive.push(tti);
      if (scripts === null) {
        const all = [...javascript.entries()];
        // The tool's chunks: those only the tasks pages load (named after their modules by Vite).
        const tool = all.filter(([name]) => /board-page|tasks|dnd|pragmatic/i.test(name.split("/").pop()));
        scripts = { all: sizes(all.map(([, body]) => body)), tool: sizes(tool.map(([, body]) => body)), tool_files: tool.map(([name]) => name.split("/").pop()) };
      }
      await context.close();
    }
  } finally {
    await browser.close();
  }
  const round = (value) => Math.round(value * 10) / 10;
  const rounded = (figures) => ({ files: figures.files, raw_kb: round(figures.raw_kb), gzip_kb: round(figures.gzip_kb) });
  process.stdout.write(
    `${JSON.stringify({
      cards: CARDS,
      runs: RUNS,
      tti_ms: { median: round(median(interactive)), max: round(Math.max(...interactive)), all: interactive.map(round) },
      javascript: { all: rounded(scripts.all), tool: rounded(scripts.tool), tool_files: scripts.tool_files },
    })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
