/**
 * Reacting, in the two modes, as `session/writer.ts` writes objects. Standalone: through the
 * Parvis API, which sends the reaction (and redacts it) as the user with their token. Widget:
 * Element sends the `m.reaction` in the object's room, and withdraws it with an
 * `m.room.redaction` (a widget session cannot write through Parvis).
 */
import type { ApiClient } from "../../api/client";
import type { App } from "../../app/context";
import type { ObjectRef } from "../../app/registry";
import { WidgetIdentity } from "../../session/identity";
import { sentEventId } from "../../session/writer";
import { sendReaction, withdrawReaction } from "./api";
import { reactionContent, reactionDef, type ReactionWrite } from "./reactions";
import type { Reaction } from "./types";

/** The writes of the likes tool. */
export interface ReactionWriter {
  readonly mode: "widget" | "standalone";
  /** Sends the user's reaction on the object's current revision. */
  react(object: ObjectRef, reaction: Reaction): Promise<ReactionWrite>;
  /** Withdraws it; `mine` is the user's reaction event, as `GET …/likes` listed it. */
  unreact(object: ObjectRef, reaction: Reaction, mine: string): Promise<ReactionWrite>;
}

/** Standalone mode: Parvis sends and redacts as the user. */
export class ApiReactionWriter implements ReactionWriter {
  readonly mode = "standalone";
  constructor(private readonly api: ApiClient) {}

  async react(object: ObjectRef, reaction: Reaction): Promise<ReactionWrite> {
    const { event_id } = await sendReaction(this.api, object, reaction);
    return { reaction, sent: event_id };
  }

  async unreact(object: ObjectRef, reaction: Reaction): Promise<ReactionWrite> {
    const { redacted } = await withdrawReaction(this.api, object, reaction);
    return { reaction, redacted };
  }
}

/** What the widget writer uses of the widget session (`WidgetSession`; a fake in tests). */
export interface ReactionWidget {
  roomArgument(roomId: string): Promise<string | undefined>;
  readonly api: {
    sendRoomEvent(eventType: string, content: unknown, roomId?: string): Promise<{ event_id?: string }>;
  };
}

/** Widget mode: Element sends the reaction and the redaction as the user. */
export class WidgetReactionWriter implements ReactionWriter {
  readonly mode = "widget";
  constructor(private readonly widget: ReactionWidget) {}

  async react(object: ObjectRef, reaction: Reaction): Promise<ReactionWrite> {
    const room = await this.widget.roomArgument(object.roomId);
    const content = reactionContent(object.eventId, reactionDef(reaction).key);
    const sent = await this.widget.api.sendRoomEvent("m.reaction", content, room);
    return { reaction, sent: sentEventId(sent.event_id) };
  }

  async unreact(object: ObjectRef, reaction: Reaction, mine: string): Promise<ReactionWrite> {
    const room = await this.widget.roomArgument(object.roomId);
    // Element's widget driver redacts the event named in `redacts` (it does not send this content
    // as an event); the redaction's own ID is not needed, so a client that gives none is fine.
    await this.widget.api.sendRoomEvent("m.room.redaction", { redacts: mine }, room);
    return { reaction, redacted: [mine] };
  }
}

/** The writer of the app's mode. */
export function reactionWriterFor(app: App): ReactionWriter {
  return app.identity instanceof WidgetIdentity ? new WidgetReactionWriter(app.identity.widget) : new ApiReactionWriter(app.api);
}
