/**
 * Likes and recommendations without I/O: the reaction keys, the event content a widget sends,
 * the counts shown between a write and the index catching up, whether the index shows a write
 * yet, which room events may change the counts shown, and whether an answer changes them.
 */
import type { MessageKey } from "../../i18n";
import { IndexFollower, MAYBE_WAIT_MS } from "../../publishing/live";
import { redactedEventId, type LiveEvent } from "../../session/live";
import type { ObjectLikes, Reaction, RecommendedObject } from "./types";

/** A reaction as the interface shows it and as Matrix carries it. */
export interface ReactionDef {
  reaction: Reaction;
  /**
   * The `m.annotation` key, the same the server counts: 👍 U+1F44D, ⭐ U+2B50, without a
   * variation selector (as Element's quick reactions send them).
   */
  key: string;
  /** Which count of `ObjectLikes` it adds to. */
  count: "likes" | "recommendations";
  /** Its button. */
  label: MessageKey;
  /** Its count in a list: `{count} like(s)`. */
  countText: MessageKey;
  /** Announced once the reaction is sent, and once withdrawn. */
  added: MessageKey;
  removed: MessageKey;
}

/** The two reactions, in the order of their buttons. */
export const REACTIONS: readonly ReactionDef[] = [
  {
    reaction: "like",
    key: "\u{1F44D}",
    count: "likes",
    label: "likes.like",
    countText: "likes.likeCount",
    added: "likes.liked",
    removed: "likes.unliked",
  },
  {
    reaction: "recommend",
    key: "\u2B50",
    count: "recommendations",
    label: "likes.recommend",
    countText: "likes.recommendCount",
    added: "likes.recommended",
    removed: "likes.unrecommended",
  },
];

/** The content of an `m.reaction` on the object's revision `eventId` (sent by Element in widget mode). */
export function reactionContent(eventId: string, key: string): Record<string, unknown> {
  return { "m.relates_to": { rel_type: "m.annotation", event_id: eventId, key } };
}

/** A write of the user: a reaction sent, or the user's reactions of that kind redacted. */
export type ReactionWrite = { reaction: Reaction; sent: string } | { reaction: Reaction; redacted: readonly string[] };

/** What the page shows right after `write`, before the index has it: the user's own change applied. */
export function afterWrite(state: ObjectLikes, write: ReactionWrite): ObjectLikes {
  const def = reactionDef(write.reaction);
  const had = state.mine[write.reaction] !== null;
  const has = "sent" in write;
  const delta = had === has ? 0 : has ? 1 : -1;
  return {
    ...state,
    [def.count]: Math.max(0, state[def.count] + delta),
    mine: { ...state.mine, [write.reaction]: has ? write.sent : null },
  };
}

/** Whether the index shows `write`: the sent reaction as the user's, or none of the redacted ones. */
export function showsWrite(state: ObjectLikes, write: ReactionWrite): boolean {
  const mine = state.mine[write.reaction];
  if ("sent" in write) return mine === write.sent;
  return mine === null || !write.redacted.includes(mine);
}

/** The definition of a reaction. */
export function reactionDef(reaction: Reaction): ReactionDef {
  const def = REACTIONS.find((candidate) => candidate.reaction === reaction);
  if (!def) throw new Error(`unknown reaction ${reaction}`);
  return def;
}

/** A reaction key as clients send it: 👍 and ⭐ come with or without the emoji variation selector. */
function bareKey(key: string): string {
  return key.replace(/\uFE0F/g, "");
}

/**
 * Whether a room event may change the counts of the object's page: a 👍 or ⭐ annotation
 * (on which revision or notice the index decides), or a redaction (of a reaction, perhaps).
 * `own` are the user's own writes from this panel, which it already follows: their reaction
 * events, and the events its withdrawals redacted.
 */
export function mayChangeLikes(event: LiveEvent, own: ReadonlySet<string>): boolean {
  if (event.type === "m.room.redaction") {
    const redacted = redactedEventId(event);
    return redacted === undefined || !own.has(redacted);
  }
  if (event.type !== "m.reaction" || own.has(event.event_id)) return false;
  const relation = event.content["m.relates_to"];
  if (!relation || typeof relation !== "object") return false;
  const { rel_type, key } = relation as Record<string, unknown>;
  return rel_type === "m.annotation" && typeof key === "string" && REACTIONS.some((def) => def.key === bareKey(key));
}

/** Whether two answers of the index show the same: counts and the user's reactions. */
export function sameLikes(a: ObjectLikes, b: ObjectLikes): boolean {
  return (
    a.likes === b.likes &&
    a.recommendations === b.recommendations &&
    a.mine.like === b.mine.like &&
    a.mine.recommend === b.mine.recommend
  );
}

/** Whether two answers of the most recommended objects show the same: objects, order, titles and counts. */
export function sameRecommended(a: readonly RecommendedObject[], b: readonly RecommendedObject[]): boolean {
  return (
    a.length === b.length &&
    a.every((item, index) => {
      const other = b[index];
      return (
        other !== undefined &&
        item.tool === other.tool &&
        item.id === other.id &&
        item.title === other.title &&
        item.likes === other.likes &&
        item.recommendations === other.recommendations
      );
    })
  );
}

/**
 * The most recommended objects on the community's home, following the community's rooms:
 * a 👍 or ⭐ (or a redaction) anywhere in them may change the list, which the home re-reads
 * until the answer differs, for a while (the reaction may be on an object the list does not
 * show, or a redaction of something else).
 */
export class RecommendedFollower extends IndexFollower<readonly RecommendedObject[]> {
  offer(event: LiveEvent): boolean {
    if (!mayChangeLikes(event, NO_WRITES)) return false;
    const before = this.shown;
    return this.await({ eventId: event.event_id, shownBy: (fresh) => !sameRecommended(fresh, before), patienceMs: MAYBE_WAIT_MS });
  }
}

/** The home writes no reactions: every one in the room is someone's news. */
const NO_WRITES: ReadonlySet<string> = new Set();
