import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { apiPath } from "../src/api/client";
import type { PageContext } from "../src/app/context";
import { RouteRegistry, type ToolDef } from "../src/app/registry";
import { pagesToolOf, publicationToolNamed, publicationToolOfKind, publicationTools } from "../src/publishing/lookup";
import { publicationOf, publicationTool } from "../src/publishing/routes";
import { BLOG } from "../src/tools/blog/publication";
import { GUIDES } from "../src/tools/guides/publication";
import { WIKI } from "../src/tools/wiki/publication";
import { capability, toolCapabilities } from "../src/session/capabilities";
import { en } from "../src/i18n/en";
import { fr } from "../src/i18n/fr";
import { discoveredTools, registerTools } from "../src/tools";

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
    const reacting = slotsOnly("reacting", 50, {
      capabilities: [capability.sendEvent("m.reaction"), capability.sendEvent("m.room.message")],
    });
    const tools = [publicationTool(WIKI, 10), publicationTool(BLOG, 20), reacting];
    expect(toolCapabilities(tools)).toEqual([
      "org.matrix.msc2762.send.state_event:org.parvis.wiki.page",
      "org.matrix.msc2762.send.event:m.room.message",
      "org.matrix.msc2762.receive.state_event:org.parvis.wiki.page",
      "org.matrix.msc2762.receive.event:m.room.message",
      "org.matrix.msc2762.receive.event:m.room.redaction",
      "org.matrix.msc2762.send.state_event:org.parvis.blog.post",
      "org.matrix.msc2762.receive.state_event:org.parvis.blog.post",
      "org.matrix.msc2762.send.event:m.reaction",
    ]);
  });

  it("finds every tool folder, each tool named as its folder, and registers them all", () => {
    // Every folder of src/tools with code in it, a tool.ts or not (a misnamed one is caught here).
    const files = Object.keys(import.meta.glob("../src/tools/*/*.ts"));
    const folders = [...new Set(files.map((path) => path.split("/")[3]))].sort();
    expect(folders.length).toBeGreaterThan(0);
    expect(discoveredTools().map((tool) => tool.id).sort()).toEqual(folders);
    const registry = new RouteRegistry<PageContext>();
    registerTools(registry);
    expect(registry.tools()).toHaveLength(folders.length);
    // Every navigation entry leads to one of the tool's own routes.
    for (const tool of registry.navigationTools()) {
      expect(registry.match(tool.home.replace(":space", "!s:hs"))?.route.tool).toBe(tool.id);
    }
  });

  it("escapes every segment of an API path", () => {
    expect(apiPath("communities", "!s:hs", "faq", "a/b")).toBe("/api/v1/communities/!s%3Ahs/faq/a%2Fb");
  });
});

describe("the publishing tools", () => {
  const defs = publicationTools();

  it("are the discovered tools whose entry carries a publication, each named as its tool", () => {
    const entries = discoveredTools().filter((tool) => publicationOf(tool) !== undefined);
    expect(defs.length).toBeGreaterThan(0);
    expect(defs).toHaveLength(entries.length);
    for (const tool of entries) expect(publicationOf(tool)?.tool).toBe(tool.id);
  });

  it("have unique names, kinds and event types, and are found by each", () => {
    for (const key of ["tool", "kind", "eventType"] as const) {
      expect(new Set(defs.map((def) => def[key])).size, key).toBe(defs.length);
    }
    for (const def of defs) {
      expect(publicationToolOfKind(def.kind)).toBe(def);
      expect(publicationToolNamed(def.tool)).toBe(def);
    }
    expect(publicationToolOfKind("no_such_kind")).toBeNull();
    expect(publicationToolNamed("no-such-tool")).toBeNull();
  });

  it("live in a discovered tool's room, and name the discovered tool their pages are from", () => {
    const ids = discoveredTools().map((tool) => tool.id);
    for (const def of defs) {
      expect(ids, `${def.tool}.room`).toContain(def.room);
      const picks = def.fields.includes("parent") || def.fields.includes("pages");
      // A tool with pages to pick says where from; one without has nothing to list.
      expect(def.pagesFrom !== undefined, `${def.tool}.pagesFrom`).toBe(picks);
      if (picks) expect(pagesToolOf(def)?.tool, `${def.tool}.pagesFrom`).toBe(def.pagesFrom);
      else expect(pagesToolOf(def)).toBeNull();
      // The pages picker's select is labelled by the tool.
      expect(def.labels.addPage !== undefined, `${def.tool}.labels.addPage`).toBe(def.fields.includes("pages"));
    }
  });
});

/**
 * The string literals of a source file ("…", '…', `…`), outside comments: a comment or string is
 * matched whole from where it starts, so `//` in a URL and a quote in a comment are skipped.
 */
function stringLiterals(text: string): string[] {
  const tokens = /\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g;
  return [...text.matchAll(tokens)].map(([token]) => token).filter((token) => !token.startsWith("/")).map((token) => token.slice(1, -1));
}

/** The strings of a source file in a tool's namespace (`wiki.breadcrumbs`): message keys of that tool. */
function toolKeysIn(text: string, tools: readonly string[]): string[] {
  return stringLiterals(text).filter((literal) => tools.some((tool) => literal.startsWith(`${tool}.`)));
}

describe("the shared code", () => {
  const src = fileURLToPath(new URL("../src", import.meta.url));
  /** Every source file outside a tool's folder and the message catalogues (and generated types). */
  const shared = (readdirSync(src, { recursive: true }) as string[])
    .map((path) => path.split("\\").join("/"))
    .filter((path) => /\.tsx?$/.test(path) && !path.endsWith(".d.ts"))
    .filter((path) => !/^tools\/[^/]+\//.test(path) && !path.startsWith("i18n/"));

  it("names no tool: neither its name nor the kind of its objects as a string", () => {
    expect(shared).toContain("pages/publication-read.ts");
    const names = [...discoveredTools().map((tool) => tool.id), ...publicationTools().map((def) => def.kind)];
    const words = names.flatMap((name) => [`"${name}"`, `'${name}'`]);
    const found = shared.flatMap((path) => {
      const text = readFileSync(join(src, path), "utf8");
      return words.filter((word) => text.includes(word)).map((word) => `${path}: ${word}`);
    });
    expect(found).toEqual([]);
  });

  it("finds a tool's message keys in string literals, not in comments", () => {
    const text = [
      'app.t("wiki.new"); app.t(`blog.${key}`);',
      "const b = 'faq.general' + \"https://wiki.example/\" + \"./*/x\";",
      '// app.t("wiki.tree"), "blog.draft"',
      '/* app.t("guides.readingPath") */ app.t("publication.draft");',
      'h("p", null, "wikis.new", "org.parvis.wiki.page");',
    ].join("\n");
    expect(toolKeysIn(text, ["wiki", "blog", "faq", "guides"])).toEqual(["wiki.new", "blog.${key}", "faq.general"]);
  });

  it("uses no message key of a tool: the publishing pages' own are publication.*, a tool's come from its labels", () => {
    const tools = discoveredTools().map((tool) => tool.id);
    const found = shared.flatMap((path) =>
      toolKeysIn(readFileSync(join(src, path), "utf8"), tools).map((key) => `${path}: ${key}`),
    );
    expect(found).toEqual([]);
    // Nor do the shared catalogues define any: a tool's strings are in its messages.ts.
    for (const catalogue of [en, fr]) {
      expect(Object.keys(catalogue).filter((key) => tools.some((tool) => key.startsWith(`${tool}.`)))).toEqual([]);
    }
  });
});
