/**
 * Entry point. The widget API is started synchronously, before anything else: Element asks
 * for capabilities as soon as the frame has loaded. Then the theme is applied (the one the HTML
 * was served with, else the remembered one: `app/theme.ts`), before the app draws anything.
 */
import "./styles.css";
import { apiBaseFor, startApp } from "./app/app";
import { browserThemeDocument, ThemeSwitcher } from "./app/theme";
import { toolCapabilities } from "./session/capabilities";
import { readWidgetParams, widgetIdInSearch } from "./session/params";
import { browserSessionStorage, SessionStore } from "./session/store";
import { WidgetSession } from "./session/widget";
import { discoveredTools } from "./tools";

const store = new SessionStore(browserSessionStorage());
let params = readWidgetParams(window.location.search, window.location.hash);
if (params) {
  // Navigation replaces the hash that carried `userId` and `roomId`: remember them for reloads.
  store.saveWidgetParams(params);
} else {
  const widgetId = widgetIdInSearch(window.location.search);
  if (widgetId) params = store.loadWidgetParams(widgetId);
}
const widget = params ? new WidgetSession(params, toolCapabilities(discoveredTools())) : null;

let localStore: Storage | null = null;
try {
  localStore = window.localStorage;
} catch {
  localStore = null;
}

// The look Parvis served the page in (already loaded), else the one the deployment chose last
// time (the page stays hidden while its stylesheet loads), so that no other look flashes first;
// `GET /api/v1/info` then corrects it.
const theme = new ThemeSwitcher({ document: browserThemeDocument(document), storage: localStore });
void theme.apply(theme.initial());

const root = document.getElementById("app");
if (root) {
  startApp({
    root,
    store,
    widget,
    langStorage: localStore,
    preferences: navigator.languages?.length ? navigator.languages : [navigator.language],
    fetch: (input, init) => window.fetch(input, init),
    apiBase: apiBaseFor(window.location.pathname),
    theme,
  });
}
