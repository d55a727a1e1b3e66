// A first visit to a DSFR deployment (`web.theme = "dsfr"`), in Debian's Chromium driven by
// playwright-core: a fresh browser profile (nothing in `localStorage`) opens the standalone app,
// and the page must be in the DSFR look from its first frame, never hidden, its stylesheet
// fetched once.
//
// Started by `tests/tests/browser.rs` (`a_dsfr_deployment_is_dsfr_from_the_first_visit`),
// against a real Parvis configured with `web.theme = "dsfr"`, which serves `/widgets/` with
// `data-theme="dsfr"` on `<html>` and the theme's `<link data-theme-stylesheet>` in `<head>`
// (`appservice/src/web.rs`), which `src/app/theme.ts` takes as the initial choice. A script
// installed before the page's own records `<html>`'s `data-theme` and `data-theme-pending`
// when the document is parsed (before the app's script runs), at the first frame, at
// DOMContentLoaded, and at every change a MutationObserver sees. No sign-in: the sign-in page
// is enough. It prints one JSON line with what it saw, and exits non-zero on the first failed
// check.
//
// Environment: PARVIS_URL, and optionally CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`e2e: ${name} is not set`);
  return value;
};
const PARVIS_URL = env("PARVIS_URL").replace(/\/$/, "");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = 30_000;

/** The theme's stylesheet, as Parvis links it (`themes/<name>.css`, relative to the page). */
const STYLESHEET = "/widgets/themes/dsfr.css";
/** What `app/theme.ts` remembers once `GET /api/v1/info` answered. */
const STORED = JSON.stringify({ theme: "dsfr", brand: false });
/** A DSFR token of `dist/themes/dsfr.css` (`build/dsfr-tokens.ts`), its light value. */
const TOKEN = "--blue-france-sun-113-625";
const TOKEN_VALUE = "#000091";
/** The primary button's background in the DSFR look (`var(--blue)` → blue France, light). */
const BUTTON_BACKGROUND = "rgb(0, 0, 145)";

function log(message) {
  process.stderr.write(`[e2e theme] ${message}\n`);
}

function check(condition, message) {
  if (!condition) throw new Error(`e2e theme: ${message}`);
}

/**
 * Runs in the page before any of its scripts, as soon as the document exists (before `<html>`
 * is parsed): records `<html>`'s theme attributes at each moment that matters, and their whole
 * history, in `window.__parvisThemeProbe`.
 */
function probe(token) {
  const root = () => document.documentElement;
  const snapshot = () => {
    const html = root();
    return {
      html: Boolean(html),
      theme: html ? html.getAttribute("data-theme") : null,
      pending: html ? html.hasAttribute("data-theme-pending") : false,
      themeLinks: document.querySelectorAll("link[data-theme-stylesheet]").length,
      token: html ? getComputedStyle(html).getPropertyValue(token).trim() : "",
    };
  };
  let stored = null;
  try {
    stored = window.localStorage.getItem("parvis.theme");
  } catch {
    stored = "(localStorage refused)";
  }
  const record = {
    /** The very first moment: the document exists, `<html>` usually not yet. */
    atStart: snapshot(),
    /** What `localStorage` remembered then: nothing, on a first visit. */
    storedAtStart: stored,
    /** `<html>`'s `data-theme` when the parser inserted it. */
    themeWhenInserted: undefined,
    /** The document parsed, before the app's (module) script runs. */
    beforeScripts: null,
    /** The first animation frame: what the first painted frame is drawn with. */
    firstFrame: null,
    atDomContentLoaded: null,
    /** Every value `data-theme` took, in order (repeats of the same value left out). */
    themeHistory: [],
    /** Whether `data-theme-pending` was ever on `<html>`. */
    pendingSeen: false,
    /** Every change seen: `{ attribute, from, to }`. */
    changes: [],
  };
  window.__parvisThemeProbe = record;
  const sawTheme = (value) => {
    if (record.themeHistory.length === 0 || record.themeHistory[record.themeHistory.length - 1] !== value) {
      record.themeHistory.push(value);
    }
  };
  const notePending = (s) => {
    if (s.pending) record.pendingSeen = true;
  };
  notePending(record.atStart);
  if (record.atStart.html) {
    record.themeWhenInserted = record.atStart.theme;
    sawTheme(record.atStart.theme);
  }

  // One observer for both the insertion of `<html>` and its attributes, so that the records come
  // in order. A record's new value is the next record's old value for the same attribute, or,
  // for the last one of a batch, the attribute's value when the batch is delivered.
  const observer = new MutationObserver((records) => {
    const html = root();
    let waitingForInsertedValue = false;
    const events = [];
    for (const r of records) {
      if (r.type === "childList" && r.target === document) {
        if ([...r.addedNodes].some((node) => node === html)) {
          events.push({ kind: "inserted" });
          waitingForInsertedValue = true;
        }
      } else if (r.type === "attributes" && r.target === html) {
        events.push({ kind: "attribute", attribute: r.attributeName, from: r.oldValue });
        if (waitingForInsertedValue && r.attributeName === "data-theme") {
          record.themeWhenInserted = r.oldValue;
          waitingForInsertedValue = false;
        }
      }
    }
    if (waitingForInsertedValue && html) record.themeWhenInserted = html.getAttribute("data-theme");
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      if (event.kind === "inserted") {
        sawTheme(record.themeWhenInserted);
        continue;
      }
      const next = events.slice(i + 1).find((later) => later.kind === "attribute" && later.attribute === event.attribute);
      const to = next ? next.from : html.getAttribute(event.attribute);
      record.changes.push({ attribute: event.attribute, from: event.from, to });
      if (event.attribute === "data-theme") sawTheme(to);
      // Any record of `data-theme-pending` means it was there, before or after.
      if (event.attribute === "data-theme-pending") record.pendingSeen = true;
    }
  });
  observer.observe(document, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeOldValue: true,
    attributeFilter: ["data-theme", "data-theme-pending"],
  });

  // `interactive` comes when parsing ends, before deferred and module scripts run.
  document.addEventListener("readystatechange", () => {
    if (document.readyState === "interactive" && !record.beforeScripts) {
      record.beforeScripts = snapshot();
      notePending(record.beforeScripts);
    }
  });
  document.addEventListener("DOMContentLoaded", () => {
    record.atDomContentLoaded = snapshot();
    notePending(record.atDomContentLoaded);
  });
  // The first frame's callbacks run just before it is drawn (after the render-blocking
  // stylesheets of `<head>` have loaded).
  requestAnimationFrame(() => {
    record.firstFrame = snapshot();
    notePending(record.firstFrame);
  });
}

async function main() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  try {
    // A new context is a fresh profile: no storage, no cache. Light scheme: the token's value.
    const context = await browser.newContext({ locale: "fr-FR", colorScheme: "light", viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    page.on("pageerror", (error) => log(`page error: ${error.message}`));
    page.on("console", (message) => message.type() === "error" && log(`console: ${message.text()}`));
    page.on("response", (response) => response.status() >= 400 && log(`${response.status()} ${response.url()}`));
    const stylesheetRequests = [];
    const dsfrRequests = [];
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.pathname === STYLESHEET) stylesheetRequests.push(request.url());
      if (/dsfr/i.test(url.pathname)) dsfrRequests.push(request.url());
    });
    await page.addInitScript(probe, TOKEN);

    const info = page.waitForResponse((response) => new URL(response.url()).pathname === "/api/v1/info", { timeout: TIMEOUT });
    await page.goto(`${PARVIS_URL}/widgets/`, { timeout: TIMEOUT });
    const infoResponse = await info;
    const served = await infoResponse.json().catch(() => null);
    check(infoResponse.ok(), `GET /api/v1/info answered ${infoResponse.status()}`);

    // The sign-in page drawn: the app ran and the page is shown.
    await page.locator("form.login-form button[type=submit]").waitFor({ state: "visible", timeout: TIMEOUT });
    // `app/theme.ts` remembers the server's answer once it came.
    await page.waitForFunction(() => window.localStorage.getItem("parvis.theme") !== null, null, { timeout: TIMEOUT });
    // Nothing more on its way (a late second stylesheet would be counted).
    await page.waitForLoadState("networkidle", { timeout: 10_000 }).catch(() => log("the network did not go idle"));

    const seen = await page.evaluate(
      ({ token }) => {
        const html = document.documentElement;
        const button = document.querySelector("form.login-form button[type=submit]");
        return {
          probe: window.__parvisThemeProbe,
          theme: html.getAttribute("data-theme"),
          pending: html.hasAttribute("data-theme-pending"),
          themeLinks: [...document.querySelectorAll("link[data-theme-stylesheet]")].map((link) => link.getAttribute("href")),
          token: getComputedStyle(html).getPropertyValue(token).trim(),
          buttonBackground: button ? getComputedStyle(button).backgroundColor : null,
          stored: window.localStorage.getItem("parvis.theme"),
        };
      },
      { token: TOKEN },
    );
    const probed = seen.probe;
    check(probed, "the init script did not run");
    const report = {
      url: page.url(),
      info: served && { theme: served.theme, brand: served.brand },
      storedAtStart: probed.storedAtStart,
      atStart: probed.atStart,
      themeWhenInserted: probed.themeWhenInserted ?? null,
      beforeScripts: probed.beforeScripts,
      firstFrame: probed.firstFrame,
      atDomContentLoaded: probed.atDomContentLoaded,
      themeHistory: probed.themeHistory,
      changes: probed.changes,
      pendingSeen: probed.pendingSeen,
      stylesheetRequests: stylesheetRequests.length,
      dsfrRequests,
      themeLinks: seen.themeLinks,
      theme: seen.theme,
      token: seen.token,
      buttonBackground: seen.buttonBackground,
      stored: seen.stored,
    };
    log(JSON.stringify(report));

    // A first visit: nothing remembered.
    check(probed.storedAtStart === null, `localStorage already had parvis.theme = ${probed.storedAtStart}: not a first visit`);
    check(served?.theme === "dsfr", `GET /api/v1/info says theme ${JSON.stringify(served?.theme)}, not "dsfr"`);
    // In DSFR from the start: in the HTML as parsed, before the app's script, at the first frame.
    check(probed.themeWhenInserted === "dsfr", `<html> was parsed with data-theme=${JSON.stringify(probed.themeWhenInserted)}, not "dsfr"`);
    check(probed.beforeScripts?.theme === "dsfr", `before the app's script, data-theme was ${JSON.stringify(probed.beforeScripts?.theme)}`);
    check(probed.beforeScripts?.themeLinks === 1, `before the app's script, ${probed.beforeScripts?.themeLinks} theme stylesheet links`);
    check(probed.atDomContentLoaded?.theme === "dsfr", `at DOMContentLoaded, data-theme was ${JSON.stringify(probed.atDomContentLoaded?.theme)}`);
    check(probed.firstFrame, "no animation frame was seen");
    check(probed.firstFrame.theme === "dsfr", `at the first frame, data-theme was ${JSON.stringify(probed.firstFrame.theme)}`);
    check(probed.firstFrame.token === TOKEN_VALUE, `at the first frame, ${TOKEN} was ${JSON.stringify(probed.firstFrame.token)}, not ${TOKEN_VALUE}`);
    // Never anything else, never hidden.
    check(
      JSON.stringify(probed.themeHistory) === JSON.stringify(["dsfr"]),
      `data-theme was ${probed.themeHistory.map((value) => JSON.stringify(value)).join(" then ")}, not only "dsfr"`,
    );
    check(!probed.pendingSeen, `data-theme-pending appeared (changes: ${JSON.stringify(probed.changes)})`);
    check(!seen.pending && seen.theme === "dsfr", `at the end: data-theme=${JSON.stringify(seen.theme)}, pending ${seen.pending}`);
    // The stylesheet fetched once, and nothing else of DSFR's.
    check(stylesheetRequests.length === 1, `${STYLESHEET} was requested ${stylesheetRequests.length} times`);
    check(dsfrRequests.length === 1, `DSFR assets requested: ${dsfrRequests.join(", ")}`);
    check(seen.themeLinks.length === 1, `theme stylesheet links at the end: ${JSON.stringify(seen.themeLinks)}`);
    // The DSFR look applied.
    check(seen.token === TOKEN_VALUE, `${TOKEN} is ${JSON.stringify(seen.token)}, not ${TOKEN_VALUE}`);
    check(seen.buttonBackground === BUTTON_BACKGROUND, `the sign-in button's background is ${seen.buttonBackground}, not ${BUTTON_BACKGROUND}`);
    // The server's answer remembered for the next visit.
    check(seen.stored === STORED, `localStorage parvis.theme is ${seen.stored}, not ${STORED}`);

    await context.close();
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
