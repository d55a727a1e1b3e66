/**
 * Editor values with every field filled, for the tools' content tests: each tool's `contentOf`
 * must take from them only the fields its event has.
 */
import type { EditorValues } from "./tools";

export const EDITOR_SAMPLE: EditorValues = {
  title: " Plan ",
  body: "text",
  tags: ["a"],
  parent: "p0",
  status: "draft",
  category: " RH ",
  order: 2.7,
  pages: ["p2", "p1"],
};
