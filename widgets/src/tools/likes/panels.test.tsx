// @vitest-environment happy-dom
/**
 * The likes tool's renderers, in a DOM: the object panel's buttons, counts, pressed state,
 * one write at a time, live refresh, failure and clean-up; the home's most recommended list.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiClient } from "../../api/client";
import type { App, PageContext } from "../../app/context";
import { RouteRegistry, type ObjectRef } from "../../app/registry";
import { translate, type MessageKey, type MessageParams } from "../../i18n";
import { LiveFeed, type LiveEvent } from "../../session/live";
import { registerTools } from "../index";
import mostRecommendedSection from "./home-section";
import reactionsPanel from "./object-panel";
import type { ObjectLikes, RecommendedObject } from "./types";

const object: ObjectRef = { space: "!s:hs", tool: "wiki", id: "p1", eventId: "$rev", roomId: "!wiki:hs" };
const likesUrl = "/api/v1/communities/!s%3Ahs/wiki/p1/likes";

/** A Parvis that answers the likes endpoints from `state`, and the app around it. */
function setup(state: ObjectLikes, options: { failWrites?: boolean; recommended?: RecommendedObject[] } = {}) {
  let sent = 0;
  let release: () => void = () => undefined;
  let hold: Promise<void> | null = null;
  const server = {
    state,
    /** The most recommended objects, as the index lists them. */
    recommended: options.recommended ?? [],
    recommendedGets: 0,
    /** How many times the counts were asked for. */
    gets: 0,
    /** The next write waits for `release()`. */
    holdWrites() {
      hold = new Promise<void>((resolve) => (release = resolve));
      return () => release();
    },
  };
  const fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
    const method = init?.method ?? "GET";
    if (method === "GET" && url === likesUrl) {
      server.gets += 1;
      return json(server.state);
    }
    if (method === "GET" && url.startsWith("/api/v1/communities/!s%3Ahs/recommended")) {
      server.recommendedGets += 1;
      return json({ objects: server.recommended });
    }
    if (url === `${likesUrl}/like` && (method === "PUT" || method === "DELETE")) {
      if (hold) await hold;
      if (options.failWrites) return json({ errcode: "M_FORBIDDEN", error: "Not allowed here." }, 403);
      const s = server.state;
      if (method === "PUT") {
        sent += 1;
        const event_id = `$like${sent}`;
        server.state = { ...s, likes: s.likes + (s.mine.like ? 0 : 1), mine: { ...s.mine, like: event_id } };
        return json({ event_id });
      }
      const redacted = s.mine.like ? [s.mine.like] : [];
      server.state = { ...s, likes: s.likes - redacted.length, mine: { ...s.mine, like: null } };
      return json({ redacted });
    }
    return json({ errcode: "M_UNRECOGNIZED", error: `${method} ${url}` }, 404);
  };
  const registry = new RouteRegistry<PageContext>();
  registerTools(registry);
  const live = new LiveFeed();
  const announced: string[] = [];
  const app = {
    t: (key: MessageKey, params?: MessageParams) => translate("en", key, params),
    api: new ApiClient({ baseUrl: "", token: () => "tok", fetch: (input, init) => fetch(String(input), init) }),
    identity: { mode: "standalone", userId: () => "@alice:hs" },
    registry,
    live,
    announce: (message: string) => announced.push(message),
  } as unknown as App;
  const controller = new AbortController();
  const context = { app, signal: controller.signal, params: {}, query: new URLSearchParams() } as unknown as PageContext;
  const container = document.createElement("div");
  document.body.append(container);
  return { server, app, live, announced, controller, context, container };
}

const buttons = (container: HTMLElement) => Array.from(container.querySelectorAll<HTMLButtonElement>("button.reaction"));
const text = (element: Element | undefined) => element?.textContent?.replace(/\s+/g, " ").trim();

afterEach(() => document.body.replaceChildren());

describe("the likes panel of an object", () => {
  it("shows both reactions with their counts, the user's pressed, in a labelled group", async () => {
    const { context, container } = setup({ likes: 2, recommendations: 1, mine: { like: null, recommend: "$mine" } });
    await reactionsPanel(context, object, container);
    const group = container.querySelector('[role="group"]');
    expect(group?.getAttribute("aria-label")).toBe("Reactions");
    const [like, recommend] = buttons(container);
    expect(text(like)).toBe("👍 Like 2");
    expect(like?.getAttribute("aria-pressed")).toBe("false");
    expect(like?.getAttribute("type")).toBe("button");
    expect(like?.querySelector(".reaction-key")?.getAttribute("aria-hidden")).toBe("true");
    expect(text(recommend)).toBe("⭐ Recommend 1");
    expect(recommend?.getAttribute("aria-pressed")).toBe("true");
    expect(container.querySelector('.form-status[aria-live="polite"]')?.childElementCount).toBe(0);
  });

  it("likes on a press, one write at a time, keeping the focus, and says so", async () => {
    const { context, container, server, announced } = setup({ likes: 2, recommendations: 0, mine: { like: null, recommend: null } });
    await reactionsPanel(context, object, container);
    const [like, recommend] = buttons(container);
    const release = server.holdWrites();
    like?.focus();
    like?.click();
    await vi.waitFor(() => expect(like?.getAttribute("aria-disabled")).toBe("true"));
    expect(recommend?.getAttribute("aria-disabled")).toBe("true");
    // A second press while writing does nothing.
    recommend?.click();
    release();
    await vi.waitFor(() => expect(announced).toEqual(["Like added."]));
    await vi.waitFor(() => expect(like?.hasAttribute("aria-disabled")).toBe(false));
    expect(like?.getAttribute("aria-pressed")).toBe("true");
    expect(text(like?.querySelector(".reaction-count") ?? undefined)).toBe("3");
    expect(server.state.recommendations).toBe(0);
    // The same elements: the focus has not moved.
    expect(buttons(container)[0]).toBe(like);
    expect(document.activeElement).toBe(like);

    like?.click();
    await vi.waitFor(() => expect(announced).toEqual(["Like added.", "Like withdrawn."]));
    expect(like?.getAttribute("aria-pressed")).toBe("false");
    expect(text(like)).toBe("👍 Like 2");
  });

  it("follows others' reactions in the object's room, not the user's own echoes", async () => {
    const { context, container, server, live } = setup({ likes: 2, recommendations: 0, mine: { like: null, recommend: null } });
    await reactionsPanel(context, object, container);
    const reaction = (key: string, event_id = "$bob"): LiveEvent => ({
      room_id: object.roomId,
      event_id,
      type: "m.reaction",
      sender: "@bob:hs",
      content: { "m.relates_to": { rel_type: "m.annotation", event_id: object.eventId, key } },
      origin_server_ts: 1,
    });
    server.state = { ...server.state, recommendations: 4 };
    live.dispatch(reaction("⭐"));
    await vi.waitFor(() => expect(text(buttons(container)[1])).toBe("⭐ Recommend 4"));

    // The user's own like, then its echo in the room: nothing to ask the index again.
    buttons(container)[0]?.click();
    await vi.waitFor(() => expect(buttons(container)[0]?.getAttribute("aria-pressed")).toBe("true"));
    await vi.waitFor(() => expect(buttons(container)[0]?.hasAttribute("aria-disabled")).toBe(false));
    const asked = server.gets;
    live.dispatch(reaction("👍", "$like1"));
    // Another room's reaction, or another emoji, is not this panel's either.
    live.dispatch({ ...reaction("👍", "$elsewhere"), room_id: "!other:hs" });
    live.dispatch(reaction("😂", "$laugh"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.gets).toBe(asked);
  });

  it("shows a failed write's error under the buttons, which are usable again", async () => {
    const { context, container, announced } = setup({ likes: 0, recommendations: 0, mine: { like: null, recommend: null } }, { failWrites: true });
    await reactionsPanel(context, object, container);
    const [like] = buttons(container);
    like?.click();
    await vi.waitFor(() => expect(container.querySelector('.form-status [role="alert"]')).not.toBeNull());
    expect(text(container.querySelector(".form-status") ?? undefined)).toBe("Not allowed here.");
    await vi.waitFor(() => expect(like?.hasAttribute("aria-disabled")).toBe(false));
    expect(like?.getAttribute("aria-pressed")).toBe("false");
    expect(announced).toEqual([]);
  });

  it("is taken down with its page: no more live updates", async () => {
    const { context, container, controller, live } = setup({ likes: 1, recommendations: 0, mine: { like: null, recommend: null } });
    await reactionsPanel(context, object, container);
    expect(live.rooms()).toEqual([object.roomId]);
    controller.abort();
    expect(container.childElementCount).toBe(0);
    expect(live.rooms()).toEqual([]);
  });
});

describe("the most recommended objects on the community's home", () => {
  const item = (over: Partial<RecommendedObject>): RecommendedObject => ({ id: "p1", tool: "wiki", title: "Plan", likes: 5, recommendations: 3, ...over });

  it("lists them with links to their pages, their tool and their counts", async () => {
    const recommended = [item({}), item({ id: "q1", tool: "faq", title: "", likes: 1, recommendations: 1 }), item({ id: "x", tool: "gone" })];
    const { context, container } = setup({ likes: 0, recommendations: 0, mine: { like: null, recommend: null } }, { recommended });
    await mostRecommendedSection(context, { space: object.space, rooms: [object.roomId] }, container);
    const section = container.querySelector("section");
    expect(section?.getAttribute("aria-labelledby")).toBe("recommended-title");
    expect(text(section?.querySelector("h2#recommended-title") ?? undefined)).toBe("Most recommended");
    const items = Array.from(container.querySelectorAll("ol.plain-list > li"));
    expect(items).toHaveLength(3);
    expect(items[0]?.querySelector("a")?.getAttribute("href")).toBe("#/c/!s:hs/wiki/p1");
    expect(text(items[0]?.querySelector("a") ?? undefined)).toBe("Plan");
    expect(items[0]?.querySelector("p.meta")?.textContent).toBe("Wiki ⭐ 3 recommendation(s) · 👍 5 like(s)");
    expect(items[0]?.querySelector(".reaction-total span")?.getAttribute("aria-hidden")).toBe("true");
    // No title: the shared word for it; a tool this build does not know: no link, no badge.
    expect(items[1]?.querySelector("a")?.textContent).toBe("(untitled)");
    expect(items[2]?.querySelector("a")).toBeNull();
    expect(items[2]?.querySelector(".badge")).toBeNull();
  });

  it("shows nothing while nothing is recommended", async () => {
    const { context, container } = setup({ likes: 0, recommendations: 0, mine: { like: null, recommend: null } });
    await mostRecommendedSection(context, { space: object.space, rooms: [object.roomId] }, container);
    expect(container.childElementCount).toBe(0);
  });

  it("follows the community's rooms: others' reactions and withdrawals update it in place", async () => {
    const { context, container, server, live, controller } = setup(
      { likes: 0, recommendations: 0, mine: { like: null, recommend: null } },
      { recommended: [item({})] },
    );
    const rooms = ["!wiki:hs", "!blog:hs"];
    await mostRecommendedSection(context, { space: object.space, rooms }, container);
    expect(live.rooms()).toEqual(rooms);
    const link = container.querySelector("a");
    link?.focus();
    const reaction = (event_id: string, key: string, room_id = "!blog:hs"): LiveEvent => ({
      room_id,
      event_id,
      type: "m.reaction",
      sender: "@bob:hs",
      content: { "m.relates_to": { rel_type: "m.annotation", event_id: "$post", key } },
      origin_server_ts: 1,
    });
    // Not a like: not asked again.
    live.dispatch(reaction("$laugh", "😂"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.recommendedGets).toBe(1);

    server.recommended = [item({ recommendations: 4 }), item({ id: "b1", tool: "blog", title: "Billet", likes: 0, recommendations: 1 })];
    live.dispatch(reaction("$star", "⭐"));
    await vi.waitFor(() => expect(container.querySelectorAll("ol.plain-list > li")).toHaveLength(2));
    const items = Array.from(container.querySelectorAll("ol.plain-list > li"));
    expect(items[0]?.querySelector("p.meta")?.textContent).toBe("Wiki ⭐ 4 recommendation(s) · 👍 5 like(s)");
    expect(text(items[1]?.querySelector("a") ?? undefined)).toBe("Billet");
    // The same link element, still focused.
    expect(container.querySelector("a")).toBe(link);
    expect(document.activeElement).toBe(link);

    // Every recommendation withdrawn: the section empties, and comes back with the next one.
    server.recommended = [];
    live.dispatch({ ...reaction("$undo", ""), type: "m.room.redaction", content: { redacts: "$star" }, room_id: "!wiki:hs" });
    await vi.waitFor(() => expect(container.childElementCount).toBe(0));
    server.recommended = [item({})];
    live.dispatch(reaction("$again", "⭐", "!wiki:hs"));
    await vi.waitFor(() => expect(container.querySelectorAll("ol.plain-list > li")).toHaveLength(1));

    controller.abort();
    expect(live.rooms()).toEqual([]);
    expect(container.childElementCount).toBe(0);
  });

  it("escapes titles: text, never markup", async () => {
    const recommended = [item({ title: '<img src=x onerror="alert(1)">' })];
    const { context, container } = setup({ likes: 0, recommendations: 0, mine: { like: null, recommend: null } }, { recommended });
    await mostRecommendedSection(context, { space: object.space, rooms: [object.roomId] }, container);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("a")?.textContent).toBe('<img src=x onerror="alert(1)">');
  });
});
