/** The blog tool: its routes, found by `src/tools/index.ts`. */
import { publicationTool } from "../../publishing/routes";
import { BLOG } from "../../publishing/tools";

export default publicationTool(BLOG, 20);
