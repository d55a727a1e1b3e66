/**
 * The Element side of the widget API, for the browser tests: reads the Parvis widget from the
 * room's `im.vector.modular.widgets` state like Element does, frames it on another origin,
 * approves the capabilities it asks for, sends its events with the user's access token, hands
 * it real OpenID tokens from the homeserver, and pushes it the room's new events as Element
 * does (`feedEvent`, `feedStateUpdate`: the widget API passes on those the widget may receive).
 * Never shipped with the app.
 */
import {
  ClientWidgetApi,
  type Capability,
  type IOpenIDUpdate,
  type IRoomEvent,
  type ISendEventDetails,
  OpenIDRequestState,
  type SimpleObservable,
  Widget,
  WidgetDriver,
} from "matrix-widget-api";

const params = new URLSearchParams(window.location.hash.slice(1));
const required = (name: string): string => {
  const value = params.get(name);
  if (!value) throw new Error(`test host: missing ${name}`);
  return value;
};
const homeserver = required("hs");
const accessToken = required("token");
const userId = required("user");
const roomId = required("room");
const widgetKey = required("widget");
const enc = encodeURIComponent;

/** What the test reads back: capabilities asked, events sent, events pushed to the widget. */
interface HostRecord {
  capabilities: string[];
  sent: { type: string; stateKey: string | null; roomId: string; eventId: string }[];
  /** Room events handed to the widget (of types its capabilities let it receive). */
  pushed: { type: string; eventId: string }[];
  openIdRequests: number;
  ready: boolean;
  errors: string[];
}
const record: HostRecord = { capabilities: [], sent: [], pushed: [], openIdRequests: 0, ready: false, errors: [] };
(window as unknown as { parvisHost: HostRecord }).parvisHost = record;

async function clientServer<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${homeserver}${path}`, {
    method,
    headers: { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as T & { errcode?: string; error?: string };
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${json.errcode ?? ""} ${json.error ?? ""}`);
  return json;
}

let txn = 0;

class TestHostDriver extends WidgetDriver {
  override async validateCapabilities(requested: Set<Capability>): Promise<Set<Capability>> {
    record.capabilities.push(...requested);
    return requested;
  }

  override async sendEvent(
    eventType: string,
    content: unknown,
    stateKey: string | null = null,
    targetRoom: string | null = null,
  ): Promise<ISendEventDetails> {
    const room = targetRoom ?? roomId;
    const txnId = `host-${Date.now()}-${(txn += 1)}`;
    const redacts = (content as { redacts?: unknown } | null)?.redacts;
    let path = `/_matrix/client/v3/rooms/${enc(room)}/send/${enc(eventType)}/${txnId}`;
    let body = content;
    if (stateKey !== null && stateKey !== undefined) {
      path = `/_matrix/client/v3/rooms/${enc(room)}/state/${enc(eventType)}/${enc(stateKey)}`;
    } else if (eventType === "m.room.redaction" && typeof redacts === "string") {
      // As Element's widget driver does: a redaction goes through the redact endpoint.
      path = `/_matrix/client/v3/rooms/${enc(room)}/redact/${enc(redacts)}/${txnId}`;
      body = {};
    }
    try {
      const { event_id } = await clientServer<{ event_id: string }>("PUT", path, body);
      record.sent.push({ type: eventType, stateKey, roomId: room, eventId: event_id });
      return { roomId: room, eventId: event_id };
    } catch (error) {
      record.errors.push(String(error));
      throw error;
    }
  }

  override askOpenID(observer: SimpleObservable<IOpenIDUpdate>): void {
    record.openIdRequests += 1;
    clientServer<Record<string, unknown>>("POST", `/_matrix/client/v3/user/${enc(userId)}/openid/request_token`, {}).then(
      (token) => observer.update({ state: OpenIDRequestState.Allowed, token }),
      (error) => {
        record.errors.push(String(error));
        observer.update({ state: OpenIDRequestState.Blocked });
      },
    );
  }
}

interface SyncAnswer {
  next_batch: string;
  rooms?: { join?: Record<string, { timeline?: { events?: Omit<IRoomEvent, "room_id">[] } }> };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Element's side of live events: follows the widget's room with the user's sync and feeds each
 * new event to the widget API, which passes it on when the widget may receive it. History
 * before the widget started is not replayed (the first sync only gives a `since` token).
 */
async function pushRoomEvents(api: ClientWidgetApi): Promise<void> {
  const nothing = { types: [] };
  const only = (filter: unknown) => enc(JSON.stringify(filter));
  const none = only({ presence: nothing, account_data: nothing, room: { rooms: [] } });
  const room = only({
    presence: nothing,
    account_data: nothing,
    room: { rooms: [roomId], ephemeral: nothing, account_data: nothing, timeline: { limit: 20, lazy_load_members: true } },
  });
  let since = (await clientServer<SyncAnswer>("GET", `/_matrix/client/v3/sync?timeout=0&filter=${none}`)).next_batch;
  for (;;) {
    try {
      const sync = await clientServer<SyncAnswer>("GET", `/_matrix/client/v3/sync?timeout=20000&since=${enc(since)}&filter=${room}`);
      since = sync.next_batch;
      for (const event of sync.rooms?.join?.[roomId]?.timeline?.events ?? []) {
        const full = { ...event, room_id: roomId } as IRoomEvent;
        const isState = typeof full.state_key === "string";
        const allowed = isState ? api.canReceiveStateEvent(full.type, full.state_key ?? null) : api.canReceiveRoomEvent(full.type);
        await api.feedEvent(full);
        if (isState) await api.feedStateUpdate(full);
        if (allowed) record.pushed.push({ type: full.type, eventId: full.event_id });
      }
    } catch (error) {
      record.errors.push(`pushing events: ${error}`);
      await sleep(1000);
    }
  }
}

async function start(): Promise<void> {
  const state = await clientServer<{ url: string; type: string; name?: string; data?: Record<string, unknown> }>(
    "GET",
    `/_matrix/client/v3/rooms/${enc(roomId)}/state/im.vector.modular.widgets/${enc(widgetKey)}`,
  );
  const widget = new Widget({
    id: widgetKey,
    creatorUserId: userId,
    type: state.type,
    url: state.url,
    name: state.name,
    data: state.data,
    waitForIframeLoad: true,
  });
  const url = new URL(
    widget.getCompleteUrl({ widgetRoomId: roomId, currentUserId: userId, userDisplayName: userId, clientId: "org.parvis.test-host" }),
  );
  // What Element adds to every widget URL.
  url.searchParams.set("widgetId", widget.id);
  url.searchParams.set("parentUrl", window.location.href);
  const iframe = document.createElement("iframe");
  iframe.title = state.name ?? "Parvis";
  iframe.allow = "clipboard-write";
  // The API needs the frame's window, so the frame is in the page before its URL is set.
  document.body.append(iframe);
  const api = new ClientWidgetApi(widget, iframe, new TestHostDriver());
  // The room the user looks at, as Element says it: the widget's events from it reach the widget.
  api.setViewedRoomId(roomId);
  api.once("ready", () => {
    pushRoomEvents(api).catch((error) => record.errors.push(`pushing events: ${error}`));
  });
  api.on("ready", () => {
    record.ready = true;
    (document.getElementById("status") as HTMLElement).textContent = `Test host: ${state.name ?? widget.id} ready`;
  });
  iframe.src = url.toString();
}

start().catch((error) => {
  record.errors.push(String(error));
  (document.getElementById("status") as HTMLElement).textContent = `Test host failed: ${error}`;
});
