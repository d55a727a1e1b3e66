/**
 * Writes, in the two modes. Standalone: through the Parvis API, which sends the event as the
 * user with their access token. Widget: through Element's widget API, so Element sends it as
 * the user (a widget session cannot write through Parvis).
 */
import type { ApiClient } from "../api/client";
import { ApiError } from "../api/client";
import type { Revision } from "../api/types";
import { contentBytes, MAX_INLINE_CONTENT_BYTES, type PublicationToolDef } from "../publishing/tools";
import { newObjectId, slugify, uniqueSlug } from "../publishing/slug";
import type { WidgetSession } from "./widget";

/** Where a write goes. */
export interface WriteTarget {
  space: string;
  tool: PublicationToolDef;
  /** The tool's room in the community. */
  roomId: string;
}

/** A sent event. */
export interface Written {
  id: string;
  eventId: string;
}

/** The writes the pages make. */
export interface Writer {
  readonly mode: "widget" | "standalone";
  /** A new object; `content` has no slug (the writer applies the server's rule). */
  create(target: WriteTarget, content: Record<string, unknown>): Promise<Written>;
  /** A new revision of `id`. */
  update(target: WriteTarget, id: string, content: Record<string, unknown>): Promise<Written>;
  /** Makes an earlier revision current again, as a new revision. */
  restore(target: WriteTarget, id: string, revision: Revision): Promise<Written>;
  /** A comment in the thread of the object's current revision (`threadRoot`). */
  comment(target: WriteTarget, id: string, threadRoot: string, body: string): Promise<Written>;
}

/** Standalone mode: the Parvis API writes as the user. */
export class ApiWriter implements Writer {
  readonly mode = "standalone";
  constructor(private readonly api: ApiClient) {}

  async create(target: WriteTarget, content: Record<string, unknown>): Promise<Written> {
    const result = await this.api.create(target.space, target.tool.tool, content);
    if (!result.id) throw new ApiError(200, "ORG.PARVIS_BAD_RESPONSE", "the server did not say the new object's ID");
    return { id: result.id, eventId: result.event_id };
  }

  async update(target: WriteTarget, id: string, content: Record<string, unknown>): Promise<Written> {
    const result = await this.api.update(target.space, target.tool.tool, id, content);
    return { id, eventId: result.event_id };
  }

  async restore(target: WriteTarget, id: string, revision: Revision): Promise<Written> {
    const result = await this.api.restore(target.space, target.tool.tool, id, revision.event_id);
    return { id, eventId: result.event_id };
  }

  async comment(target: WriteTarget, id: string, _threadRoot: string, body: string): Promise<Written> {
    const result = await this.api.comment(target.space, target.tool.tool, id, body);
    return { id, eventId: result.event_id };
  }
}

/**
 * The thread relation of a comment on a revision: a thread rooted at the revision's event,
 * with the reply fallback for clients without threads.
 */
export function commentContent(threadRoot: string, body: string): Record<string, unknown> {
  return {
    msgtype: "m.text",
    body,
    "m.relates_to": {
      rel_type: "m.thread",
      event_id: threadRoot,
      is_falling_back: true,
      "m.in_reply_to": { event_id: threadRoot },
    },
  };
}

/** The event ID Element answered with; a client that gives none (a delayed event) is an error here. */
export function sentEventId(eventId: string | undefined): string {
  if (!eventId) throw new ApiError(502, "ORG.PARVIS_WIDGET_NO_EVENT_ID", "the client did not say which event it sent");
  return eventId;
}

/** Widget mode: Element sends the events as the user. */
export class WidgetWriter implements Writer {
  readonly mode = "widget";
  constructor(
    private readonly widget: WidgetSession,
    private readonly api: ApiClient,
  ) {}

  async #sendState(target: WriteTarget, id: string, content: Record<string, unknown>): Promise<Written> {
    if (contentBytes(content) > MAX_INLINE_CONTENT_BYTES) {
      throw new ApiError(413, "M_TOO_LARGE", "this text is over 48 KiB: sign in to the Parvis web app to publish it");
    }
    const room = await this.widget.roomArgument(target.roomId);
    const sent = await this.widget.api.sendStateEvent(target.tool.eventType, id, content, room);
    return { id, eventId: sentEventId(sent.event_id) };
  }

  async create(target: WriteTarget, content: Record<string, unknown>): Promise<Written> {
    const id = newObjectId();
    const withSlug = { ...content };
    if (target.tool.hasSlug) {
      let slug = slugify(String(content.title ?? ""));
      if (target.tool.uniqueSlugs) {
        const existing = await this.api.list(target.space, target.tool.tool);
        slug = uniqueSlug(slug, new Set(existing.map((item) => item.slug)));
      }
      withSlug.slug = slug;
    }
    return this.#sendState(target, id, withSlug);
  }

  update(target: WriteTarget, id: string, content: Record<string, unknown>): Promise<Written> {
    const withSlug = { ...content };
    if (target.tool.hasSlug && !withSlug.slug) withSlug.slug = slugify(String(content.title ?? ""));
    return this.#sendState(target, id, withSlug);
  }

  restore(target: WriteTarget, id: string, revision: Revision): Promise<Written> {
    if (Object.keys(revision.content).length === 0) {
      throw new ApiError(410, "ORG.PARVIS_REDACTED", "that revision was redacted");
    }
    const content = { ...revision.content };
    delete content.requested_by;
    return this.#sendState(target, id, content);
  }

  async comment(target: WriteTarget, id: string, threadRoot: string, body: string): Promise<Written> {
    const room = await this.widget.roomArgument(target.roomId);
    const sent = await this.widget.api.sendRoomEvent("m.room.message", commentContent(threadRoot, body), room);
    return { id, eventId: sentEventId(sent.event_id) };
  }
}
