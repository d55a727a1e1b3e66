/**
 * The wiki tool: its routes, its list (a page tree) and its strings, found by `src/tools/index.ts`.
 */
import { publicationTool } from "../../publishing/routes";
import { WIKI } from "../../publishing/tools";

export default publicationTool(WIKI, 10, {
  newBy: "wiki.newBy",
  listLayout: () => import("./list"),
});
