/** The likes tool's own tests: its reactions, its API calls, its widget writes, its registration. */
import { describe, expect, it } from "vitest";
import { ApiClient } from "../../api/client";
import type { PageContext } from "../../app/context";
import { RouteRegistry, type ObjectRef } from "../../app/registry";
import { translate } from "../../i18n";
import { receivedEventTypes, toolCapabilities } from "../../session/capabilities";
import type { LiveEvent } from "../../session/live";
import { registerTools } from "../index";
import { completeMine, likesOf, mostRecommended, sendReaction, withdrawReaction } from "./api";
import { MAYBE_WAIT_MS } from "../../publishing/live";
import { afterWrite, mayChangeLikes, reactionContent, REACTIONS, RecommendedFollower, sameLikes, sameRecommended, showsWrite } from "./reactions";
import likes from "./tool";
import type { ObjectLikes, RecommendedObject } from "./types";
import { WidgetReactionWriter, type ReactionWidget } from "./writer";

const nobody: ObjectLikes = { likes: 2, recommendations: 0, mine: { like: null, recommend: null } };

describe("likes and recommendations", () => {
  it("is in every community, with a panel and a home section but no navigation entry", () => {
    const registry = new RouteRegistry<PageContext>();
    registerTools(registry);
    expect(registry.navigationTools().map((tool) => tool.id)).not.toContain("likes");
    expect(registry.objectPanels(["faq"]).map(({ tool, slot }) => `${tool.id}.${slot.name}`)).toEqual(["likes.reactions"]);
    expect(registry.homeSections(["wiki"]).map(({ tool, slot }) => `${tool.id}.${slot.name}`)).toEqual(["likes.most-recommended"]);
  });

  it("asks Element to send its reactions and redactions, and to tell it of others'", () => {
    expect(toolCapabilities([likes])).toEqual([
      "org.matrix.msc2762.send.event:m.reaction",
      "org.matrix.msc2762.send.event:m.room.redaction",
      "org.matrix.msc2762.receive.event:m.reaction",
      "org.matrix.msc2762.receive.event:m.room.redaction",
    ]);
    expect(receivedEventTypes(toolCapabilities([likes]))).toEqual({ state: [], timeline: ["m.reaction", "m.room.redaction"] });
  });

  it("refreshes the counts for others' 👍 and ⭐ and redactions, not for the user's own echoes", () => {
    const event = (type: string, content: Record<string, unknown>, extra: Partial<LiveEvent> = {}): LiveEvent => ({
      room_id: "!wiki:hs",
      event_id: "$e",
      type,
      sender: "@bob:hs",
      content,
      origin_server_ts: 1,
      ...extra,
    });
    const annotation = (key: string) => ({ "m.relates_to": { rel_type: "m.annotation", event_id: "$rev", key } });
    const none = new Set<string>();
    expect(mayChangeLikes(event("m.reaction", annotation("👍")), none)).toBe(true);
    // Element's quick reaction may carry the variation selector.
    expect(mayChangeLikes(event("m.reaction", annotation("\u2B50\uFE0F")), none)).toBe(true);
    expect(mayChangeLikes(event("m.reaction", annotation("😂")), none)).toBe(false);
    expect(mayChangeLikes(event("m.reaction", { "m.relates_to": { rel_type: "m.reference", event_id: "$rev" } }), none)).toBe(false);
    expect(mayChangeLikes(event("m.room.message", { body: "👍" }), none)).toBe(false);
    // Which reaction a redaction takes back is the index's to say: any may.
    expect(mayChangeLikes(event("m.room.redaction", { redacts: "$other" }), none)).toBe(true);
    expect(mayChangeLikes(event("m.room.redaction", {}, { redacts: "$other" }), none)).toBe(true);
    const own = new Set(["$e", "$mine"]);
    expect(mayChangeLikes(event("m.reaction", annotation("👍")), own)).toBe(false);
    expect(mayChangeLikes(event("m.room.redaction", { redacts: "$mine" }, { event_id: "$r" }), own)).toBe(false);
    expect(mayChangeLikes(event("m.room.redaction", {}, { event_id: "$r", redacts: "$mine" }), own)).toBe(false);
  });

  it("compares answers of the index by counts and the user's reactions", () => {
    expect(sameLikes(nobody, { ...nobody, mine: { ...nobody.mine } })).toBe(true);
    expect(sameLikes(nobody, { ...nobody, likes: 3 })).toBe(false);
    expect(sameLikes(nobody, { ...nobody, mine: { like: "$r", recommend: null } })).toBe(false);
  });

  it("tells whether the most recommended objects changed: which, in what order, titles and counts", () => {
    const item = (over: Partial<RecommendedObject> = {}): RecommendedObject => ({ tool: "wiki", id: "p1", title: "Plan", likes: 2, recommendations: 1, ...over });
    expect(sameRecommended([item()], [item()])).toBe(true);
    expect(sameRecommended([], [])).toBe(true);
    expect(sameRecommended([item()], [])).toBe(false);
    expect(sameRecommended([item(), item({ id: "p2" })], [item({ id: "p2" }), item()])).toBe(false);
    for (const over of [{ tool: "blog" }, { title: "Plan B" }, { likes: 3 }, { recommendations: 0 }]) {
      expect(sameRecommended([item()], [item(over)])).toBe(false);
    }
  });

  it("has the home's most recommended follow every 👍, ⭐ and redaction of the community's rooms, for a while", () => {
    const plan: RecommendedObject = { tool: "wiki", id: "p1", title: "Plan", likes: 2, recommendations: 1 };
    const home = new RecommendedFollower([plan]);
    const reaction = (eventId: string, key: string): LiveEvent => ({
      room_id: "!blog:hs",
      event_id: eventId,
      type: "m.reaction",
      sender: "@bob:hs",
      content: { "m.relates_to": { rel_type: "m.annotation", event_id: "$post", key } },
      origin_server_ts: 1,
    });
    expect(home.offer(reaction("$laugh", "😂"))).toBe(false);
    expect(home.offer({ ...reaction("$m", "👍"), type: "m.room.message" })).toBe(false);
    expect(home.offer(reaction("$star", "⭐"))).toBe(true);
    expect(home.offer(reaction("$star", "⭐"))).toBe(false);
    expect(home.patienceMs).toBe(MAYBE_WAIT_MS);
    expect(home.shouldShow([{ ...plan }])).toBe(false);
    const fresh = [{ ...plan, recommendations: 2 }];
    expect(home.shouldShow(fresh)).toBe(true);
    home.showing(fresh);
    expect(home.waiting).toBe(false);
    expect(home.offer({ ...reaction("$r", "x"), type: "m.room.redaction", content: { redacts: "$star" } })).toBe(true);
  });

  it("has its strings in both languages, from its own folder", () => {
    expect(translate("en", "likes.like")).toBe("Like");
    expect(translate("fr", "likes.likeCount", { count: 3 })).toBe("3 j’aime");
  });

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
