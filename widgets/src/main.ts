/**
 * Entry point. The widget API is started synchronously, before anything else: Element asks
 * for capabilities as soon as the frame has loaded.
 */
import "./styles.css";
import { apiBaseFor, startApp } from "./app/app";
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

let langStorage: Storage | null = null;
try {
  langStorage = window.localStorage;
} catch {
  langStorage = null;
}

const root = document.getElementById("app");
if (root) {
  startApp({
    root,
    store,
    widget,
    langStorage,
    preferences: navigator.languages?.length ? navigator.languages : [navigator.language],
    fetch: (input, init) => window.fetch(input, init),
    apiBase: apiBaseFor(window.location.pathname),
  });
}
