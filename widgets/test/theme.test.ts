/** The theme layer: which look `GET /api/v1/info` chooses, how the page switches to it, and the DSFR tokens taken at build time. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { declaredTokens, forbiddenAsset, neededTokens, readDsfrTokens, referencedTokens, tokensBlock, DSFR_SCOPE } from "../build/dsfr-tokens";
import {
  NEUTRAL,
  parseStoredTheme,
  THEME_STORAGE_KEY,
  THEME_STYLESHEETS,
  themeChoice,
  ThemeSwitcher,
  type ThemeChoice,
  type ThemeDocument,
  type ThemeName,
} from "../src/app/theme";

describe("the theme a deployment chooses", () => {
  it("is neutral unless the server names a theme this build knows", () => {
    expect(themeChoice({ theme: "dsfr", brand: true })).toEqual({ theme: "dsfr", brand: true });
    expect(themeChoice({ theme: "neutral", brand: false })).toEqual(NEUTRAL);
    // An older server says nothing; a newer one may name a theme this build has not.
    expect(themeChoice({})).toEqual(NEUTRAL);
    expect(themeChoice(null)).toEqual(NEUTRAL);
    expect(themeChoice({ theme: "dark-unicorn" })).toEqual(NEUTRAL);
    expect(themeChoice({ theme: "DSFR" })).toEqual(NEUTRAL);
  });

  it("counts the brand only when it is true, with any theme", () => {
    expect(themeChoice({ theme: "neutral", brand: true })).toEqual({ theme: "neutral", brand: true });
    expect(themeChoice({ theme: "dsfr", brand: "true" })).toEqual({ theme: "dsfr", brand: false });
    expect(themeChoice({ theme: "dsfr", brand: 1 })).toEqual({ theme: "dsfr", brand: false });
  });

  it("reads back what it remembered, and nothing else", () => {
    expect(parseStoredTheme(JSON.stringify({ theme: "dsfr", brand: true }))).toEqual({ theme: "dsfr", brand: true });
    expect(parseStoredTheme(null)).toBeNull();
    expect(parseStoredTheme("dsfr")).toBeNull();
    expect(parseStoredTheme("{")).toBeNull();
    expect(parseStoredTheme(JSON.stringify({ theme: "gone", brand: false }))).toBeNull();
    expect(parseStoredTheme(JSON.stringify({ theme: "dsfr" }))).toBeNull();
    expect(parseStoredTheme("null")).toBeNull();
  });
});

/**
 * The page, as the switcher changes it, and a stylesheet that loads when the test says.
 * `served` is the theme the HTML came with (`data-theme` and its `<link>`), `stored` what
 * `localStorage` remembers.
 */
function fakePage({ served = null, stored }: { served?: ThemeName | null; stored?: ThemeChoice } = {}) {
  const page = { theme: served, pending: false, brand: false, brandMoves: 0, everPending: false };
  let finish: () => void = () => undefined;
  const added: string[] = [];
  const document: ThemeDocument = {
    servedTheme: () => served,
    setTheme: (theme) => (page.theme = theme),
    setPending: (pending) => {
      page.pending = pending;
      if (pending) page.everPending = true;
    },
    addThemeStylesheet: (theme, href) => {
      added.push(`${theme} ${href}`);
      // Loaded or failed alike: the switcher shows the page either way.
      return new Promise<void>((resolve) => (finish = resolve));
    },
    setBrandStylesheet: (present) => {
      page.brand = present;
      if (present) page.brandMoves += 1;
    },
  };
  const timers: (() => void)[] = [];
  const values = new Map<string, string>();
  if (stored) values.set(THEME_STORAGE_KEY, JSON.stringify(stored));
  const storage = { getItem: (key: string) => values.get(key) ?? null, setItem: (key: string, value: string) => void values.set(key, value) };
  const switcher = new ThemeSwitcher({ document, storage, setTimer: (callback) => timers.push(callback) });
  return { page, switcher, storage: values, finish: () => finish(), loads: () => added.length, added, timers };
}

describe("switching the page's theme", () => {
  it("sets data-theme at once, adds the theme's stylesheet and keeps the app hidden until it is there", async () => {
    const { page, switcher, finish, added } = fakePage();
    const applied = switcher.apply({ theme: "dsfr", brand: true });
    expect(page).toMatchObject({ theme: "dsfr", pending: true, brand: true });
    expect(added).toEqual([`dsfr ${THEME_STYLESHEETS.dsfr}`]);
    finish();
    await applied;
    expect(page.pending).toBe(false);
    // The theme's stylesheet came after the brand's: the brand's is put last again.
    expect(page.brandMoves).toBe(2);
    // Added once: back to it later, nothing to load nor to wait for.
    await switcher.apply(NEUTRAL);
    page.everPending = false;
    await switcher.apply({ theme: "dsfr", brand: false });
    expect(added).toHaveLength(1);
    expect(page).toMatchObject({ theme: "dsfr", pending: false, everPending: false });
  });

  it("shows the app after a while even when the stylesheet does not come, and survives its failure", async () => {
    const { page, switcher, finish, timers } = fakePage();
    const applied = switcher.apply({ theme: "dsfr", brand: false });
    expect(page.pending).toBe(true);
    timers.forEach((timer) => timer());
    expect(page.pending).toBe(false);
    finish();
    await applied;
    expect(page).toMatchObject({ theme: "dsfr", pending: false, brand: false });
  });

  it("goes back to neutral by removing the attribute and the brand", async () => {
    const { page, switcher, finish } = fakePage();
    const dsfr = switcher.apply({ theme: "dsfr", brand: true });
    // The server said neutral before the stylesheet arrived: its late arrival changes nothing.
    await switcher.apply(NEUTRAL);
    expect(page).toMatchObject({ theme: null, pending: false, brand: false });
    finish();
    await dsfr;
    expect(page).toMatchObject({ theme: null, pending: false, brand: false });
  });

  it("remembers the server's choice and applies it without hiding the page already shown", async () => {
    const { page, switcher, storage, finish, loads } = fakePage();
    expect(switcher.remembered()).toEqual(NEUTRAL);
    const changes: string[] = [];
    switcher.onChange((choice) => changes.push(`${choice.theme}/${choice.brand}`));
    const followed = switcher.follow(Promise.resolve({ server_name: "hs", theme: "dsfr", brand: true }));
    await Promise.resolve();
    await Promise.resolve();
    expect(page).toMatchObject({ theme: "dsfr", pending: false, brand: true });
    finish();
    await followed;
    expect(JSON.parse(storage.get(THEME_STORAGE_KEY) ?? "null")).toEqual({ theme: "dsfr", brand: true });
    expect(switcher.remembered()).toEqual({ theme: "dsfr", brand: true });
    expect(changes).toEqual(["dsfr/true"]);
    // The same answer again: nothing to load, nothing to redraw.
    await switcher.follow(Promise.resolve({ theme: "dsfr", brand: true }));
    expect(loads()).toBe(1);
    expect(changes).toEqual(["dsfr/true"]);
  });

  it("keeps what it shows when the server does not answer", async () => {
    const { page, switcher, storage } = fakePage();
    await switcher.apply(NEUTRAL);
    await switcher.follow(Promise.reject(new Error("offline")));
    expect(page.theme).toBeNull();
    expect(storage.has(THEME_STORAGE_KEY)).toBe(false);
  });

  it("starts neutral when the storage refuses", () => {
    const switcher = new ThemeSwitcher({
      document: {
        servedTheme: () => null,
        setTheme: () => undefined,
        setPending: () => undefined,
        addThemeStylesheet: async () => undefined,
        setBrandStylesheet: () => undefined,
      },
      storage: {
        getItem: () => {
          throw new DOMException("denied", "SecurityError");
        },
        setItem: () => undefined,
      },
    });
    expect(switcher.remembered()).toEqual(NEUTRAL);
    expect(switcher.initial()).toEqual(NEUTRAL);
  });
});

describe("the theme the server put in the HTML", () => {
  it("is the first choice, already loaded: nothing hidden, nothing added", async () => {
    const { page, switcher, loads } = fakePage({ served: "dsfr" });
    expect(switcher.initial()).toEqual({ theme: "dsfr", brand: false });
    await switcher.apply(switcher.initial());
    expect(page).toMatchObject({ theme: "dsfr", pending: false, everPending: false, brand: false });
    expect(loads()).toBe(0);
    expect(switcher.current).toEqual({ theme: "dsfr", brand: false });
  });

  it("beats a different remembered one, whose brand it keeps (the HTML does not say it)", async () => {
    const { page, switcher, loads } = fakePage({ served: "dsfr", stored: { theme: "neutral", brand: true } });
    expect(switcher.remembered()).toEqual({ theme: "neutral", brand: true });
    expect(switcher.initial()).toEqual({ theme: "dsfr", brand: true });
    await switcher.apply(switcher.initial());
    expect(page).toMatchObject({ theme: "dsfr", pending: false, everPending: false, brand: true });
    expect(loads()).toBe(0);
  });

  it("is the remembered one when the HTML says nothing, as before", async () => {
    const stored: ThemeChoice = { theme: "dsfr", brand: true };
    const { page, switcher, finish, added } = fakePage({ stored });
    expect(switcher.initial()).toEqual(stored);
    const applied = switcher.apply(switcher.initial());
    expect(page).toMatchObject({ theme: "dsfr", pending: true, brand: true });
    expect(added).toEqual([`dsfr ${THEME_STYLESHEETS.dsfr}`]);
    finish();
    await applied;
    expect(page.pending).toBe(false);
  });

  it("is corrected by the server's answer: to neutral, data-theme goes; the answer is remembered", async () => {
    const { page, switcher, storage, loads } = fakePage({ served: "dsfr" });
    await switcher.apply(switcher.initial());
    const changes: string[] = [];
    switcher.onChange((choice) => changes.push(`${choice.theme}/${choice.brand}`));
    await switcher.follow(Promise.resolve({ theme: "neutral", brand: false }));
    expect(page).toMatchObject({ theme: null, pending: false, brand: false });
    expect(changes).toEqual(["neutral/false"]);
    expect(JSON.parse(storage.get(THEME_STORAGE_KEY) ?? "null")).toEqual(NEUTRAL);
    // And back to it (a later answer): its stylesheet is still there, not added again.
    await switcher.follow(Promise.resolve({ theme: "dsfr", brand: true }));
    expect(page).toMatchObject({ theme: "dsfr", pending: false, brand: true });
    expect(loads()).toBe(0);
  });

  it("is not loaded again when the server's answer agrees, which is remembered", async () => {
    const { page, switcher, storage, loads } = fakePage({ served: "dsfr" });
    await switcher.apply(switcher.initial());
    await switcher.follow(Promise.resolve({ theme: "dsfr", brand: true }));
    expect(page).toMatchObject({ theme: "dsfr", pending: false, everPending: false, brand: true });
    expect(loads()).toBe(0);
    expect(JSON.parse(storage.get(THEME_STORAGE_KEY) ?? "null")).toEqual({ theme: "dsfr", brand: true });
  });
});

describe("the DSFR theme's tokens, from @gouvfr/dsfr at build time", () => {
  const light = new Map([
    ["--text-default-grey", "var(--grey-200-850)"],
    ["--grey-200-850", "#3a3a3a"],
    ["--unused", "#123456"],
    ["--icon", "url(../icons/x.svg)"],
  ]);
  const dark = new Map([["--grey-200-850", "#cecece"]]);

  it("reads the custom properties of top-level rules only", () => {
    const css = ":root { --a: #fff; color: red; } @media (x) { :root { --a: #000; } } :root[data-fr-theme=dark] { --a: #111; }";
    expect([...declaredTokens(css, ":root")]).toEqual([["--a", "#fff"]]);
    expect([...declaredTokens(css, ":root[data-fr-theme=dark]")]).toEqual([["--a", "#111"]]);
    expect([...referencedTokens("a { color: var(--x); b: var( --y, var(--z)) }")]).toEqual(["--x", "--y", "--z"]);
  });

  it("takes only the tokens the theme uses, with those they use, in both schemes", () => {
    const needed = neededTokens(":root { --text: var(--text-default-grey); color: var(--text); }", { light, dark }, new Set(["--text"]));
    expect(needed).toEqual({
      light: [
        ["--text-default-grey", "var(--grey-200-850)"],
        ["--grey-200-850", "#3a3a3a"],
      ],
      dark: [["--grey-200-850", "#cecece"]],
    });
    const block = tokensBlock(needed, "/*! DSFR */");
    expect(block).toContain(`${DSFR_SCOPE} {\n  --text-default-grey: var(--grey-200-850);`);
    expect(block).toContain(`@media (prefers-color-scheme: dark) {\n  ${DSFR_SCOPE} {\n    --grey-200-850: #cecece;`);
  });

  it("refuses a token pointing to a file of the package, and a token nobody declares", () => {
    expect(() => neededTokens("a { b: var(--icon) }", { light, dark }, new Set())).toThrow(/Parvis does not ship those/);
    expect(() => neededTokens("a { b: var(--text-defualt-grey) }", { light, dark }, new Set())).toThrow(/neither DSFR nor Parvis/);
  });

  it("fails the build on a font or a file of the package", () => {
    expect(forbiddenAsset("assets/Marianne-Regular-abc.woff2")).toBe(true);
    expect(forbiddenAsset("assets/logo-abc.svg", ["node_modules/@gouvfr/dsfr/dist/artwork/marianne.svg"])).toBe(true);
    expect(forbiddenAsset("themes/dsfr.css", ["src/themes/dsfr/dsfr.css"])).toBe(false);
  });

  it("finds every token the real theme uses in the package, none of them a file", () => {
    const dsfr = readDsfrTokens();
    expect(dsfr.banner).toMatch(/DSFR v1\.14\.4 \| SPDX-License-Identifier: MIT/);
    const theme = readFileSync(new URL("../src/themes/dsfr/dsfr.css", import.meta.url), "utf8");
    const neutral = readFileSync(new URL("../src/styles.css", import.meta.url), "utf8");
    const own = new Set([...declaredTokens(neutral, ":root").keys(), ...declaredTokens(theme, DSFR_SCOPE).keys()]);
    const needed = neededTokens(theme, dsfr, own);
    const names = needed.light.map(([name]) => name);
    expect(names).toContain("--blue-france-sun-113-625");
    expect(Object.fromEntries(needed.light)["--blue-france-sun-113-625"]).toBe("#000091");
    expect(Object.fromEntries(needed.dark)["--blue-france-sun-113-625"]).toBe("#8585f6");
    // A few dozen of the package's ~1,000.
    expect(names.length).toBeLessThan(120);
    expect([...needed.light, ...needed.dark].some(([, value]) => /url\(/.test(value))).toBe(false);
  });
});
