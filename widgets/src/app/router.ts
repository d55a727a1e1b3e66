/**
 * Hash routing, without I/O: parsing `#/c/{space}/wiki/{id}?q=…`, matching it against route
 * patterns, and building links. `navigation.ts` connects it to `window`.
 *
 * Patterns are paths of static segments and `:name` parameters: `/c/:space/wiki/:id/edit`.
 * When several patterns match, the one with more static segments wins, so `/c/:space/wiki/new`
 * is preferred over `/c/:space/wiki/:id`.
 */

/** A hash split into its path and its query. */
export interface ParsedHash {
  /** `/c/!abc:hs/wiki`, always starting with `/`, no trailing `/` (except the root). */
  path: string;
  /** What followed the `?` in the hash. */
  query: URLSearchParams;
}

/** Splits `#/c/x/wiki?q=1` into path and query. Empty hashes are the root `/`. */
export function parseHash(hash: string): ParsedHash {
  const raw = hash.startsWith("#") ? hash.slice(1) : hash;
  const at = raw.indexOf("?");
  let path = at === -1 ? raw : raw.slice(0, at);
  const query = new URLSearchParams(at === -1 ? "" : raw.slice(at + 1));
  if (!path.startsWith("/")) path = `/${path}`;
  if (path.length > 1 && path.endsWith("/")) path = path.replace(/\/+$/, "") || "/";
  return { path, query };
}

/** Path segments, each percent-decoded (a malformed escape is kept as it is). */
export function splitPath(path: string): string[] {
  return path
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
}

/**
 * Encodes one path segment. Matrix IDs stay readable: `!`, `:`, `@` and `$` are left as they
 * are (they mean nothing special in a hash), everything else is percent-encoded as usual.
 */
export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%(21|3A|40|24)/gi, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

/** A compiled pattern. */
export interface CompiledPattern {
  pattern: string;
  segments: { name: string; param: boolean }[];
  /** How many static segments: the more, the more specific. */
  specificity: number;
}

/** Compiles `/c/:space/wiki/:id`. */
export function compilePattern(pattern: string): CompiledPattern {
  const segments = pattern
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) =>
      segment.startsWith(":") ? { name: segment.slice(1), param: true } : { name: segment, param: false },
    );
  return { pattern, segments, specificity: segments.filter((segment) => !segment.param).length };
}

/** The parameters if `path` matches the pattern, else `null`. */
export function matchPattern(compiled: CompiledPattern, path: string): Record<string, string> | null {
  const parts = splitPath(path);
  if (parts.length !== compiled.segments.length) return null;
  const params: Record<string, string> = {};
  for (const [index, segment] of compiled.segments.entries()) {
    const part = parts[index] as string;
    if (segment.param) {
      if (part === "") return null;
      params[segment.name] = part;
    } else if (segment.name !== part) {
      return null;
    }
  }
  return params;
}

/** The most specific entry whose pattern matches `path`, with its parameters. */
export function bestMatch<T extends { compiled: CompiledPattern }>(
  entries: readonly T[],
  path: string,
): { entry: T; params: Record<string, string> } | null {
  let best: { entry: T; params: Record<string, string> } | null = null;
  for (const entry of entries) {
    const params = matchPattern(entry.compiled, path);
    if (params && (!best || entry.compiled.specificity > best.entry.compiled.specificity)) {
      best = { entry, params };
    }
  }
  return best;
}

/** Query values; `undefined`, `null` and `""` are left out. */
export type QueryValues = Record<string, string | number | null | undefined>;

/**
 * Builds a hash link from a pattern: `hashFor("/c/:space/wiki/:id", {space, id})` →
 * `#/c/!abc:hs/wiki/p1`. Throws when a parameter is missing, which is a programming error.
 */
export function hashFor(pattern: string, params: Record<string, string> = {}, query: QueryValues = {}): string {
  const path = compilePattern(pattern)
    .segments.map((segment) => {
      if (!segment.param) return segment.name;
      const value = params[segment.name];
      if (value === undefined || value === "") throw new Error(`missing route parameter ${segment.name} for ${pattern}`);
      return encodeSegment(value);
    })
    .join("/");
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const queryString = search.toString();
  return `#/${path}${queryString ? `?${queryString}` : ""}`;
}
