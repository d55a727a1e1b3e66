/**
 * The guides tool (ordered reading paths through the wiki): its guides (`publication.ts`), its
 * routes and its strings, found by `src/tools/index.ts`; its list is the shared one (newest first).
 */
import { publicationTool } from "../../publishing/routes";
import { GUIDES } from "./publication";

export default publicationTool(GUIDES, 15, {
  newBy: "guides.newBy",
});
