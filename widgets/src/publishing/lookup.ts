/**
 * The publishing tools, as the shared pages find them: among the tools discovered in
 * `src/tools/<name>/` (`src/tools/index.ts`), those whose entry carries a `PublicationToolDef`
 * (`publishing/routes.ts`). The shared pages look a tool up by its name (a route's tool, a
 * def's `pagesFrom`) or by the `kind` of its objects (search hits, activity, backlinks), and
 * never name one.
 *
 * Only the lazily loaded pages import this module (through the discovered tools, it imports
 * every `tool.ts`): a `tool.ts` must not, so that it keeps only declaring.
 */
import { discoveredTools } from "../tools";
import { publicationOf } from "./routes";
import type { PublicationToolDef } from "./tools";

let found: readonly PublicationToolDef[] | null = null;

/**
 * Every publishing tool, in discovery order. Two with one name or one `kind` are a programming
 * error (the registry refuses two tools with one ID; a kind must say which tool an object is of).
 */
export function publicationTools(): readonly PublicationToolDef[] {
  if (found) return found;
  const defs = discoveredTools().flatMap((tool) => {
    const def = publicationOf(tool);
    return def ? [def] : [];
  });
  for (const key of ["tool", "kind"] as const) {
    const values = defs.map((def) => def[key]);
    const twice = values.find((value, index) => values.indexOf(value) !== index);
    if (twice !== undefined) throw new Error(`publishing tools: ${key} ${twice} declared twice`);
  }
  found = defs;
  return defs;
}

/** The publishing tool of this name (a route's tool, a def's `pagesFrom`). */
export function publicationToolNamed(name: string): PublicationToolDef | null {
  return publicationTools().find((tool) => tool.tool === name) ?? null;
}

/** The publishing tool whose objects have this `kind` (search hits, activity, backlinks). */
export function publicationToolOfKind(kind: string): PublicationToolDef | null {
  return publicationTools().find((tool) => tool.kind === kind) ?? null;
}

/**
 * The tool whose objects `tool`'s `parent` and `pages` fields name (`pagesFrom`), when it has
 * either field: what the editor's pickers list, and whose titles an object's page shows.
 */
export function pagesToolOf(tool: PublicationToolDef): PublicationToolDef | null {
  const picks = tool.fields.includes("parent") || tool.fields.includes("pages");
  return picks && tool.pagesFrom !== undefined ? publicationToolNamed(tool.pagesFrom) : null;
}

/** The tools `[[links]]` in rendered bodies lead to (`linkTarget`). */
export function linkTargetTools(): PublicationToolDef[] {
  return publicationTools().filter((tool) => tool.linkTarget === true);
}
