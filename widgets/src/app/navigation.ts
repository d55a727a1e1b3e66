/**
 * Connects the router to the window: on each `hashchange`, finds the route, checks the user
 * is signed in (or sends them to `#/login`), loads the page's module and renders it into
 * `<main>`. The previous page's work is aborted.
 */
import { ApiError } from "../api/client";
import type { App, PageContext } from "./context";
import { h } from "./dom";
import { parseHash } from "./router";
import type { RouteDef } from "./registry";
import type { Shell } from "./shell";
import { errorBox, loading } from "./ui";

/** Shows pages as the hash changes. */
export class Navigator {
  #controller: AbortController | null = null;
  #cleanup: (() => void) | null = null;
  #rendered = 0;

  constructor(
    private readonly app: App,
    private readonly shell: Shell,
    private readonly notFound: RouteDef<PageContext>,
  ) {}

  /** Renders the current hash, and every later one. */
  start(): void {
    window.addEventListener("hashchange", () => void this.render());
    this.app.i18n.onChange(() => void this.render());
    void this.render();
  }

  /** Renders the page of the current hash. */
  async render(): Promise<void> {
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const signal = controller.signal;
    try {
      this.#cleanup?.();
    } catch {
      // A page's clean-up failing must not keep the next page from showing.
    }
    this.#cleanup = null;

    const { path, query } = parseHash(window.location.hash);
    if (path === "/main") return; // the skip link, followed without script
    const match = this.app.registry.match(path);
    const route = match?.route ?? this.notFound;
    const params = match?.params ?? {};
    const main = this.shell.main;
    this.shell.update({ space: params.space, section: sectionOf(route) });
    main.replaceChildren(loading(this.app));

    try {
      if (!route.public && !(await this.app.identity.ensureSignedIn(this.app.api))) {
        const next = window.location.hash;
        this.app.navigate(`#/login${next && next !== "#/" ? `?next=${encodeURIComponent(next)}` : ""}`, { replace: true });
        return;
      }
      if (signal.aborted) return;
      if (params.space) {
        // The header shows the community's name and only its tools; the page does not wait.
        this.app
          .community(params.space)
          .then((community) => {
            if (!signal.aborted) this.shell.update({ space: params.space, community, section: sectionOf(route) });
          })
          .catch(() => undefined);
      }
      const module = await route.load();
      if (signal.aborted) return;
      const page = h("div", { class: "page", "data-route": route.name });
      main.replaceChildren(page);
      const context: PageContext = { app: this.app, params, query, main: page, signal, route };
      const cleanup = await module.default(context);
      if (signal.aborted) {
        if (typeof cleanup === "function") cleanup();
        return;
      }
      if (typeof cleanup === "function") this.#cleanup = cleanup;
    } catch (error) {
      if (signal.aborted || (error instanceof DOMException && error.name === "AbortError")) return;
      main.replaceChildren(h("div", { class: "page" }, errorBox(this.app, error), retryButton(this.app, () => void this.render())));
      if (error instanceof ApiError && error.status === 401 && this.app.identity.mode === "standalone") {
        const next = window.location.hash;
        this.app.navigate(`#/login?next=${encodeURIComponent(next)}`, { replace: true });
      }
    } finally {
      if (!signal.aborted) {
        // After the first page, move focus to the new page's heading, as a page load would.
        if (this.#rendered > 0) {
          const heading = main.querySelector<HTMLElement>("h1");
          (heading ?? main).focus({ preventScroll: false });
        }
        this.#rendered += 1;
      }
    }
  }
}

function sectionOf(route: RouteDef<PageContext>): string | undefined {
  if (route.tool) return route.tool;
  if (route.name === "community.home") return "home";
  if (route.name === "community.search") return "search";
  return undefined;
}

function retryButton(app: App, retry: () => void): HTMLElement {
  return h("p", null, h("button", { type: "button", onclick: retry }, app.t("common.retry")));
}
