/**
 * Every tool of `src/tools/<name>/tool.ts`, found at build time: adding a folder with a
 * `tool.ts` whose default export is a `ToolDef` adds the tool, its routes, its navigation
 * entry, its slots on shared pages and its widget capabilities, without changing any other
 * file (its strings go in its own `messages.ts`, found by `src/i18n/`). `tool.ts` files are in
 * the first chunk: they only declare, and import their pages and renderers lazily.
 */
import type { PageContext } from "../app/context";
import type { RouteRegistry, ToolDef } from "../app/registry";

const modules = import.meta.glob<{ default: ToolDef<PageContext> }>("./*/tool.ts", { eager: true });

/** The discovered tools. */
export function discoveredTools(): ToolDef<PageContext>[] {
  return Object.values(modules).map((module) => module.default);
}

/** Registers every discovered tool. */
export function registerTools(registry: RouteRegistry<PageContext>): void {
  for (const tool of discoveredTools()) registry.addTool(tool);
}
