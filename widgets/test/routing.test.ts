import { describe, expect, it } from "vitest";
import type { PageContext } from "../src/app/context";
import { RouteRegistry } from "../src/app/registry";
import { hashFor, parseHash } from "../src/app/router";
import { publicationTool } from "../src/publishing/routes";
import { BLOG } from "../src/tools/blog/publication";
import { GUIDES } from "../src/tools/guides/publication";
import { WIKI } from "../src/tools/wiki/publication";
import { apiBaseFor } from "../src/app/app";

const page = () => Promise.resolve({ default: () => undefined });

describe("hash routing", () => {
  it("splits path and query, and ignores a trailing slash", () => {
    const parsed = parseHash("#/c/!abc:hs/wiki/?q=%C3%A9t%C3%A9&tag=a");
    expect(parsed.path).toBe("/c/!abc:hs/wiki");
    expect(parsed.query.get("q")).toBe("été");
    expect(parseHash("").path).toBe("/");
  });

  it("prefers static segments: /wiki/new is not a page called new", () => {
    const registry = new RouteRegistry<PageContext>();
    registry.addTool(publicationTool(WIKI, 10));
    expect(registry.match("/c/!s:hs/wiki/new")?.route.name).toBe("wiki.new");
    expect(registry.match("/c/!s:hs/wiki/p1")).toMatchObject({ route: { name: "wiki.read" }, params: { space: "!s:hs", id: "p1" } });
    expect(registry.match("/c/!s:hs/wiki/p1/edit")?.route.name).toBe("wiki.edit");
    expect(registry.match("/c/!s:hs/calendar")).toBeNull();
  });

  it("builds links that round-trip, Matrix IDs kept readable", () => {
    const hash = hashFor("/c/:space/wiki/:id", { space: "!abc:example.org", id: "a b/c" }, { from: "$e1", to: "" });
    expect(hash).toBe("#/c/!abc:example.org/wiki/a%20b%2Fc?from=%24e1");
    const registry = new RouteRegistry<PageContext>();
    registry.addTool(publicationTool(WIKI, 10));
    expect(registry.match(parseHash(hash).path)?.params.id).toBe("a b/c");
    expect(() => hashFor("/c/:space", {})).toThrow(/space/);
  });

  it("refuses a tool or route registered twice, and lists tools in order", () => {
    const registry = new RouteRegistry<PageContext>();
    registry.addTool(publicationTool(BLOG, 20));
    registry.addTool(publicationTool(WIKI, 10));
    expect(registry.tools().map((tool) => tool.id)).toEqual(["wiki", "blog"]);
    expect(() => registry.addTool(publicationTool(WIKI, 30))).toThrow(/twice/);
    expect(() => registry.addRoute({ pattern: "/c/:space/wiki", name: "other", load: page })).toThrow(/twice/);
  });

  it("shows a tool that comes with another only when that one is enabled", () => {
    const registry = new RouteRegistry<PageContext>();
    registry.addTool(publicationTool(WIKI, 10));
    registry.addTool(publicationTool(GUIDES, 15));
    registry.addTool(publicationTool(BLOG, 20));
    expect(registry.enabledTools(["wiki"]).map((tool) => tool.id)).toEqual(["wiki", "guides"]);
    expect(registry.enabledTools(["blog"]).map((tool) => tool.id)).toEqual(["blog"]);
  });

  it("finds the API next to the pages Parvis serves", () => {
    expect(apiBaseFor("/widgets/index.html")).toBe("");
    expect(apiBaseFor("/parvis/widgets/index.html")).toBe("/parvis");
  });
});
