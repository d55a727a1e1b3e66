/**
 * Writing boards and cards, in the two modes, as `session/writer.ts` writes objects.
 * Standalone: through the Parvis API, which checks the card, places it and sends it as the user.
 * Widget: a widget session cannot write through Parvis, so Element sends the state event as the
 * user, and the checks and the position the server would make are made here, the same way
 * (`appservice/src/tools/tasks/mod.rs`'s `check_card`, its `move_card`): positions are the
 * `fractional-indexing` package's keys, which the server's port gives too
 * (`test/position.test.ts`). A comment on a card is a message in the thread of the card's
 * current event, the same content as a published object's comment (`commentContent`).
 */
import { generateKeyBetween } from "fractional-indexing";
import { ApiError, type ApiClient } from "../../api/client";
import { roomOf, type App } from "../../app/context";
import type { MessageKey, MessageParams } from "../../i18n";
import { contentBytes, MAX_INLINE_CONTENT_BYTES } from "../../publishing/tools";
import { newObjectId } from "../../publishing/slug";
import { WidgetIdentity } from "../../session/identity";
import { commentContent, sentEventId } from "../../session/writer";
import { postBoard, postCard, postComment, postMove, putCard } from "./api";
import { boardCards, isUserId } from "./board";
import {
  BOARD_EVENT,
  CARD_EVENT,
  type BoardView,
  type CardInput,
  type CardMove,
  type CardView,
  type CommentSent,
  type KanbanBoardContent,
  type KanbanCardContent,
  type NewBoard,
  type Written,
} from "./types";

/** The writes of the tasks pages. */
export interface TaskWriter {
  readonly mode: "widget" | "standalone";
  /** A new board. */
  createBoard(space: string, board: NewBoard): Promise<Written>;
  /** A new card of `board`, at the end of its column (the board's first when it names none). */
  createCard(space: string, board: BoardView, card: CardInput): Promise<Written>;
  /** New fields of a card of `board`; a new column puts it at that column's end. */
  editCard(space: string, board: BoardView, cardId: string, card: CardInput): Promise<Written>;
  /** A card of `board` moved right after `move.after` in `move.column` (its top without it). */
  moveCard(space: string, board: BoardView, cardId: string, move: CardMove): Promise<Written>;
  /** A comment on `card`: a message in the thread of its current event (`card.event_id`). */
  commentCard(space: string, card: CardView, body: string): Promise<CommentSent>;
}

/** Standalone mode: Parvis checks, places and sends as the user. */
export class ApiTaskWriter implements TaskWriter {
  readonly mode = "standalone";
  constructor(private readonly api: ApiClient) {}

  createBoard(space: string, board: NewBoard): Promise<Written> {
    return postBoard(this.api, space, board);
  }

  createCard(space: string, board: BoardView, card: CardInput): Promise<Written> {
    return postCard(this.api, space, board.id, card);
  }

  editCard(space: string, _board: BoardView, cardId: string, card: CardInput): Promise<Written> {
    return putCard(this.api, space, cardId, card);
  }

  moveCard(space: string, _board: BoardView, cardId: string, move: CardMove): Promise<Written> {
    return postMove(this.api, space, cardId, move);
  }

  commentCard(space: string, card: CardView, body: string): Promise<CommentSent> {
    return postComment(this.api, space, card.id, body);
  }
}

/** A message of the interface, for the refusals made here. */
export type Translate = (key: MessageKey, params?: MessageParams) => string;

/** A card refused before it is sent: the same `errcode`s as the server's. */
function refused(t: Translate, errcode: string, key: MessageKey, params?: MessageParams): ApiError {
  return new ApiError(400, errcode, t(key, params));
}

/**
 * The position of a card put right after `after` in `column` of `board` (its top when `null`):
 * between the position of `after` and the next different one, as the server's move does, so
 * two cards sharing a position (concurrent moves) are passed rather than split.
 */
export function positionAfter(board: BoardView, cardId: string, column: string, after: string | null, t: Translate): string {
  const neighbours = (board.columns.find((candidate) => candidate.id === column)?.cards ?? [])
    .filter((card) => card.id !== cardId)
    .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let low: string | null = null;
  if (after !== null) {
    const found = neighbours.find((card) => card.id === after);
    if (!found) throw refused(t, "M_INVALID_PARAM", "tasks.problem.notInColumn", { card: after });
    low = found.position;
  }
  const high = neighbours.map((card) => card.position).find((position) => low === null || position > low) ?? null;
  return generateKeyBetween(low, high);
}

/** The position at the end of `column` (for a new card, or one whose column changed). */
export function endPosition(board: BoardView, cardId: string, column: string): string {
  const positions = (board.columns.find((candidate) => candidate.id === column)?.cards ?? [])
    .filter((card) => card.id !== cardId)
    .map((card) => card.position)
    .sort();
  return generateKeyBetween(positions[positions.length - 1] ?? null, null);
}

/** The event content of a card from what the user typed: empty fields left out, as the server writes them. */
export function cardContent(input: CardInput, board: string, column: string, position: string): KanbanCardContent {
  const content: KanbanCardContent = { title: input.title.trim(), board, column, position };
  if (input.description) content.description = input.description;
  if (input.assignees?.length) content.assignees = input.assignees;
  if (input.labels?.length) content.labels = input.labels;
  if (input.start) content.start = input.start;
  if (input.due) content.due = input.due;
  if (input.checklist?.length) content.checklist = input.checklist.map((item) => ({ text: item.text, done: item.done ?? false }));
  if (input.depends_on?.length) content.depends_on = input.depends_on;
  if (input.archived) content.archived = true;
  return content;
}

/**
 * Checks a card before the widget sends it, as the server does before it writes one: refused
 * with the first problem (an `ApiError` 400 with the server's `errcode`), or allowed with what it
 * warns of (its column over its limit). Dependencies are checked against the board's cards.
 */
export function checkCard(cardId: string, card: KanbanCardContent, board: BoardView, t: Translate): string[] {
  if (card.title.trim() === "") throw refused(t, "M_INVALID_PARAM", "tasks.problem.noTitle");
  if (board.archived) throw refused(t, "ORG.PARVIS_ARCHIVED_BOARD", "tasks.problem.archivedBoard", { board: board.name });
  const column = board.columns.find((candidate) => candidate.id === card.column);
  if (!column) throw refused(t, "ORG.PARVIS_UNKNOWN_COLUMN", "tasks.problem.unknownColumn", { board: board.name, column: card.column });
  const notUser = (card.assignees ?? []).find((assignee) => !isUserId(assignee));
  if (notUser !== undefined) throw refused(t, "M_INVALID_PARAM", "tasks.problem.notUserId", { user: notUser });
  if (card.start && card.due && card.due < card.start) {
    throw refused(t, "ORG.PARVIS_DUE_BEFORE_START", "tasks.problem.dueBeforeStart", { start: card.start, due: card.due });
  }
  const circle = dependencyCircle(cardId, card.depends_on ?? [], board);
  if (circle) throw refused(t, "ORG.PARVIS_DEPENDENCY_CYCLE", "tasks.problem.cycle", { cards: circle.join(" → ") });
  const others = column.cards.filter((other) => other.id !== cardId).length;
  if (column.wip_limit != null && !card.archived && others + 1 > column.wip_limit) {
    return [t("tasks.warning.overLimit", { column: column.name, cards: others + 1, limit: column.wip_limit })];
  }
  return [];
}

/**
 * The titles of a circle of dependencies that `dependsOn` would close through `cardId`, or
 * `null`: a card that a card it depends on depends on, and so on.
 */
export function dependencyCircle(cardId: string, dependsOn: readonly string[], board: BoardView): string[] | null {
  const cards = new Map(boardCards(board).map((card) => [card.id, card]));
  const edges = (id: string) => (id === cardId ? dependsOn : (cards.get(id)?.depends_on ?? []));
  const path: string[] = [];
  const seen = new Set<string>();
  const reaches = (id: string): boolean => {
    if (id === cardId) return true;
    if (seen.has(id)) return false;
    seen.add(id);
    path.push(id);
    if (edges(id).some(reaches)) return true;
    path.pop();
    return false;
  };
  for (const first of dependsOn) {
    path.length = 0;
    if (reaches(first)) return [cardId, ...path, cardId].map((id) => cards.get(id)?.title || id);
  }
  return null;
}

/** What the widget writer uses of the widget session (`WidgetSession`; a fake in tests). */
export interface TaskWidget {
  roomArgument(roomId: string): Promise<string | undefined>;
  readonly api: {
    sendStateEvent(eventType: string, stateKey: string, content: unknown, roomId?: string): Promise<{ event_id?: string }>;
    sendRoomEvent(eventType: string, content: unknown, roomId?: string): Promise<{ event_id?: string }>;
  };
}

/** Widget mode: checked and placed here, sent by Element as the user in the community's tasks room. */
export class WidgetTaskWriter implements TaskWriter {
  readonly mode = "widget";
  constructor(
    private readonly widget: TaskWidget,
    /** The community's tasks room. */
    private readonly tasksRoom: (space: string) => Promise<string>,
    private readonly t: Translate,
  ) {}

  async #send(space: string, eventType: string, id: string, content: Record<string, unknown>, warnings: string[]): Promise<Written> {
    if (contentBytes(content) > MAX_INLINE_CONTENT_BYTES) throw new ApiError(413, "M_TOO_LARGE", this.t("tasks.problem.tooLarge"));
    const room = await this.widget.roomArgument(await this.tasksRoom(space));
    const sent = await this.widget.api.sendStateEvent(eventType, id, content, room);
    return { id, event_id: sentEventId(sent.event_id), warnings };
  }

  async createBoard(space: string, board: NewBoard): Promise<Written> {
    const name = board.name.trim();
    if (name === "") throw refused(this.t, "M_INVALID_PARAM", "tasks.problem.noBoardName");
    const columns = board.columns ?? [];
    if (columns.length === 0) throw refused(this.t, "M_INVALID_PARAM", "tasks.problem.noColumns");
    const content: KanbanBoardContent = {
      name,
      // Column IDs as the server makes them (`col0`, `col1`…): cards name their column by it.
      columns: columns.map((column, at) => {
        const made: NonNullable<KanbanBoardContent["columns"]>[number] = { id: `col${at}`, name: column.name.trim() };
        if (column.wip_limit != null) made.wip_limit = column.wip_limit;
        if (column.done) made.done = true;
        return made;
      }),
    };
    return this.#send(space, BOARD_EVENT, newObjectId(), content, []);
  }

  async createCard(space: string, board: BoardView, card: CardInput): Promise<Written> {
    const column = card.column ?? board.columns[0]?.id;
    if (column === undefined) throw refused(this.t, "ORG.PARVIS_UNKNOWN_BOARD", "tasks.problem.noColumns");
    const id = newObjectId();
    const content = cardContent(card, board.id, column, endPosition(board, id, column));
    return this.#send(space, CARD_EVENT, id, { ...content }, checkCard(id, content, board, this.t));
  }

  async editCard(space: string, board: BoardView, cardId: string, card: CardInput): Promise<Written> {
    const current = boardCards(board).find((candidate) => candidate.id === cardId);
    if (!current) throw new ApiError(404, "M_NOT_FOUND", this.t("tasks.problem.noCard"));
    const column = card.column ?? current.column;
    const position = column === current.column ? current.position : endPosition(board, cardId, column);
    const content = cardContent(card, current.board, column, position);
    return this.#send(space, CARD_EVENT, cardId, { ...content }, checkCard(cardId, content, board, this.t));
  }

  async moveCard(space: string, board: BoardView, cardId: string, move: CardMove): Promise<Written> {
    const current = boardCards(board).find((candidate) => candidate.id === cardId);
    if (!current) throw new ApiError(404, "M_NOT_FOUND", this.t("tasks.problem.noCard"));
    const { id: _id, late: _late, event_id: _event, updated_by: _by, updated_at: _at, requested_by: _requested, ...content } = current;
    const moved: KanbanCardContent = {
      ...content,
      column: move.column,
      position: positionAfter(board, cardId, move.column, move.after ?? null, this.t),
    };
    // The card keeps its other fields as the index shows them; only its place changes.
    return this.#send(space, CARD_EVENT, cardId, { ...moved }, checkCard(cardId, moved, board, this.t));
  }

  async commentCard(space: string, card: CardView, body: string): Promise<CommentSent> {
    // What the server refuses of a comment: none empty.
    if (body.trim() === "") throw refused(this.t, "M_INVALID_PARAM", "tasks.problem.noComment");
    const content = commentContent(card.event_id, body);
    if (contentBytes(content) > MAX_INLINE_CONTENT_BYTES) throw new ApiError(413, "M_TOO_LARGE", this.t("tasks.problem.commentTooLarge"));
    const room = await this.widget.roomArgument(await this.tasksRoom(space));
    const sent = await this.widget.api.sendRoomEvent("m.room.message", content, room);
    return { event_id: sentEventId(sent.event_id) };
  }
}

/** The writer of the app's mode. */
export function taskWriterFor(app: App): TaskWriter {
  if (!(app.identity instanceof WidgetIdentity)) return new ApiTaskWriter(app.api);
  const tasksRoom = async (space: string) => {
    const room = roomOf(await app.community(space), "tasks");
    if (!room) throw new ApiError(404, "M_NOT_FOUND", app.t("community.noTool", { tool: app.t("tasks.name") }));
    return room;
  };
  return new WidgetTaskWriter(app.identity.widget, tasksRoom, app.t);
}
