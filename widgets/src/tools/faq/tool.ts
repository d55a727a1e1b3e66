/**
 * The faq tool: its routes, its list (by category) and its strings, found by `src/tools/index.ts`.
 */
import { publicationTool } from "../../publishing/routes";
import { FAQ } from "../../publishing/tools";

export default publicationTool(FAQ, 30, {
  newBy: "faq.newBy",
  listLayout: () => import("./list"),
});
