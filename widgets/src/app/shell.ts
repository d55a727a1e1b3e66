/**
 * The frame around every page: a skip link, the header (brand, language, user, sign-out), the
 * community's navigation built from the registered tools, `<main>`, and a live region. With a
 * brand (`app/theme.ts`), the deployment's logo leads the header's link home.
 */
import type { CommunitySummary } from "../api/types";
import { LANGS, type Lang } from "../i18n";
import type { App } from "./context";
import { h, replaceChildren } from "./dom";
import { hashFor } from "./router";
import { BRAND_LOGO } from "./theme";

/** What the shell shows around the current page. */
export interface ShellState {
  /** The community of the current route, if any. */
  space?: string;
  community?: CommunitySummary;
  /** The tool of the current route (`wiki`), or `home`/`search`. */
  section?: string;
}

/** The shell's elements. */
export interface Shell {
  root: HTMLElement;
  main: HTMLElement;
  /** Redraws header and navigation (after a route or language change). */
  update(state: ShellState): void;
  announce(message: string): void;
}

/** Builds the shell inside `root`. `onSignOut` is absent in widget mode. */
export function createShell(root: HTMLElement, app: App, onSignOut: (() => Promise<void>) | null): Shell {
  const header = h("header", { class: "app-header" });
  const nav = h("nav", { class: "app-nav" });
  const main = h("main", { id: "main", tabindex: "-1" });
  const live = h("div", { class: "visually-hidden", "aria-live": "polite", role: "status" });
  const skip = h(
    "a",
    {
      class: "skip-link",
      href: "#main",
      onclick: (event: Event) => {
        // The hash is the route: move focus without changing it.
        event.preventDefault();
        main.focus();
      },
    },
    "",
  );
  replaceChildren(root, skip, header, nav, main, live);
  let state: ShellState = {};

  const languageSwitcher = () => {
    const select = h(
      "select",
      {
        id: "lang-select",
        onchange: (event: Event) => app.i18n.setLang((event.target as HTMLSelectElement).value as Lang),
      },
      LANGS.map((lang) =>
        h("option", { value: lang, selected: lang === app.i18n.lang, lang }, lang === "fr" ? "Français" : "English"),
      ),
    );
    return h("div", { class: "lang" }, h("label", { for: "lang-select" }, app.t("shell.language")), select);
  };

  const userBox = () => {
    const userId = app.identity.userId();
    if (!userId) {
      return app.identity.mode === "standalone" ? h("a", { href: "#/login", class: "button secondary" }, app.t("login.submit")) : null;
    }
    const signOut = onSignOut
      ? h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: async (event: Event) => {
              const button = event.currentTarget as HTMLButtonElement;
              button.disabled = true;
              try {
                await onSignOut();
              } finally {
                button.disabled = false;
              }
            },
          },
          app.t("shell.signOut"),
        )
      : null;
    return h("div", { class: "user" }, h("span", { class: "user-id", title: userId }, userId), signOut);
  };

  const draw = () => {
    document.documentElement.lang = app.i18n.lang;
    skip.textContent = app.t("shell.skip");
    const brandHref = state.space ? hashFor("/c/:space", { space: state.space }) : "#/";
    const logo = app.theme.current.brand
      ? h("img", {
          class: "brand-logo",
          src: BRAND_LOGO,
          alt: app.t("shell.brandLogo", { host: window.location.hostname }),
          // A deployment that says it has a brand but serves no logo: no broken image.
          onerror: (event: Event) => ((event.currentTarget as HTMLImageElement).hidden = true),
        })
      : null;
    replaceChildren(
      header,
      h(
        "div",
        { class: "brand" },
        h("a", { href: brandHref, class: "brand-name" }, logo, "Parvis"),
        state.community ? h("span", { class: "community-name" }, state.community.name) : null,
      ),
      h("div", { class: "header-tools" }, languageSwitcher(), userBox()),
    );
    if (!state.space) {
      nav.hidden = true;
      nav.replaceChildren();
      return;
    }
    nav.hidden = false;
    nav.setAttribute("aria-label", app.t("shell.navLabel"));
    const space = state.space;
    const enabled = state.community?.tools;
    const item = (id: string, href: string, label: string) =>
      h("li", null, h("a", { href, "aria-current": state.section === id ? "page" : null }, label));
    replaceChildren(
      nav,
      h(
        "ul",
        null,
        item("home", hashFor("/c/:space", { space }), app.t("shell.home")),
        // Until the community is known, every tool is listed; then only the enabled ones.
        app.registry.navigationTools(enabled).map((tool) => item(tool.id, hashFor(tool.home, { space }), app.t(tool.label))),
        item("search", hashFor("/c/:space/search", { space }), app.t("shell.search")),
      ),
    );
  };

  draw();
  app.i18n.onChange(draw);
  app.identity.onChange(draw);
  app.theme.onChange(draw);

  return {
    root,
    main,
    update(next) {
      state = next;
      draw();
    },
    announce(message) {
      live.textContent = "";
      // A new text node after a tick, so screen readers announce a repeated message too.
      setTimeout(() => (live.textContent = message), 50);
    },
  };
}
