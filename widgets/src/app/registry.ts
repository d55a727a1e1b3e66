/**
 * The route registry: every page of the app is a route entry (a pattern and a lazily loaded
 * page module), and every tool of a community (wiki, blog, FAQ, later calendar, tasks,
 * documents, polls) is a `ToolDef` bringing its own routes. Tools register themselves from
 * `src/tools/<name>/tool.ts`; nothing else has to change to add one.
 *
 * Besides pages, a tool may add to pages it does not own through slots: a panel on every
 * object's page (`objectPanels`), a section of the community's home (`homeSections`). The
 * shared pages ask the registry for the slots of the community's tools and render them in
 * containers of their own; they never name a tool. A tool also lists the widget capabilities
 * its writes need (`capabilities`), which the widget asks of Element at start.
 */
import type { MessageKey } from "../i18n";
import { bestMatch, compilePattern, hashFor, type CompiledPattern } from "./router";

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

/** The object an object's page shows, as a panel of another tool sees it. */
export interface ObjectRef {
  /** The community (its space's room ID). */
  space: string;
  /** The tool whose object it is, as in the API's paths and the routes: `wiki`, `guides`… */
  tool: string;
  /** The object's ID in its tool. */
  id: string;
  /** The event of its current revision: what reactions and comment threads relate to. */
  eventId: string;
  /** The room it lives in (its tool's room in the community). */
  roomId: string;
}

/** The community whose home page is shown. */
export interface CommunityRef {
  space: string;
  /** Its rooms, which a section may follow while shown (`app.live.subscribe`). */
  rooms: readonly string[];
}

/**
 * What a slot renders: fills `container` (which the shared page placed and owns) for `target`.
 * It may keep updating the container afterwards (after a write); `context.signal` says when
 * the page is gone. Rendering nothing leaves the slot empty.
 */
export type SlotRender<C extends PageContextBase, T> = (context: C, target: T, container: HTMLElement) => void | Promise<void>;

/** One slot a tool fills, its renderer loaded lazily (a chunk of its own, fetched when shown). */
export interface SlotDef<C extends PageContextBase, T> {
  /** Unique in the tool, for tests and the DOM (`data-slot="likes.reactions"`). */
  name: string;
  load: () => Promise<{ default: SlotRender<C, T> }>;
}

/** A slot of a tool, as a shared page gets it. */
export interface ToolSlot<C extends PageContextBase, T> {
  tool: ToolDef<C>;
  slot: SlotDef<C, T>;
}

/** A tool of a community. */
export interface ToolDef<C extends PageContextBase = PageContextBase> {
  /** As in the community's `tools` list and room purposes: `wiki`, `calendar`… */
  id: string;
  /** Its name in the navigation; with `home`. A tool without either has no navigation entry (likes). */
  label?: MessageKey;
  /** Position in the navigation and of its slots on shared pages (ascending). */
  order: number;
  /** Its landing route in a community: `/c/:space/wiki`; with `label`. */
  home?: string;
  /** The community tool it comes with, when it is not one of its own (guides come with the wiki). */
  requires?: string;
  /**
   * In every community, whatever tools it enabled: a tool with no room of its own that adds to
   * other tools' objects (likes are reactions in the rooms of the objects they are on).
   */
  everyCommunity?: boolean;
  /** Its pages. */
  routes?: RouteDef<C>[];
  /** The route of one of its objects, with `:space` and `:id` (`/c/:space/wiki/:id`), for links from other tools. */
  objectPage?: string;
  /** Rendered on every object's page, after the object. */
  objectPanels?: SlotDef<C, ObjectRef>[];
  /** Rendered on the community's home page. */
  homeSections?: SlotDef<C, CommunityRef>[];
  /**
   * The widget capabilities its writes need (`capability.sendEvent("m.reaction")` of
   * `session/capabilities.ts`); the widget asks Element for every tool's at start.
   */
  capabilities?: readonly string[];
}

/** A tool with a navigation entry. */
export type NavigableTool<C extends PageContextBase = PageContextBase> = ToolDef<C> & { label: MessageKey; home: string };

/** Whether a tool has a navigation entry. */
export function isNavigable<C extends PageContextBase>(tool: ToolDef<C>): tool is NavigableTool<C> {
  return tool.label !== undefined && tool.home !== undefined;
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

  /**
   * Adds a tool and its routes. Two tools with one ID, a navigation entry without its label
   * or its landing route, and two slots of a tool with one name are programming errors.
   */
  addTool(tool: ToolDef<C>): void {
    if (this.#tools.has(tool.id)) throw new Error(`tool ${tool.id} registered twice`);
    if ((tool.label === undefined) !== (tool.home === undefined)) {
      throw new Error(`tool ${tool.id}: a navigation entry needs both label and home`);
    }
    for (const slots of [tool.objectPanels ?? [], tool.homeSections ?? []]) {
      const names = slots.map((slot) => slot.name);
      const twice = names.find((name, index) => names.indexOf(name) !== index);
      if (twice !== undefined) throw new Error(`tool ${tool.id}: slot ${twice} declared twice`);
    }
    this.#tools.set(tool.id, tool);
    for (const route of tool.routes ?? []) this.addRoute({ ...route, tool: route.tool ?? tool.id });
  }

  /**
   * The tools a community with these enabled tools has, in navigation order: its own, those
   * that come with them, and those of every community.
   */
  enabledTools(enabled: readonly string[]): ToolDef<C>[] {
    return this.tools().filter((tool) => tool.everyCommunity === true || enabled.includes(tool.requires ?? tool.id));
  }

  /** The navigation entries: of the enabled tools, or of every tool while they are not known yet. */
  navigationTools(enabled?: readonly string[]): NavigableTool<C>[] {
    return (enabled ? this.enabledTools(enabled) : this.tools()).filter(isNavigable);
  }

  /** The panels of object pages, in tool order; `enabled` as for `navigationTools`. */
  objectPanels(enabled?: readonly string[]): ToolSlot<C, ObjectRef>[] {
    return this.#slots(enabled, (tool) => tool.objectPanels);
  }

  /** The sections of the community's home, in tool order. */
  homeSections(enabled?: readonly string[]): ToolSlot<C, CommunityRef>[] {
    return this.#slots(enabled, (tool) => tool.homeSections);
  }

  #slots<T>(enabled: readonly string[] | undefined, of: (tool: ToolDef<C>) => SlotDef<C, T>[] | undefined): ToolSlot<C, T>[] {
    const tools = enabled ? this.enabledTools(enabled) : this.tools();
    return tools.flatMap((tool) => (of(tool) ?? []).map((slot) => ({ tool, slot })));
  }

  /** The link to an object of a tool (`#/c/!s:hs/wiki/p1`); `null` when the tool has no object pages. */
  objectLink(toolId: string, space: string, id: string): string | null {
    const pattern = this.#tools.get(toolId)?.objectPage;
    return pattern ? hashFor(pattern, { space, id }) : null;
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
