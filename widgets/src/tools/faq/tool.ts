/** The faq tool: its routes, found by `src/tools/index.ts`. */
import { publicationTool } from "../../publishing/routes";
import { FAQ } from "../../publishing/tools";

export default publicationTool(FAQ, 30);
