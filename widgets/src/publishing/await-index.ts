/**
 * Waiting for the index after a write: the index follows the room, so a write is visible once
 * the homeserver has pushed the event to Parvis. The app polls an endpoint that shows it (the
 * object, its comments, its likes) until the new event is there; and so do pages following
 * others' changes live, once a room event told them of one (`catchUpWithIndex`), never on a
 * timer of their own.
 */

/** Options of `waitUntil`. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default 20 s). */
  timeoutMs?: number;
  /** Between tries (default 400 ms, growing to 2 s). */
  intervalMs?: number;
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it returns a value other than `undefined`, and returns it; `undefined`
 * after the timeout. Errors of `probe` (e.g. 404 while a new page is not indexed yet) count
 * as "not yet".
 */
export async function waitUntil<T>(probe: () => Promise<T | undefined>, options: WaitOptions = {}): Promise<T | undefined> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const deadline = now() + (options.timeoutMs ?? 20_000);
  let interval = options.intervalMs ?? 400;
  for (;;) {
    if (options.signal?.aborted) return undefined;
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // Not there yet.
    }
    if (now() + interval > deadline) return undefined;
    await sleep(interval);
    interval = Math.min(interval * 1.5, 2_000);
  }
}

/** What `catchUpWithIndex` drives: a page's follower (`IndexFollower` of `publishing/live.ts`). */
export interface IndexCatchUp<S> {
  /** Whether changes are awaited. */
  readonly waiting: boolean;
  /** How long to wait for them. */
  readonly patienceMs: number;
  /** Whether this answer of the index shows some of them. */
  shouldShow(snapshot: S): boolean;
  /** None was shown in time. */
  giveUp(): void;
}

/**
 * The I/O half of a page following the index: call the returned function each time the
 * follower accepted an event. It then reads the index (`read`) until an answer shows some of
 * what is awaited, hands that answer to `show` (which redraws and tells the follower it shows
 * it), and goes on while more is awaited: one run at a time, the waits of `waitUntil` between
 * reads. After `follower.patienceMs` without news it gives up, unless more events were heard
 * meanwhile (each one is worth its own wait). A failing `show` gives up too; the next event
 * starts again.
 */
export function catchUpWithIndex<S>(
  follower: IndexCatchUp<S>,
  read: () => Promise<S>,
  show: (snapshot: S) => void | Promise<void>,
  options: Omit<WaitOptions, "timeoutMs"> & { signal: AbortSignal },
): () => void {
  let running = false;
  let heard = 0;
  const run = async () => {
    try {
      while (follower.waiting && !options.signal.aborted) {
        const before = heard;
        const snapshot = await waitUntil(
          async () => {
            const answer = await read();
            return follower.shouldShow(answer) ? answer : undefined;
          },
          { ...options, timeoutMs: follower.patienceMs },
        );
        if (options.signal.aborted) return;
        if (snapshot === undefined) {
          if (heard === before) follower.giveUp();
          continue;
        }
        await show(snapshot);
      }
    } catch {
      follower.giveUp();
    } finally {
      running = false;
    }
  };
  return () => {
    heard += 1;
    if (running) return;
    running = true;
    void run();
  };
}
