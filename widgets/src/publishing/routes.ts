/**
 * The routes of a publishing tool (list, new, read, edit, diff), shared by wiki, blog and FAQ,
 * with the widget capabilities its writes need and the events its object pages follow live.
 */
import type { PageContext } from "../app/context";
import type { ToolDef } from "../app/registry";
import { capability } from "../session/capabilities";
import type { PublicationToolDef } from "./tools";

/** The tool entry of a publishing tool, for `src/tools/<name>/tool.ts`. */
export function publicationTool(def: PublicationToolDef, order: number): ToolDef<PageContext> {
  const base = `/c/:space/${def.tool}`;
  return {
    id: def.tool,
    label: def.labels.name,
    order,
    home: base,
    requires: def.room === def.tool ? undefined : def.room,
    objectPage: `${base}/:id`,
    // In widget mode Element sends its objects (state events) and their comments (thread messages),
    // and tells the object's page of new revisions (others' edits appear without a reload).
    capabilities: [capability.sendState(def.eventType), capability.sendEvent("m.room.message"), capability.receiveState(def.eventType)],
    routes: [
      { pattern: base, name: `${def.tool}.list`, load: () => import("../pages/publication-list") },
      { pattern: `${base}/new`, name: `${def.tool}.new`, load: () => import("../pages/publication-edit") },
      { pattern: `${base}/:id`, name: `${def.tool}.read`, load: () => import("../pages/publication-read") },
      { pattern: `${base}/:id/edit`, name: `${def.tool}.edit`, load: () => import("../pages/publication-edit") },
      { pattern: `${base}/:id/diff`, name: `${def.tool}.diff`, load: () => import("../pages/publication-diff") },
    ],
  };
}
