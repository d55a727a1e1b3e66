/**
 * The build (`vite build`, as `scripts/build-widgets` runs it, into a folder of its own): what
 * Parvis serves and links by name, and the shell's size budget.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { THEME_STYLESHEETS } from "../src/app/theme";

const widgets = fileURLToPath(new URL("..", import.meta.url));
/** The shell's JavaScript, gzip-compressed, at most (BENCHMARKS.md). */
const SHELL_BUDGET_BYTES = 60 * 1024;

describe("the build", () => {
  let dist = "";
  const files = (folder: string) => readdirSync(join(dist, folder));

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), "parvis-widgets-build-"));
    await build({
      root: widgets,
      configFile: join(widgets, "vite.config.ts"),
      logLevel: "silent",
      build: { outDir: dist, emptyOutDir: true },
    });
  }, 120_000);
  afterAll(() => {
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  it("emits each theme's stylesheet under the stable name Parvis links (themes/dsfr.css)", () => {
    for (const href of Object.values(THEME_STYLESHEETS)) expect(existsSync(join(dist, href)), href).toBe(true);
    const css = readFileSync(join(dist, THEME_STYLESHEETS.dsfr), "utf8");
    // The whole theme: the package's licence notice, its tokens, and the theme's own rules.
    expect(css).toMatch(/^\/\*!\s*\n?\s*\* DSFR v1\.14\.4 \| SPDX-License-Identifier: MIT/);
    expect(css).toMatch(/--blue-france-sun-113-625:\s*#000091/);
    expect(css).toMatch(/prefers-color-scheme:\s*dark/);
    expect(css).toContain(":root[data-theme=dsfr] a");
    expect(css).toMatch(/--radius:\s*0/);
  });

  it("has one DSFR stylesheet, not a hashed copy or chunk beside it", () => {
    expect(files("themes")).toEqual(["dsfr.css"]);
    const assets = files("assets");
    expect(assets.filter((name) => /dsfr|theme/i.test(name))).toEqual([]);
    // No other stylesheet holds the theme's rules.
    for (const name of assets.filter((file) => file.endsWith(".css"))) {
      expect(readFileSync(join(dist, "assets", name), "utf8"), name).not.toContain("data-theme=dsfr]{");
    }
  });

  it("keeps the shell's JavaScript under its budget, with the theme's stylesheet named, not bundled", () => {
    const shell = files("assets").filter((name) => /^index-.*\.js$/.test(name));
    expect(shell).toHaveLength(1);
    const code = readFileSync(join(dist, "assets", shell[0] as string));
    expect(gzipSync(code).length).toBeLessThan(SHELL_BUDGET_BYTES);
    expect(code.toString("utf8")).toContain(`"${THEME_STYLESHEETS.dsfr}"`);
    expect(code.toString("utf8")).not.toContain("blue-france");
    const html = readFileSync(join(dist, "index.html"), "utf8");
    expect(html).not.toContain("dsfr");
  });
});
