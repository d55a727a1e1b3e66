// @vitest-environment happy-dom
/**
 * The board and Gantt pages following the tasks room, in a DOM, against a Parvis answering from
 * memory, the room's events handed to the app's live feed as the sync or Element would: another
 * member's move is read from the index until it shows it, then drawn, announced, the focus and
 * an open dialog kept; the page's own write is not read twice; events that change nothing shown
 * are not followed. And the followers' decisions, without a DOM.
 */
import { render } from "preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { translate } from "../../i18n";
import type { LiveEvent, LiveFeed } from "../../session/live";
import { listBoards } from "./api";
import boardPage from "./board-page";
import { GanttScreen, GanttState } from "./gantt-page";
import { BoardFollower, boardShows, GanttFollower, liveAnnouncement } from "./live";
import { settle, TestParvis, testApp, type TasksData } from "./test-parvis";
import type { BoardView, GanttView, KanbanCardContent } from "./types";
import { ApiTaskWriter } from "./writer";

const ROOM = "!tasks:hs";
const BOB = "@bob:hs";

function data(): TasksData {
  return {
    today: "2026-12-16",
    boards: [
      {
        id: "b1",
        name: "Déménagement",
        columns: [
          { id: "todo", name: "To do" },
          { id: "doing", name: "In progress" },
          { id: "done", name: "Done", done: true },
        ],
      },
      { id: "b2", name: "Other", columns: [{ id: "todo", name: "To do" }] },
    ],
    cards: [
      { id: "c1", title: "Order boxes", board: "b1", column: "todo", position: "a0" },
      { id: "c2", title: "Book the van", board: "b1", column: "todo", position: "a1" },
      { id: "c3", title: "Pack books", board: "b1", column: "todo", position: "a2" },
      { id: "c4", title: "Call the bank", board: "b1", column: "doing", position: "a0" },
      { id: "c9", title: "Elsewhere", board: "b2", column: "todo", position: "a0" },
    ],
  };
}

type Card = KanbanCardContent & { id: string; rev?: number };

/** What another member's client does: the card's new content in the room, and its event (`$c3-1`: its next revision). */
function othersWrite(parvis: TestParvis, id: string, patch: Partial<KanbanCardContent>, sender = BOB): LiveEvent {
  const card = parvis.data.cards.find((candidate) => candidate.id === id) as Card;
  const rev = (card.rev ?? 0) + 1;
  const content = { ...card, ...patch };
  delete (content as Partial<Card>).id;
  delete (content as Partial<Card>).rev;
  return {
    room_id: ROOM,
    event_id: `$${id}-${rev}`,
    type: "org.parvis.kanban.card",
    sender,
    state_key: id,
    content,
    origin_server_ts: 5,
  };
}

/** The index catches up with an event: the card as the event has it. */
function index(parvis: TestParvis, event: LiveEvent): void {
  const card = parvis.data.cards.find((candidate) => candidate.id === event.state_key) as Card;
  Object.assign(card, event.content, { rev: Number(/-(\d+)$/.exec(event.event_id)?.[1]) });
}

async function open(query = "") {
  const parvis = new TestParvis(data());
  const harness = testApp(parvis);
  const cleanup = await boardPage(harness.context({ space: "!s:hs" }, query));
  const feed = harness.app.live as LiveFeed;
  return { parvis, feed, ...harness, cleanup };
}

const text = (element: Element | null | undefined) => element?.textContent?.replace(/\s+/g, " ").trim();
const columns = (main: HTMLElement) => Array.from(main.querySelectorAll<HTMLElement>("section.tasks-column"));
const titles = (column: Element | undefined) => Array.from(column?.querySelectorAll(".tasks-card .tasks-open") ?? []).map(text);
const cardOf = (main: HTMLElement, title: string) =>
  Array.from(main.querySelectorAll<HTMLElement>(".tasks-card")).find((card) => text(card.querySelector(".tasks-open")) === title);
const boardReads = (parvis: TestParvis) => parvis.calls.filter((call) => call.method === "GET" && call.url.endsWith("/tasks/boards/b1")).length;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  document.body.replaceChildren();
});

describe("the board page, following the tasks room", () => {
  it("follows the community's tasks room while shown, and no more once left", async () => {
    const { feed, cleanup } = await open();
    expect(feed.rooms()).toEqual([ROOM]);
    if (typeof cleanup === "function") cleanup();
    expect(feed.rooms()).toEqual([]);
  });

  it("reads the board again when another member moves a card, until the index shows it, then shows the new order and says so", async () => {
    const { main, parvis, feed, announced } = await open();
    expect(boardReads(parvis)).toBe(1);
    const moved = othersWrite(parvis, "c3", { column: "doing", position: "a1" });
    feed.dispatch(moved);
    // The index has not seen it yet: the page reads again, and shows nothing new meanwhile.
    await vi.waitFor(() => expect(boardReads(parvis)).toBeGreaterThan(1));
    expect(titles(columns(main)[1])).toEqual(["Call the bank"]);
    index(parvis, moved);
    await vi.waitFor(() => expect(titles(columns(main)[1])).toEqual(["Call the bank", "Pack books"]), { timeout: 3_000 });
    expect(titles(columns(main)[0])).toEqual(["Order boxes", "Book the van"]);
    expect(announced).toEqual(["bob moved “Pack books” to In progress."]);
    // Shown: no more reads.
    const reads = boardReads(parvis);
    await pause(700);
    expect(boardReads(parvis)).toBe(reads);
    // A new order within a column is shown too.
    const up = othersWrite(parvis, "c2", { position: "Zz" });
    index(parvis, up);
    feed.dispatch(up);
    await vi.waitFor(() => expect(titles(columns(main)[0])).toEqual(["Book the van", "Order boxes"]));
    expect(announced[1]).toBe("bob moved “Book the van” to To do.");
  });

  it("keeps the focus on the control it was on, and the open dialog with what is typed in it", async () => {
    const { main, parvis, feed } = await open("card=c1");
    const dialog = main.querySelector<HTMLDialogElement>("dialog.tasks-dialog");
    const title = dialog?.querySelector<HTMLInputElement>("#tasks-card-title");
    title!.value = "Order more boxes";
    title!.dispatchEvent(new Event("input", { bubbles: true }));
    await settle();
    const moved = othersWrite(parvis, "c1", { column: "done", position: "a0" });
    index(parvis, moved);
    feed.dispatch(moved);
    await vi.waitFor(() => expect(titles(columns(main)[2])).toEqual(["Order boxes"]));
    expect(main.querySelector("dialog.tasks-dialog")).toBe(dialog);
    expect(dialog?.querySelector<HTMLInputElement>("#tasks-card-title")?.value).toBe("Order more boxes");
    dialog?.querySelector<HTMLButtonElement>(".actions button.secondary")?.click();
    await vi.waitFor(() => expect(main.querySelector("dialog")).toBeNull());

    // The focus on a card that another member moves to another column: it follows the card.
    const open2 = cardOf(main, "Book the van")?.querySelector<HTMLButtonElement>("button.tasks-open");
    open2?.focus();
    expect(document.activeElement).toBe(open2);
    const away = othersWrite(parvis, "c2", { column: "doing", position: "a1" });
    index(parvis, away);
    feed.dispatch(away);
    await vi.waitFor(() => expect(titles(columns(main)[1])).toEqual(["Call the bank", "Book the van"]));
    await vi.waitFor(() => expect(document.activeElement).toBe(cardOf(main, "Book the van")?.querySelector("button.tasks-open")));
  });

  it("does not read the board a second time for its own write, heard before or after its answer", async () => {
    const { main, parvis, feed, announced } = await open();
    const release = parvis.holdWrites();
    cardOf(main, "Order boxes")?.querySelector<HTMLButtonElement>('button[data-move="down"]')?.click();
    await settle();
    // The sync may bring the page's own event before the write's answer: it waits for it.
    const own: LiveEvent = {
      room_id: ROOM,
      event_id: "$c1-1",
      type: "org.parvis.kanban.card",
      sender: "@alice:hs",
      state_key: "c1",
      content: { title: "Order boxes", board: "b1", column: "todo", position: "a1V" },
      origin_server_ts: 5,
    };
    feed.dispatch(own);
    release();
    await vi.waitFor(() => expect(boardReads(parvis)).toBe(2));
    await vi.waitFor(() => expect(titles(columns(main)[0])).toEqual(["Book the van", "Order boxes", "Pack books"]));
    // Or after it; and Element pushes it again with the room's state.
    feed.dispatch(own);
    feed.dispatch({ ...own });
    await pause(700);
    expect(boardReads(parvis)).toBe(2);
    expect(announced).toEqual(["“Order boxes” moved to To do, position 2 of 3."]);
  });

  it("shows another member's change heard during its own write with the write's own reading, and says so", async () => {
    const { main, parvis, feed, announced } = await open();
    const release = parvis.holdWrites();
    cardOf(main, "Order boxes")?.querySelector<HTMLButtonElement>('button[data-move="down"]')?.click();
    await settle();
    const bobs = othersWrite(parvis, "c4", { column: "done", position: "a0" });
    index(parvis, bobs);
    feed.dispatch(bobs);
    release();
    await vi.waitFor(() => expect(titles(columns(main)[2])).toEqual(["Call the bank"]));
    expect(titles(columns(main)[0])).toEqual(["Book the van", "Order boxes", "Pack books"]);
    expect(announced).toEqual(["“Order boxes” moved to To do, position 2 of 3.", "bob moved “Call the bank” to Done."]);
    await pause(700);
    expect(boardReads(parvis)).toBe(2);
  });

  it("ignores events that change nothing it shows", async () => {
    const { main, parvis, feed, announced } = await open();
    const shown = othersWrite(parvis, "c1", {});
    const unrelated: LiveEvent[] = [
      // Another board's card, and another board's card that stays off this one.
      othersWrite(parvis, "c9", { title: "Elsewhere, renamed" }),
      { ...othersWrite(parvis, "c9", {}), state_key: "c10", content: { title: "New", board: "b2", column: "todo", position: "a1" } },
      { ...othersWrite(parvis, "c1", { archived: true }), state_key: "c11", content: { title: "Gone", board: "b1", column: "todo", position: "a1", archived: true } },
      // The revision shown (pushed again with the room state), and an older one.
      { ...shown, event_id: "$c1-0" },
      { ...othersWrite(parvis, "c1", { title: "Older" }), origin_server_ts: 0 },
      // The board as shown, pushed again; other types; no state key.
      {
        room_id: ROOM,
        event_id: "$b1",
        type: "org.parvis.kanban.board",
        sender: BOB,
        state_key: "b1",
        content: { name: "Déménagement", columns: data().boards[0]?.columns },
        origin_server_ts: 5,
      },
      { room_id: ROOM, event_id: "$m", type: "m.room.message", sender: BOB, content: { body: "hi" }, origin_server_ts: 5 },
      { room_id: ROOM, event_id: "$w", type: "org.parvis.wiki.page", sender: BOB, state_key: "c1", content: {}, origin_server_ts: 5 },
      { ...othersWrite(parvis, "c1", { title: "No key" }), state_key: undefined },
    ];
    for (const event of unrelated) feed.dispatch(event);
    // Another room's event, even one of this board's cards.
    feed.dispatch({ ...othersWrite(parvis, "c1", { title: "Other room" }), room_id: "!other:hs" });
    await pause(700);
    expect(boardReads(parvis)).toBe(1);
    expect(parvis.calls.filter((call) => call.method === "GET" && call.url.endsWith("/tasks/boards"))).toHaveLength(1);
    expect(announced).toEqual([]);
    expect(titles(columns(main)[0])).toEqual(["Order boxes", "Book the van", "Pack books"]);
  });

  it("reads the board again for another member's change of the board itself, and the picker's list", async () => {
    const { main, parvis, feed, announced } = await open();
    const board = parvis.data.boards[0]!;
    const content = { name: "Le déménagement", columns: [...(board.columns ?? []), { id: "check", name: "To check" }] };
    Object.assign(board, content);
    feed.dispatch({ room_id: ROOM, event_id: "$b1-1", type: "org.parvis.kanban.board", sender: BOB, state_key: "b1", content, origin_server_ts: 5 });
    await vi.waitFor(() => expect(text(main.querySelector("h1"))).toBe("Le déménagement"));
    expect(columns(main).map((column) => text(column.querySelector(".tasks-column-name")))).toEqual(["To do", "In progress", "Done", "To check"]);
    await vi.waitFor(() => expect(main.querySelector<HTMLSelectElement>("#tasks-board")?.options[0]?.textContent).toBe("Le déménagement"));
    expect(announced).toEqual(["bob changed the board “Le déménagement”."]);
  });
});

describe("the Gantt page, following the tasks room", () => {
  /** Board b1's schedule. */
  function schedule(all: TasksData["cards"]): GanttView {
    const cards = all.filter((card) => card.board === "b1");
    return {
      cards: cards
        .filter((card) => card.due && !card.archived)
        .map((card) => ({
          id: card.id,
          title: card.title,
          board: card.board,
          column: card.column,
          done: card.column === "done",
          start: card.start ?? (card.due as string),
          due: card.due as string,
          depends_on: card.depends_on ?? [],
          earliest_start: card.start ?? (card.due as string),
          earliest_finish: card.due as string,
          latest_start: card.start ?? (card.due as string),
          latest_finish: card.due as string,
          slack: 0,
          pushed_by: 0,
          critical: false,
        })),
      critical_path: [],
      undated: cards.filter((card) => !card.due && !card.archived).map((card) => ({ id: card.id, title: card.title, board: card.board })),
    };
  }

  async function openGantt() {
    const tasks = data();
    tasks.cards[0]!.due = "2026-12-18";
    tasks.gantt = schedule;
    const parvis = new TestParvis(tasks);
    const harness = testApp(parvis);
    const state = new GanttState(harness.app, "!s:hs", "b1", await listBoards(harness.app.api, "!s:hs"), new ApiTaskWriter(harness.app.api), harness.controller.signal);
    await state.reload();
    const unfollow = state.follow(harness.app.live, ROOM);
    render(<GanttScreen state={state} loadChart={async () => class {} as never} />, harness.main);
    await settle();
    const reads = () => parvis.calls.filter((call) => call.url.includes("/tasks/gantt")).length;
    return { parvis, state, unfollow, reads, feed: harness.app.live as LiveFeed, ...harness };
  }
  const rows = (main: HTMLElement) =>
    Array.from(main.querySelectorAll("table.tasks-table tbody tr")).map((row) => Array.from(row.children).map((cell) => text(cell)));

  it("shows another member's new dates once the index has them, and says so", async () => {
    const { parvis, feed, main, announced, reads } = await openGantt();
    expect(rows(main).map((row) => row[0])).toEqual(["Order boxes"]);
    const dated = othersWrite(parvis, "c2", { start: "2026-12-17", due: "2026-12-19" });
    feed.dispatch(dated);
    await vi.waitFor(() => expect(reads()).toBeGreaterThan(1));
    index(parvis, dated);
    await vi.waitFor(() => expect(rows(main).map((row) => row[0])).toEqual(["Order boxes", "Book the van"]), { timeout: 3_000 });
    expect(announced).toEqual(["bob changed “Book the van”."]);
  });

  it("ignores what the schedule does not show, and its own rescheduling", async () => {
    const { parvis, feed, state, reads, announced } = await openGantt();
    // A new description, a new place in the column, another board's card: nothing to read.
    for (const event of [
      othersWrite(parvis, "c1", { description: "Big ones" }),
      othersWrite(parvis, "c1", { position: "a0V" }),
      othersWrite(parvis, "c9", { due: "2026-12-20" }),
    ]) {
      feed.dispatch(event);
    }
    await pause(500);
    expect(reads()).toBe(1);
    await state.reschedule("c1", { start: "2026-12-17", due: "2026-12-19" });
    const after = reads();
    feed.dispatch({
      ...othersWrite(parvis, "c1", {}, "@alice:hs"),
      event_id: "$c1-1",
      content: { title: "Order boxes", board: "b1", column: "todo", position: "a0", start: "2026-12-17", due: "2026-12-19" },
    });
    await pause(700);
    expect(reads()).toBe(after);
    expect(announced).toEqual(["“Order boxes” now runs from 17 Dec 2026 to 19 Dec 2026."]);
  });
});

describe("the followers", () => {
  const view = (over: Partial<BoardView> = {}): BoardView => ({
    id: "b1",
    name: "Plan",
    archived: false,
    may_write: true,
    columns: [
      {
        id: "todo",
        name: "To do",
        over_limit: false,
        cards: [{ id: "a", title: "A", board: "b1", column: "todo", position: "a0", late: false, event_id: "$a", updated_by: BOB, updated_at: 10 }],
      },
      { id: "done", name: "Done", done: true, over_limit: false, cards: [] },
    ],
    unplaced: [],
    ...over,
  });
  const event = (over: Partial<LiveEvent>): LiveEvent => ({
    room_id: ROOM,
    event_id: "$e",
    type: "org.parvis.kanban.card",
    sender: BOB,
    state_key: "a",
    content: { title: "A", board: "b1", column: "done", position: "a0" },
    origin_server_ts: 20,
    ...over,
  });

  it("wait for a card's event until the index shows it or a later one, then say what changed", () => {
    const follower = new BoardFollower(view());
    expect(follower.offer(event({}))).toBe(true);
    // Heard twice: followed once.
    expect(follower.offer(event({}))).toBe(false);
    expect(follower.shouldShow(view())).toBe(false);
    const moved = view();
    const card = moved.columns[0]!.cards.pop()!;
    moved.columns[1]!.cards.push({ ...card, column: "done", event_id: "$e", updated_at: 20 });
    expect(follower.shouldShow(moved)).toBe(true);
    expect(follower.showing(moved)).toEqual([{ sender: BOB, kind: "moved", title: "A", column: "Done" }]);
    expect(follower.waiting).toBe(false);
  });

  it("take a card's leaving and a board's new content as shown when the index has them", () => {
    const follower = new BoardFollower(view());
    expect(follower.offer(event({ content: { title: "A", board: "b1", column: "todo", position: "a0", archived: true } }))).toBe(true);
    expect(follower.showing(view({ columns: [{ id: "todo", name: "To do", over_limit: false, cards: [] }] }))).toEqual([
      { sender: BOB, kind: "removed", title: "A" },
    ]);
    const board = { name: "Plan", columns: [{ id: "todo", name: "À faire" }] };
    expect(boardShows(view(), board)).toBe(false);
    expect(follower.offer(event({ event_id: "$b", type: "org.parvis.kanban.board", state_key: "b1", content: board }))).toBe(true);
    expect(follower.shouldShow(view({ columns: [{ id: "todo", name: "À faire", over_limit: false, cards: [] }] }))).toBe(true);
  });

  it("leave out the page's own events", () => {
    const follower = new BoardFollower(view());
    follower.own("$e");
    expect(follower.offer(event({}))).toBe(false);
    expect(new GanttFollower("b1", { cards: [], critical_path: [], undated: [] }).offer(event({ content: { title: "A", board: "b2", column: "todo", position: "a0" } }))).toBe(false);
  });

  it("follow a board event on the Gantt page unless the boards read have its content", () => {
    const summary = { id: "b1", name: "Plan", cards: 1, columns: [{ id: "todo", name: "To do" }] };
    const schedule: GanttView = { cards: [], critical_path: [], undated: [] };
    const board = (content: Record<string, unknown>) => event({ type: "org.parvis.kanban.board", state_key: "b1", content });
    expect(new GanttFollower(undefined, schedule, [summary]).offer(board({ name: "Plan", columns: [{ id: "todo", name: "To do" }] }))).toBe(false);
    const follower = new GanttFollower(undefined, schedule, [summary]);
    expect(follower.offer(board({ name: "Plan", columns: [{ id: "todo", name: "To do", done: true }] }))).toBe(true);
    expect(follower.patienceMs).toBe(1_500);
    // Another board's, when the page shows one board.
    expect(new GanttFollower("b2", schedule, []).offer(board({ name: "Other" }))).toBe(false);
  });

  it("tell a few changes one by one, many by their number, in the user's language", () => {
    const t = (lang: "en" | "fr") => (key: Parameters<typeof translate>[1], params?: Parameters<typeof translate>[2]) => translate(lang, key, params);
    const moved = { sender: "@bob:hs", kind: "moved" as const, title: "X", column: "In progress" };
    expect(liveAnnouncement(t("en"), [moved])).toBe("bob moved “X” to In progress.");
    expect(liveAnnouncement(t("fr"), [moved])).toBe("bob a déplacé « X » dans In progress.");
    expect(liveAnnouncement(t("en"), [moved, { sender: "@carol:hs", kind: "added", title: "Y", column: "To do" }])).toBe(
      "bob moved “X” to In progress. carol added “Y” to To do.",
    );
    expect(liveAnnouncement(t("en"), [moved, moved, moved, moved])).toBe("4 changes by other members are now shown.");
    expect(liveAnnouncement(t("en"), [])).toBeNull();
  });
});
