/**
 * What the app keeps between page loads, in `sessionStorage` (so a sign-in lasts as long as the
 * tab): the standalone session (homeserver, access token, user) and, per widget, the
 * parameters Element put in the first URL (navigation replaces the hash that carried them).
 */
import { isWidgetParams, type WidgetParams } from "./params";

/** A signed-in standalone session. */
export interface StandaloneSession {
  /** Base URL of the homeserver, without a trailing `/`. */
  homeserver: string;
  accessToken: string;
  userId: string;
  deviceId?: string;
}

/** The part of `Storage` used here. */
export type KeyValueStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/** Storage keys. */
export const STORAGE_KEYS = {
  session: "parvis.session",
  widgetPrefix: "parvis.widget.",
} as const;

function isStandaloneSession(value: unknown): value is StandaloneSession {
  if (!value || typeof value !== "object") return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.homeserver === "string" &&
    candidate.homeserver !== "" &&
    typeof candidate.accessToken === "string" &&
    candidate.accessToken !== "" &&
    typeof candidate.userId === "string" &&
    (candidate.deviceId === undefined || typeof candidate.deviceId === "string")
  );
}

/** Reads and writes the remembered session; a corrupt or foreign value is dropped. */
export class SessionStore {
  constructor(private readonly storage: KeyValueStorage | null) {}

  #read(key: string): unknown {
    try {
      const raw = this.storage?.getItem(key);
      return raw ? (JSON.parse(raw) as unknown) : null;
    } catch {
      return null;
    }
  }

  #write(key: string, value: unknown): void {
    try {
      this.storage?.setItem(key, JSON.stringify(value));
    } catch {
      // Storage refused (quota, privacy settings): the session lasts until the page is left.
    }
  }

  #remove(key: string): void {
    try {
      this.storage?.removeItem(key);
    } catch {
      // Nothing to do: there was nothing stored.
    }
  }

  /** The remembered standalone session, if any and well-formed. */
  load(): StandaloneSession | null {
    const value = this.#read(STORAGE_KEYS.session);
    if (value === null) return null;
    if (!isStandaloneSession(value)) {
      this.#remove(STORAGE_KEYS.session);
      return null;
    }
    return value;
  }

  save(session: StandaloneSession): void {
    this.#write(STORAGE_KEYS.session, session);
  }

  clear(): void {
    this.#remove(STORAGE_KEYS.session);
  }

  /** Remembers a widget's parameters under its ID. */
  saveWidgetParams(params: WidgetParams): void {
    this.#write(STORAGE_KEYS.widgetPrefix + params.widgetId, params);
  }

  /** A widget's remembered parameters. */
  loadWidgetParams(widgetId: string): WidgetParams | null {
    const value = this.#read(STORAGE_KEYS.widgetPrefix + widgetId);
    return isWidgetParams(value) && value.widgetId === widgetId ? value : null;
  }
}

/** `sessionStorage`, or `null` where the browser refuses it. */
export function browserSessionStorage(): KeyValueStorage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
