import { describe, expect, it } from "vitest";
import { WIKI } from "../wiki/publication";
import { GUIDES } from "./publication";
import { EDITOR_SAMPLE } from "../../publishing/editor-sample";

const values = EDITOR_SAMPLE;

describe("the guides' event contents from the editor", () => {
  it("has an introduction and the pages in the chosen order", () => {
    expect(GUIDES.contentOf(values, { slug: "plan", base: { requested_by: "@bot:hs" }, now: 0 })).toEqual({
      title: "Plan",
      slug: "plan",
      description: "text",
      pages: ["p2", "p1"],
    });
  });

  it("reads through the wiki's pages, in the wiki's room", () => {
    expect(GUIDES.pagesFrom).toBe(WIKI.tool);
    expect(GUIDES.room).toBe(WIKI.room);
  });
});
