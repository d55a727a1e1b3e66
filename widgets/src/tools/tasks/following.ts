/**
 * The I/O half of a tasks page following its room (the decisions are `live.ts`'s): the room's
 * events are offered to the page's follower, and the index re-read until it shows what they
 * changed (`catchUpWithIndex`), then the page redraws. The page's own writes are not followed:
 * while one is under way the events heard wait, until its own event is known and left out
 * (`wrote`); the page's re-read after its write shows the others' changes heard meanwhile
 * (`showing`), so no second re-read is made for them.
 */
import type { App } from "../../app/context";
import { roomOf } from "../../app/context";
import { catchUpWithIndex, type WaitOptions } from "../../publishing/await-index";
import type { LiveEvent } from "../../session/live";
import type { TaskChange, TaskFollower } from "./live";

/** The community's tasks room; `null` when it has none (or the community cannot be read). */
export async function tasksRoomOf(app: Pick<App, "community">, space: string): Promise<string | null> {
  try {
    return roomOf(await app.community(space), "tasks");
  } catch {
    return null;
  }
}

/** A page following the index as its room changes, its own writes set apart. */
export class LiveFollowing<S> {
  readonly #follower: TaskFollower<S>;
  readonly #catchUp: () => void;
  /** Heard while a write of the page was under way: offered once its event is known. */
  readonly #held: LiveEvent[] = [];
  #writes = 0;
  #idle: Promise<void> = Promise.resolve();
  #settle: () => void = () => undefined;

  constructor(
    follower: TaskFollower<S>,
    /** Reads what the page shows from the index. */
    read: () => Promise<S>,
    /** Redraws the page with an answer of the index, and what others changed in it. */
    show: (snapshot: S, changes: TaskChange[]) => void,
    options: Omit<WaitOptions, "timeoutMs"> & { signal: AbortSignal },
  ) {
    this.#follower = follower;
    this.#catchUp = catchUpWithIndex(
      follower,
      read,
      async (snapshot) => {
        // A write of the page is under way: its own re-read, later than this answer, shows
        // what this one does; what it does not is read again once the write is over.
        if (this.#writes > 0) {
          await this.#idle;
          return;
        }
        show(snapshot, follower.showing(snapshot));
      },
      options,
    );
  }

  /** The follower: what the page shows of the index, and what it waits for. */
  get follower(): TaskFollower<S> {
    return this.#follower;
  }

  /** An event of the room: followed when it changes what the page shows (later, during a write). */
  hear(event: LiveEvent): void {
    if (this.#writes > 0) this.#held.push(event);
    else if (this.#follower.offer(event)) this.#catchUp();
  }

  /** A write of the page starts: the events heard now wait for its own to be known. */
  writeStarts(): void {
    if (this.#writes++ === 0) this.#idle = new Promise((resolve) => (this.#settle = resolve));
  }

  /** The write sent `eventId`: never followed; the others' events heard meanwhile are awaited now. */
  wrote(eventId: string): void {
    this.#follower.own(eventId);
    this.#offerHeld();
  }

  /** The page redrew after its write with this answer of the index: what others changed in it. */
  showing(snapshot: S): TaskChange[] {
    return this.#follower.showing(snapshot);
  }

  /** The write is over, written or not: what is still awaited is read again. */
  writeEnds(): void {
    if (this.#writes === 0 || --this.#writes > 0) return;
    this.#settle();
    this.#offerHeld();
    if (this.#follower.waiting) this.#catchUp();
  }

  #offerHeld(): void {
    for (const event of this.#held.splice(0)) this.#follower.offer(event);
  }
}
