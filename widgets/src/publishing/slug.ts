/**
 * Client-side copies of two server rules, for widget mode, where the widget writes the state
 * event itself: the slug of a title (`slugify` in `appservice/src/publishing/render.rs`) and
 * new object IDs (12 hexadecimal characters, as `POST /api/v1/communities/{space}/{tool}` makes).
 */

/**
 * The server's folding table (`fold_accents` in `render.rs`), by folded letter. Kept as the
 * same explicit list rather than Unicode decomposition, so both sides give the same slug.
 */
const FOLDS_BY_TARGET: Record<string, string> = {
  a: "àáâãäåāăą",
  c: "çćĉċč",
  d: "ďđð",
  e: "èéêëēĕėęě",
  g: "ĝğġģ",
  h: "ĥħ",
  i: "ìíîïĩīĭįı",
  j: "ĵ",
  k: "ķĸ",
  l: "ĺļľŀł",
  n: "ñńņňŉŋ",
  o: "òóôõöøōŏő",
  r: "ŕŗř",
  s: "śŝşšșſ",
  t: "ţťŧț",
  u: "ùúûüũūŭůűų",
  w: "ŵ",
  y: "ýÿŷ",
  z: "źżž",
  oe: "œ",
  ae: "æ",
  ss: "ß",
  ij: "ĳ",
  th: "þ",
};

const FOLDS = new Map<string, string>(
  Object.entries(FOLDS_BY_TARGET).flatMap(([target, letters]) => Array.from(letters, (letter) => [letter, target] as [string, string])),
);

/** Lowercase, accents removed, as the server folds: `Œuvre à Noël` → `oeuvre a noel`. */
export function foldAccents(text: string): string {
  let folded = "";
  for (const c of text) {
    for (const lower of c.toLowerCase()) {
      // Combining diacritical marks: decomposed "e\u0301" folds like "é".
      if (lower >= "\u0300" && lower <= "\u036f") continue;
      folded += FOLDS.get(lower) ?? lower;
    }
  }
  return folded;
}

const ALPHANUMERIC = /[\p{Alphabetic}\p{N}]/u;

/**
 * The slug of a title: folded, runs of anything not a letter or digit → one `-`, no `-` at
 * either end, at most 80 characters, never empty (`page`).
 */
export function slugify(title: string): string {
  let slug = "";
  for (const c of foldAccents(title)) {
    if (ALPHANUMERIC.test(c)) {
      slug += c;
    } else if (slug !== "" && !slug.endsWith("-")) {
      slug += "-";
    }
  }
  const trimmed = Array.from(slug.replace(/-+$/, "")).slice(0, 80).join("").replace(/-+$/, "");
  return trimmed === "" ? "page" : trimmed;
}

/** A slug not in `taken`: `slug`, else `slug-2`, `slug-3`… (the server refuses duplicate wiki slugs). */
export function uniqueSlug(slug: string, taken: ReadonlySet<string>): string {
  if (!taken.has(slug)) return slug;
  for (let n = 2; ; n += 1) {
    const suffix = `-${n}`;
    const candidate = Array.from(slug).slice(0, 80 - suffix.length).join("").replace(/-+$/, "") + suffix;
    if (!taken.has(candidate)) return candidate;
  }
}

/** A new object ID: 12 random hexadecimal characters. */
export function newObjectId(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  return Array.from(random(new Uint8Array(6)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
