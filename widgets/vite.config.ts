import { defineConfig } from "vitest/config";

// Parvis serves the build under `/widgets/`; relative URLs keep it working under any prefix.
export default defineConfig({
  base: "./",
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    // The CSP allows `data:` images only; keep every script and style a file of its own.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
