import { describe, expect, it } from "vitest";
import { ApiClient, apiPath } from "../src/api/client";
import type { PageContext } from "../src/app/context";
import { RouteRegistry, type ObjectRef, type ToolDef } from "../src/app/registry";
import { publicationTool } from "../src/publishing/routes";
import { BLOG, GUIDES, WIKI } from "../src/publishing/tools";
import { capability, toolCapabilities } from "../src/session/capabilities";
import { discoveredTools, registerTools } from "../src/tools";
import { completeMine, likesOf, mostRecommended, sendReaction, withdrawReaction } from "../src/tools/likes/api";
import { afterWrite, reactionContent, REACTIONS, showsWrite } from "../src/tools/likes/reactions";
import likes from "../src/tools/likes/tool";
import type { ObjectLikes } from "../src/tools/likes/types";
import { WidgetReactionWriter, type ReactionWidget } from "../src/tools/likes/writer";

const render = () => Promise.resolve({ default: () => undefined });

/** A tool with no page of its own, only slots. */
const slotsOnly = (id: string, order: number, extra: Partial<ToolDef<PageContext>> = {}): ToolDef<PageContext> => ({
  id,
  order,
  objectPanels: [{ name: "panel", load: render }],
  homeSections: [{ name: "section", load: render }],
  ...extra,
});

describe("tool slots", () => {
  it("keeps a tool without routes or label out of the navigation", () => {
    const registry = new RouteRegistry<PageContext>();
    registry.addTool(publicationTool(WIKI, 10));
    registry.addTool(slotsOnly("likes", 50, { everyCommunity: true }));
    expect(registry.tools().map((tool) => tool.id)).toEqual(["wiki", "likes"]);
    expect(registry.navigationTools().map((tool) => tool.id)).toEqual(["wiki"]);
    expect(registry.navigationTools(["wiki"]).map((tool) => tool.id)).toEqual(["wiki"]);
    expect(registry.routes().every((route) => route.tool === "wiki")).toBe(true);
  });

  it("gives shared pages the slots of the community's tools, in tool order", () => {
    const registry = new RouteRegistry<PageContext>();
    registry.addTool(publicationTool(WIKI, 10));
    registry.addTool(slotsOnly("everywhere", 60, { everyCommunity: true }));
    registry.addTool(slotsOnly("with-blog", 40, { requires: "blog" }));
    const names = (slots: { tool: ToolDef<PageContext>; slot: { name: string } }[]) =>
      slots.map(({ tool, slot }) => `${tool.id}.${slot.name}`);
    expect(names(registry.objectPanels(["wiki"]))).toEqual(["everywhere.panel"]);
    expect(names(registry.objectPanels(["wiki", "blog"]))).toEqual(["with-blog.panel", "everywhere.panel"]);
    expect(names(registry.homeSections([]))).toEqual(["everywhere.section"]);
    // Before the community's tools are known: every tool's.
    expect(names(registry.homeSections())).toEqual(["with-blog.section", "everywhere.section"]);
    // A tool of every community is enabled in any, and has no navigation entry all the same.
    expect(registry.enabledTools([]).map((tool) => tool.id)).toEqual(["everywhere"]);
  });

  it("links to another tool's objects without naming it", () => {
    const registry = new RouteRegistry<PageContext>();
    registry.addTool(publicationTool(WIKI, 10));
    registry.addTool(publicationTool(GUIDES, 15));
    registry.addTool(slotsOnly("likes", 50));
    expect(registry.objectLink("wiki", "!s:hs", "p 1")).toBe("#/c/!s:hs/wiki/p%201");
    expect(registry.objectLink("guides", "!s:hs", "g1")).toBe("#/c/!s:hs/guides/g1");
    expect(registry.objectLink("likes", "!s:hs", "x")).toBeNull();
    expect(registry.objectLink("calendar", "!s:hs", "x")).toBeNull();
  });

  it("refuses half a navigation entry and a slot declared twice", () => {
    const registry = new RouteRegistry<PageContext>();
    expect(() => registry.addTool(slotsOnly("half", 1, { label: "tool.wiki" }))).toThrow(/label and home/);
    expect(() =>
      registry.addTool(
        slotsOnly("twice", 1, {
          objectPanels: [
            { name: "a", load: render },
            { name: "a", load: render },
          ],
        }),
      ),
    ).toThrow(/slot a declared twice/);
    expect(registry.tools()).toEqual([]);
  });

  it("collects the widget capabilities of the tools, each once", () => {
    const tools = [publicationTool(WIKI, 10), publicationTool(BLOG, 20), likes];
    expect(toolCapabilities(tools)).toEqual([
      "org.matrix.msc2762.send.state_event:org.parvis.wiki.page",
      "org.matrix.msc2762.send.event:m.room.message",
      "org.matrix.msc2762.send.state_event:org.parvis.blog.post",
      "org.matrix.msc2762.send.event:m.reaction",
      "org.matrix.msc2762.send.event:m.room.redaction",
    ]);
    expect(capability.sendEvent("m.reaction")).toBe("org.matrix.msc2762.send.event:m.reaction");
  });

  it("finds the likes folder with the others, and registers them all", () => {
    const ids = discoveredTools().map((tool) => tool.id);
    expect(ids).toEqual(expect.arrayContaining(["wiki", "blog", "faq", "guides", "likes"]));
    const registry = new RouteRegistry<PageContext>();
    registerTools(registry);
    expect(registry.navigationTools().map((tool) => tool.id)).not.toContain("likes");
    expect(registry.objectPanels(["faq"]).map(({ slot }) => slot.name)).toEqual(["reactions"]);
    expect(registry.homeSections(["wiki"]).map(({ slot }) => slot.name)).toEqual(["most-recommended"]);
  });
});

const nobody: ObjectLikes = { likes: 2, recommendations: 0, mine: { like: null, recommend: null } };

describe("likes and recommendations", () => {
  it("annotates the current revision with 👍 or ⭐", () => {
    expect(REACTIONS.map((def) => [def.reaction, def.key])).toEqual([
      ["like", "👍"],
      ["recommend", "⭐"],
    ]);
    expect(reactionContent("$rev", "👍")).toEqual({ "m.relates_to": { rel_type: "m.annotation", event_id: "$rev", key: "👍" } });
  });

  it("shows the user's change at once, counting it once", () => {
    const liked = afterWrite(nobody, { reaction: "like", sent: "$r1" });
    expect(liked).toEqual({ likes: 3, recommendations: 0, mine: { like: "$r1", recommend: null } });
    // Sending again (another revision) replaces the user's event, not the count.
    expect(afterWrite(liked, { reaction: "like", sent: "$r2" }).likes).toBe(3);
    expect(afterWrite(liked, { reaction: "like", redacted: ["$r1"] })).toEqual(nobody);
    expect(afterWrite(nobody, { reaction: "recommend", redacted: [] }).recommendations).toBe(0);
  });

  it("knows when the index shows a write", () => {
    const sent = { reaction: "like", sent: "$r1" } as const;
    expect(showsWrite(nobody, sent)).toBe(false);
    expect(showsWrite({ ...nobody, mine: { like: "$r1", recommend: null } }, sent)).toBe(true);
    const redacted = { reaction: "like", redacted: ["$r1"] } as const;
    expect(showsWrite({ ...nobody, mine: { like: "$r1", recommend: null } }, redacted)).toBe(false);
    expect(showsWrite(nobody, redacted)).toBe(true);
    // Another reaction of the user (on an older revision) is not the one withdrawn.
    expect(showsWrite({ ...nobody, mine: { like: "$old", recommend: null } }, redacted)).toBe(true);
  });

  it("calls the likes endpoints through the app's client", async () => {
    const calls: string[] = [];
    const answers: Record<string, unknown> = {
      "GET /api/v1/communities/!s%3Ahs/wiki/p1/likes": nobody,
      "PUT /api/v1/communities/!s%3Ahs/wiki/p1/likes/recommend": { event_id: "$r" },
      "DELETE /api/v1/communities/!s%3Ahs/wiki/p1/likes/like": { redacted: ["$a", "$b"] },
      "GET /api/v1/communities/!s%3Ahs/recommended?limit=10": { objects: [] },
    };
    const api = new ApiClient({
      baseUrl: "",
      token: () => "tok",
      fetch: async (url, init) => {
        const call = `${init?.method} ${url}`;
        calls.push(call);
        expect(init?.body).toBeUndefined();
        return call in answers
          ? new Response(JSON.stringify(answers[call]), { status: 200 })
          : new Response(JSON.stringify({ errcode: "M_UNRECOGNIZED", error: call }), { status: 404 });
      },
    });
    const object = { space: "!s:hs", tool: "wiki", id: "p1" };
    expect(await likesOf(api, object)).toEqual(nobody);
    expect(await sendReaction(api, object, "recommend")).toEqual({ event_id: "$r" });
    expect(await withdrawReaction(api, object, "like")).toEqual({ redacted: ["$a", "$b"] });
    expect(await mostRecommended(api, "!s:hs", 10)).toEqual({ objects: [] });
    expect(calls).toHaveLength(4);
    await expect(likesOf(api, { ...object, id: "nope" })).rejects.toMatchObject({ status: 404, errcode: "M_UNRECOGNIZED" });
    expect(apiPath("communities", "!s:hs", "faq", "a/b")).toBe("/api/v1/communities/!s%3Ahs/faq/a%2Fb");
  });

  it("reads an absent reaction of the user as none", () => {
    expect(completeMine({ likes: 1, recommendations: 0, mine: { like: "$r" } })).toEqual({
      likes: 1,
      recommendations: 0,
      mine: { like: "$r", recommend: null },
    });
  });

  it("in a widget, Element sends the reaction and redacts it, in the object's room", async () => {
    const sent: { type: string; content: unknown; room: string | undefined }[] = [];
    const widget: ReactionWidget = {
      roomArgument: async (roomId) => (roomId === "!widget:hs" ? undefined : roomId),
      api: {
        sendRoomEvent: async (type, content, room) => {
          sent.push({ type, content, room });
          return { event_id: `$sent${sent.length}` };
        },
      },
    };
    const writer = new WidgetReactionWriter(widget);
    const object: ObjectRef = { space: "!s:hs", tool: "blog", id: "b1", eventId: "$rev", roomId: "!blog:hs" };
    expect(await writer.react(object, "recommend")).toEqual({ reaction: "recommend", sent: "$sent1" });
    expect(await writer.unreact(object, "recommend", "$mine")).toEqual({ reaction: "recommend", redacted: ["$mine"] });
    expect(sent).toEqual([
      { type: "m.reaction", content: reactionContent("$rev", "⭐"), room: "!blog:hs" },
      { type: "m.room.redaction", content: { redacts: "$mine" }, room: "!blog:hs" },
    ]);
    // A client that does not say which reaction it sent cannot be followed: an error, not a silent miss.
    const silent = new WidgetReactionWriter({ ...widget, api: { sendRoomEvent: async () => ({}) } });
    await expect(silent.react(object, "like")).rejects.toMatchObject({ errcode: "ORG.PARVIS_WIDGET_NO_EVENT_ID" });
  });
});
