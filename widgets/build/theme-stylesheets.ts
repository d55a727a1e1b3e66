/**
 * The stylesheets of the themes other than neutral, each one file of a stable name in the build:
 * `themes/<name>.css` (`dist/themes/dsfr.css`), its source (`src/themes/<name>/<name>.css`) as
 * the other plugins and Vite make it (`dsfr-tokens.ts` adds the DSFR tokens; minified, the
 * licence banner kept). Not hashed, and nothing else of the build refers to it by a hashed name:
 *
 * - Parvis, serving `index.html` for a deployment that chose the theme, adds
 *   `data-theme="<name>"` to `<html>` and `<link rel="stylesheet" href="themes/<name>.css"
 *   data-theme-stylesheet="<name>">` before `</head>`, so a first visit is drawn in the theme;
 * - `app/theme.ts` adds the same `<link>` when it switches to the theme later (static hosting
 *   without Parvis, or the deployment changed its choice).
 *
 * So the theme is one file, not a lazily loaded chunk beside it. As its name does not change
 * from one build to the next, it must not be cached as immutable the way `assets/` is.
 *
 * `vite dev` serves the same path from the source, through Vite's CSS pipeline.
 */
import { relative } from "node:path";
import type { Plugin, Rollup } from "vite";

/** Where the build puts a theme's stylesheet, relative to the page (`app/theme.ts` links it). */
function themeStylesheetPath(theme: string): string {
  return `themes/${theme}.css`;
}

/** The plugins: `themes` maps each theme's name to its stylesheet's source file (an absolute path). */
export function themeStylesheets(themes: Readonly<Record<string, string>>): Plugin[] {
  const entries = Object.entries(themes);
  return [
    {
      name: "parvis:theme-stylesheets",
      apply: "build",
      buildStart() {
        // An entry of its own per theme, named after it, so that Vite turns it into CSS as it
        // does every stylesheet (`dsfr-tokens.ts` recognises the asset by that name).
        for (const [theme, file] of entries) this.emitFile({ type: "chunk", id: file, name: theme });
      },
      generateBundle(_options, bundle) {
        for (const [theme, file] of entries) {
          const chunk = Object.values(bundle).find((output): output is Rollup.OutputChunk => output.type === "chunk" && output.facadeModuleId === file);
          const css = chunk ? [...(chunk.viteMetadata?.importedCss ?? [])] : [];
          const asset = css.length === 1 ? bundle[css[0] as string] : undefined;
          if (!chunk || asset?.type !== "asset") {
            this.error(`the ${theme} theme's stylesheet (${file}) did not become one CSS file`);
          }
          // The entry's JavaScript is an empty module, and the hashed copy of the CSS nobody links.
          delete bundle[chunk.fileName];
          delete bundle[asset.fileName];
          this.emitFile({ type: "asset", fileName: themeStylesheetPath(theme), source: asset.source });
        }
      },
    },
    {
      name: "parvis:theme-stylesheets-dev",
      apply: "serve",
      configureServer(server) {
        server.middlewares.use((request, _response, next) => {
          const [path, query] = (request.url ?? "").split("?", 2);
          const theme = entries.find(([name]) => path === `/${themeStylesheetPath(name)}`);
          // The source, as CSS (`direct`), not as the JavaScript module Vite serves for an import.
          if (theme) request.url = `/${relative(server.config.root, theme[1])}?direct${query ? `&${query}` : ""}`;
          next();
        });
      },
    },
  ];
}
