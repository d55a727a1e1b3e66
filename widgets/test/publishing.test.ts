import { describe, expect, it } from "vitest";
import { foldAccents, newObjectId, slugify, uniqueSlug } from "../src/publishing/slug";
import { parseTags } from "../src/publishing/tools";
import { ancestors, flatten, pageTree, subtreeIds } from "../src/publishing/tree";
import { rewriteRenderedHref } from "../src/publishing/links";
import { linkTargetTools, publicationTools } from "../src/publishing/lookup";
import { waitUntil } from "../src/publishing/await-index";

describe("slugs, as the server makes them (render.rs tests)", () => {
  it.each([
    ["Réunion du lundi — ordre du jour !", "reunion-du-lundi-ordre-du-jour"],
    ["  Œuvre à Noël  ", "oeuvre-a-noel"],
    ["C'est l'été, 2024/25", "c-est-l-ete-2024-25"],
    ["!!!", "page"],
    ["", "page"],
  ])("%s → %s", (title, slug) => expect(slugify(title)).toBe(slug));

  it("cuts at 80 characters, never on a dash", () => {
    expect(slugify("a".repeat(200))).toHaveLength(80);
    expect(slugify(`${"a".repeat(79)} b`)).toBe("a".repeat(79));
  });

  it("folds decomposed accents like composed ones", () => {
    expect(foldAccents("e\u0301te\u0301")).toBe(foldAccents("été"));
  });

  it("finds a free slug", () => {
    expect(uniqueSlug("plan", new Set(["plan", "plan-2"]))).toBe("plan-3");
    expect(uniqueSlug("x", new Set())).toBe("x");
  });

  it("makes 12-hex-digit object IDs", () => {
    expect(newObjectId()).toMatch(/^[0-9a-f]{12}$/);
    expect(newObjectId(() => new Uint8Array([0, 1, 2, 253, 254, 255]))).toBe("000102fdfeff");
  });
});

describe("the editor's values", () => {
  // Each tool's event contents are tested in its folder (`src/tools/<name>/publication.test.ts`).
  it("parses tags", () => {
    expect(parseTags(" a, b ,, a,c ")).toEqual(["a", "b", "c"]);
  });
});

describe("the page tree", () => {
  const pages = [
    { object_id: "b", parent: null, title: "Beta" },
    { object_id: "a", parent: null, title: "alpha" },
    { object_id: "a1", parent: "a", title: "Sous-page" },
    { object_id: "orphan", parent: "gone", title: "Orphan" },
    { object_id: "x", parent: "y", title: "X" },
    { object_id: "y", parent: "x", title: "Y" },
  ];

  it("nests children, sorts by title, keeps orphans and cycles visible", () => {
    const order = flatten(pageTree(pages)).map(({ item, depth }) => `${depth}:${item.object_id}`);
    expect(order.slice(0, 4)).toEqual(["0:a", "1:a1", "0:b", "0:orphan"]);
    expect(order).toHaveLength(pages.length);
  });

  it("knows a page's subtree and ancestors", () => {
    expect([...subtreeIds(pages, "a")].sort()).toEqual(["a", "a1"]);
    expect(ancestors(pages, "a1").map((page) => page.object_id)).toEqual(["a"]);
    expect(ancestors(pages, "x").map((page) => page.object_id)).toEqual(["y"]);
  });
});

describe("links and polling", () => {
  it("rewrites the server's [[links]] into the community's routes, to the tools they lead to only", () => {
    expect(rewriteRenderedHref("#/notes/p1", "!s:hs", ["notes"])).toBe("#/c/!s:hs/notes/p1");
    expect(rewriteRenderedHref("https://example.org/#/notes/p1", "!s:hs", ["notes"])).toBeNull();
    expect(rewriteRenderedHref("#/other/p1", "!s:hs", ["notes"])).toBeNull();
    expect(rewriteRenderedHref("#/notes/p1/edit", "!s:hs", ["notes"])).toBeNull();
    // By default, to the discovered tools that say links lead to them, and to no other.
    expect(linkTargetTools().length).toBeGreaterThan(0);
    for (const tool of publicationTools()) {
      const rewritten = rewriteRenderedHref(`#/${tool.tool}/p1`, "!s:hs");
      expect(rewritten, tool.tool).toBe(tool.linkTarget ? `#/c/!s:hs/${tool.tool}/p1` : null);
    }
  });

  it("waits until the index shows the write, and gives up at the deadline", async () => {
    let clock = 0;
    let calls = 0;
    const sleep = async (ms: number) => void (clock += ms);
    const found = await waitUntil(async () => (++calls < 3 ? undefined : "seen"), { sleep, now: () => clock });
    expect(found).toBe("seen");
    const never = await waitUntil(async () => {
      throw new Error("404");
    }, { sleep, now: () => clock, timeoutMs: 5_000 });
    expect(never).toBeUndefined();
  });
});
