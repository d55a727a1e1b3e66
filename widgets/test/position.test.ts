/**
 * Card positions: the `fractional-indexing` package the web app will move cards with gives, for
 * every pair of neighbours in `appservice/src/tools/tasks/position-vectors.json`, the key the
 * server's Rust port gives (its own test reads the same file). Regenerate the file with
 * `node test/position-vectors.mjs` only on purpose: both sides must then agree again.
 */
import { readFileSync } from "node:fs";
import { generateKeyBetween } from "fractional-indexing";
import { describe, expect, it } from "vitest";

interface Vector {
  low: string | null;
  high: string | null;
  key: string | null;
  error: string | null;
}

const vectors = JSON.parse(
  readFileSync(new URL("../../appservice/src/tools/tasks/position-vectors.json", import.meta.url), "utf8"),
) as Vector[];

describe("card positions shared with the server", () => {
  it("are the keys of the shared vectors", () => {
    expect(vectors.length).toBeGreaterThan(400);
    for (const { low, high, key, error } of vectors) {
      if (key !== null) expect(generateKeyBetween(low, high), `${low} ${high}`).toBe(key);
      else expect(() => generateKeyBetween(low, high)).toThrow(error ?? "");
    }
  });

  it("make a column whose keys are distinct and sort as strings, byte by byte", () => {
    // The last 400 vectors are one column, each card dropped between two neighbours.
    const column = vectors.slice(-400).map((v) => v.key as string);
    const sorted = [...column].sort();
    expect(new Set(column).size).toBe(column.length);
    sorted.forEach((key, i) => {
      if (i > 0) expect((sorted[i - 1] as string) < key, `${sorted[i - 1]} < ${key}`).toBe(true);
    });
  });
});
