import { describe, expect, it } from "vitest";
import { WIKI } from "./publication";
import { EDITOR_SAMPLE } from "../../publishing/editor-sample";

const values = EDITOR_SAMPLE;

describe("the wiki's event contents from the editor", () => {
  it("keeps the slug and unknown fields, drops the server's requester and a media body", () => {
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

  it("puts pages under its own pages, and [[links]] lead to them", () => {
    expect(WIKI.pagesFrom).toBe(WIKI.tool);
    expect(WIKI.linkTarget).toBe(true);
  });
});
