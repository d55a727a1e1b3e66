/**
 * The blog tool: its routes and its strings, found by `src/tools/index.ts`; its list is the shared one (posts, newest first).
 */
import { publicationTool } from "../../publishing/routes";
import { BLOG } from "../../publishing/tools";

export default publicationTool(BLOG, 20, {
  newBy: "blog.newBy",
});
