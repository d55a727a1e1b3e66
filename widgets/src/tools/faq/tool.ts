/**
 * The faq tool: its entries (`publication.ts`), its routes, its list (by category) and its
 * strings, found by `src/tools/index.ts`.
 */
import { publicationTool } from "../../publishing/routes";
import { FAQ } from "./publication";

export default publicationTool(FAQ, 30, {
  newBy: "faq.newBy",
  listLayout: () => import("./list"),
});
