/**
 * Pages following the index as room events arrive, without I/O: which events concern a tool's
 * list, an object's comments and a community's activity, which answer of the index shows them,
 * what a redraw changed; and the driver that re-reads the index for them (`catchUpWithIndex`).
 */
import { describe, expect, it } from "vitest";
import type { Comment, CommunityActivity, Publication } from "../src/api/types";
import { catchUpWithIndex } from "../src/publishing/await-index";
import {
  ActivityFollower,
  CHANGE_WAIT_MS,
  changeSummary,
  CommentFollower,
  listChanges,
  ListFollower,
  MAYBE_WAIT_MS,
  threadRootOf,
} from "../src/publishing/live";
import type { LiveEvent } from "../src/session/live";

const WIKI_TYPE = "org.parvis.wiki.page";

const page = (id: string, eventId: string, updatedAt: number, extra: Partial<Publication> = {}): Publication => ({
  room_id: "!wiki:hs",
  kind: "wiki_page",
  object_id: id,
  event_id: eventId,
  author: "@alice:hs",
  title: `Page ${id}`,
  slug: `page-${id}`,
  body: "",
  tags: [],
  pages: [],
  category: "",
  position: 0,
  status: "published",
  updated_at: updatedAt,
  links: [],
  parent: null,
  ...extra,
});

const event = (eventId: string, extra: Partial<LiveEvent> = {}): LiveEvent => ({
  room_id: "!wiki:hs",
  event_id: eventId,
  type: WIKI_TYPE,
  state_key: "p1",
  sender: "@bob:hs",
  content: { title: "ignored: the index says" },
  origin_server_ts: 2000,
  ...extra,
});

const redaction = (eventId: string, redacts: string, inContent = true): LiveEvent => ({
  room_id: "!wiki:hs",
  event_id: eventId,
  type: "m.room.redaction",
  sender: "@mod:hs",
  content: inContent ? { redacts } : {},
  origin_server_ts: 3000,
  ...(inContent ? {} : { redacts }),
});

describe("a tool's list following its room", () => {
  const shown = [page("p1", "$v1", 1000), page("p2", "$w1", 1500)];

  it("waits for new objects and new revisions of its tool's type only", () => {
    const list = new ListFollower(WIKI_TYPE, shown);
    expect(list.offer(event("$v1", { origin_server_ts: 1000 }))).toBe(false);
    // An older revision pushed again with the room state is no news.
    expect(list.offer(event("$v0", { origin_server_ts: 500 }))).toBe(false);
    expect(list.offer(event("$x", { type: "org.parvis.guide", state_key: "g1" }))).toBe(false);
    expect(list.offer(event("$x", { type: "m.room.message", state_key: undefined }))).toBe(false);
    expect(list.offer(event("$x", { state_key: undefined }))).toBe(false);
    expect(list.waiting).toBe(false);
    expect(list.offer(event("$new", { state_key: "p3" }))).toBe(true);
    expect(list.offer(event("$v2"))).toBe(true);
    // Heard twice (Element's send_event and update_state): followed once.
    expect(list.offer(event("$v2"))).toBe(false);
    expect(list.waiting).toBe(true);
    expect(list.patienceMs).toBe(CHANGE_WAIT_MS);
  });

  it("shows an answer once it has a new object, then goes on waiting for the rest", () => {
    const list = new ListFollower(WIKI_TYPE, shown);
    list.offer(event("$new", { state_key: "p3" }));
    list.offer(event("$v2"));
    expect(list.shouldShow(shown)).toBe(false);
    const withNew = [...shown, page("p3", "$new", 2000)];
    expect(list.shouldShow(withNew)).toBe(true);
    list.showing(withNew);
    expect(list.shown).toBe(withNew);
    expect(list.waiting).toBe(true);
    expect(list.shouldShow(withNew)).toBe(false);
    // Already past the revision heard of: shown too.
    const later = [page("p1", "$v3", 2500), shown[1] as Publication, page("p3", "$new", 2000)];
    expect(list.shouldShow(later)).toBe(true);
    list.showing(later);
    expect(list.waiting).toBe(false);
    expect(list.offer(event("$new", { state_key: "p3" }))).toBe(false);
  });

  it("counts an object the index dropped (content it cannot read) as shown", () => {
    const list = new ListFollower(WIKI_TYPE, shown);
    list.offer(event("$broken", { content: {} }));
    expect(list.shouldShow([shown[1] as Publication])).toBe(true);
    // A new object the index does not list yet is not shown by its absence.
    const fresh = new ListFollower(WIKI_TYPE, shown);
    fresh.offer(event("$new", { state_key: "p3" }));
    expect(fresh.shouldShow(shown)).toBe(false);
  });

  it("follows redactions of the revisions it shows, wherever the room version puts `redacts`", () => {
    const list = new ListFollower(WIKI_TYPE, shown);
    expect(list.offer(redaction("$r0", "$elsewhere"))).toBe(false);
    expect(list.offer(redaction("$r1", "$v1"))).toBe(true);
    expect(list.shouldShow(shown)).toBe(false);
    expect(list.shouldShow([shown[1] as Publication])).toBe(true);
    expect(list.shouldShow([page("p1", "$v1", 1000, { title: "" }), shown[1] as Publication])).toBe(true);
    const old = new ListFollower(WIKI_TYPE, shown);
    expect(old.offer(redaction("$r2", "$w1", false))).toBe(true);
  });

  it("stops waiting when told, and does not wait again for the same event", () => {
    const list = new ListFollower(WIKI_TYPE, shown);
    list.offer(event("$ignored", { state_key: "p9" }));
    list.giveUp();
    expect(list.waiting).toBe(false);
    expect(list.offer(event("$ignored", { state_key: "p9" }))).toBe(false);
    expect(list.offer(event("$other", { state_key: "p9" }))).toBe(true);
  });
});

describe("an object's comments following its threads", () => {
  const object = { eventType: WIKI_TYPE, id: "p1" };
  const comment = (eventId: string, root = "$v1"): Comment => ({
    event_id: eventId,
    room_id: "!wiki:hs",
    thread_root: root,
    sender: "@bob:hs",
    body: "Bien vu",
    origin_server_ts: 2000,
  });
  const message = (eventId: string, root: string | null, extra: Partial<LiveEvent> = {}): LiveEvent => ({
    room_id: "!wiki:hs",
    event_id: eventId,
    type: "m.room.message",
    sender: "@bob:hs",
    content: {
      msgtype: "m.text",
      body: "Bien vu",
      ...(root ? { "m.relates_to": { rel_type: "m.thread", event_id: root, is_falling_back: true, "m.in_reply_to": { event_id: root } } } : {}),
    },
    origin_server_ts: 2000,
    ...extra,
  });
  const follower = () => new CommentFollower(object, ["$v0", "$v1"], [comment("$c1")]);

  it("waits for messages in the threads of the object's revisions only", () => {
    const comments = follower();
    expect(comments.offer(message("$c1", "$v1"))).toBe(false);
    expect(comments.offer(message("$chat", null))).toBe(false);
    expect(comments.offer(message("$other", "$another-object"))).toBe(false);
    expect(comments.offer(message("$edit", "$v1", { content: { "m.relates_to": { rel_type: "m.replace", event_id: "$c1" } } }))).toBe(false);
    expect(comments.offer(message("$x", "$v1", { type: "m.reaction" }))).toBe(false);
    expect(comments.waiting).toBe(false);
    expect(comments.offer(message("$c2", "$v0"))).toBe(true);
    expect(comments.offer(message("$c2", "$v0"))).toBe(false);
    expect(comments.shouldShow([comment("$c1")])).toBe(false);
    const fresh = [comment("$c1"), comment("$c2", "$v0")];
    expect(comments.shouldShow(fresh)).toBe(true);
    comments.showing(fresh);
    expect(comments.waiting).toBe(false);
    expect(comments.shown).toBe(fresh);
  });

  it("knows the threads of revisions heard of since the page was read", () => {
    const comments = follower();
    expect(comments.offer(message("$early", "$v2"))).toBe(false);
    // Bob's revision, then his comment in its thread, before the page has read either.
    expect(comments.offer(event("$v2"))).toBe(false);
    expect(comments.offer(event("$q2", { state_key: "p2" }))).toBe(false);
    expect(comments.offer(message("$c3", "$v2"))).toBe(true);
    expect(comments.offer(message("$c4", "$q2"))).toBe(false);
  });

  it("leaves the user's own comments to the form, and follows redactions of those shown", () => {
    const comments = follower();
    comments.own("$mine");
    expect(comments.offer(message("$mine", "$v1"))).toBe(false);
    expect(comments.offer(redaction("$r0", "$unknown"))).toBe(false);
    expect(comments.offer(redaction("$r1", "$c1"))).toBe(true);
    expect(comments.shouldShow([comment("$c1")])).toBe(false);
    expect(comments.shouldShow([])).toBe(true);
  });

  it("reads the thread root of a message", () => {
    expect(threadRootOf(message("$m", "$root"))).toBe("$root");
    expect(threadRootOf(message("$m", null))).toBeUndefined();
    expect(threadRootOf(message("$m", null, { content: { "m.relates_to": "junk" } }))).toBeUndefined();
  });
});

describe("a community's recent activity following its rooms", () => {
  const item = (id: string, updatedAt: number, room = "!wiki:hs"): CommunityActivity => ({
    room_id: room,
    kind: "wiki_page",
    object_id: id,
    title: `Page ${id}`,
    author: "@alice:hs",
    updated_at: updatedAt,
  });
  const shown = [item("p1", 1000)];
  const types = [WIKI_TYPE, "org.parvis.blog.post"];

  it("waits for the objects of the community's tools, in any of its rooms", () => {
    const activity = new ActivityFollower(types, shown);
    expect(activity.offer(event("$old", { origin_server_ts: 1000 }))).toBe(false);
    expect(activity.offer(event("$x", { type: "m.room.member", state_key: "@bob:hs" }))).toBe(false);
    expect(activity.offer(event("$x", { type: "m.reaction", state_key: undefined }))).toBe(false);
    expect(activity.offer(event("$post", { room_id: "!blog:hs", type: "org.parvis.blog.post", state_key: "b1" }))).toBe(true);
    expect(activity.patienceMs).toBe(CHANGE_WAIT_MS);
    expect(activity.shouldShow([item("b1", 2000, "!other:hs"), ...shown])).toBe(false);
    expect(activity.shouldShow([item("b1", 1999, "!blog:hs"), ...shown])).toBe(false);
    const fresh = [item("b1", 2000, "!blog:hs"), ...shown];
    expect(activity.shouldShow(fresh)).toBe(true);
    activity.showing(fresh);
    expect(activity.waiting).toBe(false);
  });

  it("waits less for a redaction, which may concern it or not", () => {
    const activity = new ActivityFollower(types, shown);
    expect(activity.offer(redaction("$r", "$something"))).toBe(true);
    expect(activity.patienceMs).toBe(MAYBE_WAIT_MS);
    expect(activity.shouldShow([item("p1", 1000)])).toBe(false);
    expect(activity.shouldShow([])).toBe(true);
    // A certain change waiting too: its patience wins.
    activity.offer(event("$v2"));
    expect(activity.patienceMs).toBe(CHANGE_WAIT_MS);
  });
});

describe("what a redraw changed", () => {
  const key = (item: Publication) => item.object_id;

  it("tells added, changed and removed items apart", () => {
    const before = [page("p1", "$v1", 1), page("p2", "$w1", 1), page("p3", "$x1", 1)];
    const after = [page("p1", "$v1", 1), page("p2", "$w2", 2), page("p4", "$y1", 2)];
    const changes = listChanges(before, after, key);
    expect(changes.added.map(key)).toEqual(["p4"]);
    expect(changes.changed.map(key)).toEqual(["p2"]);
    expect(changes.removed.map(key)).toEqual(["p3"]);
    expect(changeSummary(changes)).toEqual({ count: 3 });
  });

  it("names one new item, and nothing when nothing changed", () => {
    const before = [page("p1", "$v1", 1)];
    const added = page("p2", "$w1", 2, { author: "@bob:hs" });
    expect(changeSummary(listChanges(before, [...before, added], key))).toEqual({ added });
    expect(changeSummary(listChanges(before, [page("p1", "$v1", 1)], key))).toBeNull();
    expect(changeSummary(listChanges(before, [], key))).toEqual({ count: 1 });
  });
});

describe("catching up with the index (the driver)", () => {
  /** A clock that sleeps instantly, an index whose answers the test sets. */
  function setup(shown: Publication[]) {
    let clock = 0;
    const index = { answer: shown, reads: 0, fail: false };
    const follower = new ListFollower(WIKI_TYPE, shown);
    const redrawn: (readonly Publication[])[] = [];
    const redrawnAt: number[] = [];
    const controller = new AbortController();
    const sleeps: number[] = [];
    let onSleep: (() => void) | null = null;
    const catchUp = catchUpWithIndex(
      follower,
      async () => {
        index.reads += 1;
        return index.answer;
      },
      (fresh) => {
        if (index.fail) throw new Error("redraw failed");
        follower.showing(fresh);
        redrawn.push(fresh);
        redrawnAt.push(clock);
      },
      {
        signal: controller.signal,
        now: () => clock,
        sleep: async (ms) => {
          sleeps.push(ms);
          clock += ms;
          onSleep?.();
        },
      },
    );
    const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
    return {
      index,
      follower,
      redrawn,
      redrawnAt,
      controller,
      sleeps,
      settle,
      heard: (live: LiveEvent) => follower.offer(live) && (catchUp(), true),
      whileSleeping: (callback: () => void) => (onSleep = callback),
      elapsed: () => clock,
    };
  }

  it("reads until the index shows the change, shows it once, then stops", async () => {
    const run = setup([page("p1", "$v1", 1000)]);
    let sleeps = 0;
    run.whileSleeping(() => {
      sleeps += 1;
      if (sleeps === 2) run.index.answer = [page("p1", "$v1", 1000), page("p3", "$new", 2000)];
    });
    expect(run.heard(event("$new", { state_key: "p3" }))).toBe(true);
    // Heard again while the run goes on: no second run.
    run.heard(event("$new", { state_key: "p3" }));
    await run.settle();
    expect(run.redrawn.map((list) => list.map((item) => item.object_id))).toEqual([["p1", "p3"]]);
    expect(run.index.reads).toBe(3);
    expect(run.sleeps).toEqual([400, 600]);
    expect(run.follower.waiting).toBe(false);
  });

  it("gives up after the patience, with bounded reads", async () => {
    const run = setup([page("p1", "$v1", 1000)]);
    run.heard(event("$never", { state_key: "p9" }));
    await run.settle();
    expect(run.follower.waiting).toBe(false);
    expect(run.redrawn).toEqual([]);
    expect(run.elapsed()).toBeLessThanOrEqual(CHANGE_WAIT_MS);
    expect(run.index.reads).toBeLessThan(20);
    expect(run.sleeps.every((ms) => ms >= 400)).toBe(true);
  });

  it("waits longer when more events are heard meanwhile", async () => {
    const run = setup([page("p1", "$v1", 1000)]);
    let heardLate = false;
    run.whileSleeping(() => {
      if (!heardLate && run.elapsed() > 15_000) {
        heardLate = true;
        run.heard(event("$late", { state_key: "p4" }));
      }
      if (run.elapsed() > 25_000) run.index.answer = [page("p1", "$v1", 1000), page("p4", "$late", 2000)];
    });
    run.heard(event("$never", { state_key: "p9" }));
    await run.settle();
    // Shown after the first event's patience, which the second one's renewed.
    expect(run.redrawn).toHaveLength(1);
    expect(run.redrawnAt[0]).toBeGreaterThan(CHANGE_WAIT_MS);
    // The event the index never showed: given up in the end, one more patience later.
    expect(run.follower.waiting).toBe(false);
    expect(run.elapsed()).toBeLessThanOrEqual((run.redrawnAt[0] ?? 0) + CHANGE_WAIT_MS);
  });

  it("stops when the page is left, and gives up when the redraw fails", async () => {
    const left = setup([page("p1", "$v1", 1000)]);
    left.whileSleeping(() => left.controller.abort());
    left.heard(event("$new", { state_key: "p3" }));
    await left.settle();
    expect(left.index.reads).toBe(1);
    expect(left.redrawn).toEqual([]);

    const failing = setup([page("p1", "$v1", 1000)]);
    failing.index.fail = true;
    failing.index.answer = [page("p1", "$v1", 1000), page("p3", "$new", 2000)];
    failing.heard(event("$new", { state_key: "p3" }));
    await failing.settle();
    expect(failing.follower.waiting).toBe(false);
    // The next event starts again.
    failing.index.fail = false;
    failing.index.answer = [page("p1", "$v1", 1000), page("p3", "$new", 2000), page("p5", "$five", 2000)];
    expect(failing.heard(event("$five", { state_key: "p5" }))).toBe(true);
    await failing.settle();
    expect(failing.redrawn).toHaveLength(1);
  });
});
