/**
 * The blog tool: its posts (`publication.ts`), its routes and its strings, found by
 * `src/tools/index.ts`; its list is the shared one (posts, newest first).
 */
import { publicationTool } from "../../publishing/routes";
import { BLOG } from "./publication";

export default publicationTool(BLOG, 20, {
  newBy: "blog.newBy",
});
