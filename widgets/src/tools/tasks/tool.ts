/**
 * The tasks tool: kanban boards of cards (`org.parvis.kanban.board` and `org.parvis.kanban.card`,
 * state events of the community's tasks room, declared in `appservice/src/tools/tasks/`), their
 * Gantt chart, the user's own open cards across communities, and those of a community on its
 * home. A card's comments are messages in the Matrix thread of its events. Found by `src/tools/index.ts`; its pages and section are chunks of their own, loaded
 * when shown. The widget Parvis pins in the tasks room opens `/c/{space}/tasks`, the board.
 */
import type { PageContext } from "../../app/context";
import type { ToolDef } from "../../app/registry";
import { capability } from "../../session/capabilities";
import { BOARD_EVENT, CARD_EVENT } from "./types";

/** The board page: every other page of the tool links back to it. */
export const BOARD_ROUTE = "/c/:space/tasks";
/** The Gantt chart of a community's dated cards. */
export const GANTT_ROUTE = "/c/:space/tasks/gantt";
/** The user's open cards in all their communities: no community of its own. */
export const MINE_ROUTE = "/tasks/mine";

const tasks: ToolDef<PageContext> = {
  id: "tasks",
  label: "tasks.name",
  order: 40,
  home: BOARD_ROUTE,
  routes: [
    { pattern: BOARD_ROUTE, name: "tasks.board", load: () => import("./board-page") },
    { pattern: GANTT_ROUTE, name: "tasks.gantt", load: () => import("./gantt-page") },
    { pattern: MINE_ROUTE, name: "tasks.mine", load: () => import("./mine-page") },
  ],
  homeSections: [{ name: "my-cards", load: () => import("./home-section") }],
  // In widget mode Element sends boards and cards as the user (a widget session cannot write
  // through Parvis), and comments on cards (messages in their threads); it tells the board and
  // Gantt pages of others' boards and cards as they change, and a card's dialog of others'
  // comments and their redactions, which they show without a reload (in the standalone app, the
  // same types are what the homeserver's sync is asked for).
  capabilities: [
    capability.sendState(BOARD_EVENT),
    capability.sendState(CARD_EVENT),
    capability.sendEvent("m.room.message"),
    capability.receiveState(BOARD_EVENT),
    capability.receiveState(CARD_EVENT),
    capability.receiveEvent("m.room.message"),
    capability.receiveEvent("m.room.redaction"),
  ],
};

export default tasks;
