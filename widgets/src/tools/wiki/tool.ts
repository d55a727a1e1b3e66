/**
 * The wiki tool: its pages (`publication.ts`), its routes, its list (a page tree) and its
 * strings, found by `src/tools/index.ts`.
 */
import { publicationTool } from "../../publishing/routes";
import { WIKI } from "./publication";

export default publicationTool(WIKI, 10, {
  newBy: "wiki.newBy",
  listLayout: () => import("./list"),
});
