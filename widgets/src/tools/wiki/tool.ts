/** The wiki tool: its routes, found by `src/tools/index.ts`. */
import { publicationTool } from "../../publishing/routes";
import { WIKI } from "../../publishing/tools";

export default publicationTool(WIKI, 10);
