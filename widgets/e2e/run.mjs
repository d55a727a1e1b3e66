// The browser tests of the Parvis web front end, in Debian's Chromium driven by playwright-core.
//
// Started by `tests/tests/browser.rs`, which brings up a real Synapse and Parvis, creates the
// users and the community, and afterwards checks through the client-server API what the
// browser wrote. This script plays the user: inside a test host that is Element's side of the
// widget API (on an origin of its own), then in the standalone web app with a password login,
// where a second member (Bob, through the client-server API) writes a page while Alice has the
// wiki's list open, then edits and comments the page she reads: each appears without a reload.
// It prints one JSON line with what it did, and exits non-zero on the first failure.
//
// Environment: PARVIS_URL, HS_URL, SPACE_ID, WIKI_ROOM, ALICE_ID, ALICE_TOKEN, ALICE_LOCALPART,
// ALICE_PASSWORD, BOB_ID, BOB_TOKEN, SHOTS_DIR, and optionally CHROMIUM (default /usr/bin/chromium).
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { build } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`e2e: ${name} is not set`);
  return value;
};
const PARVIS_URL = env("PARVIS_URL");
const HS_URL = env("HS_URL");
const SPACE_ID = env("SPACE_ID");
const WIKI_ROOM = env("WIKI_ROOM");
const ALICE_ID = env("ALICE_ID");
const ALICE_TOKEN = env("ALICE_TOKEN");
const ALICE_LOCALPART = env("ALICE_LOCALPART");
const ALICE_PASSWORD = env("ALICE_PASSWORD");
const BOB_ID = env("BOB_ID");
const BOB_TOKEN = env("BOB_TOKEN");
const SHOTS_DIR = env("SHOTS_DIR");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = 45_000;

const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

const TITLE = "Plan de continuité";
const V1 = "Première version : l'événement annuel aura lieu à Lyon.";
const V2 = "Deuxième version : l'événement annuel aura lieu à Paris.";
const V3 = "Troisième version : l'événement est reporté.";
const COMMENT = "Je préfère la première version, merci !";
/** This run's mark, in what Bob writes. */
const RUN = Date.now().toString(36);
/** What Bob adds to the page while Alice reads it: unique to this run. */
const LIVE_SENTENCE = `Bob précise : la salle ouvre à 9 h (réf. ${RUN}).`;
/** The page Bob writes while Alice has the wiki's list open (no word of TITLE nor of the search below). */
const BOB_PAGE_TITLE = `Note de Bob ${RUN}`;
/** Bob's comment on the page Alice reads. */
const BOB_COMMENT = `Bob répond : d'accord pour 9 h (réf. ${RUN}).`;

/** The page in use, to show its state when a step fails. */
let current = null;

async function explainFailure() {
  if (!current) return;
  try {
    await current.screenshot({ path: join(SHOTS_DIR, "failure.png"), fullPage: true });
    for (const frame of current.frames()) {
      const text = await frame.evaluate(() => document.body?.innerText ?? "").catch(() => "?");
      log(`frame ${frame.url()}:\n${text.slice(0, 1500)}`);
    }
    const record = await current.evaluate(() => window.parvisHost).catch(() => null);
    if (record) log(`test host: ${JSON.stringify(record)}`);
  } catch (error) {
    log(`could not explain the failure: ${error}`);
  }
}

function log(message) {
  process.stderr.write(`[e2e] ${message}\n`);
}

/** Builds the test host page and serves it on an origin of its own (like Element's). */
async function serveTestHost() {
  const outDir = mkdtempSync(join(tmpdir(), "parvis-test-host-"));
  await build({
    root: here,
    base: "./",
    logLevel: "warn",
    configFile: false,
    build: { outDir, emptyOutDir: true, rollupOptions: { input: join(here, "test-host.html") } },
  });
  const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, "http://host").pathname)).replace(/^\/+/, "");
    try {
      const body = readFileSync(join(outDir, path || "test-host.html"));
      response.writeHead(200, { "Content-Type": types[extname(path)] ?? "application/octet-stream" });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => (server.close(), rmSync(outDir, { recursive: true })) };
}

/** A full-page screenshot at desktop and at phone width. */
async function shoot(page, name) {
  mkdirSync(SHOTS_DIR, { recursive: true });
  const size = page.viewportSize() ?? DESKTOP;
  await page.setViewportSize(DESKTOP);
  await page.waitForTimeout(100);
  await page.screenshot({ path: join(SHOTS_DIR, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(SHOTS_DIR, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(size);
}

function check(condition, message) {
  if (!condition) throw new Error(`e2e: ${message}`);
}

/** A client-server API call as Bob, with his own access token. */
async function asBob(method, path, body) {
  const response = await fetch(`${HS_URL.replace(/\/$/, "")}${path}`, {
    method,
    headers: { Authorization: `Bearer ${BOB_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  check(response.ok, `${method} ${path} as ${BOB_ID}: ${response.status} ${json.errcode ?? ""} ${json.error ?? ""}`);
  return json;
}

/**
 * Bob edits the page in the room, as any Matrix client could: a new `org.parvis.wiki.page`
 * state event with the current content and a sentence added to the body.
 */
async function bobAddsToThePage(pageId, sentence) {
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(WIKI_ROOM)}/state/org.parvis.wiki.page/${encodeURIComponent(pageId)}`;
  const content = await asBob("GET", path);
  check(typeof content.body === "string", `the page's content has no inline body: ${JSON.stringify(content).slice(0, 200)}`);
  const edited = { ...content, body: `${content.body}\n\n${sentence}` };
  // Parvis's own field, which clients do not send again.
  delete edited.requested_by;
  const { event_id } = await asBob("PUT", path, edited);
  log(`${BOB_ID} edited page ${pageId}: ${event_id}`);
  return event_id;
}

/**
 * Bob writes a new wiki page in the room, as any Matrix client could: an `org.parvis.wiki.page`
 * state event under a new object ID (12 hexadecimal characters, as Parvis makes them), with a
 * title, a slug of its own and a body, like those the app sends.
 */
async function bobWritesAPage(title, body) {
  const pageId = randomBytes(6).toString("hex");
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(WIKI_ROOM)}/state/org.parvis.wiki.page/${pageId}`;
  const { event_id } = await asBob("PUT", path, { title, slug, body });
  log(`${BOB_ID} wrote page ${pageId}: ${event_id}`);
  return pageId;
}

/**
 * Bob comments a revision, as the app does (`commentContent` of `src/session/writer.ts`): a
 * message in the thread rooted at the revision, with the reply fallback.
 */
async function bobComments(revisionEventId, body) {
  const txn = `parvis-e2e-${RUN}-${randomBytes(4).toString("hex")}`;
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(WIKI_ROOM)}/send/m.room.message/${txn}`;
  const { event_id } = await asBob("PUT", path, {
    msgtype: "m.text",
    body,
    "m.relates_to": {
      rel_type: "m.thread",
      event_id: revisionEventId,
      is_falling_back: true,
      "m.in_reply_to": { event_id: revisionEventId },
    },
  });
  log(`${BOB_ID} commented ${revisionEventId}: ${event_id}`);
  return event_id;
}

/** The hash route of the widget's frame. */
function frameRoute(page) {
  const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
  return frame ? new URL(frame.url()).hash : "";
}

/** Saves the editor and waits for the read page of the saved object. */
async function save(app, title) {
  await app.getByRole("button", { name: "Save" }).click();
  await app.getByRole("heading", { level: 1, name: title }).waitFor({ timeout: TIMEOUT });
}

async function widgetScenario(browser, host) {
  const context = await browser.newContext({ locale: "en-GB", viewport: DESKTOP });
  const page = await context.newPage();
  current = page;
  page.on("console", (message) => message.type() === "error" && log(`console: ${message.text()}`));
  page.on("response", (response) => response.status() >= 400 && log(`${response.status()} ${response.url()}`));
  const hostUrl = `${host.url}/test-host.html#${new URLSearchParams({
    hs: HS_URL,
    token: ALICE_TOKEN,
    user: ALICE_ID,
    room: WIKI_ROOM,
    widget: "parvis_wiki",
  })}`;
  await page.goto(hostUrl);
  const app = page.frameLocator("iframe");

  // The widget signs in with an OpenID token and opens the wiki of its room.
  await app.getByRole("heading", { level: 1, name: "Wiki" }).waitFor({ timeout: TIMEOUT });
  await app.getByText("The wiki has no pages yet").waitFor();
  const record = () => page.evaluate(() => window.parvisHost);
  check((await record()).openIdRequests >= 1, "the widget did not ask for an OpenID token");
  await shoot(page, "widget-wiki-empty");

  // Create, with the live preview rendered by the server.
  await app.getByRole("link", { name: "New page" }).click();
  await app.getByLabel("Title").fill(TITLE);
  await app.getByLabel("Text").fill(`${V1}\n\n**Important** : voir [[Annexe]].`);
  await app.locator("#preview strong", { hasText: "Important" }).waitFor({ timeout: TIMEOUT });
  await shoot(page, "widget-wiki-new");
  await save(app, TITLE);
  const route = frameRoute(page);
  const pageId = /\/wiki\/([^/?]+)$/.exec(route)?.[1];
  check(pageId, `no page ID in the route ${route}`);
  log(`created page ${pageId}`);

  // Two edits.
  for (const body of [V2, V3]) {
    await app.getByRole("link", { name: "Edit" }).click();
    await app.getByLabel("Text").fill(body);
    await save(app, TITLE);
    await app.locator("article", { hasText: body }).waitFor({ timeout: TIMEOUT });
  }
  await app.getByText("Revision 3").waitFor();
  await shoot(page, "widget-wiki-read");

  // The first and current revisions compared.
  await app.getByRole("link", { name: "Compare the first and the current revision" }).click();
  await app.locator("del.diff-line", { hasText: "Lyon" }).waitFor({ timeout: TIMEOUT });
  await app.locator("ins.diff-line", { hasText: "reporté" }).waitFor();
  await shoot(page, "widget-wiki-diff");
  await app.getByRole("link", { name: "Back to the page" }).click();

  // Restore the first revision: a fourth revision with the first one's text.
  await app.getByRole("button", { name: "Restore revision 1" }).click();
  await app.locator("article", { hasText: "Lyon" }).waitFor({ timeout: TIMEOUT });
  await app.getByText("Revision 4").waitFor({ timeout: TIMEOUT });

  // Comment, in the thread of the current revision.
  await app.getByLabel("Your comment").fill(COMMENT);
  await app.getByRole("button", { name: "Comment", exact: true }).click();
  await app.locator(".comments li", { hasText: COMMENT }).waitFor({ timeout: TIMEOUT });
  await shoot(page, "widget-wiki-commented");

  // Search, without the accents of the text.
  await app.getByRole("link", { name: "Search" }).click();
  await app.getByLabel("Words to find").fill("evenement lyon");
  await app.getByRole("button", { name: "Search", exact: true }).click();
  await app.locator(".results li").first().waitFor({ timeout: TIMEOUT });
  const results = app.locator(".results li");
  check((await results.count()) === 1, `expected one search result, got ${await results.count()}`);
  await results.first().getByRole("link", { name: TITLE }).waitFor();
  check((await results.first().locator("mark").count()) > 0, "the snippet highlights nothing");
  await shoot(page, "widget-search");

  // The community's home: members and their roles, recent activity.
  await app.getByRole("link", { name: "Home" }).click();
  await app.getByRole("heading", { level: 2, name: /Members/ }).waitFor({ timeout: TIMEOUT });
  await app.locator(".members li", { hasText: ALICE_LOCALPART }).getByText("Owner").waitFor();
  await app.locator(".activity li", { hasText: TITLE }).waitFor();
  await shoot(page, "widget-community-home");

  // The test host, as Element does, pushed the room's new events to the widget: its pages'
  // revisions, which the widget declared it receives.
  await page.waitForFunction(
    () => window.parvisHost.pushed.some((event) => event.type === "org.parvis.wiki.page"),
    null,
    { timeout: TIMEOUT },
  );
  const seen = await record();
  check(seen.errors.length === 0, `the test host saw errors: ${seen.errors.join("; ")}`);
  check(
    seen.capabilities.includes("org.matrix.msc2762.receive.state_event:org.parvis.wiki.page"),
    "the widget did not ask to receive its pages' revisions",
  );
  await context.close();
  return { pageId, capabilities: seen.capabilities, sent: seen.sent, pushedToWidget: seen.pushed.length };
}

async function standaloneScenario(browser, pageId) {
  const context = await browser.newContext({ locale: "fr-FR", viewport: DESKTOP });
  const page = await context.newPage();
  current = page;
  page.on("response", (response) => response.status() >= 400 && log(`${response.status()} ${response.url()}`));
  page.on("pageerror", (error) => log(`page error: ${error.message}`));
  await page.goto(`${PARVIS_URL}/widgets/index.html`);

  // Keyboard: the first Tab reaches the skip link.
  await page.keyboard.press("Tab");
  check(
    (await page.evaluate(() => document.activeElement?.className)) === "skip-link",
    "the first Tab does not reach the skip link",
  );

  // Not signed in: the French sign-in page, the homeserver proposed by Parvis.
  await page.getByRole("heading", { level: 1, name: "Connexion" }).waitFor({ timeout: TIMEOUT });
  const homeserver = page.getByLabel("Serveur");
  await page.waitForFunction(() => document.querySelector("input[name=homeserver]")?.value !== "");
  check((await homeserver.inputValue()).startsWith(HS_URL.replace(/\/$/, "")), "the homeserver is not proposed");
  await shoot(page, "standalone-login");

  // A wrong password is refused with the homeserver's message, and nothing else happens.
  await page.getByLabel("Identifiant").fill(ALICE_LOCALPART);
  await page.getByLabel("Mot de passe").fill("not the password");
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByRole("alert").waitFor({ timeout: TIMEOUT });

  await page.getByLabel("Mot de passe").fill(ALICE_PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByRole("heading", { level: 1, name: "Mes communautés" }).waitFor({ timeout: TIMEOUT });
  await shoot(page, "standalone-communities");
  await page.locator(".cards a").first().click();
  await page.getByRole("heading", { level: 2, name: "Outils" }).waitFor({ timeout: TIMEOUT });

  // Switch to English: the choice applies at once and is remembered.
  await page.getByLabel("Langue").selectOption("en");
  await page.getByRole("heading", { level: 2, name: "Tools" }).waitFor();
  await page.reload();
  await page.getByRole("heading", { level: 2, name: "Tools" }).waitFor({ timeout: TIMEOUT });
  await shoot(page, "standalone-community-home");

  // The wiki's list, read with the user's own access token.
  const bob = /^@([^:]+):/.exec(BOB_ID)?.[1] ?? BOB_ID;
  await page.getByRole("navigation", { name: "Community" }).getByRole("link", { name: "Wiki" }).click();
  await page.getByRole("heading", { level: 1, name: "Wiki" }).waitFor({ timeout: TIMEOUT });
  await page.getByRole("link", { name: TITLE }).first().waitFor({ timeout: TIMEOUT });

  // While Alice has it open, Bob writes a new page from elsewhere: it appears in her list,
  // without a reload, and screen readers are told whose it is.
  const listUrl = page.url();
  await page.evaluate(() => (window.__parvisNoReload = 1));
  const bobPageId = await bobWritesAPage(BOB_PAGE_TITLE, "Une page écrite depuis un autre client Matrix.");
  await page.locator(".tree a", { hasText: BOB_PAGE_TITLE }).waitFor({ timeout: TIMEOUT });
  check((await page.evaluate(() => window.__parvisNoReload)) === 1, "the list was reloaded to show Bob's page");
  check(page.url() === listUrl, `the route changed to ${page.url()}`);
  await page
    .locator('[role="status"][aria-live="polite"]', { hasText: `New page by ${bob}` })
    .waitFor({ state: "attached", timeout: TIMEOUT });
  await shoot(page, "standalone-wiki-list-live");

  // The page the widget wrote.
  await page.getByRole("link", { name: TITLE }).first().click();
  await page.locator("article", { hasText: "Lyon" }).waitFor({ timeout: TIMEOUT });
  check(new URL(page.url()).hash.endsWith(`/wiki/${pageId}`), `unexpected route ${page.url()}`);
  await shoot(page, "standalone-wiki-read");

  // While Alice reads it, Bob edits the page from elsewhere: it changes before her eyes, without
  // a reload (the app follows the room with her own sync), and screen readers are told.
  const readUrl = page.url();
  await page.evaluate(() => (window.__parvisNoReload = 1));
  const bobRevision = await bobAddsToThePage(pageId, LIVE_SENTENCE);
  await page.locator("article", { hasText: LIVE_SENTENCE }).waitFor({ timeout: TIMEOUT });
  check((await page.evaluate(() => window.__parvisNoReload)) === 1, "the page was reloaded to show Bob's edit");
  check(page.url() === readUrl, `the route changed to ${page.url()}`);
  await page
    .locator('[role="status"][aria-live="polite"]', { hasText: `Page updated by ${bob}` })
    .waitFor({ state: "attached", timeout: TIMEOUT });
  await shoot(page, "standalone-wiki-live");

  // Then Bob comments his revision: the comment appears under the page Alice reads, without a
  // reload, and screen readers are told who commented.
  await bobComments(bobRevision, BOB_COMMENT);
  await page.locator(".comments li", { hasText: BOB_COMMENT }).waitFor({ timeout: TIMEOUT });
  check((await page.evaluate(() => window.__parvisNoReload)) === 1, "the page was reloaded to show Bob's comment");
  check(page.url() === readUrl, `the route changed to ${page.url()}`);
  await page
    .locator('[role="status"][aria-live="polite"]', { hasText: `New comment by ${bob}` })
    .waitFor({ state: "attached", timeout: TIMEOUT });
  await shoot(page, "standalone-wiki-commented-live");

  // Alice likes the page (English is on since the switch above): pressed, counted once.
  const like = page.locator('.reactions button[data-reaction="like"]');
  await page.getByRole("button", { name: /^Like\b/ }).click();
  await page.waitForFunction(
    () => {
      const button = document.querySelector('.reactions button[data-reaction="like"]');
      return button?.getAttribute("aria-pressed") === "true" && button.querySelector(".reaction-count")?.textContent === "1";
    },
    null,
    { timeout: TIMEOUT },
  );
  check((await like.count()) === 1, "more than one like button");
  check((await page.evaluate(() => window.__parvisNoReload)) === 1, "the page was reloaded after the like");
  await shoot(page, "standalone-wiki-liked");

  // A sub-page written from the standalone app (sent as the user by Parvis with their token).
  await page.getByRole("link", { name: "New sub-page" }).click();
  await page.getByLabel("Title").fill("Annexe");
  await page.getByLabel("Text").fill("Voir aussi [[Plan de continuité]].");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { level: 1, name: "Annexe" }).waitFor({ timeout: TIMEOUT });
  await page.getByRole("navigation", { name: "Parent pages" }).getByRole("link", { name: TITLE }).waitFor();
  const annexId = /\/wiki\/([^/?]+)$/.exec(new URL(page.url()).hash)?.[1];
  await shoot(page, "standalone-wiki-subpage");

  // A guide through both pages, the sub-page first (moved up with the keyboard-usable buttons).
  await page.getByRole("navigation", { name: "Community" }).getByRole("link", { name: "Guides" }).click();
  await page.getByRole("link", { name: "New guide" }).click();
  await page.getByLabel("Title").fill("Prise en main");
  await page.getByLabel("Introduction").fill("Lire dans cet ordre.");
  for (const title of [TITLE, "Annexe"]) {
    await page.getByLabel("Wiki page").selectOption({ label: title });
    await page.getByRole("button", { name: "Add", exact: true }).click();
  }
  await page.getByRole("button", { name: "Up — Annexe" }).click();
  await page.locator("#preview p", { hasText: "Lire dans cet ordre." }).waitFor({ timeout: TIMEOUT });
  await shoot(page, "standalone-guide-edit");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { level: 1, name: "Prise en main" }).waitFor({ timeout: TIMEOUT });
  const path = await page.locator(".reading-path li").allTextContents();
  check(JSON.stringify(path) === JSON.stringify(["Annexe", TITLE]), `reading path ${JSON.stringify(path)}`);
  const guideId = /\/guides\/([^/?]+)$/.exec(new URL(page.url()).hash)?.[1];
  await shoot(page, "standalone-guide-read");

  // Signing out logs the access token out at the homeserver.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor({ timeout: TIMEOUT });
  await context.close();
  return { annexId, guideId, liveSentence: LIVE_SENTENCE, likedPageId: pageId, bobPageId, bobComment: BOB_COMMENT };
}

async function main() {
  rmSync(SHOTS_DIR, { recursive: true, force: true });
  const host = await serveTestHost();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  try {
    const widget = await widgetScenario(browser, host);
    const standalone = await standaloneScenario(browser, widget.pageId);
    process.stdout.write(`${JSON.stringify({ ...widget, ...standalone, texts: { TITLE, V1, V2, V3, COMMENT } })}\n`);
  } catch (error) {
    await explainFailure();
    throw error;
  } finally {
    await browser.close();
    host.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
