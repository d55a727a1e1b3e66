// The tasks board in the standalone web app, in Debian's Chromium driven by playwright-core.
//
// Started by `tests/tests/browser.rs` (`tasks_board_in_the_browser`), which brings up a real
// Synapse and Parvis, creates the community with its tasks room and Alice's board
// "Déménagement" (to do, in progress, done) with four cards in "To do", and afterwards checks
// the room's state. This script plays Alice after a password login: she drags one card to
// "In progress" with the mouse (the browser's own drag and drop, which
// `@atlaskit/pragmatic-drag-and-drop` uses) and moves another to "Done" with the keyboard only
// (its "Move to…" controls: the column chosen in a list, then the choice confirmed), which
// screen readers are told of. She comments on the dragged card in its dialog: the comment is
// listed once the index has it, as her message in the thread of the card's current event. Then
// Bob, from his own client (the client-server API), moves a third card to "In progress" while
// Alice has the board open, and it moves on her board without a reload. Alice then dates the
// fourth card in its dialog, and opens the Gantt chart, where Bob's dating of his card appears
// without a reload too; each bar is drawn over the days of its card, and the pages'
// Content-Security-Policy refuses nothing the chart does. Last, two people at once: Bob opens
// the board in a browser of his own (signed in with his access token) and, at the same moment
// as Alice, moves another card of the same column to the same column as she does, each through
// the "Move to…" control; both moves land, and the index and both boards list that column in
// one order, each board showing the other's move without a reload. Screenshots of the board,
// of the card's comments, of the Gantt chart and of the two browsers, at desktop and phone
// width. It prints one JSON line with what it did, and exits non-zero on the first failure.
//
// Environment: PARVIS_URL, HS_URL, SPACE_ID, TASKS_ROOM, BOARD_ID, CARD_MOUSE, CARD_KEYBOARD,
// CARD_LIVE, ALICE_ID, ALICE_LOCALPART, ALICE_PASSWORD, BOB_ID, BOB_TOKEN, SHOTS_DIR, and
// optionally CHROMIUM (default /usr/bin/chromium).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { generateKeyBetween } from "fractional-indexing";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`e2e: ${name} is not set`);
  return value;
};
const PARVIS_URL = env("PARVIS_URL").replace(/\/$/, "");
const HS_URL = env("HS_URL").replace(/\/$/, "");
const SPACE_ID = env("SPACE_ID");
const TASKS_ROOM = env("TASKS_ROOM");
const BOARD_ID = env("BOARD_ID");
const CARD_MOUSE = env("CARD_MOUSE");
const CARD_KEYBOARD = env("CARD_KEYBOARD");
const CARD_LIVE = env("CARD_LIVE");
const ALICE_ID = env("ALICE_ID");
const ALICE_LOCALPART = env("ALICE_LOCALPART");
const ALICE_PASSWORD = env("ALICE_PASSWORD");
const BOB_ID = env("BOB_ID");
const BOB_TOKEN = env("BOB_TOKEN");
const SHOTS_DIR = env("SHOTS_DIR");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = 45_000;

const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

/** The board's columns, as Parvis makes a board without columns of its own. */
const TODO = "todo";
const DOING = "doing";
const DONE = "done";

/** A day `offset` days from today, `YYYY-MM-DD`. */
function day(offset) {
  const date = new Date();
  date.setDate(date.getDate() + offset);
  const pad = (number) => String(number).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The pages in use, by user ("alice", "bob"), to show their state when a step fails. */
const pages = new Map();

function log(message) {
  process.stderr.write(`[e2e tasks] ${message}\n`);
}

function check(condition, message) {
  if (!condition) throw new Error(`e2e tasks: ${message}`);
}

async function explainFailure() {
  for (const [who, page] of pages) {
    try {
      mkdirSync(SHOTS_DIR, { recursive: true });
      await page.screenshot({ path: join(SHOTS_DIR, who === "alice" ? "tasks-failure.png" : `tasks-failure-${who}.png`), fullPage: true });
      const text = await page.evaluate(() => document.body?.innerText ?? "").catch(() => "?");
      log(`${who}'s page ${page.url()}:\n${text.slice(0, 2000)}`);
    } catch (error) {
      log(`could not explain the failure on ${who}'s page: ${error}`);
    }
  }
}

/** What goes wrong in `who`'s page, in the log: refused requests, the page's errors and console errors. */
function logProblems(page, who) {
  pages.set(who, page);
  page.on("response", (response) => response.status() >= 400 && log(`${who}: ${response.status()} ${response.url()}`));
  page.on("pageerror", (error) => log(`${who}: page error: ${error.message}`));
  page.on("console", (message) => message.type() === "error" && log(`${who}: console: ${message.text()} ${message.location().url ?? ""}`));
  page.on("close", () => pages.delete(who));
}

/**
 * SVG animations run to their end: the Gantt chart grows each bar from nothing on every draw
 * (0.4 s), and a screenshot taken meanwhile shows them short.
 */
const endAnimations = (page) => page.evaluate(() => document.querySelectorAll("svg").forEach((svg) => svg.setCurrentTime?.(3600)));

/** A full-page screenshot at desktop and at phone width. */
async function shoot(page, name) {
  mkdirSync(SHOTS_DIR, { recursive: true });
  const size = page.viewportSize() ?? DESKTOP;
  await page.setViewportSize(DESKTOP);
  await page.waitForTimeout(100);
  await endAnimations(page);
  await page.screenshot({ path: join(SHOTS_DIR, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(150);
  await endAnimations(page);
  await page.screenshot({ path: join(SHOTS_DIR, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(size);
}

/** A call as Bob, with his own access token: to the homeserver, or to Parvis. */
async function asBob(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${BOB_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  check(response.ok, `${method} ${url} as ${BOB_ID}: ${response.status} ${json.errcode ?? ""} ${json.error ?? ""}`);
  return json;
}

/** The board as Parvis's index shows it (Bob is a member of the tasks room). */
function boardAsIndexed() {
  const path = ["communities", SPACE_ID, "tasks", "boards", BOARD_ID].map(encodeURIComponent).join("/");
  return asBob("GET", `${PARVIS_URL}/api/v1/${path}`);
}

/** The card's column and who wrote it last, in the index. */
async function indexedCard(cardId) {
  const board = await boardAsIndexed();
  for (const column of board.columns) {
    const card = column.cards.find((candidate) => candidate.id === cardId);
    if (card) return { column: column.id, card, board };
  }
  return { column: null, card: null, board };
}

/** Waits until the index has `cardId` out of `from`, written by Alice; its column. */
async function writtenByAlice(cardId, from) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const { column, card } = await indexedCard(cardId);
    if (column && column !== from && card.updated_by === ALICE_ID) return column;
    check(Date.now() < deadline, `the index does not show ${cardId} moved by ${ALICE_ID} (column ${column}, by ${card?.updated_by})`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** The comments on a card as Parvis's index lists them (as Bob reads them). */
function commentsAsIndexed(cardId) {
  const path = ["communities", SPACE_ID, "tasks", "cards", cardId, "comments"].map(encodeURIComponent).join("/");
  return asBob("GET", `${PARVIS_URL}/api/v1/${path}`);
}

/** Until the page has no write under way (its buttons are no longer marked busy). */
async function idle(page) {
  await page.waitForFunction(() => !document.querySelector('.tasks-add button[aria-disabled="true"]'), null, { timeout: TIMEOUT });
}

/** The community's board, as its link has it (`#/c/{space}/tasks?board=`). */
const BOARD_ROUTE = `#/c/${encodeURIComponent(SPACE_ID).replace(/%(21|3A|40|24)/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)))}/tasks?board=${encodeURIComponent(BOARD_ID)}`;

/** A card's tile, in a column or anywhere on the board. */
const tile = (page, cardId, column) =>
  page.locator(column ? `section.tasks-column[data-column-id="${column}"] li.tasks-card[data-card-id="${cardId}"]` : `li.tasks-card[data-card-id="${cardId}"]`);

/** The cards of a column as a page shows them, in order (their IDs). */
const columnOrder = (page, column) =>
  page.locator(`section.tasks-column[data-column-id="${column}"] li.tasks-card`).evaluateAll((cards) => cards.map((card) => card.dataset.cardId));

/**
 * Readies a card's move to another column through its "Move to…" control, as a person does:
 * the control opened (unless a move left it open), the column chosen in its list. Returns the
 * "Move" button that confirms it, to be pressed.
 */
async function readyMove(page, cardId, column, columnName) {
  const card = tile(page, cardId);
  const title = (await card.locator(".tasks-open").textContent()).trim();
  if ((await card.locator("details.tasks-move[open]").count()) === 0) await card.locator("details.tasks-move > summary").click();
  await card.getByRole("combobox", { name: `Column of “${title}”` }).selectOption(column);
  // Pressable once the choice is made (`aria-disabled` while the column is the card's own).
  const confirm = card.getByRole("button", { name: `Move “${title}” to ${columnName}`, exact: true, disabled: false });
  await confirm.waitFor({ timeout: TIMEOUT });
  return confirm;
}

/** The app's route, from the page's address (`#/c/…/tasks/gantt?board=…`). */
const routeOf = (page) => new URL(page.url()).hash;

/**
 * Where the Gantt chart draws a card's bar, against the days its table row says: the bar's left
 * edge at the start of its first day's column, its right edge at the end of its due day's
 * column (the day labels, centred in their columns, say where each day is). Waits for the bar's
 * growing animation to end; fails with the measures when it never matches.
 */
async function barSpan(page, cardId) {
  const days = await page
    .locator(`table.tasks-table tr[data-card-id="${cardId}"] time`)
    .evaluateAll((times) => times.map((time) => time.getAttribute("datetime")));
  const [start, due] = days;
  check(start && due, `the schedule has no dates for ${cardId}: ${JSON.stringify(days)}`);
  const measure = ({ cardId, start, due }) => {
    const chart = document.querySelector(".tasks-gantt-chart .gantt-container");
    const bar = chart?.querySelector(`.bar-wrapper[data-id="${CSS.escape(cardId)}"] rect.bar`);
    const first = chart?.querySelector(`.lower-text.date_${start}`);
    const last = chart?.querySelector(`.lower-text.date_${due}`);
    if (!chart || !bar || !first || !last) return { missing: { chart: !!chart, bar: !!bar, first: !!first, last: !!last } };
    const column = parseFloat(getComputedStyle(chart).getPropertyValue("--gv-column-width"));
    const centre = (element) => {
      const box = element.getBoundingClientRect();
      return box.left + box.width / 2;
    };
    const box = bar.getBoundingClientRect();
    const span = { column, left: box.left, right: box.right, from: centre(first) - column / 2, to: centre(last) + column / 2 };
    return { ...span, fits: Math.abs(span.left - span.from) <= 2 && Math.abs(span.right - span.to) <= 2 };
  };
  const deadline = Date.now() + 5_000;
  let span = await page.evaluate(measure, { cardId, start, due });
  while (!span.fits && Date.now() < deadline) {
    await page.waitForTimeout(100);
    span = await page.evaluate(measure, { cardId, start, due });
  }
  check(span.fits, `the bar of ${cardId} (${start} to ${due}) is not drawn over its days: ${JSON.stringify(span)}`);
  return { card: cardId, start, due, left: Math.round(span.left - span.from), right: Math.round(span.right - span.to), column: span.column };
}

/** Does `action`, then waits until the Gantt chart is drawn anew (another SVG, its bars in it). */
async function redrawn(page, action) {
  await page.evaluate(() => document.querySelector(".tasks-gantt-chart svg")?.classList.add("e2e-drawn-before"));
  await action();
  await page.waitForFunction(
    () => {
      const chart = document.querySelector(".tasks-gantt-chart svg");
      return chart && !chart.classList.contains("e2e-drawn-before") && chart.querySelectorAll(".bar-wrapper").length >= 2;
    },
    null,
    { timeout: TIMEOUT },
  );
}

/** The text of the app's `aria-live` region. */
const liveRegion = (page) => page.locator('[role="status"][aria-live="polite"]').first();

/**
 * Drags a card with the real mouse onto a column: pressed on the card, moved in steps (Chromium
 * then starts the browser's own drag, as a person's would), released over the column's list.
 */
async function dragWithTheMouse(page, cardId, column) {
  const card = tile(page, cardId);
  await card.scrollIntoViewIfNeeded();
  // Held by its labels, not by a control.
  const handle = (await card.locator(".tags").count()) > 0 ? card.locator(".tags") : card;
  const from = await handle.boundingBox();
  const list = page.locator(`section.tasks-column[data-column-id="${column}"]`);
  const to = await list.boundingBox();
  check(from && to, "the card or the column is not on the screen");
  const start = { x: from.x + from.width / 2, y: from.y + from.height / 2 };
  // Below the column's title, above its new card form: its list.
  const end = { x: to.x + to.width / 2, y: to.y + Math.min(to.height / 2, 90) };
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move(start.x + 8, start.y + 8, { steps: 4 });
  await page.mouse.move(end.x, end.y, { steps: 25 });
  await page.mouse.move(end.x + 2, end.y + 2, { steps: 3 });
  await page.mouse.up();
}

async function signIn(page) {
  await page.goto(`${PARVIS_URL}/widgets/index.html`);
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor({ timeout: TIMEOUT });
  await page.waitForFunction(() => document.querySelector("input[name=homeserver]")?.value !== "", null, { timeout: TIMEOUT });
  await page.getByLabel("User name").fill(ALICE_LOCALPART);
  await page.getByLabel("Password").fill(ALICE_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "My communities" }).waitFor({ timeout: TIMEOUT });
}

async function theBoard(browser) {
  const context = await browser.newContext({ locale: "en-GB", viewport: DESKTOP });
  const page = await context.newPage();
  logProblems(page, "alice");
  // What the pages' Content-Security-Policy refused, by the page's route: the browser's console
  // errors, and the `securitypolicyviolation` events (which name the directive and the source).
  const refused = [];
  page.on("console", (message) => {
    if (message.type() === "error" && message.text().includes("Content Security Policy")) refused.push({ route: routeOf(page), text: message.text() });
  });
  await page.exposeFunction("__parvisRefused", (text) => refused.push({ route: routeOf(page), text }));
  await context.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (event) =>
      window.__parvisRefused(`${event.effectiveDirective} refused ${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}: ${event.sample}`),
    ),
  );
  await signIn(page);

  await page.evaluate((hash) => (location.hash = hash), BOARD_ROUTE);
  await page.getByRole("heading", { level: 1, name: "Déménagement" }).waitFor({ timeout: TIMEOUT });
  for (const card of [CARD_MOUSE, CARD_KEYBOARD, CARD_LIVE]) await tile(page, card, TODO).waitFor({ timeout: TIMEOUT });
  const names = await page.locator("section.tasks-column .tasks-column-name").allTextContents();
  check(JSON.stringify(names) === JSON.stringify(["To do", "In progress", "Done"]), `the columns are ${JSON.stringify(names)}`);
  // From now on, a reload of the page would lose this mark.
  await page.evaluate(() => (window.__parvisNoReload = 1));

  // 1. The mouse: the first card dragged to "In progress"; shown there at once, then written.
  await dragWithTheMouse(page, CARD_MOUSE, DOING);
  let dragged = await tile(page, CARD_MOUSE, DOING)
    .waitFor({ timeout: 5_000 })
    .then(() => true)
    .catch(() => false);
  let dragWith = "mouse";
  if (!dragged) {
    dragWith = "dragTo";
    // Should Chromium not start a native drag from the mouse's steps, playwright's own drag.
    log("the mouse's steps did not drop the card: dragging with locator.dragTo");
    await tile(page, CARD_MOUSE).locator(".tags").dragTo(page.locator(`section.tasks-column[data-column-id="${DOING}"] .tasks-cards`));
    dragged = await tile(page, CARD_MOUSE, DOING)
      .waitFor({ timeout: 5_000 })
      .then(() => true)
      .catch(() => false);
  }
  check(dragged, "the dragged card is not in “In progress”");
  const mouseColumn = await writtenByAlice(CARD_MOUSE, TODO);
  check(mouseColumn === DOING, `the index has the dragged card in ${mouseColumn}`);
  await idle(page);
  await tile(page, CARD_MOUSE, DOING).waitFor({ timeout: TIMEOUT });
  log(`${CARD_MOUSE} dragged to ${mouseColumn}`);

  // 2. The keyboard only: the card's "Move to…" control opened with Enter, "Done" chosen in its
  //    list with the arrow keys (through "In progress", where it does not stop), the choice
  //    confirmed with the "Move" button; the move is said to screen readers and the focus
  //    stays on the button.
  const keyboardCard = tile(page, CARD_KEYBOARD, TODO);
  const keyboardTitle = (await keyboardCard.locator(".tasks-open").textContent()).trim();
  const { card: unchosen } = await indexedCard(CARD_KEYBOARD);
  await keyboardCard.locator("details.tasks-move > summary").focus();
  await page.keyboard.press("Enter");
  await keyboardCard.locator("details.tasks-move[open]").waitFor({ timeout: TIMEOUT });
  await page.keyboard.press("Tab");
  let focused = await page.evaluate(() => document.activeElement?.getAttribute("data-move"));
  check(focused === "column", `Tab from the open "Move to…" reaches ${focused}, not the column`);
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  const chosen = await keyboardCard.locator('select[data-move="column"]').inputValue();
  check(chosen === DONE, `ArrowDown twice chose ${chosen}, not ${DONE}`);
  // Choosing moved nothing: the card is still in "To do", on the page and in the index.
  await page.waitForTimeout(500);
  check((await tile(page, CARD_KEYBOARD, TODO).count()) === 1, "choosing a column in the list moved the card");
  const unmoved = await indexedCard(CARD_KEYBOARD);
  check(unmoved.column === TODO && unmoved.card.event_id === unchosen.event_id, `choosing a column wrote the card: ${unmoved.column}`);
  await page.keyboard.press("Tab");
  focused = await page.evaluate(() => document.activeElement?.getAttribute("data-move"));
  check(focused === "confirm", `Tab from the column reaches ${focused}, not the "Move" button`);
  await page.keyboard.press("Enter");
  const moved = await tile(page, CARD_KEYBOARD, DONE)
    .waitFor({ timeout: 5_000 })
    .then(() => true)
    .catch(() => false);
  check(moved, `the keyboard did not move the card to ${DONE}`);
  const keyboardColumn = await writtenByAlice(CARD_KEYBOARD, TODO);
  check(keyboardColumn === DONE, `the index has the card moved from the keyboard in ${keyboardColumn}`);
  await idle(page);
  await tile(page, CARD_KEYBOARD, keyboardColumn).waitFor({ timeout: TIMEOUT });
  await page.waitForFunction((title) => document.querySelector('[role="status"][aria-live="polite"]')?.textContent?.includes(title), keyboardTitle, {
    timeout: TIMEOUT,
  });
  const announced = (await liveRegion(page).textContent()).trim();
  const focusKept = await page.evaluate(
    (card) => document.activeElement?.closest("[data-card-id]")?.getAttribute("data-card-id") === card && document.activeElement?.getAttribute("data-move") === "confirm",
    CARD_KEYBOARD,
  );
  check(focusKept, "the focus left the card's “Move” button after the keyboard move");
  log(`${CARD_KEYBOARD} moved with the keyboard to ${keyboardColumn}: “${announced}”`);

  // 2b. A comment on the dragged card, in its dialog: typed, posted with the "Comment" button,
  //     listed once the index has it; in the index, Alice's message in the thread of the card's
  //     current event (the drag's). The dialog is then closed without saving the card.
  const COMMENT = "Commentaire de test";
  await tile(page, CARD_MOUSE).locator("button.tasks-open").click();
  const commentDialog = page.locator("dialog.tasks-dialog");
  await commentDialog.waitFor({ timeout: TIMEOUT });
  // The comments read (none yet).
  await commentDialog.locator(".tasks-comments .empty, .tasks-comments ol.comments").first().waitFor({ timeout: TIMEOUT });
  await commentDialog.getByLabel("Your comment").fill(COMMENT);
  await commentDialog.getByRole("button", { name: "Comment", exact: true }).click();
  const posted = commentDialog.locator(".tasks-comments ol.comments > li", { hasText: COMMENT });
  await posted.waitFor({ timeout: TIMEOUT });
  const commented = await posted.getAttribute("data-event-id");
  check(commented, "the posted comment is listed without its event ID");
  check((await posted.locator(".person").textContent()).trim() === ALICE_LOCALPART, "the posted comment is not listed as Alice's");
  await commentDialog.locator(".tasks-comment-notice", { hasText: "Comment posted." }).waitFor({ timeout: TIMEOUT });
  const indexedComment = (await commentsAsIndexed(CARD_MOUSE)).find((comment) => comment.event_id === commented);
  check(indexedComment, `the index does not list the comment ${commented}`);
  check(indexedComment.sender === ALICE_ID && indexedComment.body === COMMENT, `the comment is indexed as ${JSON.stringify(indexedComment)}`);
  const { card: commentedCard } = await indexedCard(CARD_MOUSE);
  check(
    indexedComment.thread_root === commentedCard.event_id,
    `the comment is in the thread of ${indexedComment.thread_root}, not of the card's current event ${commentedCard.event_id}`,
  );
  await shoot(page, "tasks-comments");
  await commentDialog.getByRole("button", { name: "Cancel" }).click();
  await commentDialog.waitFor({ state: "detached", timeout: TIMEOUT });
  log(`${CARD_MOUSE} commented: ${commented}`);

  // 3. Bob, from his own client, moves the third card to the end of "In progress" while Alice
  //    has the board open: it moves on her board without a reload, and she is told.
  const { card: live, board } = await indexedCard(CARD_LIVE);
  check(live, `${CARD_LIVE} is not on the board`);
  const doing = board.columns.find((column) => column.id === DOING);
  const last = doing.cards.map((card) => card.position).sort().at(-1) ?? null;
  const { id: _id, late: _late, event_id: _event, updated_by: _by, updated_at: _at, requested_by: _requested, ...content } = live;
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(TASKS_ROOM)}/state/org.parvis.kanban.card/${encodeURIComponent(CARD_LIVE)}`;
  const bobsCard = { ...content, column: DOING, position: generateKeyBetween(last, null) };
  const { event_id } = await asBob("PUT", `${HS_URL}${path}`, bobsCard);
  log(`${BOB_ID} moved ${CARD_LIVE} to ${DOING}: ${event_id}`);
  const url = page.url();
  await tile(page, CARD_LIVE, DOING).waitFor({ timeout: TIMEOUT });
  check((await page.evaluate(() => window.__parvisNoReload)) === 1, "the board was reloaded to show Bob's move");
  check(page.url() === url, `the route changed to ${page.url()}`);
  const bob = /^@([^:]+):/.exec(BOB_ID)?.[1] ?? BOB_ID;
  const liveTitle = (await tile(page, CARD_LIVE).locator(".tasks-open").textContent()).trim();
  await page.waitForFunction((text) => document.querySelector('[role="status"][aria-live="polite"]')?.textContent?.includes(text), `${bob} moved “${liveTitle}”`, {
    timeout: TIMEOUT,
  });
  const liveAnnounced = (await liveRegion(page).textContent()).trim();
  const order = await page.locator(`section.tasks-column[data-column-id="${DOING}"] li.tasks-card`).evaluateAll((cards) => cards.map((card) => card.dataset.cardId));
  check(order.at(-1) === CARD_LIVE, `Bob's card is not last in “In progress”: ${JSON.stringify(order)}`);
  log(`Alice sees it: “${liveAnnounced}”`);

  // 4. The fourth card (none of the three above) dated in its dialog: a bar on the Gantt chart.
  const fourth = (await boardAsIndexed()).columns
    .flatMap((column) => column.cards)
    .find((card) => ![CARD_MOUSE, CARD_KEYBOARD, CARD_LIVE].includes(card.id));
  check(fourth, "the board has no fourth card");
  await tile(page, fourth.id).locator("button.tasks-open").click();
  const dialog = page.locator("dialog.tasks-dialog");
  await dialog.waitFor({ timeout: TIMEOUT });
  await dialog.locator("#tasks-card-start").fill(day(-1));
  await dialog.locator("#tasks-card-due").fill(day(2));
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached", timeout: TIMEOUT });
  await tile(page, fourth.id).locator(".tasks-due").waitFor({ timeout: TIMEOUT });
  await shoot(page, "tasks-board");

  // 5. The Gantt chart of the board; Bob dates his card meanwhile: its bar and row appear.
  await page.getByRole("link", { name: "Gantt chart" }).click();
  await page.getByRole("heading", { level: 1, name: "Gantt chart" }).waitFor({ timeout: TIMEOUT });
  await page.locator(`table.tasks-table tr[data-card-id="${fourth.id}"]`).waitFor({ timeout: TIMEOUT });
  await page.evaluate(() => (window.__parvisNoReload = 1));
  const dated = await asBob("PUT", `${HS_URL}${path}`, { ...bobsCard, start: day(1), due: day(4) });
  log(`${BOB_ID} dated ${CARD_LIVE}: ${dated.event_id}`);
  await page.locator(`table.tasks-table tr[data-card-id="${CARD_LIVE}"]`).waitFor({ timeout: TIMEOUT });
  check((await page.evaluate(() => window.__parvisNoReload)) === 1, "the Gantt chart was reloaded to show Bob's dates");
  await page.locator(".tasks-gantt-chart svg .bar-wrapper").nth(1).waitFor({ timeout: TIMEOUT });
  // Each bar over the days its row says (the one dated in the dialog, and Bob's, drawn again).
  const ganttBars = [await barSpan(page, fourth.id), await barSpan(page, CARD_LIVE)];
  await shoot(page, "tasks-gantt");
  // Drawn again by week, and by day: the CSP refused nothing of any drawing.
  for (const scale of ["Week", "Day"]) await redrawn(page, () => page.getByRole("button", { name: scale, exact: true }).click());
  // Violations are reported after the drawing that makes them.
  await page.waitForTimeout(300);
  // The hatch pattern frappe-gantt adds as markup: in SVG, styled through the CSSOM instead (a
  // redraw, others' changes, may be under way: until the chart has it).
  const hatched = () => {
    const pattern = document.querySelector(".tasks-gantt-chart pattern#diagonalHatch");
    return pattern instanceof SVGPatternElement && pattern.querySelector("path")?.style.getPropertyValue("stroke") === "grey";
  };
  const hatch = await page
    .waitForFunction(hatched, null, { timeout: 5_000 })
    .then(() => true)
    .catch(() => false);
  check(hatch, "the chart has no hatch pattern in SVG whose path is stroked grey");
  const ganttRefused = refused.filter((entry) => entry.route.includes("/tasks/gantt"));
  check(ganttRefused.length === 0, `the Content-Security-Policy refused parts of the Gantt chart: ${JSON.stringify(ganttRefused)}`);
  for (const entry of refused) log(`refused by the CSP on ${entry.route}: ${entry.text}`);

  // 6. Two people at once, each in a browser of their own.
  const concurrent = await movedAtOnce(browser, page, fourth.id);
  await context.close();
  return {
    mouseColumn,
    dragWith,
    keyboardColumn,
    announced,
    commented,
    liveSeen: true,
    liveAnnounced,
    doingOrder: order,
    ganttLiveSeen: true,
    ganttBars,
    cspRefused: refused.length,
    concurrent,
  };
}

/**
 * Two people move different cards of one column at the same moment, each from their own
 * browser, to the same column: Alice (her page back on the board) the card she dated, Bob his
 * card. The Rust test checks afterwards who last wrote each of the first three cards and where
 * the first two are, so these two are the ones free to move: the source column is the one Bob's
 * card is in, and Alice first brings hers there with the "Move to…" control (the column then
 * holds three cards, her dragged one staying). The target is the next column, read from the
 * index like the rest. Both moves are readied on their pages, then confirmed at once; they
 * land: the index has both cards in the target column, each written by its mover, and both
 * boards list that column in the index's order, each having shown the other's move without a
 * reload. Returns the column and that order.
 */
async function movedAtOnce(browser, alice, alicesCard) {
  await alice.getByRole("link", { name: "Back to the board" }).click();
  await alice.getByRole("heading", { level: 1, name: "Déménagement" }).waitFor({ timeout: TIMEOUT });
  const { column: from, board: before } = await indexedCard(alicesCard);
  const { column: source } = await indexedCard(CARD_LIVE);
  if (from !== source) {
    const sourceName = before.columns.find((column) => column.id === source).name;
    await (await readyMove(alice, alicesCard, source, sourceName)).click();
    const written = await writtenByAlice(alicesCard, from);
    check(written === source, `the index has ${alicesCard} in ${written}, not in ${source}`);
    await idle(alice);
    await tile(alice, alicesCard, source).waitFor({ timeout: TIMEOUT });
    log(`${alicesCard} moved to ${source} first, with ${CARD_MOUSE} and ${CARD_LIVE}`);
  }

  // The two cards and where they go, from the board in the index.
  const board = await boardAsIndexed();
  const column = board.columns.find((candidate) => candidate.id === source);
  const moving = [alicesCard, CARD_LIVE];
  check(
    moving.every((id) => column.cards.some((card) => card.id === id)) && column.cards.length >= 3,
    `“${column.name}” does not hold both cards and a third: ${JSON.stringify(column.cards.map((card) => card.id))}`,
  );
  const target = board.columns[board.columns.findIndex((candidate) => candidate.id === source) + 1];
  check(target, `no column after “${column.name}”`);

  // Bob's browser, his session put where the app keeps it before the app loads.
  const context = await browser.newContext({ locale: "en-GB", viewport: DESKTOP });
  const session = JSON.stringify({ homeserver: HS_URL, accessToken: BOB_TOKEN, userId: BOB_ID });
  await context.addInitScript((value) => sessionStorage.setItem("parvis.session", value), session);
  const bob = await context.newPage();
  logProblems(bob, "bob");
  await bob.goto(`${PARVIS_URL}/widgets/index.html${BOARD_ROUTE}`);
  await bob.getByRole("heading", { level: 1, name: "Déménagement" }).waitFor({ timeout: TIMEOUT });
  for (const id of column.cards.map((card) => card.id)) await tile(bob, id, source).waitFor({ timeout: TIMEOUT });
  for (const page of [alice, bob]) await page.evaluate(() => (window.__parvisNoReload = 1));

  // Readied on both pages, then confirmed at the same moment.
  const confirmAlice = await readyMove(alice, alicesCard, target.id, target.name);
  const confirmBob = await readyMove(bob, CARD_LIVE, target.id, target.name);
  await Promise.all([confirmAlice.click(), confirmBob.click()]);
  log(`${ALICE_ID} moves ${alicesCard} and ${BOB_ID} moves ${CARD_LIVE} to ${target.id}, at once`);

  // Both in the index, each written by its mover; both pages then show the index's order.
  const deadline = Date.now() + TIMEOUT;
  let seen;
  for (;;) {
    const indexed = (await boardAsIndexed()).columns.find((candidate) => candidate.id === target.id).cards;
    const writer = (id) => indexed.find((card) => card.id === id)?.updated_by;
    const landed = writer(alicesCard) === ALICE_ID && writer(CARD_LIVE) === BOB_ID;
    const order = indexed.map((card) => card.id);
    seen = { index: order, alice: await columnOrder(alice, target.id), bob: await columnOrder(bob, target.id), landed };
    if (landed && [seen.alice, seen.bob].every((shown) => JSON.stringify(shown) === JSON.stringify(order))) {
      const positions = indexed.filter((card) => moving.includes(card.id)).map((card) => card.position);
      const tied = positions[0] === positions[1] ? ", tied: ordered by ID" : "";
      log(`${target.id} in the same order everywhere: ${JSON.stringify(order)} (positions ${JSON.stringify(positions)}${tied})`);
      break;
    }
    check(Date.now() < deadline, `the two moves are not shown alike in “${target.name}”: ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  for (const [who, page] of [
    ["alice", alice],
    ["bob", bob],
  ]) {
    check((await page.evaluate(() => window.__parvisNoReload)) === 1, `${who}'s board was reloaded to show the other's move`);
    await idle(page);
  }
  await shoot(alice, "tasks-two-browsers-alice");
  await shoot(bob, "tasks-two-browsers-bob");
  await context.close();
  return { column: target.id, order: seen.index, sameEverywhere: true };
}

async function main() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  try {
    const report = await theBoard(browser);
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } catch (error) {
    await explainFailure();
    throw error;
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
