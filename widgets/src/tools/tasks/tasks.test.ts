/**
 * The tasks tool without a DOM: its registration, its strings, where moves put cards, the
 * board shown before the server answers, the filters, the widget's own checks and positions,
 * its API calls, the Gantt chart's bars.
 */
import { generateKeyBetween } from "fractional-indexing";
import { describe, expect, it } from "vitest";
import { ApiClient } from "../../api/client";
import type { PageContext } from "../../app/context";
import { RouteRegistry } from "../../app/registry";
import { translate, type MessageKey, type MessageParams } from "../../i18n";
import { receivedEventTypes, toolCapabilities } from "../../session/capabilities";
import { commentContent } from "../../session/writer";
import { registerTools } from "../index";
import { cardComments, listBoards, loadGantt, myTasks, postComment, postMove } from "./api";
import {
  ALL_CARDS,
  applyMove,
  cardInputOf,
  columnMove,
  dropMove,
  filterChoices,
  matchesFilter,
  moveToIndex,
  splitList,
  stepMove,
  wipCount,
} from "./board";
import { addDays, daysBetween, formatDate, isCalendarDate, weekOf } from "./dates";
import { dropTargetOf, closestEdge } from "./dnd";
import { chartBars, draggedDays, escapeMarkup, rescheduled } from "./gantt";
import messages from "./messages";
import tasks from "./tool";
import type { BoardView, CardView, GanttView } from "./types";
import { checkCard, dependencyCircle, endPosition, positionAfter, WidgetTaskWriter, type TaskWidget } from "./writer";

const t = (key: MessageKey, params?: MessageParams) => translate("en", key, params);

const card = (id: string, position: string, over: Partial<CardView> = {}): CardView => ({
  id,
  title: id.toUpperCase(),
  board: "b1",
  column: "todo",
  position,
  late: false,
  event_id: `$${id}`,
  updated_by: "@alice:hs",
  updated_at: 1,
  ...over,
});

/** To do: a, b, c; In progress (limit 2): d; Done: nothing. */
function board(): BoardView {
  return {
    id: "b1",
    name: "Projet",
    archived: false,
    may_write: true,
    columns: [
      { id: "todo", name: "To do", cards: [card("a", "a0"), card("b", "a1"), card("c", "a2")], over_limit: false },
      { id: "doing", name: "In progress", wip_limit: 2, cards: [card("d", "a0", { column: "doing" })], over_limit: false },
      { id: "done", name: "Done", done: true, cards: [], over_limit: false },
    ],
    unplaced: [],
  };
}

describe("the tasks tool", () => {
  it("has a navigation entry to its board, which the tasks room's widget opens, and its other pages", () => {
    const registry = new RouteRegistry<PageContext>();
    registerTools(registry);
    expect(registry.navigationTools(["tasks"]).map((tool) => tool.id)).toContain("tasks");
    expect(registry.navigationTools(["wiki"]).map((tool) => tool.id)).not.toContain("tasks");
    expect(registry.match("/c/!s:hs/tasks")?.route.name).toBe("tasks.board");
    expect(registry.match("/c/!s:hs/tasks/gantt")?.route.name).toBe("tasks.gantt");
    expect(registry.match("/tasks/mine")?.route.name).toBe("tasks.mine");
    expect(registry.match("/tasks/mine")?.route.tool).toBe("tasks");
    expect(registry.homeSections(["tasks"]).map(({ tool, slot }) => `${tool.id}.${slot.name}`)).toContain("tasks.my-cards");
    expect(registry.homeSections(["wiki"]).map(({ tool }) => tool.id)).not.toContain("tasks");
  });

  it("asks Element to send boards, cards and comments as the user, and to tell the pages of others'", () => {
    expect(toolCapabilities([tasks])).toEqual([
      "org.matrix.msc2762.send.state_event:org.parvis.kanban.board",
      "org.matrix.msc2762.send.state_event:org.parvis.kanban.card",
      "org.matrix.msc2762.send.event:m.room.message",
      "org.matrix.msc2762.receive.state_event:org.parvis.kanban.board",
      "org.matrix.msc2762.receive.state_event:org.parvis.kanban.card",
      "org.matrix.msc2762.receive.event:m.room.message",
      "org.matrix.msc2762.receive.event:m.room.redaction",
    ]);
    // The standalone app's sync asks the homeserver for the same events.
    expect(receivedEventTypes(toolCapabilities([tasks]))).toEqual({
      state: ["org.parvis.kanban.board", "org.parvis.kanban.card"],
      timeline: ["m.room.message", "m.room.redaction"],
    });
  });

  it("has its strings in both languages, from its own folder", () => {
    expect(Object.keys(messages.fr).sort()).toEqual(Object.keys(messages.en).sort());
    expect(translate("en", "tasks.name")).toBe("Tasks");
    expect(translate("fr", "tasks.name")).toBe("Tâches");
    expect(translate("fr", "tasks.moved", { title: "A", column: "Fait", position: 1, count: 2 })).toBe("« A » déplacée dans Fait, position 1 sur 2.");
  });
});

describe("moving a card", () => {
  it("says which card a dropped card lands after: null at the top", () => {
    const b = board();
    // c dropped on the top half of a: first of its column.
    expect(dropMove(b, "c", { column: "todo", card: { id: "a", edge: "top" } })).toEqual({ column: "todo", after: null });
    // c dropped on the bottom half of a: after a.
    expect(dropMove(b, "c", { column: "todo", card: { id: "a", edge: "bottom" } })).toEqual({ column: "todo", after: "a" });
    // a dropped on the top half of c: after b (a leaves its place first).
    expect(dropMove(b, "a", { column: "todo", card: { id: "c", edge: "top" } })).toEqual({ column: "todo", after: "b" });
    // Into another column: on a card, or on the column for its end.
    expect(dropMove(b, "a", { column: "doing", card: { id: "d", edge: "top" } })).toEqual({ column: "doing", after: null });
    expect(dropMove(b, "a", { column: "doing" })).toEqual({ column: "doing", after: "d" });
    expect(dropMove(b, "a", { column: "done" })).toEqual({ column: "done", after: null });
    // Where it already is, or on itself: nothing to write.
    expect(dropMove(b, "b", { column: "todo", card: { id: "a", edge: "bottom" } })).toBeNull();
    expect(dropMove(b, "b", { column: "todo", card: { id: "b", edge: "top" } })).toBeNull();
    expect(dropMove(b, "c", { column: "todo" })).toBeNull();
    expect(dropMove(b, "a", { column: "gone" })).toBeNull();
  });

  it("moves one place up or down from the keyboard, not past the ends", () => {
    const b = board();
    expect(stepMove(b, "b", -1)).toEqual({ column: "todo", after: null });
    expect(stepMove(b, "c", -1)).toEqual({ column: "todo", after: "a" });
    expect(stepMove(b, "a", 1)).toEqual({ column: "todo", after: "b" });
    expect(stepMove(b, "b", 1)).toEqual({ column: "todo", after: "c" });
    expect(stepMove(b, "a", -1)).toBeNull();
    expect(stepMove(b, "c", 1)).toBeNull();
    expect(columnMove(b, "a", "doing")).toEqual({ column: "doing", after: "d" });
    expect(columnMove(b, "a", "todo")).toBeNull();
    expect(moveToIndex(b, "a", "todo", 99)).toEqual({ column: "todo", after: "c" });
  });

  it("shows the board as it will be, the column over its limit flagged", () => {
    const b = board();
    const moved = applyMove(applyMove(b, "a", { column: "doing", after: "d" }), "b", { column: "doing", after: null });
    expect(moved.columns[0]?.cards.map((c) => c.id)).toEqual(["c"]);
    expect(moved.columns[1]?.cards.map((c) => c.id)).toEqual(["b", "d", "a"]);
    expect(moved.columns[1]?.cards[0]?.column).toBe("doing");
    expect(moved.columns[1]?.over_limit).toBe(true);
    expect(wipCount(moved.columns[1] as BoardView["columns"][number])).toBe("3/2");
    expect(wipCount(moved.columns[0] as BoardView["columns"][number])).toBe("1");
    // The board given is left as it was (the page puts it back when the write is refused).
    expect(b.columns[0]?.cards.map((c) => c.id)).toEqual(["a", "b", "c"]);
    expect(applyMove(b, "zzz", { column: "todo", after: null })).toBe(b);
  });

  it("reads where a drop landed from the targets under the pointer", () => {
    expect(closestEdge(10, { top: 0, height: 40 })).toBe("top");
    expect(closestEdge(30, { top: 0, height: 40 })).toBe("bottom");
    expect(dropTargetOf([{ data: { kind: "tasks-card", cardId: "a", column: "todo", edge: "top" } }, { data: { kind: "tasks-column", column: "todo" } }])).toEqual({
      column: "todo",
      card: { id: "a", edge: "top" },
    });
    expect(dropTargetOf([{ data: { kind: "tasks-column", column: "done" } }])).toEqual({ column: "done" });
    expect(dropTargetOf([])).toBeNull();
    expect(dropTargetOf([{ data: { kind: "other" } }])).toBeNull();
  });
});

describe("filters", () => {
  const today = "2026-12-16"; // a Wednesday
  const cards = [
    card("late", "a0", { due: "2026-12-10", late: true, assignees: ["@bob:hs"], labels: ["achats"] }),
    card("week", "a1", { due: "2026-12-20", assignees: ["@alice:hs", "@bob:hs"] }),
    card("later", "a2", { due: "2027-01-10", labels: ["achats", "urgent"] }),
    card("undated", "a3"),
  ];
  const shown = (filter: Partial<typeof ALL_CARDS>) =>
    cards.filter((c) => matchesFilter(c, { ...ALL_CARDS, ...filter }, today)).map((c) => c.id);

  it("keep the cards of an assignee, of a label, and by due date", () => {
    expect(shown({})).toEqual(["late", "week", "later", "undated"]);
    expect(shown({ assignee: "@bob:hs" })).toEqual(["late", "week"]);
    expect(shown({ label: "achats" })).toEqual(["late", "later"]);
    expect(shown({ due: "late" })).toEqual(["late"]);
    expect(shown({ due: "week" })).toEqual(["week"]);
    expect(shown({ due: "none" })).toEqual(["undated"]);
    expect(shown({ assignee: "@bob:hs", due: "week" })).toEqual(["week"]);
  });

  it("offer the board's assignees and labels, each once", () => {
    const b = board();
    b.columns[0]!.cards = cards;
    expect(filterChoices(b)).toEqual({ assignees: ["@alice:hs", "@bob:hs"], labels: ["achats", "urgent"] });
  });

  it("count weeks from Monday to Sunday", () => {
    expect(weekOf("2026-12-16")).toEqual({ monday: "2026-12-14", sunday: "2026-12-20" });
    expect(weekOf("2026-12-14")).toEqual({ monday: "2026-12-14", sunday: "2026-12-20" });
    expect(weekOf("2026-12-20")).toEqual({ monday: "2026-12-14", sunday: "2026-12-20" });
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(daysBetween("2026-03-28", "2026-03-30")).toBe(2);
    expect(isCalendarDate("2026-02-30")).toBe(false);
    expect(formatDate("2026-12-18", "en")).toBe("18 Dec 2026");
  });
});

describe("a card's fields", () => {
  it("are sent back whole, empty ones as the API takes them", () => {
    const full = card("a", "a0", {
      description: "Voir le devis.",
      assignees: ["@bob:hs"],
      labels: ["achats"],
      start: "2026-12-14",
      due: "2026-12-18",
      checklist: [{ text: "Devis", done: true }, { text: "Bon" }],
      depends_on: ["c0"],
    });
    expect(cardInputOf(full)).toEqual({
      title: "A",
      description: "Voir le devis.",
      column: "todo",
      assignees: ["@bob:hs"],
      labels: ["achats"],
      start: "2026-12-14",
      due: "2026-12-18",
      checklist: [
        { text: "Devis", done: true },
        { text: "Bon", done: false },
      ],
      depends_on: ["c0"],
      archived: false,
    });
    expect(cardInputOf(card("b", "a1"))).toMatchObject({ description: "", assignees: [], start: null, due: null, archived: false });
  });

  it("split typed lists", () => {
    expect(splitList("@a:hs, @b:hs @a:hs", /[,\s]+/)).toEqual(["@a:hs", "@b:hs"]);
    expect(splitList(" achats, bon de commande ,")).toEqual(["achats", "bon de commande"]);
  });
});

describe("the widget's writes", () => {
  it("place a card between its new neighbours with the server's keys", () => {
    const b = board();
    expect(positionAfter(b, "c", "todo", null, t)).toBe(generateKeyBetween(null, "a0"));
    expect(positionAfter(b, "c", "todo", "a", t)).toBe(generateKeyBetween("a0", "a1"));
    expect(positionAfter(b, "a", "todo", "c", t)).toBe(generateKeyBetween("a2", null));
    expect(positionAfter(b, "a", "doing", "d", t)).toBe(generateKeyBetween("a0", null));
    // Two cards sharing a position (concurrent moves): the next different one is the bound.
    b.columns[0]!.cards[1]!.position = "a0";
    expect(positionAfter(b, "c", "todo", "a", t)).toBe(generateKeyBetween("a0", "a2"));
    expect(() => positionAfter(b, "c", "todo", "d", t)).toThrow(/not in that column/);
    expect(endPosition(b, "x", "todo")).toBe(generateKeyBetween("a2", null));
  });

  it("refuse what the server refuses, with its errcodes, and warn of a full column", () => {
    const b = board();
    const base = { title: "New", board: "b1", column: "todo", position: "a3" };
    expect(checkCard("x", base, b, t)).toEqual([]);
    const refusal = (content: Partial<typeof base> & Record<string, unknown>, on = b) => {
      try {
        checkCard("x", { ...base, ...content }, on, t);
        return null;
      } catch (error) {
        return (error as { errcode: string }).errcode;
      }
    };
    expect(refusal({ title: " " })).toBe("M_INVALID_PARAM");
    expect(refusal({ column: "nope" })).toBe("ORG.PARVIS_UNKNOWN_COLUMN");
    expect(refusal({ start: "2026-12-18", due: "2026-12-14" })).toBe("ORG.PARVIS_DUE_BEFORE_START");
    expect(refusal({ assignees: ["bob"] })).toBe("M_INVALID_PARAM");
    expect(refusal({}, { ...b, archived: true })).toBe("ORG.PARVIS_ARCHIVED_BOARD");
    expect(checkCard("x", { ...base, column: "doing" }, b, t)).toEqual([]);
    b.columns[1]!.cards.push(card("e", "a1", { column: "doing" }));
    expect(checkCard("x", { ...base, column: "doing" }, b, t)).toEqual([
      "the column “In progress” now holds 3 cards, over its limit of 2",
    ]);
  });

  it("refuse dependencies in a circle, naming the cards", () => {
    const b = board();
    b.columns[0]!.cards[0]!.depends_on = ["b"]; // A depends on B
    b.columns[0]!.cards[1]!.depends_on = ["c"]; // B depends on C
    expect(dependencyCircle("c", ["a"], b)).toEqual(["C", "A", "B", "C"]);
    expect(dependencyCircle("c", ["d"], b)).toBeNull();
    expect(() => checkCard("c", { ...b.columns[0]!.cards[2]!, depends_on: ["a"] }, b, t)).toThrow("C → A → B → C");
  });

  it("send the card as a state event of the tasks room, keeping its fields, moved between its neighbours", async () => {
    const sent: { type: string; key: string; content: unknown; room: string | undefined }[] = [];
    const widget: TaskWidget = {
      roomArgument: async (room) => (room === "!tasks:hs" ? undefined : room),
      api: {
        sendStateEvent: async (type, key, content, room) => {
          sent.push({ type, key, content, room });
          return { event_id: `$sent${sent.length}` };
        },
        sendRoomEvent: async () => {
          throw new Error("no message here");
        },
      },
    };
    const writer = new WidgetTaskWriter(widget, async () => "!tasks:hs", t);
    const b = board();
    b.columns[0]!.cards[0]!.labels = ["achats"];
    const written = await writer.moveCard("!s:hs", b, "a", { column: "todo", after: "b" });
    expect(written).toEqual({ id: "a", event_id: "$sent1", warnings: [] });
    expect(sent[0]).toEqual({
      type: "org.parvis.kanban.card",
      key: "a",
      content: { title: "A", board: "b1", column: "todo", position: generateKeyBetween("a1", "a2"), labels: ["achats"] },
      room: undefined,
    });
    const created = await writer.createCard("!s:hs", b, { title: " Appeler ", column: "done" });
    expect(sent[1]?.key).toBe(created.id);
    expect(sent[1]?.content).toEqual({ title: "Appeler", board: "b1", column: "done", position: "a0" });
    await writer.editCard("!s:hs", b, "b", { ...cardInputOf(b.columns[0]!.cards[1]!), column: "doing", due: "2026-12-18" });
    expect(sent[2]?.content).toEqual({ title: "B", board: "b1", column: "doing", position: generateKeyBetween("a0", null), due: "2026-12-18" });
    await expect(writer.editCard("!s:hs", b, "b", { title: "B", start: "2026-12-19", due: "2026-12-18" })).rejects.toMatchObject({
      status: 400,
      errcode: "ORG.PARVIS_DUE_BEFORE_START",
    });
    const boardWritten = await writer.createBoard("!s:hs", { name: "Plan", columns: [{ name: "À faire" }, { name: "Fait", done: true }] });
    expect(sent[3]).toMatchObject({
      type: "org.parvis.kanban.board",
      key: boardWritten.id,
      content: { name: "Plan", columns: [{ id: "col0", name: "À faire" }, { id: "col1", name: "Fait", done: true }] },
    });
    expect(sent).toHaveLength(4);
  });

  it("send a comment as a message in the thread of the card's current event, as a wiki page's comment is; none empty", async () => {
    const sent: { type: string; content: unknown; room: string | undefined }[] = [];
    const widget: TaskWidget = {
      roomArgument: async (room) => (room === "!tasks:hs" ? undefined : room),
      api: {
        sendStateEvent: async () => {
          throw new Error("no state here");
        },
        sendRoomEvent: async (type, content, room) => {
          sent.push({ type, content, room });
          return { event_id: `$m${sent.length}` };
        },
      },
    };
    // Another room than the widget's: named to Element.
    const writer = new WidgetTaskWriter(widget, async () => "!other-tasks:hs", t);
    const current = card("a", "a0", { event_id: "$a-3" });
    expect(await writer.commentCard("!s:hs", current, "Des cartons <b>solides</b>")).toEqual({ event_id: "$m1" });
    expect(sent).toEqual([
      {
        type: "m.room.message",
        content: commentContent("$a-3", "Des cartons <b>solides</b>"),
        room: "!other-tasks:hs",
      },
    ]);
    expect(sent[0]?.content).toEqual({
      msgtype: "m.text",
      body: "Des cartons <b>solides</b>",
      "m.relates_to": { rel_type: "m.thread", event_id: "$a-3", is_falling_back: true, "m.in_reply_to": { event_id: "$a-3" } },
    });
    await expect(writer.commentCard("!s:hs", current, "  \n ")).rejects.toMatchObject({ status: 400, errcode: "M_INVALID_PARAM" });
    expect(sent).toHaveLength(1);
  });
});

describe("the tasks API", () => {
  it("is called through the app's client, at the documented paths", async () => {
    const calls: string[] = [];
    const api = new ApiClient({
      baseUrl: "",
      token: () => "tok",
      fetch: async (url, init) => {
        calls.push(`${init?.method} ${url} ${init?.body ?? ""}`.trim());
        return new Response(JSON.stringify(url.includes("gantt") ? { cards: [], critical_path: [], undated: [] } : []), { status: 200 });
      },
    });
    await listBoards(api, "!s:hs");
    await loadGantt(api, "!s:hs", "b 1");
    await loadGantt(api, "!s:hs", undefined);
    await myTasks(api);
    await postMove(api, "!s:hs", "c1", { column: "doing", after: null });
    await cardComments(api, "!s:hs", "c 1");
    await postComment(api, "!s:hs", "c1", "Bien reçu");
    expect(calls).toEqual([
      "GET /api/v1/communities/!s%3Ahs/tasks/boards",
      "GET /api/v1/communities/!s%3Ahs/tasks/gantt?board=b+1",
      "GET /api/v1/communities/!s%3Ahs/tasks/gantt",
      "GET /api/v1/tasks/mine",
      'POST /api/v1/communities/!s%3Ahs/tasks/cards/c1/move {"column":"doing","after":null}',
      "GET /api/v1/communities/!s%3Ahs/tasks/cards/c%201/comments",
      'POST /api/v1/communities/!s%3Ahs/tasks/cards/c1/comments {"body":"Bien reçu"}',
    ]);
  });
});

describe("the Gantt chart's bars", () => {
  const gantt: GanttView = {
    cards: [
      { ...scheduled("a", "<b>Plan</b>"), critical: true },
      { ...scheduled("b", "Build"), depends_on: ["a", "gone"], done: true },
    ],
    critical_path: ["a"],
    end: "2026-12-20",
    undated: [],
  };

  it("escape the titles the chart writes as markup, draw the arrows, mark the critical path", () => {
    expect(escapeMarkup(`<img src=x onerror="a('1')">&`)).toBe("&#60;img src=x onerror=&#34;a(&#39;1&#39;)&#34;&#62;&#38;");
    expect(chartBars(gantt)).toEqual([
      { id: "a", name: "&#60;b&#62;Plan&#60;/b&#62;", start: "2026-12-14", end: "2026-12-18", progress: 0, dependencies: "", custom_class: "tasks-critical" },
      { id: "b", name: "Build", start: "2026-12-14", end: "2026-12-18", progress: 100, dependencies: "a", custom_class: "tasks-done" },
    ]);
  });

  it("turn a dragged bar into the card's new dates", () => {
    // The chart gives the first moment and the last second of the bar, in local time.
    expect(draggedDays(new Date(2026, 11, 15, 0, 0, 0), new Date(2026, 11, 19, 23, 59, 59))).toEqual({ start: "2026-12-15", due: "2026-12-19" });
    const input = cardInputOf(card("a", "a0", { due: "2026-12-18", labels: ["x"] }));
    expect(rescheduled(input, { start: "2026-12-15", due: "2026-12-19" })).toEqual({ ...input, start: "2026-12-15", due: "2026-12-19" });
    // A one-day card without a start keeps none.
    expect(rescheduled(input, { start: "2026-12-19", due: "2026-12-19" })).toEqual({ ...input, start: null, due: "2026-12-19" });
  });
});

function scheduled(id: string, title: string): GanttView["cards"][number] {
  return {
    id,
    title,
    board: "b1",
    column: "todo",
    done: false,
    start: "2026-12-14",
    due: "2026-12-18",
    depends_on: [],
    earliest_start: "2026-12-14",
    earliest_finish: "2026-12-18",
    latest_start: "2026-12-14",
    latest_finish: "2026-12-18",
    slack: 0,
    pushed_by: 0,
    critical: false,
  };
}
