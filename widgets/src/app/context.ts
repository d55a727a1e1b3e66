/**
 * What every page receives: the app's services and the current route.
 */
import type { ApiClient } from "../api/client";
import type { CommunitySummary, ServerInfo } from "../api/types";
import type { I18n } from "../i18n";
import type { Identity } from "../session/identity";
import type { LiveEvents } from "../session/live";
import type { Writer } from "../session/writer";
import type { PageContextBase, RouteDef, RouteRegistry } from "./registry";
import type { ThemeSwitcher } from "./theme";

/** The app's services. */
export interface App {
  readonly i18n: I18n;
  /** Shorthand for `i18n.t`. */
  readonly t: I18n["t"];
  readonly api: ApiClient;
  readonly writer: Writer;
  readonly identity: Identity;
  readonly registry: RouteRegistry<PageContext>;
  /**
   * New events of the rooms pages follow (the homeserver's sync, or Element in widget mode):
   * a page subscribes to its object's room while shown and unsubscribes in its clean-up.
   */
  readonly live: LiveEvents;
  /** The deployment's look (theme and brand), which the shell's header follows. */
  readonly theme: ThemeSwitcher;
  /** `GET /api/v1/info`, asked once (again after a failure). */
  info(): Promise<ServerInfo>;
  /** Goes to a hash (`#/c/…`); `replace` does not add a history entry. */
  navigate(hash: string, options?: { replace?: boolean }): void;
  /** The user's communities (cached; `refresh` reloads). */
  communities(options?: { refresh?: boolean }): Promise<CommunitySummary[]>;
  /** One of them; an `ApiError` 404 when the user is not in it. */
  community(space: string): Promise<CommunitySummary>;
  /** Says something to screen readers (an `aria-live` region). */
  announce(message: string): void;
  /** The document title: `parts — Parvis`. */
  setTitle(...parts: string[]): void;
}

/** What a page gets. */
export interface PageContext extends PageContextBase {
  app: App;
  /** The element the page fills (inside `<main>`). */
  main: HTMLElement;
  /** Aborted when the user leaves the page: stop polling, ignore late answers. */
  signal: AbortSignal;
  route: RouteDef<PageContext>;
}

/** A room of a community by purpose (`wiki`, `home`…). */
export function roomOf(community: CommunitySummary, purpose: string): string | null {
  return community.rooms.find(([, roomPurpose]) => roomPurpose === purpose)?.[0] ?? null;
}
