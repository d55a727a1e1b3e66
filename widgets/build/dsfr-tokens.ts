/**
 * The DSFR theme's tokens, taken from the `@gouvfr/dsfr` package at build time: of the ~1,000
 * custom properties its core stylesheet declares on `:root` (and its dark scheme on
 * `:root[data-fr-theme=dark]`), only those the theme's stylesheet uses, directly or through
 * another token, are written into it, scoped to `:root[data-theme="dsfr"]` (the dark values
 * under `prefers-color-scheme: dark`, as the neutral theme follows the system).
 *
 * Nothing else of the package reaches the build: not its rules, nor its fonts (Marianne and
 * Spectral are the State's and are not Parvis's to ship), icons, pictograms or logos. A token
 * whose value points to a file fails the build, and so does any emitted asset that came from
 * the package or is a font.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename } from "node:path";
import postcss from "postcss";
import type { Plugin } from "vite";

/** The selector the theme's rules and tokens apply under (`data-theme` of `app/theme.ts`). */
export const DSFR_SCOPE = ':root[data-theme="dsfr"]';

/** Custom properties by name (`--grey-1000-50`) and their values. */
export type Tokens = ReadonlyMap<string, string>;

/** The package's tokens: the light values, and those the dark scheme changes. */
export interface DsfrTokens {
  light: Tokens;
  dark: Tokens;
  /** The package's licence header, kept with what the build copies of it. */
  banner: string;
}

/** The custom properties of the top-level rules of `css` whose selector is exactly `selector`. */
export function declaredTokens(css: string, selector: string): Map<string, string> {
  const tokens = new Map<string, string>();
  // Only top-level rules: the same selector inside `@media` or `@-moz-document` holds browser fixes.
  postcss.parse(css).each((node) => {
    if (node.type !== "rule" || node.selector !== selector) return;
    node.each((child) => {
      if (child.type === "decl" && child.prop.startsWith("--")) tokens.set(child.prop, child.value);
    });
  });
  return tokens;
}

/** The custom properties a value or a stylesheet refers to with `var(--name…)`. */
export function referencedTokens(css: string): Set<string> {
  return new Set(Array.from(css.matchAll(/var\(\s*(--[\w-]+)/g), (match) => match[1] as string));
}

/** Reads the package's tokens (`node_modules/@gouvfr/dsfr/dist/…`). */
export function readDsfrTokens(resolve: (request: string) => string = createRequire(import.meta.url).resolve): DsfrTokens {
  const core = readFileSync(resolve("@gouvfr/dsfr/dist/core/core.main.css"), "utf8");
  const scheme = readFileSync(resolve("@gouvfr/dsfr/dist/scheme/scheme.css"), "utf8");
  const dark = new Map([...declaredTokens(core, ":root[data-fr-theme=dark]"), ...declaredTokens(scheme, ":root[data-fr-theme=dark]")]);
  const banner = /^\/\*![\s\S]*?\*\//.exec(core)?.[0] ?? "/*! DSFR | SPDX-License-Identifier: MIT */";
  return { light: declaredTokens(core, ":root"), dark, banner };
}

/**
 * The tokens `css` needs, with those they need in turn. `own` are the custom properties the
 * theme's and the neutral stylesheets declare themselves; a reference that is neither one of
 * them nor a DSFR token is a mistake (a misspelt token would silently show nothing).
 */
export function neededTokens(css: string, dsfr: Pick<DsfrTokens, "light" | "dark">, own: ReadonlySet<string>): { light: [string, string][]; dark: [string, string][] } {
  const needed = new Set<string>();
  const pending = [...referencedTokens(css)];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    // Parvis's own tokens are the theme's to set, even should DSFR one day declare one of the same name.
    if (needed.has(name) || own.has(name)) continue;
    const values = [dsfr.light.get(name), dsfr.dark.get(name)].filter((value): value is string => value !== undefined);
    if (values.length === 0) throw new Error(`the DSFR theme uses ${name}, which neither DSFR nor Parvis declares`);
    for (const value of values) {
      if (/url\(/i.test(value)) throw new Error(`the DSFR token ${name} points to a file of the package (${value}): Parvis does not ship those`);
      pending.push(...referencedTokens(value));
    }
    needed.add(name);
  }
  const pick = (tokens: Tokens) => [...tokens].filter(([name]) => needed.has(name));
  return { light: pick(dsfr.light), dark: pick(dsfr.dark) };
}

/** The block of tokens put before the theme's own rules. */
export function tokensBlock(needed: ReturnType<typeof neededTokens>, banner: string): string {
  const declarations = (tokens: [string, string][], indent: string) => tokens.map(([name, value]) => `${indent}${name}: ${value};`).join("\n");
  return [
    banner,
    `${DSFR_SCOPE} {\n${declarations(needed.light, "  ")}\n}`,
    needed.dark.length ? `@media (prefers-color-scheme: dark) {\n  ${DSFR_SCOPE} {\n${declarations(needed.dark, "    ")}\n  }\n}` : "",
  ].join("\n");
}

/** Whether an asset the build emits must not be shipped: a font, or any file of the DSFR package. */
export function forbiddenAsset(fileName: string, originalFileNames: readonly string[] = []): boolean {
  return /\.(woff2?|ttf|otf|eot)$/i.test(fileName) || originalFileNames.some((name) => name.includes("@gouvfr/dsfr"));
}

/**
 * The Vite plugin: adds the tokens to `themeFile` (`src/themes/dsfr/dsfr.css`) before Vite
 * processes it; `neutralFile` (`src/styles.css`) says which tokens are Parvis's own.
 */
export function dsfrTokens({ themeFile, neutralFile }: { themeFile: string; neutralFile: string }): Plugin {
  let dsfr: DsfrTokens | null = null;
  return {
    name: "parvis:dsfr-tokens",
    enforce: "pre",
    transform(code, id) {
      if (id.split("?")[0] !== themeFile) return null;
      dsfr ??= readDsfrTokens();
      this.addWatchFile(neutralFile);
      const own = new Set([...declaredTokensAnywhere(code), ...declaredTokensAnywhere(readFileSync(neutralFile, "utf8"))]);
      return { code: `${tokensBlock(neededTokens(code, dsfr, own), dsfr.banner)}\n${code}`, map: null };
    },
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== "asset") continue;
        if (forbiddenAsset(file.fileName, file.originalFileNames)) {
          this.error(`${file.fileName} would ship a font or a file of @gouvfr/dsfr: Parvis ships neither`);
        }
        // The minifier drops every comment: the package's licence notice goes back on top.
        if (dsfr && typeof file.source === "string" && file.names.includes(basename(themeFile))) {
          file.source = `${dsfr.banner}\n${file.source}`;
        }
      }
    },
  };
}

/** Every custom property a stylesheet declares, in any rule. */
function declaredTokensAnywhere(css: string): Set<string> {
  const names = new Set<string>();
  postcss.parse(css).walkDecls((decl) => {
    if (decl.prop.startsWith("--")) names.add(decl.prop);
  });
  return names;
}
