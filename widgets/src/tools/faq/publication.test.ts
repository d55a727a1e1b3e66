import { describe, expect, it } from "vitest";
import { FAQ } from "./publication";
import { EDITOR_SAMPLE } from "../../publishing/editor-sample";

const values = EDITOR_SAMPLE;

describe("the FAQ's event contents from the editor", () => {
  it("has the question, answer, category and an integer order", () => {
    expect(FAQ.contentOf(values, { now: 0 })).toEqual({ question: "Plan", answer: "text", category: "RH", order: 2 });
  });
});
