/**
 * The routes that belong to no tool: the user's communities, a community's home, search,
 * sign-in, and the page for unknown links.
 */
import type { PageContext } from "./context";
import type { RouteDef, RouteRegistry } from "./registry";

/** Shown when no route matches. */
export const NOT_FOUND: RouteDef<PageContext> = {
  pattern: "/404",
  name: "not-found",
  public: true,
  load: () => import("../pages/not-found"),
};

/** Registers the core routes. */
export function registerCoreRoutes(registry: RouteRegistry<PageContext>): void {
  registry.addRoute({ pattern: "/", name: "communities", load: () => import("../pages/communities") });
  registry.addRoute({ pattern: "/login", name: "login", public: true, load: () => import("../pages/login") });
  registry.addRoute({ pattern: "/c/:space", name: "community.home", load: () => import("../pages/community-home") });
  registry.addRoute({ pattern: "/c/:space/search", name: "community.search", load: () => import("../pages/search") });
}
