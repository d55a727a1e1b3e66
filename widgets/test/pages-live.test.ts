// @vitest-environment happy-dom
/**
 * The shared pages following their rooms, in a DOM, against a fake Parvis whose answers the
 * test changes: a tool's list, an object's comments and a community's home redraw what the
 * index has once a room event tells them of a change, keeping focus, and say what changed.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiClient } from "../src/api/client";
import type { Comment, CommunityActivity, CommunityOverview, Publication, PublicationView, Revision } from "../src/api/types";
import type { App, PageContext } from "../src/app/context";
import { RouteRegistry, type RouteDef } from "../src/app/registry";
import { I18n, translate, type MessageKey, type MessageParams } from "../src/i18n";
import communityHome from "../src/pages/community-home";
import publicationRead from "../src/pages/publication-read";
import { LiveFeed, type LiveEvent } from "../src/session/live";
import blog from "../src/tools/blog/tool";
import tasks from "../src/tools/tasks/tool";
import wiki from "../src/tools/wiki/tool";

const SPACE = "!s:hs";
const WIKI_ROOM = "!wiki:hs";
const BLOG_ROOM = "!blog:hs";
const TASKS_ROOM = "!tasks:hs";

const page = (id: string, eventId: string, updatedAt: number, extra: Partial<Publication> = {}): Publication => ({
  room_id: WIKI_ROOM,
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

/** What the fake Parvis answers, by path; the test changes it as the index would. */
interface Index {
  lists: Record<string, Publication[]>;
  views: Record<string, PublicationView>;
  revisions: Record<string, Revision[]>;
  comments: Record<string, Comment[]>;
  activity: CommunityActivity[];
}

/** The pages shown by a test, left after it (their waits for the index end). */
const pages: AbortController[] = [];

/** The community's tools and rooms, when not the wiki's and the blog's. */
interface CommunityTools {
  tools: string[];
  rooms: [string, string][];
}

function setup(index: Index, tools?: CommunityTools) {
  const reads: string[] = [];
  const fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
    const method = init?.method ?? "GET";
    const path = decodeURIComponent(url.split("?")[0] ?? "").replace(`/api/v1/communities/${SPACE}`, "");
    reads.push(`${method} ${path}`);
    const [, tool, id, more] = path.split("/");
    if (method === "GET" && path === "") {
      const overview: CommunityOverview = { ...community, members: [], activity: index.activity };
      return json(overview);
    }
    if (method === "GET" && tool && !id) return json(index.lists[tool] ?? []);
    if (method === "GET" && tool && id && !more && index.views[id]) return json(index.views[id]);
    if (method === "GET" && more === "revisions") return json(index.revisions[id ?? ""] ?? []);
    if (method === "GET" && more === "comments") return json(index.comments[id ?? ""] ?? []);
    return json({ errcode: "M_UNRECOGNIZED", error: `${method} ${url}` }, 404);
  };
  const community = {
    space_id: SPACE,
    name: "Ma communauté",
    description: "",
    tools: ["wiki", "blog"],
    requested_by: "@alice:hs",
    rooms: [
      [WIKI_ROOM, "wiki"],
      [BLOG_ROOM, "blog"],
    ] as [string, string][],
    ...tools,
  };
  const live = new LiveFeed();
  const announced: string[] = [];
  // No tool's panels or sections: the pages' own parts only.
  const registry = new RouteRegistry<PageContext>();
  const app = {
    i18n: new I18n("en"),
    t: (key: MessageKey, params?: MessageParams) => translate("en", key, params),
    api: new ApiClient({ baseUrl: "", token: () => "tok", fetch: (input, init) => fetch(String(input), init) }),
    identity: { mode: "standalone", userId: () => "@alice:hs" },
    registry,
    live,
    announce: (message: string) => announced.push(message),
    setTitle: () => undefined,
    community: async () => community,
  } as unknown as App;
  const controller = new AbortController();
  pages.push(controller);
  const main = document.createElement("div");
  document.body.append(main);
  const contextFor = (route: RouteDef<PageContext>, params: Record<string, string>, query = ""): PageContext => ({
    app,
    main,
    params: { space: SPACE, ...params },
    query: new URLSearchParams(query),
    signal: controller.signal,
    route,
  });
  return { app, live, announced, controller, main, reads, contextFor };
}

/** The list route of a tool, as the navigator loads it (with what the tool's folder adds). */
async function listPage(tool: typeof wiki) {
  const route = tool.routes?.find((candidate) => candidate.name === `${tool.id}.list`);
  if (!route) throw new Error("no list route");
  // As the registry registers it: with its tool.
  return { route: { ...route, tool: tool.id }, render: (await route.load()).default };
}

const stateEvent = (eventId: string, type: string, stateKey: string, room = WIKI_ROOM): LiveEvent => ({
  room_id: room,
  event_id: eventId,
  type,
  state_key: stateKey,
  sender: "@bob:hs",
  content: {},
  origin_server_ts: 5000,
});

const texts = (root: ParentNode, selector: string) => Array.from(root.querySelectorAll(selector), (node) => node.textContent);

afterEach(() => {
  for (const controller of pages.splice(0)) controller.abort();
  document.body.replaceChildren();
});

describe("a tool's list, live", () => {
  it("shows someone's new page once the index lists it, keeping the focus, and says whose it is", async () => {
    const index: Index = { lists: { wiki: [page("p1", "$v1", 1000)] }, views: {}, revisions: {}, comments: {}, activity: [] };
    const { live, announced, main, contextFor, reads } = setup(index);
    const { route, render } = await listPage(wiki);
    const cleanup = await render(contextFor(route, {}));
    // The wiki's own layout, from its folder: the tree and the recent changes.
    expect(texts(main, ".tree a")).toEqual(["Page p1"]);
    expect(live.rooms()).toEqual([WIKI_ROOM]);
    const link = main.querySelector<HTMLAnchorElement>(".tree a");
    link?.focus();

    // Another tool's event in the same room: nothing asked of the index.
    const before = reads.length;
    live.dispatch(stateEvent("$g", "org.parvis.guide", "g1"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reads.length).toBe(before);

    live.dispatch(stateEvent("$new", "org.parvis.wiki.page", "p2"));
    // Not indexed yet: the page waits.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(texts(main, ".tree a")).toEqual(["Page p1"]);
    index.lists.wiki = [page("p1", "$v1", 1000), page("p2", "$new", 5000, { author: "@bob:hs", title: "Note de Bob" })];
    await vi.waitFor(() => expect(texts(main, ".tree a")).toEqual(["Note de Bob", "Page p1"]));
    expect(announced).toEqual(["New page by bob."]);
    // The focus followed the same link into the new content.
    expect((document.activeElement as HTMLElement | null)?.textContent).toBe("Page p1");
    expect(main.querySelectorAll("h1")).toHaveLength(1);

    // Two changes at once (an edit, a redaction): how many.
    live.dispatch(stateEvent("$v2", "org.parvis.wiki.page", "p1"));
    live.dispatch({ ...stateEvent("$red", "m.room.redaction", ""), state_key: undefined, content: { redacts: "$new" } });
    index.lists.wiki = [page("p1", "$v2", 6000, { title: "Page un" })];
    await vi.waitFor(() => expect(texts(main, ".tree a")).toEqual(["Page un"]));
    expect(announced).toEqual(["New page by bob.", "2 item(s) updated."]);

    if (typeof cleanup === "function") cleanup();
    expect(live.rooms()).toEqual([]);
  });

  it("follows the tool's room while empty, and says nothing of what its filter hides", async () => {
    const post = (id: string, eventId: string, tags: string[]) => page(id, eventId, 5000, { room_id: BLOG_ROOM, kind: "blog_post", tags });
    const index: Index = { lists: { blog: [] }, views: {}, revisions: {}, comments: {}, activity: [] };
    const { live, announced, main, contextFor } = setup(index);
    const { route, render } = await listPage(blog);
    await render(contextFor(route, {}, "tag=urgent"));
    expect(texts(main, "p.empty")).toEqual(["No posts yet."]);
    expect(live.rooms()).toEqual([BLOG_ROOM]);

    index.lists.blog = [post("b1", "$b1", ["other"])];
    live.dispatch(stateEvent("$b1", "org.parvis.blog.post", "b1", BLOG_ROOM));
    index.lists.blog = [post("b1", "$b1", ["other"]), post("b2", "$b2", ["urgent"])];
    live.dispatch(stateEvent("$b2", "org.parvis.blog.post", "b2", BLOG_ROOM));
    await vi.waitFor(() => expect(texts(main, ".posts h2")).toEqual(["Page b2"]));
    // Only the post the filter shows was announced, as a post.
    expect(announced).toEqual(["New post by alice."]);
  });
});

describe("an object's comments, live", () => {
  it("shows someone's comment in the thread of a revision heard of since, keeping what the user types", async () => {
    const view: PublicationView = { ...page("p1", "$v1", 1000), html: "<p>Texte</p>", backlinks: [] };
    const revision = (eventId: string): Revision => ({ event_id: eventId, sender: "@alice:hs", origin_server_ts: 1000, content: { title: "Page p1" } }) as Revision;
    const index: Index = {
      lists: { wiki: [page("p1", "$v1", 1000)] },
      views: { p1: view },
      revisions: { p1: [revision("$v1")] },
      comments: { p1: [] },
      activity: [],
    };
    const { live, announced, main, contextFor } = setup(index);
    const route = { ...(wiki.routes?.find((candidate) => candidate.name === "wiki.read") as RouteDef<PageContext>), tool: wiki.id };
    const cleanup = await publicationRead(contextFor(route, { id: "p1" }));
    expect(main.querySelector(".comments-section p.empty")?.hasAttribute("hidden")).toBe(false);
    const textarea = main.querySelector("textarea");
    if (textarea) textarea.value = "Je réponds…";
    textarea?.focus();

    // Bob's revision, then his comment in its thread, before the page has read the revision.
    live.dispatch(stateEvent("$v2", "org.parvis.wiki.page", "p1"));
    const comment: LiveEvent = {
      room_id: WIKI_ROOM,
      event_id: "$c1",
      type: "m.room.message",
      sender: "@bob:hs",
      content: { msgtype: "m.text", body: "<b>Bien</b> vu", "m.relates_to": { rel_type: "m.thread", event_id: "$v2" } },
      origin_server_ts: 6000,
    };
    live.dispatch(comment);
    index.comments.p1 = [{ event_id: "$c1", room_id: WIKI_ROOM, thread_root: "$v2", sender: "@bob:hs", body: "<b>Bien</b> vu", origin_server_ts: 6000 }];
    await vi.waitFor(() => expect(texts(main, ".comments li .comment-body")).toEqual(["<b>Bien</b> vu"]));
    // Text, never markup.
    expect(main.querySelector(".comments b")).toBeNull();
    expect(main.querySelector(".comments-section p.empty")?.hasAttribute("hidden")).toBe(true);
    expect(announced).toContain("New comment by bob.");
    expect(main.querySelector("textarea")).toBe(textarea);
    expect(textarea?.value).toBe("Je réponds…");
    expect(document.activeElement).toBe(textarea);

    // A message outside the object's threads is not a comment.
    const asked = announced.length;
    live.dispatch({ ...comment, event_id: "$chat", content: { msgtype: "m.text", body: "Salut" } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(announced.length).toBe(asked);
    if (typeof cleanup === "function") cleanup();
    expect(live.rooms()).toEqual([]);
  });
});

describe("the community's home, live", () => {
  const activity = (id: string, room: string, title: string, updatedAt: number): CommunityActivity => ({
    room_id: room,
    kind: room === BLOG_ROOM ? "blog_post" : "wiki_page",
    object_id: id,
    title,
    author: "@bob:hs",
    updated_at: updatedAt,
  });

  it("shows someone's new object in the recent activity, in any of the community's rooms", async () => {
    const index: Index = { lists: {}, views: {}, revisions: {}, comments: {}, activity: [activity("p1", WIKI_ROOM, "Plan", 1000)] };
    const { app, live, announced, main, contextFor } = setup(index);
    // The community's tools, whose object types the home follows.
    const registry = app.registry as RouteRegistry<PageContext>;
    registry.addTool(wiki);
    registry.addTool(blog);
    const route: RouteDef<PageContext> = { pattern: "/c/:space", name: "community", load: async () => ({ default: communityHome }) };
    const cleanup = await communityHome(contextFor(route, {}));
    expect(texts(main, ".activity li a")).toEqual(["Plan"]);
    expect(live.rooms()).toEqual([WIKI_ROOM, BLOG_ROOM]);

    index.activity = [activity("b1", BLOG_ROOM, "Billet", 5000), activity("p1", WIKI_ROOM, "Plan", 1000)];
    live.dispatch(stateEvent("$b1", "org.parvis.blog.post", "b1", BLOG_ROOM));
    await vi.waitFor(() => expect(texts(main, ".activity li a")).toEqual(["Billet", "Plan"]));
    expect(announced).toEqual(["Recent activity updated."]);
    if (typeof cleanup === "function") cleanup();
    expect(live.rooms()).toEqual([]);
  });

  it("reads the community again for its publishing tools' objects only, not for a board's cards", async () => {
    const index: Index = { lists: {}, views: {}, revisions: {}, comments: {}, activity: [activity("p1", WIKI_ROOM, "Plan", 1000)] };
    const rooms: [string, string][] = [
      [WIKI_ROOM, "wiki"],
      [TASKS_ROOM, "tasks"],
    ];
    const { app, live, main, contextFor, reads } = setup(index, { tools: ["wiki", "tasks"], rooms });
    // The tasks tool receives its boards' and cards' state events (its own pages follow them).
    const registry = app.registry as RouteRegistry<PageContext>;
    registry.addTool(wiki);
    registry.addTool(tasks);
    const route: RouteDef<PageContext> = { pattern: "/c/:space", name: "community", load: async () => ({ default: communityHome }) };
    const cleanup = await communityHome(contextFor(route, {}));
    expect(live.rooms()).toEqual([WIKI_ROOM, TASKS_ROOM]);
    const overviewReads = () => reads.filter((read) => read === "GET ").length;
    expect(overviewReads()).toBe(1);

    // A card moved, a board renamed: nothing the activity lists, nothing read again.
    live.dispatch(stateEvent("$card", "org.parvis.kanban.card", "c1", TASKS_ROOM));
    live.dispatch(stateEvent("$board", "org.parvis.kanban.board", "b1", TASKS_ROOM));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(overviewReads()).toBe(1);

    // A wiki page still is read again, and shown.
    index.activity = [activity("p2", WIKI_ROOM, "Nouvelle page", 5000), activity("p1", WIKI_ROOM, "Plan", 1000)];
    live.dispatch(stateEvent("$p2", "org.parvis.wiki.page", "p2"));
    await vi.waitFor(() => expect(texts(main, ".activity li a")).toEqual(["Nouvelle page", "Plan"]));
    expect(overviewReads()).toBeGreaterThan(1);
    if (typeof cleanup === "function") cleanup();
  });
});
