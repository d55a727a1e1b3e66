// @vitest-environment happy-dom
/** The page's side of the theme switcher (`browserThemeDocument`), in a DOM: what Parvis's HTML says, the themes' `<link>`s. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { browserThemeDocument, NEUTRAL, THEME_STYLESHEETS, ThemeSwitcher } from "../src/app/theme";

/** `index.html` as Parvis serves it for a deployment whose theme is DSFR (or, with `false`, neutral). */
function servePage(dsfr: boolean) {
  document.documentElement.removeAttribute("data-theme");
  document.head.innerHTML = '<meta charset="utf-8"><title>Parvis</title>';
  if (dsfr) {
    document.documentElement.setAttribute("data-theme", "dsfr");
    document.head.insertAdjacentHTML("beforeend", '<link rel="stylesheet" href="themes/dsfr.css" data-theme-stylesheet="dsfr">');
  }
}

const themeLinks = () => Array.from(document.querySelectorAll("link[data-theme-stylesheet]"));

describe("the page's theme in the browser", () => {
  beforeEach(() => localStorage.clear());
  afterEach(() => vi.restoreAllMocks());

  it("reads the theme Parvis served, only with its stylesheet", () => {
    servePage(true);
    expect(browserThemeDocument(document).servedTheme()).toBe("dsfr");
    // `data-theme` alone (an older server, or a copy of the page): not served with its stylesheet.
    themeLinks().forEach((link) => link.remove());
    expect(browserThemeDocument(document).servedTheme()).toBeNull();
    servePage(false);
    expect(browserThemeDocument(document).servedTheme()).toBeNull();
    // A theme this build does not know (a newer server): not one to start with.
    document.documentElement.setAttribute("data-theme", 'x"]');
    document.head.insertAdjacentHTML("beforeend", '<link rel="stylesheet" href="themes/x.css" data-theme-stylesheet=\'x"]\'>');
    expect(browserThemeDocument(document).servedTheme()).toBeNull();
  });

  it("starts in the served theme without a second stylesheet, whatever is remembered", async () => {
    servePage(true);
    localStorage.setItem("parvis.theme", JSON.stringify({ theme: "neutral", brand: false }));
    const switcher = new ThemeSwitcher({ document: browserThemeDocument(document), storage: localStorage });
    await switcher.apply(switcher.initial());
    expect(document.documentElement.getAttribute("data-theme")).toBe("dsfr");
    expect(document.documentElement.hasAttribute("data-theme-pending")).toBe(false);
    expect(themeLinks()).toHaveLength(1);
    // The server says neutral after all: the attribute goes (the stylesheet's rules need it).
    await switcher.follow(Promise.resolve({ theme: "neutral", brand: false }));
    expect(document.documentElement.hasAttribute("data-theme")).toBe(false);
  });

  it("adds the theme's link when none was served, the brand's staying last, and waits for it", async () => {
    servePage(false);
    // happy-dom loads no stylesheet: it reports each a success here, a failure by default.
    happyDomSettings().handleDisabledFileLoadingAsSuccess = true;
    try {
      const themeDocument = browserThemeDocument(document);
      themeDocument.setBrandStylesheet(true);
      await themeDocument.addThemeStylesheet("dsfr", THEME_STYLESHEETS.dsfr);
      const [link] = themeLinks();
      expect(link?.getAttribute("href")).toBe("themes/dsfr.css");
      expect(link?.getAttribute("rel")).toBe("stylesheet");
      expect(link?.getAttribute("data-theme-stylesheet")).toBe("dsfr");
      themeDocument.setBrandStylesheet(true);
      expect(document.head.lastElementChild?.hasAttribute("data-brand")).toBe(true);
      themeDocument.setBrandStylesheet(false);

      // The switcher adds it once, however often the page goes to the theme and back.
      servePage(false);
      const switcher = new ThemeSwitcher({ document: themeDocument, storage: localStorage });
      await switcher.apply({ theme: "dsfr", brand: true });
      await switcher.apply(NEUTRAL);
      await switcher.apply({ theme: "dsfr", brand: true });
      expect(themeLinks()).toHaveLength(1);
      expect(document.head.lastElementChild?.hasAttribute("data-brand")).toBe(true);
      await switcher.apply(NEUTRAL);
    } finally {
      happyDomSettings().handleDisabledFileLoadingAsSuccess = false;
    }
  });

  it("shows the page in the theme all the same when its stylesheet does not load", async () => {
    servePage(false);
    // happy-dom loads no stylesheet (a failure, by default), and says so on the console.
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const switcher = new ThemeSwitcher({ document: browserThemeDocument(document), storage: localStorage });
    await switcher.apply({ theme: "dsfr", brand: false });
    expect(document.documentElement.getAttribute("data-theme")).toBe("dsfr");
    expect(document.documentElement.hasAttribute("data-theme-pending")).toBe(false);
    expect(themeLinks()).toHaveLength(1);
  });
});

/** The settings of happy-dom's browser, which this file changes. */
function happyDomSettings(): { handleDisabledFileLoadingAsSuccess: boolean } {
  return (window as unknown as { happyDOM: { settings: { handleDisabledFileLoadingAsSuccess: boolean } } }).happyDOM.settings;
}
