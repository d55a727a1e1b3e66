import { describe, expect, it, vi } from "vitest";
import { RevisionFollower } from "../src/publishing/live";
import { capability, receivedEventTypes, toolCapabilities } from "../src/session/capabilities";
import { asLiveEvent, feedFromWidget, LiveFeed, type LiveEvent, type WidgetEventSource } from "../src/session/live";
import {
  eventsOfSync,
  SINCE_ONLY_FILTER,
  syncBackoffMs,
  syncFilter,
  SyncError,
  SyncLoop,
  syncUrl,
  type SyncResponse,
} from "../src/session/sync";
import { discoveredTools } from "../src/tools";

const TYPES = { state: ["org.parvis.wiki.page"], timeline: ["m.reaction"] };
const SESSION = { homeserver: "https://hs.example", accessToken: "tok", userId: "@alice:hs" };

const raw = (eventId: string, type = "org.parvis.wiki.page", extra: Record<string, unknown> = {}) => ({
  event_id: eventId,
  type,
  sender: "@bob:hs",
  state_key: type === "org.parvis.wiki.page" ? "p1" : undefined,
  content: { body: eventId },
  origin_server_ts: 1000,
  ...extra,
});

/** One `/sync` call as the fake homeserver saw it. */
interface SyncCall {
  since: string | null;
  timeout: string | null;
  filter: Record<string, unknown>;
  presence: string | null;
  token: string | undefined;
  /** Answers the call; a long poll left unanswered fails when the client abandons it. */
  answer(status: number, body: unknown): void;
  signal: AbortSignal;
}

/** A homeserver whose answers the test gives, call by call; counts requests in flight. */
function fakeHomeserver() {
  const calls: SyncCall[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetch = (url: string, init?: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      const query = new URL(url).searchParams;
      const signal = init?.signal as AbortSignal;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let settled = false;
      const settle = () => {
        if (settled) return false;
        settled = true;
        inFlight -= 1;
        return true;
      };
      signal.addEventListener("abort", () => settle() && reject(new DOMException("aborted", "AbortError")), { once: true });
      calls.push({
        since: query.get("since"),
        timeout: query.get("timeout"),
        filter: JSON.parse(query.get("filter") ?? "{}") as Record<string, unknown>,
        presence: query.get("set_presence"),
        token: (init?.headers as Record<string, string>).Authorization,
        answer: (status, body) => settle() && resolve(new Response(JSON.stringify(body), { status })),
        signal,
      });
    });
  return {
    fetch,
    calls,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    /** The call number `n` (from 0), once made. */
    async call(n: number): Promise<SyncCall> {
      await vi.waitFor(() => expect(calls.length).toBeGreaterThan(n));
      return calls[n] as SyncCall;
    },
  };
}

function loopWith(feed: LiveFeed, hs: ReturnType<typeof fakeHomeserver>) {
  const sleeps: number[] = [];
  const loop = new SyncLoop({
    fetch: hs.fetch,
    feed,
    types: TYPES,
    random: () => 1,
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { loop, sleeps };
}

describe("the sync loop (standalone mode)", () => {
  it("first gets a since token without history, then long-polls from it and dispatches by room", async () => {
    const hs = fakeHomeserver();
    const feed = new LiveFeed();
    const wiki: LiveEvent[] = [];
    const blog: LiveEvent[] = [];
    feed.subscribe("!wiki:hs", (event) => wiki.push(event));
    feed.subscribe("!blog:hs", (event) => blog.push(event));
    const { loop } = loopWith(feed, hs);
    loop.start(SESSION);

    const first = await hs.call(0);
    expect(first).toMatchObject({ since: null, timeout: "0", filter: SINCE_ONLY_FILTER, presence: "offline", token: "Bearer tok" });
    // Whatever the first answer holds is history: not dispatched.
    first.answer(200, { next_batch: "s1", rooms: { join: { "!wiki:hs": { timeline: { events: [raw("$old")] } } } } });

    const second = await hs.call(1);
    expect(second.since).toBe("s1");
    expect(second.timeout).toBe("30000");
    expect(second.filter).toEqual(syncFilter(["!wiki:hs", "!blog:hs"], TYPES));
    second.answer(200, {
      next_batch: "s2",
      rooms: {
        join: {
          "!wiki:hs": { state: { events: [raw("$gap")] }, timeline: { events: [raw("$new"), raw("$new")] } },
          "!blog:hs": { timeline: { events: [raw("$like", "m.reaction")] } },
          "!other:hs": { timeline: { events: [raw("$elsewhere")] } },
        },
      },
    });

    const third = await hs.call(2);
    expect(third.since).toBe("s2");
    expect(wiki.map((event) => event.event_id)).toEqual(["$gap", "$new"]);
    expect(wiki[0]).toMatchObject({ room_id: "!wiki:hs", state_key: "p1", sender: "@bob:hs" });
    expect(blog.map((event) => event.event_id)).toEqual(["$like"]);
    loop.stop();
    await loop.ended;
    expect(third.signal.aborted).toBe(true);
    expect(hs.calls).toHaveLength(3);
    expect(hs.maxInFlight).toBe(1);
  });

  it("backs off on errors, as long as the homeserver asks when it limits, and starts again after a success", async () => {
    const hs = fakeHomeserver();
    const { loop, sleeps } = loopWith(new LiveFeed(), hs);
    loop.start(SESSION);
    (await hs.call(0)).answer(500, { errcode: "M_UNKNOWN", error: "boom" });
    (await hs.call(1)).answer(502, "not json");
    (await hs.call(2)).answer(429, { errcode: "M_LIMIT_EXCEEDED", error: "slow down", retry_after_ms: 5500 });
    (await hs.call(3)).answer(200, { next_batch: "s1" });
    (await hs.call(4)).answer(503, {});
    await hs.call(5);
    expect(sleeps).toEqual([1000, 2000, 5500, 1000]);
    // Still no since token after the failed first syncs: the first success was the first sync.
    expect(hs.calls.map((call) => call.since)).toEqual([null, null, null, null, "s1", "s1"]);
    loop.stop();
    await loop.ended;
    expect(hs.maxInFlight).toBe(1);
  });

  it("computes the backoff: doubling up to a minute, spread, or what the homeserver asked", () => {
    expect([1, 2, 3, 4, 7, 8, 20].map((failures) => syncBackoffMs(failures, new Error("x")))).toEqual([
      1000, 2000, 4000, 8000, 60000, 60000, 60000,
    ]);
    expect(syncBackoffMs(3, new Error("x"), 0)).toBe(2000);
    expect(syncBackoffMs(1, new SyncError(429, "M_LIMIT_EXCEEDED", 12_000, "limited"))).toBe(12_000);
    expect(syncBackoffMs(1, new SyncError(429, "M_LIMIT_EXCEEDED", 3_600_000, "limited"))).toBe(60_000);
  });

  it("ends when the homeserver no longer knows the token", async () => {
    const hs = fakeHomeserver();
    const { loop, sleeps } = loopWith(new LiveFeed(), hs);
    loop.start(SESSION);
    (await hs.call(0)).answer(401, { errcode: "M_UNKNOWN_TOKEN", error: "logged out" });
    await loop.ended;
    expect(loop.running).toBe(false);
    expect(hs.calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("widens its filter at once for a room a page starts to follow, from the same since token", async () => {
    const hs = fakeHomeserver();
    const feed = new LiveFeed();
    const { loop } = loopWith(feed, hs);
    loop.start(SESSION);
    (await hs.call(0)).answer(200, { next_batch: "s1" });
    const polling = await hs.call(1);
    expect((polling.filter.room as { rooms: string[] }).rooms).toEqual([]);

    const seen: string[] = [];
    const unsubscribe = feed.subscribe("!wiki:hs", (event) => seen.push(event.event_id));
    expect(polling.signal.aborted).toBe(true);
    const wider = await hs.call(2);
    expect(wider.since).toBe("s1");
    expect((wider.filter.room as { rooms: string[] }).rooms).toEqual(["!wiki:hs"]);
    wider.answer(200, { next_batch: "s2", rooms: { join: { "!wiki:hs": { timeline: { events: [raw("$e")] } } } } });
    await hs.call(3);
    expect(seen).toEqual(["$e"]);

    // A page leaving does not interrupt the poll; a second subscriber to a followed room neither.
    const again = feed.subscribe("!wiki:hs", () => undefined);
    unsubscribe();
    again();
    expect(hs.calls[3]?.signal.aborted).toBe(false);
    loop.stop();
    await loop.ended;
    expect(hs.maxInFlight).toBe(1);
  });

  it("starts once per session, and a new session's loop waits for the previous one to end", async () => {
    const hs = fakeHomeserver();
    const { loop } = loopWith(new LiveFeed(), hs);
    loop.start(SESSION);
    loop.start(SESSION);
    const first = await hs.call(0);
    loop.start({ ...SESSION, accessToken: "other" });
    expect(first.signal.aborted).toBe(true);
    const second = await hs.call(1);
    expect(second).toMatchObject({ since: null, token: "Bearer other" });
    expect(hs.maxInFlight).toBe(1);
    loop.stop();
    await loop.ended;
    expect(loop.running).toBe(false);
  });

  it("asks for the tools' types only, a short timeline and lazily loaded members", () => {
    const filter = syncFilter(["!r:hs"], { state: ["a.state"], timeline: ["m.reaction", "a.state"] });
    expect(filter).toEqual({
      presence: { types: [] },
      account_data: { types: [] },
      room: {
        rooms: ["!r:hs"],
        account_data: { types: [] },
        ephemeral: { types: [] },
        state: { types: ["a.state"], lazy_load_members: true },
        timeline: { types: ["a.state", "m.reaction"], limit: 10, lazy_load_members: true },
      },
    });
    const url = new URL(syncUrl("https://hs", filter, "s 1"));
    expect(url.pathname).toBe("/_matrix/client/v3/sync");
    expect(url.searchParams.get("since")).toBe("s 1");
    expect(JSON.parse(url.searchParams.get("filter") ?? "")).toEqual(filter);
    expect(new URL(syncUrl("https://hs", SINCE_ONLY_FILTER, null)).searchParams.get("timeout")).toBe("0");
  });

  it("reads each event of a response once, with its room, skipping what is not an event", () => {
    const response: SyncResponse = {
      next_batch: "s",
      rooms: { join: { "!r:hs": { timeline: { events: [raw("$a"), { type: "broken" }, raw("$a"), raw("$b", "m.reaction")] } } } },
    };
    expect(eventsOfSync(response).map((event) => [event.room_id, event.event_id])).toEqual([
      ["!r:hs", "$a"],
      ["!r:hs", "$b"],
    ]);
    expect(eventsOfSync({ next_batch: "s" })).toEqual([]);
  });
});

describe("the live feed", () => {
  it("hands events to their room's subscribers until they unsubscribe, one failing handler not stopping the rest", () => {
    const feed = new LiveFeed();
    const got: string[] = [];
    const added = vi.fn();
    feed.onRoomAdded(added);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const off = feed.subscribe("!a:hs", () => {
      throw new Error("page bug");
    });
    const offB = feed.subscribe("!a:hs", (event) => got.push(`b ${event.event_id}`));
    feed.subscribe("!c:hs", (event) => got.push(`c ${event.event_id}`));
    expect(added).toHaveBeenCalledTimes(2);
    const event = asLiveEvent(raw("$1"), "!a:hs") as LiveEvent;
    feed.dispatch(event);
    expect(got).toEqual(["b $1"]);
    expect(error).toHaveBeenCalledOnce();
    off();
    offB();
    offB();
    feed.dispatch(event);
    expect(got).toEqual(["b $1"]);
    expect(feed.rooms()).toEqual(["!c:hs"]);
    error.mockRestore();
  });

  it("in a widget, takes Element's send_event and update_state pushes, acknowledging each", () => {
    const listeners = new Map<string, (action: CustomEvent) => void>();
    const replies: unknown[] = [];
    const api: WidgetEventSource = {
      on: (name, listener) => listeners.set(name, listener as (action: CustomEvent) => void),
      transport: { reply: (request, response) => void replies.push([request.requestId, response]) },
    };
    const delivered: LiveEvent[] = [];
    feedFromWidget(api, (event) => delivered.push(event));
    const push = (action: string, data: unknown) => {
      const event = new CustomEvent(`action:${action}`, {
        cancelable: true,
        detail: { api: "toWidget", requestId: action, action, widgetId: "w", data },
      });
      listeners.get(`action:${action}`)?.(event);
      return event.defaultPrevented;
    };
    expect(push("send_event", { ...raw("$1"), room_id: "!wiki:hs" })).toBe(true);
    expect(push("update_state", { state: [{ ...raw("$2"), room_id: "!wiki:hs" }, { junk: true }] })).toBe(true);
    expect(delivered.map((event) => [event.room_id, event.event_id])).toEqual([
      ["!wiki:hs", "$1"],
      ["!wiki:hs", "$2"],
    ]);
    expect(replies).toEqual([
      ["send_event", {}],
      ["update_state", {}],
    ]);
  });

  it("follows, in both modes, what the tools declared they receive", () => {
    expect(capability.receiveState("a.b")).toBe("org.matrix.msc2762.receive.state_event:a.b");
    expect(capability.receiveEvent("m.reaction")).toBe("org.matrix.msc2762.receive.event:m.reaction");
    expect(
      receivedEventTypes([
        capability.sendState("a.b"),
        capability.receiveState("a.b"),
        capability.receiveEvent("m.room.message#m.text"),
        capability.receiveEvent("m.room.message"),
      ]),
    ).toEqual({ state: ["a.b"], timeline: ["m.room.message"] });
    const types = receivedEventTypes(toolCapabilities(discoveredTools()));
    expect(types.state).toContain("org.parvis.wiki.page");
    expect(types.state).toContain("org.parvis.guide");
  });
});

describe("an object's page following its revisions", () => {
  const shown = { event_id: "$v1", updated_at: 1000 };
  const revision = (eventId: string, ts: number, extra: Partial<LiveEvent> = {}): LiveEvent => ({
    room_id: "!wiki:hs",
    event_id: eventId,
    type: "org.parvis.wiki.page",
    state_key: "p1",
    sender: "@bob:hs",
    content: {},
    origin_server_ts: ts,
    ...extra,
  });
  const follower = () => new RevisionFollower({ eventType: "org.parvis.wiki.page", id: "p1" }, shown);

  it("waits for a new revision of its object only", () => {
    const page = follower();
    expect(page.offer(revision("$v1", 1000))).toBe(false);
    expect(page.offer(revision("$x", 2000, { state_key: "p2" }))).toBe(false);
    expect(page.offer(revision("$x", 2000, { type: "org.parvis.guide" }))).toBe(false);
    expect(page.offer(revision("$x", 2000, { state_key: undefined }))).toBe(false);
    // An older revision pushed again with the room state is no news.
    expect(page.offer(revision("$v0", 500))).toBe(false);
    expect(page.waiting).toBe(false);
    expect(page.offer(revision("$v2", 2000))).toBe(true);
    // Heard twice (Element's send_event and update_state): followed once.
    expect(page.offer(revision("$v2", 2000))).toBe(false);
    expect(page.waiting).toBe(true);
  });

  it("shows what the index has once it is newer, and keeps waiting for a later revision", () => {
    const page = follower();
    page.offer(revision("$v2", 2000));
    page.offer(revision("$v3", 3000));
    expect(page.shouldShow(shown)).toBe(false);
    expect(page.shouldShow({ event_id: "$v2", updated_at: 2000 })).toBe(true);
    page.showing({ event_id: "$v2", updated_at: 2000 });
    expect(page.shown.event_id).toBe("$v2");
    expect(page.waiting).toBe(true);
    expect(page.shouldShow({ event_id: "$v2", updated_at: 2000 })).toBe(false);
    // The index went straight to the last one: nothing more to wait for.
    page.showing({ event_id: "$v3", updated_at: 3000 });
    expect(page.waiting).toBe(false);
    expect(page.offer(revision("$v2", 2000))).toBe(false);
  });

  it("leaves the page's own writes to the page, and stops waiting when told", () => {
    const page = follower();
    page.own("$restore");
    expect(page.offer(revision("$restore", 2000))).toBe(false);
    expect(page.shouldShow({ event_id: "$restore", updated_at: 2000 })).toBe(false);
    page.offer(revision("$v2", 2000));
    page.giveUp();
    expect(page.waiting).toBe(false);
  });
});
