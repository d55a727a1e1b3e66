// Writes the positions both sides must compute alike to
// appservice/src/tools/tasks/position-vectors.json, from the `fractional-indexing` npm package
// the web app uses: its own test vectors for the default alphabets, then 400 insertions at
// pseudo-random places of a column (a fixed seed), as people move cards. The Rust port
// (`appservice/src/tools/tasks/position.rs`) and `test/position.test.ts` check every line.
// Run: node test/position-vectors.mjs
import { writeFileSync } from "node:fs";
import { generateKeyBetween } from "fractional-indexing";

const vectors = [];
function record(low, high) {
  let key = null;
  let error = null;
  try {
    key = generateKeyBetween(low, high);
  } catch (e) {
    error = e.message;
  }
  vectors.push({ low, high, key, error });
  return key;
}

const smallest = "A" + "0".repeat(26);
for (const [low, high] of [
  [null, null], [null, "a0"], [null, "Zz"], ["a0", null], ["a1", null], ["a0", "a1"], ["a1", "a2"],
  ["a0V", "a1"], ["Zz", "a0"], ["Zz", "a1"], [null, "Y00"], ["bzz", null], ["a0", "a0V"],
  ["a0", "a0G"], ["b125", "b129"], ["a0", "a1V"], ["Zz", "a01"], [null, "a0V"], [null, "b999"],
  [null, smallest], [null, "A000000000000000000000000001"], ["zzzzzzzzzzzzzzzzzzzzzzzzzzy", null],
  ["zzzzzzzzzzzzzzzzzzzzzzzzzzz", null], ["a00", null], ["a00", "a1"], ["0", "1"], ["a1", "a0"],
]) {
  record(low, high);
}

// A column where cards are dropped at pseudo-random places.
let seed = 20261206;
const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
const column = [];
for (let i = 0; i < 400; i++) {
  const at = column.length === 0 ? 0 : next() % (column.length + 1);
  const low = at === 0 ? null : column[at - 1];
  const high = at === column.length ? null : column[at];
  column.splice(at, 0, record(low, high));
}

const path = new URL("../../appservice/src/tools/tasks/position-vectors.json", import.meta.url);
writeFileSync(path, JSON.stringify(vectors, null, 0).replace(/\},\{/g, "},\n{") + "\n");
console.log(`${vectors.length} vectors written to ${path.pathname}`);
