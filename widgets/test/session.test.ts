import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, errorFromResponse } from "../src/api/client";
import { detectLang, toolCatalogues, translate } from "../src/i18n";
import { en } from "../src/i18n/en";
import { fr } from "../src/i18n/fr";
import { mergeCatalogues, toolMessages } from "../src/i18n/tool-messages";
import { normalizeHomeserverUrl } from "../src/session/homeserver";
import { readWidgetParams } from "../src/session/params";
import { SessionStore } from "../src/session/store";
import { toolCapabilities } from "../src/session/capabilities";
import { commentContent } from "../src/session/writer";
import { safeNext } from "../src/pages/login";
import { discoveredTools } from "../src/tools";

function memoryStorage() {
  const map = new Map<string, string>();
  return {
    getItem: (key: string) => map.get(key) ?? null,
    setItem: (key: string, value: string) => void map.set(key, value),
    removeItem: (key: string) => void map.delete(key),
    map,
  };
}

describe("widget parameters", () => {
  it("reads Element's query and Parvis's hash, ignoring unsubstituted variables", () => {
    const params = readWidgetParams(
      "?widgetId=parvis_wiki&parentUrl=https%3A%2F%2Fapp.element.io%2F%23%2Froom",
      "#/c/!s:hs/wiki?userId=%40alice%3Ahs&roomId=$matrix_room_id",
    );
    expect(params).toEqual({
      widgetId: "parvis_wiki",
      parentUrl: "https://app.element.io/#/room",
      parentOrigin: "https://app.element.io",
      userId: "@alice:hs",
    });
  });

  it("is not a widget without a usable parent URL", () => {
    expect(readWidgetParams("?widgetId=w", "")).toBeNull();
    expect(readWidgetParams("?widgetId=w&parentUrl=not%20a%20url", "")).toBeNull();
  });

  it("asks for the state events and messages its tools write, each once", () => {
    const requested = toolCapabilities(discoveredTools());
    expect(requested).toContain("org.matrix.msc2762.send.state_event:org.parvis.wiki.page");
    expect(requested).toContain("org.matrix.msc2762.send.state_event:org.parvis.guide");
    expect(requested).toContain("org.matrix.msc2762.send.event:m.room.message");
    expect(new Set(requested).size).toBe(requested.length);
  });
});

describe("sessions", () => {
  it("drops a corrupt stored session", () => {
    const storage = memoryStorage();
    storage.setItem("parvis.session", JSON.stringify({ homeserver: "", accessToken: 3 }));
    expect(new SessionStore(storage).load()).toBeNull();
    expect(storage.map.has("parvis.session")).toBe(false);
    const store = new SessionStore(storage);
    store.save({ homeserver: "https://hs", accessToken: "t", userId: "@a:hs" });
    expect(store.load()?.userId).toBe("@a:hs");
  });

  it("normalizes homeserver addresses", () => {
    expect(normalizeHomeserverUrl(" matrix.example.org/ ")).toBe("https://matrix.example.org");
    expect(normalizeHomeserverUrl("http://127.0.0.1:8008/")).toBe("http://127.0.0.1:8008");
    expect(() => normalizeHomeserverUrl("")).toThrow(ApiError);
  });

  it("only follows the app's own routes after sign-in", () => {
    expect(safeNext("#/c/!s:hs/wiki")).toBe("#/c/!s:hs/wiki");
    expect(safeNext("https://evil.example/")).toBe("#/");
    expect(safeNext("#/login?next=x")).toBe("#/");
    expect(safeNext(null)).toBe("#/");
  });

  it("comments are thread replies with a fallback for clients without threads", () => {
    expect(commentContent("$root", "hello")).toEqual({
      msgtype: "m.text",
      body: "hello",
      "m.relates_to": { rel_type: "m.thread", event_id: "$root", is_falling_back: true, "m.in_reply_to": { event_id: "$root" } },
    });
  });
});

describe("the API client", () => {
  it("turns the server's errcode and message into an ApiError", async () => {
    const api = new ApiClient({
      baseUrl: "https://parvis",
      token: () => "tok",
      fetch: async (url, init) => {
        expect(url).toBe("https://parvis/api/v1/communities/!s%3Ahs/wiki");
        expect((init?.headers as Record<string, string>).Authorization).toBe("Bearer tok");
        return new Response(JSON.stringify({ errcode: "M_FORBIDDEN", error: "readers only read" }), { status: 403 });
      },
    });
    await expect(api.list("!s:hs", "wiki")).rejects.toMatchObject({ status: 403, errcode: "M_FORBIDDEN", message: "readers only read" });
  });

  it("renews an expired widget session once and retries", async () => {
    let token = "old";
    let calls = 0;
    const api = new ApiClient({
      baseUrl: "",
      token: () => token,
      renewToken: async () => ((token = "new"), true),
      fetch: async (_url, init) => {
        calls += 1;
        const auth = (init?.headers as Record<string, string>).Authorization;
        return auth === "Bearer new"
          ? new Response("[]", { status: 200 })
          : new Response(JSON.stringify({ errcode: "M_UNKNOWN_TOKEN", error: "expired" }), { status: 401 });
      },
    });
    expect(await api.myCommunities()).toEqual([]);
    expect(calls).toBe(2);
  });

  it("reads bytes (a member's picture) with the token, renewed once, and the server's error when refused", async () => {
    let token = "old";
    const asked: string[] = [];
    const api = new ApiClient({
      baseUrl: "",
      token: () => token,
      renewToken: async () => ((token = "new"), true),
      fetch: async (url, init) => {
        const headers = init?.headers as Record<string, string>;
        asked.push(`${url} ${headers.Authorization} ${headers.Accept}`);
        if (headers.Authorization !== "Bearer new") return new Response(JSON.stringify({ errcode: "M_UNKNOWN_TOKEN", error: "expired" }), { status: 401 });
        if (url.endsWith("%40bob%3Ahs")) return new Response(new Uint8Array([1, 2, 3]), { headers: { "Content-Type": "image/png" } });
        return new Response(JSON.stringify({ errcode: "M_NOT_FOUND", error: "no avatar" }), { status: 404 });
      },
    });
    const picture = await (await api.download("/api/v1/communities/!s%3Ahs/avatars/%40bob%3Ahs", { accept: "image/*" })).blob();
    expect(picture.type).toBe("image/png");
    expect(picture.size).toBe(3);
    expect(asked).toEqual([
      "/api/v1/communities/!s%3Ahs/avatars/%40bob%3Ahs Bearer old image/*",
      "/api/v1/communities/!s%3Ahs/avatars/%40bob%3Ahs Bearer new image/*",
    ]);
    await expect(api.download("/api/v1/communities/!s%3Ahs/avatars/%40carol%3Ahs")).rejects.toMatchObject({
      status: 404,
      errcode: "M_NOT_FOUND",
      message: "no avatar",
    });
  });

  it("explains an answer that is not JSON, and an unreachable server", async () => {
    expect(errorFromResponse(502, "Bad Gateway", undefined, "<html>proxy</html>").message).toContain("HTTP 502 Bad Gateway");
    const api = new ApiClient({ baseUrl: "", token: () => null, fetch: async () => Promise.reject(new TypeError("Failed to fetch")) });
    await expect(api.info()).rejects.toMatchObject({ status: 0, errcode: "ORG.PARVIS_NETWORK" });
  });
});

describe("languages", () => {
  const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
  const catalogues = [
    { name: "shared", en: en as Record<string, string>, fr: fr as Record<string, string> },
    ...toolCatalogues().map(({ tool, messages }) => ({ name: tool, en: messages.en, fr: messages.fr })),
  ];

  it.each(catalogues)("French and English have the same messages and placeholders ($name)", (catalogue) => {
    expect(Object.keys(catalogue.fr).sort()).toEqual(Object.keys(catalogue.en).sort());
    for (const key of Object.keys(catalogue.en)) {
      expect(placeholders(catalogue.fr[key] ?? ""), key).toEqual(placeholders(catalogue.en[key] ?? ""));
    }
  });

  it("finds the tools' strings in their folders, each tool in its own namespace", () => {
    const tools = toolCatalogues();
    expect(tools.length).toBeGreaterThan(0);
    for (const { tool, messages } of tools) {
      for (const key of Object.keys(messages.en)) {
        expect(key.startsWith(`${tool}.`), key).toBe(true);
        expect(translate("en", key as never)).toBe(messages.en[key]);
      }
    }
  });

  it("refuses a tool's string outside its namespace, or one already taken", () => {
    const core = { en: { "shell.home": "Home" }, fr: { "shell.home": "Accueil" } };
    const polls = toolMessages({ en: { "polls.vote": "Vote" }, fr: { "polls.vote": "Voter" } });
    expect(mergeCatalogues(core, [{ tool: "polls", messages: polls }]).fr).toEqual({ "shell.home": "Accueil", "polls.vote": "Voter" });
    expect(() => mergeCatalogues(core, [{ tool: "votes", messages: polls }])).toThrow(/not in its namespace/);
    expect(() => mergeCatalogues(core, [{ tool: "polls", messages: polls }, { tool: "polls", messages: polls }])).toThrow(/twice/);
  });

  it("follows a remembered choice, then the browser, else French", () => {
    expect(detectLang("en", ["fr-FR"])).toBe("en");
    expect(detectLang(null, ["de-DE", "en-US"])).toBe("en");
    expect(detectLang("xx", ["de"])).toBe("fr");
    expect(translate("fr", "search.count", { count: 2, q: "été" })).toBe("2 résultat(s) pour « été ».");
  });
});
