/**
 * Waiting for the index after a write: the index follows the room, so a write is visible once
 * the homeserver has pushed the event to Parvis. The app polls an endpoint that shows it (the
 * object, its comments, its likes) until the new event is there.
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
