/**
 * The widget capabilities (MSC2762) the app asks of Element. Each tool lists those its writes
 * need and the events its pages follow live (`ToolDef.capabilities`); the widget asks for all of
 * them at start, before the first page, since Element negotiates them as soon as the frame has
 * loaded. The events a tool receives are also what the standalone app asks the homeserver's
 * `/sync` for (`receivedEventTypes`), so one declaration serves both modes.
 */
import type { ToolDef } from "../app/registry";

const SEND_STATE = "org.matrix.msc2762.send.state_event:";
const SEND_EVENT = "org.matrix.msc2762.send.event:";
const RECEIVE_STATE = "org.matrix.msc2762.receive.state_event:";
const RECEIVE_EVENT = "org.matrix.msc2762.receive.event:";

/** Capability strings, for `ToolDef.capabilities`. */
export const capability = {
  /** Sending state events of this type (any state key). */
  sendState: (eventType: string): string => `${SEND_STATE}${eventType}`,
  /**
   * Sending room events of this type. `m.room.redaction` is how a widget redacts: Element
   * redacts the event named in the content's `redacts`.
   */
  sendEvent: (eventType: string): string => `${SEND_EVENT}${eventType}`,
  /** Being told of state events of this type (any state key) as they arrive: Element pushes them. */
  receiveState: (eventType: string): string => `${RECEIVE_STATE}${eventType}`,
  /** Being told of room events of this type as they arrive. */
  receiveEvent: (eventType: string): string => `${RECEIVE_EVENT}${eventType}`,
} as const;

/** What the tools need, each capability once, in the tools' order. */
export function toolCapabilities(tools: readonly Pick<ToolDef, "capabilities">[]): string[] {
  return [...new Set(tools.flatMap((tool) => tool.capabilities ?? []))];
}

/** The event types pages follow live: state events, and other room events. */
export interface ReceivedEventTypes {
  state: string[];
  timeline: string[];
}

/**
 * The event types these capabilities receive (`capability.receiveState`, `receiveEvent`), each
 * once; a state key or message type narrowing a capability (`…:m.room.message#m.text`) is
 * dropped, the whole type being followed.
 */
export function receivedEventTypes(capabilities: readonly string[]): ReceivedEventTypes {
  const of = (prefix: string) => [
    ...new Set(capabilities.filter((value) => value.startsWith(prefix)).map((value) => value.slice(prefix.length).split("#")[0] ?? "")),
  ].filter((type) => type !== "");
  return { state: of(RECEIVE_STATE), timeline: of(RECEIVE_EVENT) };
}
