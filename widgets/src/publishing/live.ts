/**
 * Pages following room events, without I/O: which events concern what a page shows, and which
 * answer of the index shows them, so that the page redraws what the index has (the server
 * renders and sanitizes the HTML; an event's content is never shown as it is).
 *
 * - `RevisionFollower`: an object's page and the new revisions of its object (a state event of
 *   its tool's type whose state key is its ID, newer than the revision shown);
 * - `ListFollower`: a tool's list and its new, edited and redacted objects;
 * - `CommentFollower`: an object's comments, messages in the threads of its revisions;
 * - `ActivityFollower`: a community's recent activity.
 *
 * The last three share `IndexFollower`; `listChanges` and `changeSummary` say what a redraw
 * changed, for the announcement.
 */
import type { Comment, CommunityActivity, Publication } from "../api/types";
import { redactedEventId, type LiveEvent } from "../session/live";

/** A revision as the index shows it (`PublicationView`'s fields). */
export interface ShownRevision {
  event_id: string;
  /** When it was sent (its event's `origin_server_ts`). */
  updated_at: number;
}

/** What the page follows: its tool's state event type and the object's ID (the state key). */
export interface FollowedObject {
  eventType: string;
  id: string;
}

/** The revisions of one object the page has heard of and not shown yet. */
export class RevisionFollower {
  readonly #object: FollowedObject;
  #shown: ShownRevision;
  /** Heard of, not shown yet: the page waits until the index has them. */
  readonly #pending = new Map<string, number>();
  /** Shown, replaced, or written by the page itself (which waits for them its own way). */
  readonly #done = new Set<string>();

  constructor(object: FollowedObject, shown: ShownRevision) {
    this.#object = object;
    this.#shown = shown;
    this.#done.add(shown.event_id);
  }

  /** The revision the page shows. */
  get shown(): ShownRevision {
    return this.#shown;
  }

  /** Whether the page waits for the index to show a revision. */
  get waiting(): boolean {
    return this.#pending.size > 0;
  }

  /** A revision the page writes itself: not one to follow. */
  own(eventId: string): void {
    this.#done.add(eventId);
    this.#pending.delete(eventId);
  }

  /**
   * A room event: `true` when it is a revision of the object that the page neither shows, nor
   * waits for already, nor has replaced (an older one, pushed again with the room state).
   */
  offer(event: LiveEvent): boolean {
    if (event.type !== this.#object.eventType || event.state_key !== this.#object.id) return false;
    if (this.#done.has(event.event_id) || this.#pending.has(event.event_id)) return false;
    if (event.origin_server_ts < this.#shown.updated_at) return false;
    this.#pending.set(event.event_id, event.origin_server_ts);
    return true;
  }

  /** Whether the index's current revision is newer than the one shown: the page shows it then. */
  shouldShow(current: ShownRevision): boolean {
    return !this.#done.has(current.event_id) && current.updated_at >= this.#shown.updated_at;
  }

  /**
   * The page now shows `current`: the revisions it replaces (sent before it) are no longer
   * waited for; those sent after it still are.
   */
  showing(current: ShownRevision): void {
    this.#shown = current;
    this.#done.add(current.event_id);
    for (const [eventId, sentAt] of this.#pending) {
      if (eventId === current.event_id || sentAt < current.updated_at) {
        this.#pending.delete(eventId);
        this.#done.add(eventId);
      }
    }
  }

  /** The index did not show them in time: the page stops waiting (the next event starts again). */
  giveUp(): void {
    this.#pending.clear();
  }
}

/**
 * A change heard of in a room that a page shows once the index's answer has it: which answer
 * shows it is the page's own decision (`IndexFollower.offer`).
 */
export interface AwaitedChange<S> {
  /** The event that makes it. */
  eventId: string;
  /** Whether an answer of the index shows it, or what replaced it since. */
  shownBy(snapshot: S): boolean;
  /**
   * How long it is worth waiting for: less for an event that may change nothing shown (a
   * redaction the page cannot place); `CHANGE_WAIT_MS` when absent.
   */
  patienceMs?: number;
}

/** How long a page waits for the index to show a change it knows concerns it. */
export const CHANGE_WAIT_MS = 20_000;
/** How long for an event that may concern it or not. */
export const MAYBE_WAIT_MS = 8_000;

/**
 * What a page shows of the index (`S`: the list it read), and the room events it heard of that
 * change it and that the index does not show yet. `offer` decides whether an event concerns
 * the page; the page then re-reads the index until `shouldShow` says an answer has some of
 * what it waits for, shows that answer (`showing`), and goes on while it still `waiting`
 * (the driver is `catchUpWithIndex` of `await-index.ts`).
 */
export abstract class IndexFollower<S> {
  #shown: S;
  /** Heard of, not shown yet. */
  readonly #pending = new Map<string, AwaitedChange<S>>();
  /** Shown, given up, or the page's own (which it waits for its own way). */
  readonly #done = new Set<string>();

  constructor(shown: S) {
    this.#shown = shown;
  }

  /** A room event: `true` when the page has to wait for the index to show what it changes. */
  abstract offer(event: LiveEvent): boolean;

  /** What the page shows. */
  get shown(): S {
    return this.#shown;
  }

  /** Whether the page waits for the index. */
  get waiting(): boolean {
    return this.#pending.size > 0;
  }

  /** How long to wait for the index now: what the most certain change waited for deserves. */
  get patienceMs(): number {
    return Math.max(0, ...[...this.#pending.values()].map((change) => change.patienceMs ?? CHANGE_WAIT_MS));
  }

  /** An event the page writes itself: not one to follow. */
  own(eventId: string): void {
    this.#done.add(eventId);
    this.#pending.delete(eventId);
  }

  /** Whether this answer of the index shows some of what the page waits for. */
  shouldShow(snapshot: S): boolean {
    for (const change of this.#pending.values()) if (change.shownBy(snapshot)) return true;
    return false;
  }

  /** The page now shows `snapshot`: the changes it shows are done; the others still awaited. */
  showing(snapshot: S): void {
    this.#shown = snapshot;
    for (const [eventId, change] of this.#pending) {
      if (change.shownBy(snapshot)) {
        this.#pending.delete(eventId);
        this.#done.add(eventId);
      }
    }
  }

  /** The index did not show them in time: no more waiting for these events, even if heard again. */
  giveUp(): void {
    for (const eventId of this.#pending.keys()) this.#done.add(eventId);
    this.#pending.clear();
  }

  /** Waits for `change` unless its event was heard already; `true` when it is new. */
  protected await(change: AwaitedChange<S>): boolean {
    if (this.#done.has(change.eventId) || this.#pending.has(change.eventId)) return false;
    this.#pending.set(change.eventId, change);
    return true;
  }
}

/** Whether two answers of the index say the same (their JSON, as the server sent it). */
export function sameAnswer(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A list page of a publishing tool (`#/c/{space}/wiki`): its objects, as the index lists them
 * (`GET /api/v1/communities/{space}/{tool}`, every object, before any filter of the page). It
 * follows the state events of its tool's type (a new object, a new revision) and the
 * redactions of the revisions it shows.
 */
export class ListFollower extends IndexFollower<readonly Publication[]> {
  constructor(
    /** The tool's state event type (`org.parvis.wiki.page`). */
    readonly eventType: string,
    shown: readonly Publication[],
  ) {
    super(shown);
  }

  offer(event: LiveEvent): boolean {
    const redacted = redactedEventId(event);
    if (redacted !== undefined) {
      const before = this.shown.find((item) => item.event_id === redacted);
      if (!before) return false;
      // Its content is gone: the index drops the object, or shows it otherwise.
      return this.await({
        eventId: event.event_id,
        shownBy: (fresh) => {
          const now = fresh.find((item) => item.object_id === before.object_id);
          return now === undefined || !sameAnswer(now, before);
        },
      });
    }
    if (event.type !== this.eventType || event.state_key === undefined) return false;
    const id = event.state_key;
    const before = this.shown.find((item) => item.object_id === id);
    // Shown already, or older than what is shown (pushed again with the room state).
    if (before && (before.event_id === event.event_id || event.origin_server_ts < before.updated_at)) return false;
    const sentAt = event.origin_server_ts;
    return this.await({
      eventId: event.event_id,
      shownBy: (fresh) => {
        const now = fresh.find((item) => item.object_id === id);
        // This revision or a later one; or, for an object shown before, its removal (the
        // index drops an object whose new content it cannot read).
        return now === undefined ? before !== undefined : now.event_id === event.event_id || now.updated_at > sentAt;
      },
    });
  }
}

/** The thread an event is in (`m.thread` relation), if any. */
export function threadRootOf(event: LiveEvent): string | undefined {
  const relation = event.content["m.relates_to"];
  if (!relation || typeof relation !== "object") return undefined;
  const { rel_type, event_id } = relation as Record<string, unknown>;
  return rel_type === "m.thread" && typeof event_id === "string" ? event_id : undefined;
}

/**
 * The comments of an object's page: messages in the thread of one of its revisions
 * (`GET …/{id}/comments`). It follows new messages in those threads (revisions heard of since
 * the page was read included) and redactions of the comments it shows.
 */
export class CommentFollower extends IndexFollower<readonly Comment[]> {
  readonly #object: FollowedObject;
  /** The object's revisions: a comment is a message in the thread of one of them. */
  readonly #roots: Set<string>;

  constructor(object: FollowedObject, revisions: readonly string[], shown: readonly Comment[]) {
    super(shown);
    this.#object = object;
    this.#roots = new Set(revisions);
  }

  offer(event: LiveEvent): boolean {
    if (event.type === this.#object.eventType && event.state_key === this.#object.id) {
      // A new revision, whose thread may get comments before the page has read it.
      this.#roots.add(event.event_id);
      return false;
    }
    const redacted = redactedEventId(event);
    if (event.type === "m.room.redaction") {
      if (redacted === undefined || !this.shown.some((comment) => comment.event_id === redacted)) return false;
      return this.await({ eventId: event.event_id, shownBy: (fresh) => !fresh.some((comment) => comment.event_id === redacted) });
    }
    if (event.type !== "m.room.message" || this.shown.some((comment) => comment.event_id === event.event_id)) return false;
    const root = threadRootOf(event);
    if (root === undefined || !this.#roots.has(root)) return false;
    return this.await({ eventId: event.event_id, shownBy: (fresh) => fresh.some((comment) => comment.event_id === event.event_id) });
  }
}

/**
 * The recent activity on a community's home (`GET /api/v1/communities/{space}`'s `activity`):
 * it follows the state events of the given types (the objects of the community's publishing
 * tools, the only ones the activity lists), in the community's rooms. The activity names no
 * events, so a redaction may or may not concern it: the page waits for it less.
 */
export class ActivityFollower extends IndexFollower<readonly CommunityActivity[]> {
  readonly #types: ReadonlySet<string>;

  constructor(stateTypes: readonly string[], shown: readonly CommunityActivity[]) {
    super(shown);
    this.#types = new Set(stateTypes);
  }

  offer(event: LiveEvent): boolean {
    if (event.type === "m.room.redaction") {
      const before = this.shown;
      return this.await({ eventId: event.event_id, shownBy: (fresh) => !sameAnswer(fresh, before), patienceMs: MAYBE_WAIT_MS });
    }
    if (event.state_key === undefined || !this.#types.has(event.type)) return false;
    const key = event.state_key;
    const sentAt = event.origin_server_ts;
    const showsIt = (activity: readonly CommunityActivity[]) =>
      activity.some((item) => item.room_id === event.room_id && item.object_id === key && item.updated_at >= sentAt);
    if (showsIt(this.shown)) return false;
    return this.await({ eventId: event.event_id, shownBy: showsIt });
  }
}

/** What changed between two lists of a page, items told apart by `key`. */
export interface ListChanges<T> {
  added: T[];
  changed: T[];
  removed: T[];
}

/** The items of `after` not in `before`, those that differ, and those gone (`same`: JSON). */
export function listChanges<T>(
  before: readonly T[],
  after: readonly T[],
  key: (item: T) => string,
  same: (a: T, b: T) => boolean = sameAnswer,
): ListChanges<T> {
  const old = new Map(before.map((item) => [key(item), item]));
  const kept = new Set<string>();
  const changes: ListChanges<T> = { added: [], changed: [], removed: [] };
  for (const item of after) {
    const previous = old.get(key(item));
    kept.add(key(item));
    if (previous === undefined) changes.added.push(item);
    else if (!same(previous, item)) changes.changed.push(item);
  }
  changes.removed = before.filter((item) => !kept.has(key(item)));
  return changes;
}

/**
 * What to tell screen readers of a redrawn list: one new item (whose author the page names),
 * or how many items changed; `null` when nothing shown changed (nothing to redraw).
 */
export function changeSummary<T>(changes: ListChanges<T>): { added: T } | { count: number } | null {
  const count = changes.added.length + changes.changed.length + changes.removed.length;
  if (count === 0) return null;
  const [added] = changes.added;
  return count === 1 && added !== undefined ? { added } : { count };
}
