import { describe, expect, it } from "vitest";
import { foldAccents, newObjectId, slugify, uniqueSlug } from "../src/publishing/slug";
import { BLOG, FAQ, GUIDES, parseTags, WIKI } from "../src/publishing/tools";
import { ancestors, flatten, pageTree, subtreeIds } from "../src/publishing/tree";
import { rewriteWikiHref } from "../src/publishing/links";
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

describe("event contents from the editor", () => {
  const values = {
    title: " Plan ",
    body: "text",
    tags: ["a"],
    parent: "p0",
    status: "draft" as const,
    category: " RH ",
    order: 2.7,
    pages: ["p2", "p1"],
  };

  it("wiki: keeps the slug and unknown fields, drops the server's requester and a media body", () => {
    const content = WIKI.contentOf(values, {
      slug: "plan",
      base: { title: "old", slug: "plan", body_media: { url: "mxc://hs/x" }, requested_by: "@bob:hs", extra: 1 },
      now: 5,
    });
    expect(content).toEqual({ title: "Plan", slug: "plan", body: "text", parent: "p0", tags: ["a"], extra: 1 });
    expect(WIKI.contentOf({ ...values, parent: "", tags: [] }, { base: { parent: "x", tags: ["t"] }, now: 0 })).toEqual({
      title: "Plan",
      body: "text",
    });
  });

  it("blog: the first publication time is set once", () => {
    const published = BLOG.contentOf({ ...values, status: "published" }, { now: 42 });
    expect(published).toMatchObject({ status: "published", published_at: 42 });
    expect(BLOG.contentOf({ ...values, status: "published" }, { base: { published_at: 7 }, now: 42 }).published_at).toBe(7);
    expect(BLOG.contentOf(values, { now: 42 }).published_at).toBeUndefined();
  });

  it("faq: question, answer, category and an integer order", () => {
    expect(FAQ.contentOf(values, { now: 0 })).toEqual({ question: "Plan", answer: "text", category: "RH", order: 2 });
  });

  it("guides: an introduction and the pages in the chosen order", () => {
    expect(GUIDES.contentOf(values, { slug: "plan", base: { requested_by: "@bot:hs" }, now: 0 })).toEqual({
      title: "Plan",
      slug: "plan",
      description: "text",
      pages: ["p2", "p1"],
    });
  });

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
  it("rewrites server wiki links into the community's routes only", () => {
    expect(rewriteWikiHref("#/wiki/p1", "!s:hs")).toBe("#/c/!s:hs/wiki/p1");
    expect(rewriteWikiHref("https://example.org/#/wiki/p1", "!s:hs")).toBeNull();
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
