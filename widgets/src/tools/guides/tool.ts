/** The guides tool (ordered reading paths through the wiki): its routes, found by `src/tools/index.ts`. */
import { publicationTool } from "../../publishing/routes";
import { GUIDES } from "../../publishing/tools";

export default publicationTool(GUIDES, 15);
