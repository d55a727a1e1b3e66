import { describe, expect, it } from "vitest";
import { BLOG } from "./publication";
import { EDITOR_SAMPLE } from "../../publishing/editor-sample";

const values = EDITOR_SAMPLE;

describe("the blog's event contents from the editor", () => {
  it("sets the first publication time once", () => {
    const published = BLOG.contentOf({ ...values, status: "published" }, { now: 42 });
    expect(published).toMatchObject({ status: "published", published_at: 42 });
    expect(BLOG.contentOf({ ...values, status: "published" }, { base: { published_at: 7 }, now: 42 }).published_at).toBe(7);
    expect(BLOG.contentOf(values, { now: 42 }).published_at).toBeUndefined();
  });
});
