/**
 * The tasks pages following their room, without I/O: which `org.parvis.kanban.card` and
 * `org.parvis.kanban.board` state events change what a page shows, which answer of the index
 * shows them, and what changed for whom, for screen readers. The driver is `following.ts`.
 *
 * - `BoardFollower`: a board page (`GET …/tasks/boards/{board}`). A card event is shown once
 *   the card's `event_id` is the event's (or the card is newer, or gone when the event takes it
 *   off the board); a board event once the board's name, columns and archived flag are the
 *   event's (`BoardView` names no event: its content is what tells).
 * - `GanttFollower`: the Gantt page (`GET …/tasks/gantt`). A card event is shown once the card's
 *   title, column, dates and dependencies are the event's; an event that changes none of them
 *   (a description, a position) is not followed. A board event changes what the schedule names
 *   (a column done or not) without saying how: unless the boards the page read have its content
 *   already, the page re-reads the schedule once or twice.
 *
 * Both take the events the page sent itself out (`own`), and ignore those of other boards.
 */
import { localpart } from "../../app/ui";
import { IndexFollower, sameAnswer, type AwaitedChange } from "../../publishing/live";
import type { LiveEvent } from "../../session/live";
import { boardCards, placeOf } from "./board";
import { BOARD_EVENT, CARD_EVENT, type BoardSummary, type BoardView, type GanttView } from "./types";
import type { Translate } from "./writer";

/**
 * How long a page re-reads the index for a board event: with the waits of `waitUntil`
 * (400 ms, then 600 ms…), three reads at most. Parvis indexes an event as the homeserver pushes
 * it, most often before the members' clients see it: the first read usually shows it.
 */
export const BOARD_WAIT_MS = 1_500;

/** What another member changed, once the page shows it. */
export interface TaskChange {
  /** Who sent the event (a Matrix ID). */
  sender: string;
  /** A new card, a card in another column or place, another change of a card, one gone; the board itself. */
  kind: "added" | "moved" | "changed" | "removed" | "board";
  /** The card's title, or the board's name. */
  title: string;
  /** The column the card is now in (`added`, `moved`). */
  column?: string;
}

/** The fields of a board that a `org.parvis.kanban.board` event sets, as the index shows them. */
interface BoardShape {
  name: string;
  archived?: boolean;
  columns?: readonly { id: string; name: string; wip_limit?: number | null; done?: boolean }[];
}

/** Whether `shown` (a board of the index) has the content of a board event. */
export function boardShows(shown: BoardShape, content: Record<string, unknown>): boolean {
  const columns = Array.isArray(content.columns) ? (content.columns as Record<string, unknown>[]) : [];
  const shape = (column: Record<string, unknown>) => [column.id, column.name, column.wip_limit ?? null, column.done ?? false];
  return (
    shown.name === content.name &&
    (shown.archived ?? false) === (content.archived ?? false) &&
    sameAnswer(
      (shown.columns ?? []).map((column) => shape(column as unknown as Record<string, unknown>)),
      columns.map(shape),
    )
  );
}

/**
 * A page of the tasks tool following the index: `IndexFollower` with, for each event it waits
 * for, who sent it, so that `showing` can say what changed and by whom.
 */
export abstract class TaskFollower<S> extends IndexFollower<S> {
  /** The events awaited, with what the base class waits for. */
  readonly #heard = new Map<string, { event: LiveEvent; change: AwaitedChange<S> }>();

  /** What `event` changed, between two answers of the index; `null` when nothing shown. */
  protected abstract describe(event: LiveEvent, before: S, after: S): TaskChange | null;

  /** Waits for `change` of `event` unless heard already; `true` when it is new. */
  protected follow(event: LiveEvent, change: AwaitedChange<S>): boolean {
    if (!this.await(change)) return false;
    this.#heard.set(change.eventId, { event, change });
    return true;
  }

  /** The page now shows `snapshot`: what others changed that it shows, each card once. */
  override showing(snapshot: S): TaskChange[] {
    const before = this.shown;
    const changes = new Map<string, TaskChange>();
    for (const [eventId, { event, change }] of this.#heard) {
      if (!change.shownBy(snapshot)) continue;
      this.#heard.delete(eventId);
      const described = this.describe(event, before, snapshot);
      // Two events of one card: what it is now, once.
      if (described) changes.set(`${event.type}|${event.state_key}`, described);
    }
    super.showing(snapshot);
    return [...changes.values()];
  }

  override own(eventId: string): void {
    super.own(eventId);
    this.#heard.delete(eventId);
  }

  override giveUp(): void {
    super.giveUp();
    this.#heard.clear();
  }
}

/** One board, as its page shows it. */
export class BoardFollower extends TaskFollower<BoardView> {
  offer(event: LiveEvent): boolean {
    if (event.state_key === undefined) return false;
    const board = this.shown;
    if (event.type === BOARD_EVENT) {
      if (event.state_key !== board.id) return false;
      const shows = (fresh: BoardView) => boardShows(fresh, event.content);
      if (shows(board)) return false;
      return this.follow(event, { eventId: event.event_id, shownBy: shows, patienceMs: BOARD_WAIT_MS });
    }
    if (event.type !== CARD_EVENT) return false;
    const id = event.state_key;
    const before = boardCards(board).find((card) => card.id === id);
    if (before) {
      // Shown already, or older than what is shown (pushed again with the room state).
      if (before.event_id === event.event_id || event.origin_server_ts < before.updated_at) return false;
    } else if (event.content.board !== board.id || event.content.archived === true) {
      // Another board's card, or one that stays off this board.
      return false;
    }
    const sentAt = event.origin_server_ts;
    return this.follow(event, {
      eventId: event.event_id,
      shownBy: (fresh) => {
        const now = boardCards(fresh).find((card) => card.id === id);
        // This revision or a later one; or, for a card shown before, its leaving the board
        // (archived, on another board, or content the index cannot read).
        return now === undefined ? before !== undefined : now.event_id === event.event_id || now.updated_at > sentAt;
      },
    });
  }

  protected describe(event: LiveEvent, before: BoardView, after: BoardView): TaskChange | null {
    const sender = event.sender;
    if (event.type === BOARD_EVENT) return { sender, kind: "board", title: after.name };
    const id = event.state_key ?? "";
    const was = boardCards(before).find((card) => card.id === id);
    const now = boardCards(after).find((card) => card.id === id);
    if (!now) return was ? { sender, kind: "removed", title: was.title } : null;
    const place = placeOf(after, id);
    if (!was) return { sender, kind: "added", title: now.title, column: place?.column.name };
    const wasPlace = placeOf(before, id);
    if (place && (wasPlace?.column.id !== place.column.id || wasPlace.index !== place.index)) {
      return { sender, kind: "moved", title: now.title, column: place.column.name };
    }
    return { sender, kind: "changed", title: now.title };
  }
}

/** The fields of a card event's content the Gantt page shows. */
function scheduleShows(view: GanttView, id: string, content: Record<string, unknown>, board: string | undefined): boolean {
  const dated = view.cards.find((card) => card.id === id);
  const undated = view.undated.find((card) => card.id === id);
  const off = content.archived === true || typeof content.title !== "string" || (board !== undefined && content.board !== board);
  if (off) return !dated && !undated;
  if (typeof content.due !== "string") return !dated && undated?.title === content.title;
  // The dependencies the chart draws: those on dated cards.
  const dependsOn = (Array.isArray(content.depends_on) ? (content.depends_on as unknown[]) : []).filter((other) =>
    view.cards.some((card) => card.id === other),
  );
  return (
    dated !== undefined &&
    dated.title === content.title &&
    dated.column === content.column &&
    dated.due === content.due &&
    dated.start === (typeof content.start === "string" ? content.start : content.due) &&
    sameAnswer([...dated.depends_on].sort(), dependsOn.map(String).sort())
  );
}

/**
 * The Gantt page: one board's schedule, or every board's (`board` absent). `null` while the
 * server refuses a schedule (a circle of dependencies): any answer then shows a change.
 */
export class GanttFollower extends TaskFollower<GanttView | null> {
  constructor(
    /** The board whose cards the page shows; every board's when absent. */
    readonly board: string | undefined,
    shown: GanttView | null,
    /** The community's boards as the page read them: a board event with their content changes nothing. */
    readonly boards: readonly BoardSummary[] = [],
  ) {
    super(shown);
  }

  offer(event: LiveEvent): boolean {
    if (event.state_key === undefined) return false;
    const shown = this.shown;
    const id = event.state_key;
    if (event.type === BOARD_EVENT) {
      if (this.board !== undefined && id !== this.board) return false;
      const known = this.boards.find((summary) => summary.id === id);
      if (known && boardShows(known, event.content)) return false;
      // The schedule names no board's content: any other answer is a change.
      return this.follow(event, { eventId: event.event_id, shownBy: (fresh) => !sameAnswer(fresh, shown), patienceMs: BOARD_WAIT_MS });
    }
    if (event.type !== CARD_EVENT) return false;
    const content = event.content;
    if (shown === null) return this.follow(event, { eventId: event.event_id, shownBy: (fresh) => fresh !== null });
    const listed = shown.cards.some((card) => card.id === id) || shown.undated.some((card) => card.id === id);
    if (!listed && this.board !== undefined && content.board !== this.board) return false;
    const shows = (view: GanttView | null) => view !== null && scheduleShows(view, id, content, this.board);
    if (shows(shown)) return false;
    return this.follow(event, { eventId: event.event_id, shownBy: shows });
  }

  protected describe(event: LiveEvent, before: GanttView | null, after: GanttView | null): TaskChange | null {
    const sender = event.sender;
    if (event.type === BOARD_EVENT) return { sender, kind: "board", title: "" };
    const id = event.state_key ?? "";
    const find = (view: GanttView | null) => view?.cards.find((card) => card.id === id) ?? view?.undated.find((card) => card.id === id);
    const was = find(before);
    const now = find(after);
    if (!now) return was ? { sender, kind: "removed", title: was.title } : null;
    return { sender, kind: was ? "changed" : "added", title: now.title };
  }
}

/** More changes than this at once are counted rather than told one by one. */
const TOLD_ONE_BY_ONE = 3;

/**
 * What screen readers are told of others' changes a redraw shows: "bob moved “X” to In
 * progress." (the sender's local part), each change; their number when there are many; `null`
 * for none.
 */
export function liveAnnouncement(t: Translate, changes: readonly TaskChange[]): string | null {
  if (changes.length === 0) return null;
  if (changes.length > TOLD_ONE_BY_ONE) return t("tasks.live.many", { count: changes.length });
  return changes
    .map((change) => {
      const sender = localpart(change.sender);
      const title = change.title || t("common.untitled");
      switch (change.kind) {
        case "added":
          return change.column !== undefined
            ? t("tasks.live.added", { sender, title, column: change.column })
            : t("tasks.live.changed", { sender, title });
        case "moved":
          return t("tasks.live.moved", { sender, title, column: change.column ?? "" });
        case "removed":
          return t("tasks.live.removed", { sender, title });
        case "board":
          return change.title ? t("tasks.live.board", { sender, name: change.title }) : t("tasks.live.boards", { sender });
        default:
          return t("tasks.live.changed", { sender, title });
      }
    })
    .join(" ");
}
