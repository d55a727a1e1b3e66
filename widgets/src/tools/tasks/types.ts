/**
 * The tasks API's shapes: the schemas of the OpenAPI description Parvis generates from its
 * handlers (`widgets/openapi.json` → `api/schema.d.ts`), so a change of the API that this tool
 * does not follow fails the type check. The two state events (`org.parvis.kanban.board` and
 * `org.parvis.kanban.card`, declared in `appservice/src/tools/tasks/`) are the same schemas,
 * which the widget sends through Element.
 */
import type { components } from "../../api/schema";

type Schemas = components["schemas"];

/** `org.parvis.kanban.board`: a board of the community's tasks room, state key = its ID. */
export const BOARD_EVENT = "org.parvis.kanban.board";
/** `org.parvis.kanban.card`: a card of a board, state key = its ID. */
export const CARD_EVENT = "org.parvis.kanban.card";

/** A board in `GET …/tasks/boards`: its content, ID and count of cards. */
export type BoardSummary = Schemas["BoardSummary"];
/** `GET …/tasks/boards/{board}`: its columns in order, each with its cards in order. */
export type BoardView = Schemas["BoardView"];
/** A column of a board view. */
export type ColumnView = Schemas["ColumnView"];
/** A card as the API shows it: its content, ID, lateness and last writer. */
export type CardView = Schemas["CardView"];
/** The content of `org.parvis.kanban.card`. */
export type KanbanCardContent = Schemas["KanbanCardEventContent"];
/** The content of `org.parvis.kanban.board`. */
export type KanbanBoardContent = Schemas["KanbanBoardEventContent"];
/** A column of a board's content. */
export type KanbanColumn = Schemas["KanbanColumn"];
/** An item of a card's checklist. */
export type ChecklistItem = Schemas["ChecklistItem"];
/** A card's fields as a member writes them (`POST …/cards`, `PUT …/cards/{card}`). */
export type CardInput = Schemas["CardInput"];
/** `POST …/cards/{card}/move`: its column, and the card it goes right after (`null`: the top). */
export type CardMove = Schemas["CardMove"];
/** `POST …/tasks/boards`. */
export type NewBoard = Schemas["NewBoard"];
/** What a write sent, with what it warns of (a column over its limit). */
export type Written = Schemas["Written"];
/** `GET …/tasks/gantt`. */
export type GanttView = Schemas["GanttView"];
/** A dated card of the Gantt view, with its schedule. */
export type GanttCard = Schemas["GanttCard"];
/** A card without a due date, listed apart from the chart. */
export type UndatedCard = Schemas["UndatedCard"];
/** `GET /api/v1/tasks/mine`: an open card assigned to the caller, with its community and board. */
export type MyTask = Schemas["MyTask"];
/**
 * A comment on a card (`GET …/tasks/cards/{card}/comments`): a message in the Matrix thread of
 * one of the card's events, as any client writes it; the same row as a published object's.
 */
export type CardComment = Schemas["CommentRow"];
/** `POST …/tasks/cards/{card}/comments`: the message sent. */
export interface CommentSent {
  event_id: string;
}
