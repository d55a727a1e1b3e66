/**
 * The widget capabilities (MSC2762) the app asks of Element. Each tool lists those its writes
 * need (`ToolDef.capabilities`); the widget asks for all of them at start, before the first
 * page, since Element negotiates them as soon as the frame has loaded.
 */
import type { ToolDef } from "../app/registry";

/** Capability strings, for `ToolDef.capabilities`. */
export const capability = {
  /** Sending state events of this type (any state key). */
  sendState: (eventType: string): string => `org.matrix.msc2762.send.state_event:${eventType}`,
  /**
   * Sending room events of this type. `m.room.redaction` is how a widget redacts: Element
   * redacts the event named in the content's `redacts`.
   */
  sendEvent: (eventType: string): string => `org.matrix.msc2762.send.event:${eventType}`,
} as const;

/** What the tools need, each capability once, in the tools' order. */
export function toolCapabilities(tools: readonly Pick<ToolDef, "capabilities">[]): string[] {
  return [...new Set(tools.flatMap((tool) => tool.capabilities ?? []))];
}
