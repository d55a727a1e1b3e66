// @vitest-environment happy-dom
/**
 * A card's comments in its dialog, in a DOM, against a Parvis answering from memory: listed
 * oldest first with who wrote them, their text as text; one posted through the API (none empty),
 * or in widget mode sent by Element as a message in the thread of the card's current event;
 * a refusal shown; another member's comment, heard in the tasks room, read once and shown,
 * and one on another card ignored.
 */
import { render } from "preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { LiveEvent, LiveFeed } from "../../session/live";
import { commentContent } from "../../session/writer";
import boardPage, { BoardScreen } from "./board-page";
import { BoardState } from "./board-state";
import { settle, TestParvis, testApp, type TasksData } from "./test-parvis";
import type { CardComment } from "./types";
import { WidgetTaskWriter, type TaskWidget } from "./writer";

const ROOM = "!tasks:hs";
const BOB = "@bob:hs";

const comment = (event_id: string, body: string, origin_server_ts: number, over: Partial<CardComment> = {}): CardComment => ({
  event_id,
  room_id: ROOM,
  thread_root: "$c1-0",
  sender: BOB,
  body,
  origin_server_ts,
  ...over,
});

function data(): TasksData {
  return {
    today: "2026-12-16",
    boards: [
      {
        id: "b1",
        name: "Déménagement",
        columns: [
          { id: "todo", name: "To do" },
          { id: "done", name: "Done", done: true },
        ],
      },
    ],
    cards: [
      { id: "c1", title: "Order boxes", board: "b1", column: "todo", position: "a0" },
      { id: "c2", title: "Book the van", board: "b1", column: "todo", position: "a1" },
    ],
    comments: {
      // Out of order: listed oldest first. One in the thread of an earlier event of the card.
      c1: [
        comment("$late", "<b>Bold?</b> <img src=x onerror=alert(1)>", 3_000, { sender: "@alice.martin:hs" }),
        comment("$early", "Combien de cartons ?", 1_000, { thread_root: "$c1-old" }),
      ],
    },
  };
}

async function open(query = "card=c1") {
  const parvis = new TestParvis(data());
  const harness = testApp(parvis);
  const cleanup = await boardPage(harness.context({ space: "!s:hs" }, query));
  const feed = harness.app.live as LiveFeed;
  return { parvis, feed, ...harness, cleanup };
}

const text = (element: Element | null | undefined) => element?.textContent?.replace(/\s+/g, " ").trim();
const dialogOf = (main: HTMLElement) => main.querySelector<HTMLDialogElement>("dialog.tasks-dialog");
const listed = (main: HTMLElement) =>
  Array.from(dialogOf(main)?.querySelectorAll<HTMLElement>(".tasks-comments ol.comments > li") ?? []).map((item) => ({
    id: item.dataset.eventId,
    who: text(item.querySelector(".person")),
    body: item.querySelector(".comment-body")?.textContent,
  }));
const commentReads = (parvis: TestParvis, card = "c1") =>
  parvis.calls.filter((call) => call.method === "GET" && call.url.endsWith(`/tasks/cards/${card}/comments`)).length;
const commentPosts = (parvis: TestParvis) => parvis.calls.filter((call) => call.method === "POST" && call.url.endsWith("/comments"));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Types `body` in the dialog's comment box and submits it. */
async function typeAndPost(main: HTMLElement, body: string): Promise<void> {
  const textarea = dialogOf(main)?.querySelector<HTMLTextAreaElement>("#tasks-comment-body");
  textarea!.value = body;
  textarea!.dispatchEvent(new Event("input", { bubbles: true }));
  await settle();
  dialogOf(main)?.querySelector<HTMLFormElement>("form.comment-form")?.requestSubmit();
  await settle();
}

/** Another member's comment on `card`, in the thread of `root`, as the room's sync brings it. */
function message(event_id: string, root: string, body = "J’en apporte dix."): LiveEvent {
  return {
    room_id: ROOM,
    event_id,
    type: "m.room.message",
    sender: BOB,
    content: commentContent(root, body),
    origin_server_ts: 9_000,
  };
}

afterEach(() => {
  document.body.replaceChildren();
});

describe("a card's comments", () => {
  it("are listed in its dialog oldest first, with who wrote them and when, their text shown as text", async () => {
    const { main, parvis } = await open();
    await vi.waitFor(() => expect(listed(main)).toHaveLength(2));
    expect(listed(main)).toEqual([
      { id: "$early", who: "bob", body: "Combien de cartons ?" },
      { id: "$late", who: "alice.martin", body: "<b>Bold?</b> <img src=x onerror=alert(1)>" },
    ]);
    const dialog = dialogOf(main)!;
    // Text, never HTML: no element made of it.
    expect(dialog.querySelector(".comment-body b, .comment-body img")).toBeNull();
    expect(dialog.querySelector(".tasks-comments .person")?.getAttribute("title")).toBe(BOB);
    expect(dialog.querySelector(".tasks-comments time")?.getAttribute("datetime")).toBe(new Date(1_000).toISOString());
    expect(text(dialog.querySelector(".tasks-comments h3"))).toBe("Comments");
    expect(text(dialog.querySelector('.tasks-comments label[for="tasks-comment-body"]'))).toBe("Your comment");
    // The comments have a form of their own, apart from the card's fields.
    expect(dialog.querySelector("form.comment-form")?.closest("form:not(.comment-form)")).toBeNull();
    expect(commentReads(parvis)).toBe(1);
  });

  it("say there are none yet, in the user's language", async () => {
    const parvis = new TestParvis({ ...data(), comments: {} });
    const harness = testApp(parvis, { lang: "fr" });
    await boardPage(harness.context({ space: "!s:hs" }, "card=c2"));
    await vi.waitFor(() => expect(text(dialogOf(harness.main)?.querySelector(".tasks-comments .empty"))).toBe("Aucun commentaire pour l’instant."));
    expect(text(dialogOf(harness.main)?.querySelector(".tasks-comments h3"))).toBe("Commentaires");
  });

  it("posts a comment through the API, then shows it once listed and says so; the box is emptied", async () => {
    const { main, parvis, announced } = await open();
    await vi.waitFor(() => expect(listed(main)).toHaveLength(2));
    await typeAndPost(main, "  Vingt cartons, <i>pas plus</i>.  ");
    await vi.waitFor(() => expect(listed(main)).toHaveLength(3));
    expect(commentPosts(parvis)).toEqual([
      { method: "POST", url: "/api/v1/communities/!s%3Ahs/tasks/cards/c1/comments", body: { body: "Vingt cartons, <i>pas plus</i>." } },
    ]);
    expect(listed(main)[2]).toMatchObject({ who: "alice", body: "Vingt cartons, <i>pas plus</i>." });
    // In the thread of the card's current event.
    expect(parvis.data.comments?.c1?.at(-1)?.thread_root).toBe("$c1-0");
    await vi.waitFor(() => expect(announced).toEqual(["Comment posted."]));
    expect(text(dialogOf(main)?.querySelector(".tasks-comment-notice"))).toBe("Comment posted.");
    expect(dialogOf(main)?.querySelector<HTMLTextAreaElement>("#tasks-comment-body")?.value).toBe("");
    // The card's fields were not saved for it.
    expect(parvis.calls.some((call) => call.method === "PUT")).toBe(false);
  });

  it("does not send an empty comment", async () => {
    const { main, parvis } = await open();
    await vi.waitFor(() => expect(listed(main)).toHaveLength(2));
    await typeAndPost(main, "   \n  ");
    await pause(50);
    expect(commentPosts(parvis)).toEqual([]);
    expect(listed(main)).toHaveLength(2);
  });

  it("shows the server's refusal, and the form is then disabled", async () => {
    const { main, parvis, announced } = await open();
    await vi.waitFor(() => expect(listed(main)).toHaveLength(2));
    parvis.failNext = { status: 403, errcode: "M_FORBIDDEN", error: "Readers may not comment on cards." };
    await typeAndPost(main, "Moi aussi");
    await vi.waitFor(() => expect(text(dialogOf(main)?.querySelector(".tasks-comments [role=alert]"))).toBe("Readers may not comment on cards."));
    const button = dialogOf(main)?.querySelector<HTMLButtonElement>("form.comment-form button[type=submit]");
    expect(button?.getAttribute("aria-disabled")).toBe("true");
    // What was typed stays; a second try sends nothing.
    expect(dialogOf(main)?.querySelector<HTMLTextAreaElement>("#tasks-comment-body")?.value).toBe("Moi aussi");
    dialogOf(main)?.querySelector<HTMLFormElement>("form.comment-form")?.requestSubmit();
    await pause(50);
    expect(commentPosts(parvis)).toHaveLength(1);
    expect(announced).toEqual([]);
    expect(listed(main)).toHaveLength(2);
  });

  it("in widget mode, are sent by Element as a message in the thread of the card's current event", async () => {
    const parvis = new TestParvis(data());
    // The card was edited once: its current event is its second.
    (parvis.data.cards[0] as { rev?: number }).rev = 1;
    const harness = testApp(parvis);
    const sent: { type: string; content: unknown; room: string | undefined }[] = [];
    const widget: TaskWidget = {
      roomArgument: async (room) => (room === ROOM ? undefined : room),
      api: {
        sendStateEvent: async () => {
          throw new Error("no state event here");
        },
        sendRoomEvent: async (type, content, room) => {
          sent.push({ type, content, room });
          // The homeserver pushes it to Parvis, which indexes it.
          parvis.indexComment("c1", comment("$from-element", "Depuis Element", 5_000, { sender: "@alice:hs", thread_root: "$c1-1" }));
          return { event_id: "$from-element" };
        },
      },
    };
    const board = parvis.boardView("b1")!;
    const state = new BoardState(harness.app, "!s:hs", [], board, new WidgetTaskWriter(widget, async () => ROOM, harness.app.t), harness.controller.signal);
    state.follow(harness.app.live, ROOM);
    state.editing.value = "c1";
    render(<BoardScreen state={state} />, harness.main);
    await vi.waitFor(() => expect(listed(harness.main)).toHaveLength(2));
    await typeAndPost(harness.main, "Depuis Element");
    await vi.waitFor(() => expect(listed(harness.main)).toHaveLength(3));
    expect(sent).toEqual([
      {
        type: "m.room.message",
        content: {
          msgtype: "m.text",
          body: "Depuis Element",
          "m.relates_to": { rel_type: "m.thread", event_id: "$c1-1", is_falling_back: true, "m.in_reply_to": { event_id: "$c1-1" } },
        },
        room: undefined,
      },
    ]);
    // Nothing through Parvis's API.
    expect(commentPosts(parvis)).toEqual([]);
    await vi.waitFor(() => expect(harness.announced).toEqual(["Comment posted."]));
    render(null, harness.main);
  });

  it("shows another member's comment on the card, heard in the tasks room, after one reading, and says so", async () => {
    const { main, parvis, feed, announced } = await open();
    await vi.waitFor(() => expect(listed(main)).toHaveLength(2));
    expect(commentReads(parvis)).toBe(1);
    parvis.indexComment("c1", comment("$bobs", "J’en apporte dix.", 9_000));
    feed.dispatch(message("$bobs", "$c1-0"));
    await vi.waitFor(() => expect(listed(main).map((item) => item.id)).toEqual(["$early", "$late", "$bobs"]));
    expect(commentReads(parvis)).toBe(2);
    expect(announced).toEqual(["New comment by bob."]);
    expect(text(dialogOf(main)?.querySelector(".tasks-comment-notice"))).toBe("New comment by bob.");
    // Heard again (Element pushes it once more): not read again.
    feed.dispatch(message("$bobs", "$c1-0"));
    await pause(700);
    expect(commentReads(parvis)).toBe(2);
  });

  it("follows the threads of the card's earlier events and of those heard of since", async () => {
    const { main, parvis, feed } = await open();
    await vi.waitFor(() => expect(listed(main)).toHaveLength(2));
    // In the thread of an earlier event that holds comments already.
    parvis.indexComment("c1", comment("$old-thread", "Sur l’ancienne version", 9_000, { thread_root: "$c1-old" }));
    feed.dispatch(message("$old-thread", "$c1-old"));
    await vi.waitFor(() => expect(listed(main)).toHaveLength(3));
    // A new event of the card (another member's edit), then a comment in its thread.
    feed.dispatch({
      room_id: ROOM,
      event_id: "$c1-new",
      type: "org.parvis.kanban.card",
      sender: BOB,
      state_key: "c1",
      content: { title: "Order boxes", board: "b1", column: "todo", position: "a0" },
      origin_server_ts: 9_500,
    });
    parvis.indexComment("c1", comment("$new-thread", "Sur la nouvelle", 9_600, { thread_root: "$c1-new" }));
    feed.dispatch(message("$new-thread", "$c1-new"));
    await vi.waitFor(() => expect(listed(main)).toHaveLength(4));
  });

  it("ignores a comment on another card, and other messages of the room", async () => {
    const { main, parvis, feed, announced } = await open();
    await vi.waitFor(() => expect(listed(main)).toHaveLength(2));
    feed.dispatch(message("$other-card", "$c2-0"));
    feed.dispatch({ room_id: ROOM, event_id: "$plain", type: "m.room.message", sender: BOB, content: { msgtype: "m.text", body: "Bonjour" }, origin_server_ts: 9_000 });
    // Another room's thread on the same event ID.
    feed.dispatch({ ...message("$elsewhere", "$c1-0"), room_id: "!other:hs" });
    await pause(700);
    expect(commentReads(parvis)).toBe(1);
    expect(commentReads(parvis, "c2")).toBe(0);
    expect(announced).toEqual([]);
    expect(listed(main)).toHaveLength(2);
  });

  it("does not read again for the user's own comment, heard in the room before the API answers", async () => {
    const { main, parvis, feed, announced } = await open();
    await vi.waitFor(() => expect(listed(main)).toHaveLength(2));
    const release = parvis.holdWrites();
    await typeAndPost(main, "Le mien");
    // The sync brings the user's own message while the API has not answered yet.
    feed.dispatch({ ...message("$comment1", "$c1-0", "Le mien"), sender: "@alice:hs" });
    release();
    await vi.waitFor(() => expect(listed(main)).toHaveLength(3));
    await pause(700);
    // The first reading, and the one after the post: none for the heard event.
    expect(commentReads(parvis)).toBe(2);
    expect(announced).toEqual(["Comment posted."]);
  });

  it("stop following the room once the dialog is closed", async () => {
    const { main, parvis, feed } = await open();
    await vi.waitFor(() => expect(listed(main)).toHaveLength(2));
    dialogOf(main)?.querySelector<HTMLButtonElement>(".actions button.secondary")?.click();
    await vi.waitFor(() => expect(dialogOf(main)).toBeNull());
    feed.dispatch(message("$late-news", "$c1-0"));
    await pause(700);
    expect(commentReads(parvis)).toBe(1);
  });
});
