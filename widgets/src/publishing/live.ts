/**
 * An object's page following its revisions as room events arrive, without I/O: which events are
 * new revisions of the object shown (a state event of its tool's type whose state key is its ID,
 * newer than the revision shown), and when the index shows one, so that the page re-renders
 * what the index has (the server renders and sanitizes the HTML; the event's content is never
 * shown as it is).
 */
import type { LiveEvent } from "../session/live";

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
