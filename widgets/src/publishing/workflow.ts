/**
 * What the publishing pages share: their tool, their links, where a write goes, and waiting
 * for a write to reach the index.
 */
import { ApiError } from "../api/client";
import type { App, PageContext } from "../app/context";
import { roomOf } from "../app/context";
import { hashFor } from "../app/router";
import { WidgetIdentity } from "../session/identity";
import type { WriteTarget } from "../session/writer";
import { waitUntil } from "./await-index";
import { publicationToolNamed } from "./lookup";
import type { PublicationToolDef } from "./tools";

/** The publishing tool of the current route. */
export function toolOf(context: PageContext): PublicationToolDef {
  const tool = context.route.tool === undefined ? null : publicationToolNamed(context.route.tool);
  if (!tool) throw new Error(`route ${context.route.name} is not a publishing route`);
  return tool;
}

/** Links of a publishing tool. */
export const links = {
  list: (tool: PublicationToolDef, space: string, query: Record<string, string> = {}) =>
    hashFor(`/c/:space/${tool.tool}`, { space }, query),
  create: (tool: PublicationToolDef, space: string, query: Record<string, string> = {}) =>
    hashFor(`/c/:space/${tool.tool}/new`, { space }, query),
  read: (tool: PublicationToolDef, space: string, id: string) => hashFor(`/c/:space/${tool.tool}/:id`, { space, id }),
  edit: (tool: PublicationToolDef, space: string, id: string) => hashFor(`/c/:space/${tool.tool}/:id/edit`, { space, id }),
  diff: (tool: PublicationToolDef, space: string, id: string, from: string, to: string) =>
    hashFor(`/c/:space/${tool.tool}/:id/diff`, { space, id }, { from, to }),
};

/**
 * Where a write goes: the object's own room when known, else the community's room for the
 * tool, else (a widget whose user is not in the space) the room the widget is in.
 */
export async function writeTarget(app: App, space: string, tool: PublicationToolDef, knownRoom?: string): Promise<WriteTarget> {
  if (knownRoom) return { space, tool, roomId: knownRoom };
  try {
    const room = roomOf(await app.community(space), tool.room);
    if (room) return { space, tool, roomId: room };
  } catch (error) {
    if (!(app.identity instanceof WidgetIdentity)) throw error;
  }
  const widgetRoom = app.identity instanceof WidgetIdentity ? app.identity.widget.params.roomId : undefined;
  if (widgetRoom) return { space, tool, roomId: widgetRoom };
  throw new ApiError(404, "M_NOT_FOUND", app.t("community.noTool", { tool: app.t(tool.labels.name) }));
}

/** Waits until the read endpoint shows revision `eventId` of `id`; `false` after the timeout. */
export async function waitForRevision(
  app: App,
  space: string,
  tool: PublicationToolDef,
  id: string,
  eventId: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const seen = await waitUntil(
    async () => ((await app.api.read(space, tool.tool, id, signal)).event_id === eventId ? true : undefined),
    { signal },
  );
  return seen === true;
}

/** Waits until comment `eventId` is listed. */
export async function waitForComment(
  app: App,
  space: string,
  tool: PublicationToolDef,
  id: string,
  eventId: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const seen = await waitUntil(
    async () => ((await app.api.comments(space, tool.tool, id, signal)).some((c) => c.event_id === eventId) ? true : undefined),
    { signal },
  );
  return seen === true;
}
