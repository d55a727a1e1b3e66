/**
 * The look of the deployment: the neutral theme (`styles.css`, always loaded) or another one a
 * deployment switched on in Parvis's config (`GET /api/v1/info` says `theme` and `brand`).
 *
 * A theme other than neutral is a stylesheet of its own (`src/themes/<name>/`), loaded lazily
 * and applied by `data-theme` on `<html>`: it changes the tokens of `styles.css` (colours,
 * fonts, radii, spacing) and a few components, so the neutral bundle does not grow. With
 * `brand`, the deployment serves its own files beside the build (`brand/brand.css`, e.g. the
 * fonts it is licensed to use, and `brand/logo.svg`); Parvis never ships any.
 *
 * The last choice is remembered (`localStorage`) and applied by `main.ts` before the app is
 * drawn, so a returning user sees no flash of the other theme; the server's answer corrects it.
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

/** The stylesheets of the themes other than neutral, each a lazily loaded chunk. */
export const THEME_STYLES: Readonly<Record<Exclude<ThemeName, "neutral">, () => Promise<unknown>>> = {
  dsfr: () => import("../themes/dsfr"),
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

/** What the switcher changes in the page (`browserThemeDocument`; a fake in tests). */
export interface ThemeDocument {
  /** `data-theme` on `<html>`; `null` removes it (neutral). */
  setTheme(theme: ThemeName | null): void;
  /** While a theme's stylesheet loads, the app is kept from showing in the wrong look. */
  setPending(pending: boolean): void;
  /** The `<link>` to the brand's stylesheet, last of the document's (so it may change tokens); `false` removes it. */
  setBrandStylesheet(present: boolean): void;
}

/** The part of `Storage` used here. */
export type ThemeStorage = Pick<Storage, "getItem" | "setItem">;

export interface ThemeSwitcherOptions {
  document: ThemeDocument;
  storage: ThemeStorage | null;
  styles?: Readonly<Partial<Record<ThemeName, () => Promise<unknown>>>>;
  /** How long the app stays hidden waiting for a theme's stylesheet, at most. */
  pendingTimeoutMs?: number;
  setTimer?: (callback: () => void, ms: number) => unknown;
}

/** Applies a choice to the page, remembers it, and tells the shell (the logo is in its header). */
export class ThemeSwitcher {
  #current: ThemeChoice = NEUTRAL;
  #applied = 0;
  readonly #listeners = new Set<(choice: ThemeChoice) => void>();
  readonly #options: Required<ThemeSwitcherOptions>;

  constructor(options: ThemeSwitcherOptions) {
    this.#options = {
      styles: THEME_STYLES,
      pendingTimeoutMs: 1500,
      setTimer: (callback, ms) => setTimeout(callback, ms),
      ...options,
    };
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
   * Shows `choice`: `data-theme` at once; the app is hidden until the theme's stylesheet is
   * there (at most `pendingTimeoutMs`), unless `hideWhileLoading` is false. Resolves when the
   * stylesheet is loaded (or failed to: the page then keeps the neutral look's rules).
   */
  async apply(choice: ThemeChoice, { hideWhileLoading = true } = {}): Promise<void> {
    const { document } = this.#options;
    const changed = !sameTheme(choice, this.#current);
    const attempt = ++this.#applied;
    this.#current = choice;
    document.setBrandStylesheet(choice.brand);
    if (changed) for (const listener of this.#listeners) listener(choice);
    const load = choice.theme === "neutral" ? undefined : this.#options.styles[choice.theme];
    if (!load) {
      document.setTheme(null);
      document.setPending(false);
      return;
    }
    document.setTheme(choice.theme);
    if (hideWhileLoading) {
      document.setPending(true);
      this.#options.setTimer(() => {
        if (attempt === this.#applied) document.setPending(false);
      }, this.#options.pendingTimeoutMs);
    }
    try {
      await load();
    } catch {
      // Without the theme's stylesheet the neutral rules still apply: readable, if plainer.
    } finally {
      if (attempt === this.#applied) {
        // The theme's `<link>` was added after the brand's: the brand comes last again.
        document.setBrandStylesheet(choice.brand);
        document.setPending(false);
      }
    }
  }

  /** Applies the server's choice (no hiding: the page is already shown) and remembers it. */
  async follow(info: Promise<{ theme?: unknown; brand?: unknown }>): Promise<void> {
    let choice: ThemeChoice;
    try {
      choice = themeChoice(await info);
    } catch {
      // No answer: keep what the page shows, remembered or not.
      return;
    }
    try {
      this.#options.storage?.setItem(THEME_STORAGE_KEY, JSON.stringify(choice));
    } catch {
      // Not remembered: the next load shows neutral until the answer comes.
    }
    if (!sameTheme(choice, this.#current)) await this.apply(choice, { hideWhileLoading: false });
  }

  /** Calls `listener` when the choice changes; returns the way to stop. */
  onChange(listener: (choice: ThemeChoice) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** The page's side: `<html data-theme>`, `data-theme-pending`, the brand's `<link>`. */
export function browserThemeDocument(doc: Document): ThemeDocument {
  const root = doc.documentElement;
  let link: HTMLLinkElement | null = null;
  return {
    setTheme(theme) {
      if (theme) root.setAttribute("data-theme", theme);
      else root.removeAttribute("data-theme");
    },
    setPending(pending) {
      if (pending) root.setAttribute("data-theme-pending", "");
      else root.removeAttribute("data-theme-pending");
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
