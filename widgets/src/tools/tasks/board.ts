/**
 * A board without I/O: where a card goes when it is dropped or moved from the keyboard (the
 * `after` of `POST …/move`: the card it lands right after, `null` for the top of the column),
 * the board as shown at once after a move (before the server has written it), the filters,
 * and a card's fields as the API takes them back.
 */
import { weekOf } from "./dates";
import type { BoardView, CardInput, CardMove, CardView, ColumnView, KanbanCardContent } from "./types";

/** Where a card was dropped: on a column (its end), or on a card, above or below its middle. */
export interface DropTarget {
  column: string;
  card?: { id: string; edge: "top" | "bottom" };
}

/** Where a card is: its column and its index there. */
export interface CardPlace {
  column: ColumnView;
  index: number;
}

/** The card's place on the board; `null` when it is not in a column (unplaced, or gone). */
export function placeOf(board: BoardView, cardId: string): CardPlace | null {
  for (const column of board.columns) {
    const index = column.cards.findIndex((card) => card.id === cardId);
    if (index !== -1) return { column, index };
  }
  return null;
}

/** Every card of the board: in its columns, in order, then those without a column. */
export function boardCards(board: BoardView): CardView[] {
  return [...board.columns.flatMap((column) => column.cards), ...board.unplaced];
}

/** The cards of a column other than `cardId`, in order: the neighbours a moved card lands among. */
function othersIn(board: BoardView, columnId: string, cardId: string): CardView[] {
  return board.columns.find((column) => column.id === columnId)?.cards.filter((card) => card.id !== cardId) ?? [];
}

/**
 * The move that puts `cardId` at `index` among the other cards of `columnId`; `null` when that
 * is where it already is, or the column does not exist.
 */
export function moveToIndex(board: BoardView, cardId: string, columnId: string, index: number): CardMove | null {
  if (!board.columns.some((column) => column.id === columnId)) return null;
  const others = othersIn(board, columnId, cardId);
  const at = Math.max(0, Math.min(index, others.length));
  const place = placeOf(board, cardId);
  if (place && place.column.id === columnId && place.index === at) return null;
  return { column: columnId, after: others[at - 1]?.id ?? null };
}

/** The move a drop asks for: above or below the card it was dropped on, or at the end of the column. */
export function dropMove(board: BoardView, cardId: string, target: DropTarget): CardMove | null {
  const others = othersIn(board, target.column, cardId);
  if (!target.card) return moveToIndex(board, cardId, target.column, others.length);
  if (target.card.id === cardId) return null;
  const at = others.findIndex((card) => card.id === target.card?.id);
  if (at === -1) return moveToIndex(board, cardId, target.column, others.length);
  return moveToIndex(board, cardId, target.column, target.card.edge === "top" ? at : at + 1);
}

/** One place up (`-1`) or down (`1`) in its column; `null` at the top or the bottom. */
export function stepMove(board: BoardView, cardId: string, step: -1 | 1): CardMove | null {
  const place = placeOf(board, cardId);
  if (!place) return null;
  const at = place.index + step;
  if (at < 0 || at >= place.column.cards.length) return null;
  return moveToIndex(board, cardId, place.column.id, at);
}

/** To the end of another column (a card without a column may go to any). */
export function columnMove(board: BoardView, cardId: string, columnId: string): CardMove | null {
  if (placeOf(board, cardId)?.column.id === columnId) return null;
  return moveToIndex(board, cardId, columnId, othersIn(board, columnId, cardId).length);
}

/** Whether a column holds more cards than its limit. */
export function overLimit(column: Pick<ColumnView, "cards" | "wip_limit">): boolean {
  return column.wip_limit != null && column.cards.length > column.wip_limit;
}

/**
 * The board as it will be once `move` is written: the card out of its place, in its new column
 * right after `after` (at the top without it), each column's over-limit flag recounted. The same
 * board when the card or the column is not there.
 */
export function applyMove(board: BoardView, cardId: string, move: CardMove): BoardView {
  const card = boardCards(board).find((candidate) => candidate.id === cardId);
  if (!card || !board.columns.some((column) => column.id === move.column)) return board;
  const moved: CardView = { ...card, column: move.column };
  const columns = board.columns.map((column) => {
    const cards = column.cards.filter((candidate) => candidate.id !== cardId);
    if (column.id === move.column) {
      const at = move.after ? cards.findIndex((candidate) => candidate.id === move.after) + 1 : 0;
      cards.splice(at, 0, moved);
    }
    return { ...column, cards, over_limit: overLimit({ cards, wip_limit: column.wip_limit }) };
  });
  return { ...board, columns, unplaced: board.unplaced.filter((candidate) => candidate.id !== cardId) };
}

/** "3/5" under a limit, "3" without one. */
export function wipCount(column: Pick<ColumnView, "cards" | "wip_limit">): string {
  return column.wip_limit != null ? `${column.cards.length}/${column.wip_limit}` : String(column.cards.length);
}

/** When a card is due, as the filter asks: `late` (overdue), `week` (due this week), `none` (no date). */
export type DueFilter = "" | "late" | "week" | "none";

/** What the board shows: cards of one assignee, with one label, due when asked (`""`: any). */
export interface CardFilter {
  assignee: string;
  label: string;
  due: DueFilter;
}

/** No filter. */
export const ALL_CARDS: CardFilter = { assignee: "", label: "", due: "" };

/** Whether a filter narrows the board at all. */
export function isFiltering(filter: CardFilter): boolean {
  return filter.assignee !== "" || filter.label !== "" || filter.due !== "";
}

/** Whether a card passes the filter; `today` is the user's day (`dates.today()`). */
export function matchesFilter(card: CardView, filter: CardFilter, today: string): boolean {
  if (filter.assignee && !(card.assignees ?? []).includes(filter.assignee)) return false;
  if (filter.label && !(card.labels ?? []).includes(filter.label)) return false;
  switch (filter.due) {
    case "late":
      return card.late;
    case "week": {
      const { monday, sunday } = weekOf(today);
      return card.due !== undefined && card.due >= monday && card.due <= sunday;
    }
    case "none":
      return card.due === undefined;
    default:
      return true;
  }
}

/** The assignees and labels of the board's cards, each once, sorted: the filters' choices. */
export function filterChoices(board: BoardView): { assignees: string[]; labels: string[] } {
  const cards = boardCards(board);
  const sorted = (values: string[]) => [...new Set(values)].sort((a, b) => a.localeCompare(b));
  return {
    assignees: sorted(cards.flatMap((card) => card.assignees ?? [])),
    labels: sorted(cards.flatMap((card) => card.labels ?? [])),
  };
}

/** A card's fields as `PUT …/cards/{card}` takes them: every one, so an edit loses none. */
export function cardInputOf(card: KanbanCardContent): Required<CardInput> {
  return {
    title: card.title,
    description: card.description ?? "",
    column: card.column,
    assignees: [...(card.assignees ?? [])],
    labels: [...(card.labels ?? [])],
    start: card.start ?? null,
    due: card.due ?? null,
    checklist: (card.checklist ?? []).map((item) => ({ text: item.text, done: item.done ?? false })),
    depends_on: [...(card.depends_on ?? [])],
    archived: card.archived ?? false,
  };
}

/** Done items of a checklist, out of all: `[2, 3]`. */
export function checklistProgress(card: Pick<KanbanCardContent, "checklist">): [number, number] {
  const items = card.checklist ?? [];
  return [items.filter((item) => item.done).length, items.length];
}

/** Matrix IDs or labels typed in one field, separated by commas or spaces (labels: commas only). */
export function splitList(text: string, separators: RegExp = /,/): string[] {
  return [...new Set(text.split(separators).map((part) => part.trim()).filter(Boolean))];
}

/** Whether a text has the shape of a Matrix user ID (`@local:server`). */
export function isUserId(text: string): boolean {
  return /^@[^:\s]+:[^\s]+$/.test(text);
}
