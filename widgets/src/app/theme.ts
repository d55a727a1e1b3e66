/**
 * The look of the deployment: the neutral theme (`styles.css`, always loaded) or another one a
 * deployment switched on in Parvis's config (`GET /api/v1/info` says `theme` and `brand`).
 *
 * A theme other than neutral is a stylesheet of its own (`src/themes/<name>/<name>.css`, built
 * into `dist/themes/<name>.css` under that stable name by `build/theme-stylesheets.ts`), applied
 * by `data-theme` on `<html>`: it changes the tokens of `styles.css` (colours, fonts, radii,
 * spacing) and a few components, so the neutral bundle does not grow. With `brand`, the
 * deployment serves its own files beside the build (`brand/brand.css`, e.g. the fonts it is
 * licensed to use, and `brand/logo.svg`); Parvis never ships any.
 *
 * Which theme the page shows first, before the app draws anything (`main.ts`):
 *
 * - served by Parvis, first visit or not: the HTML says it. For a theme other than neutral,
 *   Parvis serves `index.html` with `data-theme="<name>"` on `<html>` and the theme's
 *   `<link rel="stylesheet" href="themes/<name>.css" data-theme-stylesheet="<name>">` in
 *   `<head>`, which the browser loads before it runs the app's script or paints: no flash of
 *   neutral, nothing more to load, and it beats what `localStorage` remembers. The HTML does
 *   not say the brand: the remembered one is kept until the server's answer.
 * - the HTML says nothing (neutral, or the build hosted as static files without Parvis): the
 *   last choice remembered (`localStorage`), its stylesheet's `<link>` added and the page
 *   hidden until it loads (at most `pendingTimeoutMs`), so a returning user sees no flash; on
 *   a first visit there is none, and the page is neutral until the server's answer.
 *
 * Either way the answer of `GET /api/v1/info` then corrects the choice, without hiding the page
 * again, and is remembered for the next visit.
 */

/** The themes a deployment may choose, as `GET /api/v1/info` names them. */
export type ThemeName = "neutral" | "dsfr";

/** What the page looks like. */
export interface ThemeChoice {
  theme: ThemeName;
  /** The deployment serves `brand/brand.css` and `brand/logo.svg`. */
  brand: boolean;
}

/** Today's look, and what an unknown or absent answer means. */
export const NEUTRAL: ThemeChoice = { theme: "neutral", brand: false };

/** Where the last choice is remembered. */
export const THEME_STORAGE_KEY = "parvis.theme";

/** The brand's files, relative to the page (`/widgets/index.html` → `/widgets/brand/…`). */
export const BRAND_STYLESHEET = "brand/brand.css";
export const BRAND_LOGO = "brand/logo.svg";

/**
 * The stylesheets of the themes other than neutral, relative to the page, where the build puts
 * them (`build/theme-stylesheets.ts`) and Parvis links them from `index.html`.
 */
export const THEME_STYLESHEETS: Readonly<Record<Exclude<ThemeName, "neutral">, string>> = {
  dsfr: "themes/dsfr.css",
};

/** Whether a value names a theme. */
export function isThemeName(value: unknown): value is ThemeName {
  return value === "neutral" || value === "dsfr";
}

/**
 * The choice `GET /api/v1/info` makes. A theme this build does not know (a newer server) falls
 * back to neutral; `brand` counts only when it is `true`, whatever the theme.
 */
export function themeChoice(info: { theme?: unknown; brand?: unknown } | null | undefined): ThemeChoice {
  return { theme: isThemeName(info?.theme) ? info.theme : "neutral", brand: info?.brand === true };
}

/** The remembered choice; `null` when there is none, or it is not one this build knows. */
export function parseStoredTheme(raw: string | null): ThemeChoice | null {
  if (!raw) return null;
  try {
    const value: unknown = JSON.parse(raw);
    if (!value || typeof value !== "object") return null;
    const { theme, brand } = value as Record<string, unknown>;
    return isThemeName(theme) && typeof brand === "boolean" ? { theme, brand } : null;
  } catch {
    return null;
  }
}

/** Whether two choices look the same. */
export function sameTheme(a: ThemeChoice, b: ThemeChoice): boolean {
  return a.theme === b.theme && a.brand === b.brand;
}

/** What the switcher reads and changes in the page (`browserThemeDocument`; a fake in tests). */
export interface ThemeDocument {
  /**
   * The theme the page was served with: `data-theme` of `<html>`, when it names a theme and the
   * document also has its stylesheet (`<link data-theme-stylesheet="<name>">`); `null` otherwise.
   */
  servedTheme(): ThemeName | null;
  /** `data-theme` on `<html>`; `null` removes it (neutral). */
  setTheme(theme: ThemeName | null): void;
  /** While a theme's stylesheet loads, the app is kept from showing in the wrong look. */
  setPending(pending: boolean): void;
  /**
   * Adds the theme's `<link rel="stylesheet" href data-theme-stylesheet>`; resolves when it has
   * loaded, or failed to (the neutral rules then still apply: readable, if plainer).
   */
  addThemeStylesheet(theme: ThemeName, href: string): Promise<void>;
  /** The `<link>` to the brand's stylesheet, last of the document's (so it may change tokens); `false` removes it. */
  setBrandStylesheet(present: boolean): void;
}

/** The part of `Storage` used here. */
export type ThemeStorage = Pick<Storage, "getItem" | "setItem">;

export interface ThemeSwitcherOptions {
  document: ThemeDocument;
  storage: ThemeStorage | null;
  /** How long the app stays hidden waiting for a theme's stylesheet, at most. */
  pendingTimeoutMs?: number;
  setTimer?: (callback: () => void, ms: number) => unknown;
}

/** Applies a choice to the page, remembers it, and tells the shell (the logo is in its header). */
export class ThemeSwitcher {
  #current: ThemeChoice = NEUTRAL;
  #applied = 0;
  /** The theme the HTML was served with, its stylesheet already loaded; `null` when none. */
  readonly #served: ThemeName | null;
  /** The themes' stylesheets in the document, or on their way: each is added once. */
  readonly #stylesheets = new Map<ThemeName, Promise<void>>();
  readonly #listeners = new Set<(choice: ThemeChoice) => void>();
  readonly #options: Required<ThemeSwitcherOptions>;

  constructor(options: ThemeSwitcherOptions) {
    this.#options = {
      pendingTimeoutMs: 1500,
      setTimer: (callback, ms) => setTimeout(callback, ms),
      ...options,
    };
    this.#served = this.#options.document.servedTheme();
    // Already loaded: a stylesheet of `<head>` holds the first paint, and the scripts, until it is.
    if (this.#served) this.#stylesheets.set(this.#served, Promise.resolve());
  }

  /** What the page shows (or is about to, while its stylesheet loads). */
  get current(): ThemeChoice {
    return this.#current;
  }

  /** The remembered choice, or neutral. */
  remembered(): ThemeChoice {
    try {
      return parseStoredTheme(this.#options.storage?.getItem(THEME_STORAGE_KEY) ?? null) ?? NEUTRAL;
    } catch {
      // Storage refused (a sandboxed frame): the server's answer will say.
      return NEUTRAL;
    }
  }

  /**
   * The choice to show first: the theme the HTML was served with, if any, with the remembered
   * brand (the HTML does not say it); else the remembered choice, or neutral.
   */
  initial(): ThemeChoice {
    const remembered = this.remembered();
    return this.#served ? { theme: this.#served, brand: remembered.brand } : remembered;
  }

  /**
   * Shows `choice`: `data-theme` at once; unless the theme's stylesheet is already in the page,
   * its `<link>` is added and the app is hidden until it has loaded (at most
   * `pendingTimeoutMs`), unless `hideWhileLoading` is false. Resolves when the stylesheet is
   * there (or failed to load: the page then keeps the neutral look's rules).
   */
  async apply(choice: ThemeChoice, { hideWhileLoading = true } = {}): Promise<void> {
    const { document } = this.#options;
    const changed = !sameTheme(choice, this.#current);
    const attempt = ++this.#applied;
    this.#current = choice;
    document.setBrandStylesheet(choice.brand);
    if (changed) for (const listener of this.#listeners) listener(choice);
    const href = choice.theme === "neutral" ? undefined : THEME_STYLESHEETS[choice.theme];
    if (!href) {
      document.setTheme(null);
      document.setPending(false);
      return;
    }
    document.setTheme(choice.theme);
    let loading = this.#stylesheets.get(choice.theme);
    if (!loading) {
      loading = document.addThemeStylesheet(choice.theme, href);
      this.#stylesheets.set(choice.theme, loading);
      // The theme's `<link>` came after the brand's: the brand's is put last again.
      document.setBrandStylesheet(choice.brand);
      if (hideWhileLoading) {
        document.setPending(true);
        this.#options.setTimer(() => {
          if (attempt === this.#applied) document.setPending(false);
        }, this.#options.pendingTimeoutMs);
      }
    }
    await loading;
    if (attempt === this.#applied) document.setPending(false);
  }

  /** Applies the server's choice (no hiding: the page is already shown) and remembers it. */
  async follow(info: Promise<{ theme?: unknown; brand?: unknown }>): Promise<void> {
    let choice: ThemeChoice;
    try {
      choice = themeChoice(await info);
    } catch {
      // No answer: keep what the page shows, served, remembered or neither.
      return;
    }
    try {
      this.#options.storage?.setItem(THEME_STORAGE_KEY, JSON.stringify(choice));
    } catch {
      // Not remembered: without Parvis's HTML, the next load shows neutral until the answer comes.
    }
    if (!sameTheme(choice, this.#current)) await this.apply(choice, { hideWhileLoading: false });
  }

  /** Calls `listener` when the choice changes; returns the way to stop. */
  onChange(listener: (choice: ThemeChoice) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** The page's side: `<html data-theme>`, `data-theme-pending`, the themes' and the brand's `<link>`s. */
export function browserThemeDocument(doc: Document): ThemeDocument {
  const root = doc.documentElement;
  let link: HTMLLinkElement | null = null;
  return {
    servedTheme() {
      const theme = root.getAttribute("data-theme");
      // A theme's name is safe in a selector; anything else is not looked for.
      return isThemeName(theme) && doc.querySelector(`link[data-theme-stylesheet="${theme}"]`) ? theme : null;
    },
    setTheme(theme) {
      if (theme) root.setAttribute("data-theme", theme);
      else root.removeAttribute("data-theme");
    },
    setPending(pending) {
      if (pending) root.setAttribute("data-theme-pending", "");
      else root.removeAttribute("data-theme-pending");
    },
    addThemeStylesheet(theme, href) {
      return new Promise((resolve) => {
        const sheet = doc.createElement("link");
        sheet.rel = "stylesheet";
        sheet.href = href;
        sheet.setAttribute("data-theme-stylesheet", theme);
        sheet.onload = sheet.onerror = () => resolve();
        doc.head.append(sheet);
      });
    },
    setBrandStylesheet(present) {
      if (!present) {
        link?.remove();
        link = null;
        return;
      }
      if (!link) {
        link = doc.createElement("link");
        link.rel = "stylesheet";
        link.href = BRAND_STYLESHEET;
        link.setAttribute("data-brand", "");
      }
      // Appending an element already in `<head>` moves it to the end.
      if (link !== doc.head.lastElementChild) doc.head.append(link);
    },
  };
}
