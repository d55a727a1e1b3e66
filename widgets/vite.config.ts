import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { dsfrTokens } from "./build/dsfr-tokens";
import { themeStylesheets } from "./build/theme-stylesheets";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Parvis serves the build under `/widgets/`; relative URLs keep it working under any prefix.
export default defineConfig({
  base: "./",
  plugins: [
    // The DSFR theme's tokens, from the `@gouvfr/dsfr` package; none of its fonts or images.
    dsfrTokens({ themeFile: here("./src/themes/dsfr/dsfr.css"), neutralFile: here("./src/styles.css") }),
    // Each theme other than neutral, one stylesheet of a stable name (`dist/themes/dsfr.css`),
    // which Parvis links from `index.html` and `src/app/theme.ts` when it switches.
    themeStylesheets({ dsfr: here("./src/themes/dsfr/dsfr.css") }),
  ],
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    // The CSP allows `data:` images only; keep every script and style a file of its own.
    assetsInlineLimit: 0,
    sourcemap: false,
    rollupOptions: {
      output: {
        // Preact, for the tool UIs written with it, in lazily loaded chunks of its own that every
        // such tool shares and that a new version of a tool does not evict from the cache; the
        // signals apart, which only interactive UIs need. The shell imports neither.
        manualChunks(id) {
          if (/\/node_modules\/@preact\/signals(-core)?\//.test(id)) return "preact-signals";
          if (/\/node_modules\/preact\//.test(id)) return "preact";
          return undefined;
        },
      },
    },
  },
  test: {
    // Shared tests in `test/`; a tool's own beside it, in its folder (`src/tools/<name>/*.test.ts`).
    include: ["test/**/*.test.{ts,tsx}", "src/**/*.test.{ts,tsx}"],
    environment: "node",
  },
});
