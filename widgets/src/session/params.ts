/**
 * The parameters Element gives a widget. Parvis registers the widget URL as
 * `…/widgets/widget.html#/c/$spaceId/wiki?widgetId=$matrix_widget_id&userId=$matrix_user_id&roomId=$matrix_room_id`,
 * and Element adds `widgetId` and `parentUrl` to the real query string; so each is read from
 * either place, the query string first.
 */

/** A widget's identity in its client. */
export interface WidgetParams {
  widgetId: string;
  /** The client's page (Element). */
  parentUrl: string;
  /** Its origin: the only one whose messages the widget API accepts. */
  parentOrigin: string;
  /** The user Element says is signed in (a hint; the OpenID token is the proof). */
  userId?: string;
  /** The room the widget is in: writes to it need no extra capability. */
  roomId?: string;
  displayName?: string;
}

/** A value Element did not substitute (`$matrix_room_id`) is no value. */
function usable(value: string | null): string | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (trimmed === "" || trimmed.startsWith("$")) return undefined;
  return trimmed;
}

function hashQuery(hash: string): URLSearchParams {
  const at = hash.indexOf("?");
  return new URLSearchParams(at === -1 ? "" : hash.slice(at + 1));
}

/**
 * The widget parameters in `location.search` and `location.hash`, or `null` when the page is
 * not running as a widget (no `widgetId`, or no valid `parentUrl`).
 */
export function readWidgetParams(search: string, hash: string): WidgetParams | null {
  const sources = [new URLSearchParams(search), hashQuery(hash)];
  const read = (name: string) => {
    for (const source of sources) {
      const value = usable(source.get(name));
      if (value !== undefined) return value;
    }
    return undefined;
  };
  const widgetId = read("widgetId");
  const parentUrl = read("parentUrl");
  if (!widgetId || !parentUrl) return null;
  let parentOrigin: string;
  try {
    parentOrigin = new URL(parentUrl).origin;
  } catch {
    return null;
  }
  if (parentOrigin === "null") return null;
  const params: WidgetParams = { widgetId, parentUrl, parentOrigin };
  const userId = read("userId");
  const roomId = read("roomId");
  const displayName = read("displayName");
  if (userId) params.userId = userId;
  if (roomId) params.roomId = roomId;
  if (displayName) params.displayName = displayName;
  return params;
}

/** Only `widgetId` from the real query string: enough to find remembered parameters. */
export function widgetIdInSearch(search: string): string | null {
  return usable(new URLSearchParams(search).get("widgetId")) ?? null;
}

/** Whether `value` has the shape of `WidgetParams` (read back from storage). */
export function isWidgetParams(value: unknown): value is WidgetParams {
  if (!value || typeof value !== "object") return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.widgetId === "string" &&
    typeof candidate.parentUrl === "string" &&
    typeof candidate.parentOrigin === "string" &&
    ["userId", "roomId", "displayName"].every((key) => candidate[key] === undefined || typeof candidate[key] === "string")
  );
}
