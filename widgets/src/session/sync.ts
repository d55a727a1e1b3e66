/**
 * The standalone app's live events: a `/sync` long poll at the user's homeserver with their own
 * access token (client-server API, `GET /_matrix/client/v3/sync`), feeding `LiveFeed`.
 *
 * - The first sync has `timeout=0` and a filter that matches nothing: it only gets a `since`
 *   token, so no history is replayed; pages already show what the index has.
 * - Then long polls (30 s) with a filter limited to what pages follow: the rooms they
 *   subscribed to, the event types the tools receive (`receivedEventTypes` of their
 *   capabilities), a small timeline, members lazily loaded, no presence, account data nor
 *   receipts. When a page subscribes to a room the filter lacks, the poll in flight is
 *   abandoned and the next one, from the same `since`, includes it.
 * - One request at a time; errors back off (1 s doubling to 60 s, or what `M_LIMIT_EXCEEDED`
 *   says); a refused token (401) ends the loop, as signing out does.
 *
 * `syncFilter`, `syncUrl`, `eventsOfSync` and `syncBackoffMs` are the loop's decisions without
 * I/O; `SyncLoop` is the driver.
 */
import type { Fetch } from "../api/client";
import type { ReceivedEventTypes } from "./capabilities";
import { asLiveEvent, type LiveEvent, type LiveFeed } from "./live";

/** How long the homeserver holds a poll with nothing new. */
export const SYNC_TIMEOUT_MS = 30_000;
/** Events per room and poll: pages refetch from the index what they show, so a few is enough. */
export const SYNC_TIMELINE_LIMIT = 10;
/** The longest wait after failures. */
export const MAX_BACKOFF_MS = 60_000;

/** What the loop needs of the standalone session. */
export interface SyncSession {
  /** Base URL of the homeserver, without a trailing `/`. */
  homeserver: string;
  accessToken: string;
  userId: string;
}

/** A sync filter (client-server API, `Filter`), as sent in the `filter` parameter. */
export type SyncFilter = Record<string, unknown>;

const NOTHING = { types: [] as string[] };

/** The first sync's filter: nothing at all, only the `since` token is wanted. */
export const SINCE_ONLY_FILTER: SyncFilter = {
  presence: NOTHING,
  account_data: NOTHING,
  room: { rooms: [], account_data: NOTHING, ephemeral: NOTHING, state: NOTHING, timeline: { ...NOTHING, limit: 1 } },
};

/** The long polls' filter: these rooms, these types, a short timeline. */
export function syncFilter(rooms: readonly string[], types: ReceivedEventTypes): SyncFilter {
  const all = [...new Set([...types.state, ...types.timeline])];
  return {
    presence: NOTHING,
    account_data: NOTHING,
    room: {
      rooms: [...rooms],
      account_data: NOTHING,
      ephemeral: NOTHING,
      // State changes that fell out of a limited timeline still reach the pages.
      state: { types: [...types.state], lazy_load_members: true },
      timeline: { types: all, limit: SYNC_TIMELINE_LIMIT, lazy_load_members: true },
    },
  };
}

/** `GET {homeserver}/_matrix/client/v3/sync?…`; without `since`, the first sync (`timeout=0`). */
export function syncUrl(homeserver: string, filter: SyncFilter, since: string | null, timeoutMs = SYNC_TIMEOUT_MS): string {
  const query = new URLSearchParams({ filter: JSON.stringify(filter), timeout: String(since === null ? 0 : timeoutMs) });
  if (since !== null) query.set("since", since);
  // The app only listens: it does not make the user look online.
  query.set("set_presence", "offline");
  return `${homeserver}/_matrix/client/v3/sync?${query.toString()}`;
}

/** The part of a sync response used here. */
export interface SyncResponse {
  next_batch: string;
  rooms?: { join?: Record<string, { state?: { events?: unknown[] }; timeline?: { events?: unknown[] } }> };
}

/**
 * The events of a sync response, by room: the state changes before the timeline (a gap), then
 * the timeline, each event once.
 */
export function eventsOfSync(response: SyncResponse): LiveEvent[] {
  const events: LiveEvent[] = [];
  for (const [roomId, room] of Object.entries(response.rooms?.join ?? {})) {
    const seen = new Set<string>();
    for (const raw of [...(room.state?.events ?? []), ...(room.timeline?.events ?? [])]) {
      const event = asLiveEvent(raw, roomId);
      if (!event || seen.has(event.event_id)) continue;
      seen.add(event.event_id);
      events.push(event);
    }
  }
  return events;
}

/** A failed sync. */
export class SyncError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string | null,
    readonly retryAfterMs: number | null,
    message: string,
  ) {
    super(message);
    this.name = "SyncError";
  }
}

/**
 * How long to wait after `failures` failures in a row (1, 2…): what the homeserver asked
 * (`retry_after_ms` of `M_LIMIT_EXCEEDED`), else 1 s doubling up to 60 s, spread by `random`
 * (0…1) over its upper half so that tabs do not retry together.
 */
export function syncBackoffMs(failures: number, error: unknown, random = 1): number {
  if (error instanceof SyncError && error.retryAfterMs !== null) return Math.min(error.retryAfterMs, MAX_BACKOFF_MS);
  const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.5 + random / 2));
}

/** Whether the loop must end: the homeserver no longer knows the token. */
export function endsSync(error: unknown): boolean {
  return error instanceof SyncError && error.status === 401;
}

/** The loop's options; `sleep` and `random` are replaced in tests. */
export interface SyncLoopOptions {
  fetch: Fetch;
  feed: LiveFeed;
  types: ReceivedEventTypes;
  /** Resolves after `ms`, or at once when `signal` is aborted. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  timeoutMs?: number;
}

const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });

/** One `/sync` request; its answer, or a `SyncError`. An abort is rethrown as it is. */
async function requestSync(fetchFn: Fetch, url: string, token: string, signal: AbortSignal): Promise<SyncResponse> {
  let response: Response;
  try {
    response = await fetchFn(url, { method: "GET", headers: { Accept: "application/json", Authorization: `Bearer ${token}` }, signal });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new SyncError(0, null, null, error instanceof Error ? error.message : String(error));
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch (error) {
    if (signal.aborted) throw error;
  }
  const fields = body && typeof body === "object" ? (body as Record<string, unknown>) : {};
  if (!response.ok) {
    const errcode = typeof fields.errcode === "string" ? fields.errcode : null;
    const retryAfter = typeof fields.retry_after_ms === "number" ? fields.retry_after_ms : null;
    throw new SyncError(response.status, errcode, retryAfter, `sync: HTTP ${response.status} ${errcode ?? ""}`.trim());
  }
  if (typeof fields.next_batch !== "string") throw new SyncError(response.status, null, null, "sync: the answer has no next_batch");
  return body as SyncResponse;
}

/** The sync loop of the signed-in user: `start` after sign-in, `stop` on sign-out. */
export class SyncLoop {
  readonly #options: SyncLoopOptions;
  #run: { token: string; stop: AbortController } | null = null;
  /** The current request, abandoned when the filter must change. */
  #request: { controller: AbortController; rooms: ReadonlySet<string>; longPoll: boolean } | null = null;
  /** The end of the last run: a new run waits for it, so requests never overlap. */
  #ended: Promise<void> = Promise.resolve();

  constructor(options: SyncLoopOptions) {
    this.#options = options;
    options.feed.onRoomAdded(() => {
      const request = this.#request;
      if (request?.longPoll && this.#options.feed.rooms().some((room) => !request.rooms.has(room))) request.controller.abort();
    });
  }

  /** Whether a run is going on. */
  get running(): boolean {
    return this.#run !== null;
  }

  /** Resolves once the loop has ended (after `stop`). */
  get ended(): Promise<void> {
    return this.#ended;
  }

  /** Starts following the homeserver for this session; nothing when it already does. */
  start(session: SyncSession): void {
    if (this.#run?.token === session.accessToken) return;
    this.stop();
    const run = { token: session.accessToken, stop: new AbortController() };
    this.#run = run;
    const previous = this.#ended;
    this.#ended = previous.then(() => this.#loop(session, run.stop.signal));
  }

  /** Stops at once: the request in flight is abandoned. */
  stop(): void {
    this.#run?.stop.abort();
    this.#run = null;
  }

  async #loop(session: SyncSession, stopped: AbortSignal): Promise<void> {
    const { fetch: fetchFn, feed, types } = this.#options;
    const sleep = this.#options.sleep ?? abortableSleep;
    const random = this.#options.random ?? Math.random;
    let since: string | null = null;
    let failures = 0;
    while (!stopped.aborted) {
      const rooms = feed.rooms();
      const filter = since === null ? SINCE_ONLY_FILTER : syncFilter(rooms, types);
      const controller = new AbortController();
      const abort = () => controller.abort();
      stopped.addEventListener("abort", abort, { once: true });
      this.#request = { controller, rooms: new Set(rooms), longPoll: since !== null };
      try {
        const url = syncUrl(session.homeserver, filter, since, this.#options.timeoutMs);
        const response = await requestSync(fetchFn, url, session.accessToken, controller.signal);
        if (stopped.aborted) break;
        failures = 0;
        if (since !== null) for (const event of eventsOfSync(response)) feed.dispatch(event);
        since = response.next_batch;
      } catch (error) {
        if (stopped.aborted) break;
        // Abandoned for a wider filter: again at once, from the same point.
        if (controller.signal.aborted) continue;
        if (endsSync(error)) break;
        failures += 1;
        await sleep(syncBackoffMs(failures, error, random()), stopped);
      } finally {
        stopped.removeEventListener("abort", abort);
        this.#request = null;
      }
    }
    if (this.#run?.stop.signal === stopped) this.#run = null;
  }
}
