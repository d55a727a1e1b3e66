/**
 * Builds the app: identity for the mode, API client, writer, routes, live events and shell.
 */
import { ApiClient, ApiError, type Fetch } from "../api/client";
import type { CommunitySummary, ServerInfo } from "../api/types";
import { detectLang, I18n, LANG_STORAGE_KEY, type LangStorage } from "../i18n";
import { receivedEventTypes, toolCapabilities } from "../session/capabilities";
import { StandaloneIdentity, WidgetIdentity, type Identity } from "../session/identity";
import { LiveFeed } from "../session/live";
import type { SessionStore } from "../session/store";
import type { SyncLoop } from "../session/sync";
import type { WidgetSession } from "../session/widget";
import { ApiWriter, WidgetWriter } from "../session/writer";
import { registerTools } from "../tools";
import type { App, PageContext } from "./context";
import { NOT_FOUND, registerCoreRoutes } from "./core-routes";
import { Navigator } from "./navigation";
import { RouteRegistry } from "./registry";
import { createShell } from "./shell";
import type { ThemeSwitcher } from "./theme";

/**
 * Where the API is: the app is served at `{prefix}/widgets/…` by Parvis, whose API is at
 * `{prefix}/api/v1/…`. Anywhere else (the development server), the same origin.
 */
export function apiBaseFor(pathname: string): string {
  const at = pathname.indexOf("/widgets/");
  return at > 0 ? pathname.slice(0, at) : "";
}

/** What the app is built from. */
export interface AppOptions {
  root: HTMLElement;
  store: SessionStore;
  widget: WidgetSession | null;
  langStorage: LangStorage | null;
  preferences: readonly string[];
  fetch: Fetch;
  apiBase: string;
  /** The look, already showing the remembered one (`main.ts`); the server's answer corrects it. */
  theme: ThemeSwitcher;
}

/** Creates the app and shows the current route. */
export function startApp(options: AppOptions): App {
  let storedLang: string | null = null;
  try {
    storedLang = options.langStorage?.getItem(LANG_STORAGE_KEY) ?? null;
  } catch {
    storedLang = null;
  }
  const i18n = new I18n(detectLang(storedLang, options.preferences), options.langStorage);
  const identity: Identity = options.widget
    ? new WidgetIdentity(options.widget)
    : new StandaloneIdentity(options.store, options.fetch);
  const api: ApiClient = new ApiClient({
    baseUrl: options.apiBase,
    token: () => identity.token(),
    fetch: options.fetch,
    renewToken: () => identity.renew(api),
  });
  const writer = options.widget ? new WidgetWriter(options.widget, api) : new ApiWriter(api);
  const registry = new RouteRegistry<PageContext>();
  registerCoreRoutes(registry);
  registerTools(registry);

  // Live events: Element pushes them to a widget; the standalone app follows the homeserver's
  // sync while signed in (its loop a chunk of its own, loaded at the first sign-in). The tools'
  // receive capabilities say which types, in both modes.
  const live = new LiveFeed();
  if (options.widget) {
    options.widget.onRoomEvent((event) => live.dispatch(event));
  } else if (identity instanceof StandaloneIdentity) {
    let sync: Promise<SyncLoop> | null = null;
    const follow = () => {
      if (!identity.session && !sync) return;
      sync ??= import("../session/sync").then(
        ({ SyncLoop }) => new SyncLoop({ fetch: options.fetch, feed: live, types: receivedEventTypes(toolCapabilities(registry.tools())) }),
      );
      // The session when the loop is there: the last sign-in or sign-out wins.
      sync.then(
        (loop) => (identity.session ? loop.start(identity.session) : loop.stop()),
        () => (sync = null),
      );
    };
    identity.onChange(follow);
    follow();
  }

  let communities: Promise<CommunitySummary[]> | null = null;
  identity.onChange(() => (communities = null));
  let info: Promise<ServerInfo> | null = null;
  let announce: (message: string) => void = () => undefined;

  const app: App = {
    i18n,
    t: i18n.t,
    api,
    writer,
    identity,
    registry,
    live,
    theme: options.theme,
    info() {
      if (!info) {
        info = api.info();
        info.catch(() => (info = null));
      }
      return info;
    },
    navigate(hash, navigateOptions) {
      if (navigateOptions?.replace) {
        window.history.replaceState(null, "", hash);
        window.dispatchEvent(new HashChangeEvent("hashchange"));
      } else {
        window.location.hash = hash;
      }
    },
    communities(request) {
      if (!communities || request?.refresh) {
        communities = api.myCommunities();
        communities.catch(() => (communities = null));
      }
      return communities;
    },
    async community(space) {
      const found = (await app.communities()).find((community) => community.space_id === space);
      if (!found) throw new ApiError(404, "M_NOT_FOUND", i18n.t("community.notMember"));
      return found;
    },
    announce: (message) => announce(message),
    setTitle(...parts) {
      document.title = [...parts.filter(Boolean), "Parvis"].join(" — ");
    },
  };

  const signOut =
    identity instanceof StandaloneIdentity
      ? async () => {
          try {
            await identity.signOut();
          } finally {
            app.navigate("#/login");
          }
        }
      : null;
  const shell = createShell(options.root, app, signOut);
  announce = shell.announce;
  void options.theme.follow(app.info());
  new Navigator(app, shell, NOT_FOUND).start();
  return app;
}
