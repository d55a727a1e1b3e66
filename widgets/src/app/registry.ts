/**
 * The route registry: every page of the app is a route entry (a pattern and a lazily loaded
 * page module), and every tool of a community (wiki, blog, FAQ, later calendar, tasks,
 * documents, polls) is a `ToolDef` bringing its own routes. Tools register themselves from
 * `src/tools/<name>/tool.ts`; nothing else has to change to add one.
 */
import type { MessageKey } from "../i18n";
import { bestMatch, compilePattern, type CompiledPattern } from "./router";

/** What a page gets when it is shown. Defined in `context.ts`; kept opaque here. */
export interface PageContextBase {
  params: Record<string, string>;
  query: URLSearchParams;
}

/** A page: renders into `context.main`; may return a clean-up function. */
export type PageRender<C extends PageContextBase = PageContextBase> = (
  context: C,
) => void | (() => void) | Promise<void | (() => void)>;

/** A module whose default export is a page. */
export interface PageModule<C extends PageContextBase = PageContextBase> {
  default: PageRender<C>;
}

/** One route. */
export interface RouteDef<C extends PageContextBase = PageContextBase> {
  /** `/c/:space/wiki/:id` */
  pattern: string;
  /** Unique name, for tests and logs: `wiki.read`. */
  name: string;
  /** Loads the page module (a dynamic `import()`, so each page is its own chunk). */
  load: () => Promise<PageModule<C>>;
  /** Shown without signing in (`#/login`). */
  public?: boolean;
  /** The tool it belongs to, to highlight it in the navigation. */
  tool?: string;
}

/** A tool of a community. */
export interface ToolDef<C extends PageContextBase = PageContextBase> {
  /** As in the community's `tools` list and room purposes: `wiki`, `calendar`… */
  id: string;
  /** Its name in the navigation. */
  label: MessageKey;
  /** Position in the navigation (ascending). */
  order: number;
  /** Its landing route in a community: `/c/:space/wiki`. */
  home: string;
  /** The community tool it comes with, when it is not one of its own (guides come with the wiki). */
  requires?: string;
  routes: RouteDef<C>[];
}

interface RouteEntry<C extends PageContextBase> {
  route: RouteDef<C>;
  compiled: CompiledPattern;
}

/** The routes and tools of the app. */
export class RouteRegistry<C extends PageContextBase = PageContextBase> {
  readonly #entries: RouteEntry<C>[] = [];
  readonly #tools = new Map<string, ToolDef<C>>();

  /** Adds a route; a pattern or name registered twice is a programming error. */
  addRoute(route: RouteDef<C>): void {
    if (this.#entries.some((entry) => entry.route.name === route.name)) {
      throw new Error(`route ${route.name} registered twice`);
    }
    if (this.#entries.some((entry) => entry.route.pattern === route.pattern)) {
      throw new Error(`route pattern ${route.pattern} registered twice`);
    }
    this.#entries.push({ route, compiled: compilePattern(route.pattern) });
  }

  /** Adds a tool and its routes. */
  addTool(tool: ToolDef<C>): void {
    if (this.#tools.has(tool.id)) throw new Error(`tool ${tool.id} registered twice`);
    this.#tools.set(tool.id, tool);
    for (const route of tool.routes) this.addRoute({ ...route, tool: route.tool ?? tool.id });
  }

  /** The tools a community with these enabled tools shows, in navigation order. */
  enabledTools(enabled: readonly string[]): ToolDef<C>[] {
    return this.tools().filter((tool) => enabled.includes(tool.requires ?? tool.id));
  }

  /** Tools, in navigation order. */
  tools(): ToolDef<C>[] {
    return [...this.#tools.values()].sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
  }

  tool(id: string): ToolDef<C> | undefined {
    return this.#tools.get(id);
  }

  /** Every route, in registration order. */
  routes(): RouteDef<C>[] {
    return this.#entries.map((entry) => entry.route);
  }

  /** The route for a path, with its parameters. */
  match(path: string): { route: RouteDef<C>; params: Record<string, string> } | null {
    const found = bestMatch(this.#entries, path);
    return found ? { route: found.entry.route, params: found.params } : null;
  }
}
