/**
 * The tool entry of a publishing tool: the routes of the shared publishing pages (list, new,
 * read, edit, diff), the widget capabilities its writes need and the events its pages follow
 * live, with its `PublicationToolDef` attached, by which `publishing/lookup.ts` finds it.
 */
import type { PageContext } from "../app/context";
import type { ToolDef } from "../app/registry";
import type { MessageKey } from "../i18n";
import { capability } from "../session/capabilities";
import type { ListLayout } from "./list-layout";
import type { PublicationToolDef } from "./tools";

/**
 * What a publishing tool's folder adds to the shared pages (`src/tools/<name>/tool.ts`), so
 * that they never name a tool.
 */
export interface PublicationExtras {
  /**
   * Announced when someone's new object appears in the open list: `New page by {sender}.`
   * (`{title}` too); `list.newBy` when absent.
   */
  newBy?: MessageKey;
  /** How the list lays out the objects, a chunk loaded with the list page; posts, newest first, when absent. */
  listLayout?: () => Promise<{ default: ListLayout }>;
}

/** A publishing tool's entry: a tool whose pages are the shared publishing pages. */
export interface PublicationToolEntry extends ToolDef<PageContext> {
  /** What the shared pages need of it. */
  publication: PublicationToolDef;
}

/** The `PublicationToolDef` of a tool, when it is a publishing tool. */
export function publicationOf(tool: ToolDef<PageContext>): PublicationToolDef | undefined {
  return (tool as Partial<PublicationToolEntry>).publication;
}

/** The tool entry of a publishing tool, for `src/tools/<name>/tool.ts`. */
export function publicationTool(def: PublicationToolDef, order: number, extras: PublicationExtras = {}): PublicationToolEntry {
  const base = `/c/:space/${def.tool}`;
  return {
    id: def.tool,
    publication: def,
    label: def.labels.name,
    order,
    home: base,
    requires: def.room === def.tool ? undefined : def.room,
    objectPage: `${base}/:id`,
    // In widget mode Element sends its objects (state events) and their comments (thread
    // messages), and tells the pages of new objects and revisions, comments and redactions
    // (others' changes appear without a reload).
    capabilities: [
      capability.sendState(def.eventType),
      capability.sendEvent("m.room.message"),
      capability.receiveState(def.eventType),
      capability.receiveEvent("m.room.message"),
      capability.receiveEvent("m.room.redaction"),
    ],
    routes: [
      {
        pattern: base,
        name: `${def.tool}.list`,
        load: async () => {
          const page = await import("../pages/publication-list");
          return { default: (context: PageContext) => page.default(context, extras) };
        },
      },
      { pattern: `${base}/new`, name: `${def.tool}.new`, load: () => import("../pages/publication-edit") },
      { pattern: `${base}/:id`, name: `${def.tool}.read`, load: () => import("../pages/publication-read") },
      { pattern: `${base}/:id/edit`, name: `${def.tool}.edit`, load: () => import("../pages/publication-edit") },
      { pattern: `${base}/:id/diff`, name: `${def.tool}.diff`, load: () => import("../pages/publication-diff") },
    ],
  };
}
