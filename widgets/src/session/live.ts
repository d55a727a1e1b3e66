/**
 * Room events as they arrive, for pages that follow them: a page subscribes to its object's room
 * while it is shown (`subscribe(roomId, handler)`, undone in its clean-up) and decides itself
 * what an event means for it. Where the events come from depends on the mode: in the standalone
 * app, the homeserver's `/sync` with the user's own token (`session/sync.ts`); inside Element,
 * the events Element pushes to the widget (`send_event` and `update_state` of the widget API,
 * for the receive capabilities the tools declared). Either feeds `LiveFeed.dispatch`.
 */
import {
  WidgetApiToWidgetAction,
  type ISendEventToWidgetActionRequest,
  type IUpdateStateToWidgetActionRequest,
  type IWidgetApiRequest,
  type IWidgetApiResponseData,
} from "matrix-widget-api";

/** A room event as the client-server API gives it, with its room. */
export interface LiveEvent {
  room_id: string;
  event_id: string;
  type: string;
  sender: string;
  /** Present on state events (`""` for the room's own). */
  state_key?: string;
  content: Record<string, unknown>;
  /** Milliseconds since the epoch, by the sender's homeserver. */
  origin_server_ts: number;
  /** The redacted event of an `m.room.redaction` in rooms before version 11 (then in `content`). */
  redacts?: string;
}

/** What a page does with an event of its room. */
export type LiveHandler = (event: LiveEvent) => void;

/** Subscribing to a room's events; what pages see of the feed (`App.live`). */
export interface LiveEvents {
  /** Calls `handler` with each new event of the room until the returned function is called. */
  subscribe(roomId: string, handler: LiveHandler): () => void;
}

/** `raw` as a room event of `roomId` (or of its own `room_id`), or `null` when it is not one. */
export function asLiveEvent(raw: unknown, roomId?: string): LiveEvent | null {
  if (!raw || typeof raw !== "object") return null;
  const value = raw as Record<string, unknown>;
  const room = roomId ?? value.room_id;
  const { event_id, type, sender, state_key, content, origin_server_ts, redacts } = value;
  if (typeof room !== "string" || typeof event_id !== "string" || typeof type !== "string" || typeof sender !== "string") {
    return null;
  }
  const event: LiveEvent = {
    room_id: room,
    event_id,
    type,
    sender,
    content: content && typeof content === "object" ? (content as Record<string, unknown>) : {},
    origin_server_ts: typeof origin_server_ts === "number" ? origin_server_ts : 0,
  };
  if (typeof state_key === "string") event.state_key = state_key;
  if (typeof redacts === "string") event.redacts = redacts;
  return event;
}

/** The event an `m.room.redaction` redacts, wherever the room version puts it. */
export function redactedEventId(event: LiveEvent): string | undefined {
  if (event.type !== "m.room.redaction") return undefined;
  const inContent = event.content.redacts;
  return typeof inContent === "string" ? inContent : event.redacts;
}

/** The rooms pages follow, and their handlers. */
export class LiveFeed implements LiveEvents {
  readonly #handlers = new Map<string, Set<LiveHandler>>();
  readonly #roomListeners = new Set<() => void>();

  subscribe(roomId: string, handler: LiveHandler): () => void {
    let handlers = this.#handlers.get(roomId);
    const added = handlers === undefined;
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(roomId, handlers);
    }
    // A function of its own, so one handler subscribed twice is two subscriptions.
    const subscription: LiveHandler = (event) => handler(event);
    handlers.add(subscription);
    if (added) for (const listener of this.#roomListeners) listener();
    return () => {
      const current = this.#handlers.get(roomId);
      if (!current?.delete(subscription)) return;
      if (current.size === 0) this.#handlers.delete(roomId);
    };
  }

  /** The rooms someone follows, in subscription order. */
  rooms(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Calls `listener` when a room starts being followed (the sync loop then widens its filter). */
  onRoomAdded(listener: () => void): () => void {
    this.#roomListeners.add(listener);
    return () => this.#roomListeners.delete(listener);
  }

  /** Hands an event to its room's handlers; one failing does not keep the others from it. */
  dispatch(event: LiveEvent): void {
    for (const handler of [...(this.#handlers.get(event.room_id) ?? [])]) {
      try {
        handler(event);
      } catch (error) {
        console.error("a live event handler failed", error);
      }
    }
  }
}

/** What `feedFromWidget` uses of the widget API (`WidgetApi`; a fake in tests). */
export interface WidgetEventSource {
  on(event: string, listener: (action: CustomEvent<IWidgetApiRequest>) => void): unknown;
  readonly transport: { reply(request: IWidgetApiRequest, response: IWidgetApiResponseData): void };
}

/**
 * Widget mode: hands every event Element pushes to `deliver`. Element sends a new room event
 * with `send_event` and a changed room state with `update_state` (the widget API announces
 * `org.matrix.msc2762_update_state`), only of the types the widget may receive; each is
 * acknowledged, as the widget API expects of a handled action.
 */
export function feedFromWidget(api: WidgetEventSource, deliver: (event: LiveEvent) => void): void {
  const handle = (events: (action: IWidgetApiRequest) => unknown[]) => (action: CustomEvent<IWidgetApiRequest>) => {
    action.preventDefault();
    api.transport.reply(action.detail, {});
    for (const raw of events(action.detail)) {
      const event = asLiveEvent(raw);
      if (event) deliver(event);
    }
  };
  api.on(
    `action:${WidgetApiToWidgetAction.SendEvent}`,
    handle((request) => [(request as ISendEventToWidgetActionRequest).data]),
  );
  api.on(
    `action:${WidgetApiToWidgetAction.UpdateState}`,
    handle((request) => {
      const state = (request as IUpdateStateToWidgetActionRequest).data?.state;
      return Array.isArray(state) ? state : [];
    }),
  );
}
