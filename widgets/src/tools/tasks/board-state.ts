/**
 * The board page's state and what changes it: the board shown (a signal the components read),
 * the filters, the card open in its dialog, and the user's writes — one at a time, each shown at
 * once where it can be (a move), then re-read from the index until it shows the write. While
 * the page follows the tasks room (`follow`), others' changes are shown too, once the index has
 * them, and told to screen readers; the focus stays on the control it was on.
 */
import { signal, type Signal } from "@preact/signals";
import type { App } from "../../app/context";
import { hashFor } from "../../app/router";
import { waitUntil } from "../../publishing/await-index";
import type { LiveEvent, LiveEvents } from "../../session/live";
import { listBoards, loadBoard } from "./api";
import { ALL_CARDS, applyMove, boardCards, placeOf, type CardFilter } from "./board";
import { LiveFollowing } from "./following";
import { BOARD_WAIT_MS, BoardFollower, boardShows, liveAnnouncement, type TaskChange } from "./live";
import { BOARD_ROUTE } from "./tool";
import { BOARD_EVENT, type BoardSummary, type BoardView, type CardInput, type CardMove, type Written } from "./types";
import type { TaskWriter } from "./writer";

/**
 * A control of a card that can have the focus, by its `data-focus`: its title (opening its
 * dialog), its move controls' summary, column, the button moving it there, up and down.
 */
export type CardControl = "open" | "moves" | "column" | "confirm" | "up" | "down";

/** The card control that has the focus, if any: it gets it back once a redraw moved its card. */
function focusedControl(): { card: string; control: CardControl } | null {
  const active = typeof document === "undefined" ? null : document.activeElement;
  const control = active?.getAttribute("data-focus");
  const card = active?.closest<HTMLElement>("[data-card-id]")?.dataset.cardId;
  return card && control ? { card, control: control as CardControl } : null;
}

/** The board page's state. */
export class BoardState {
  /** The community's boards, for the picker. */
  readonly boards;
  /** The board shown; `null` when the community has none yet. */
  readonly board;
  readonly filter = signal<CardFilter>(ALL_CARDS);
  /** The card whose dialog is open. */
  readonly editing = signal<string | null>(null);
  /** A write is under way: one at a time, so each re-read shows every change of the user. */
  readonly writing = signal(false);
  /** The last write's failure, shown above the board (the dialog shows its own). */
  readonly error = signal<unknown>(null);
  /** The dialog's last failure. */
  readonly dialogError = signal<unknown>(null);
  /** What the last write warns of (a column over its limit). */
  readonly warnings = signal<readonly string[]>([]);
  /** The card whose move controls are open: they stay open when a move redraws the card. */
  readonly movesOpen = signal<string | null>(null);
  /**
   * The card control to focus once a move has redrawn its card (elsewhere, or in another
   * column): the user's move from the keyboard, or another member's while it had the focus.
   */
  readonly refocus = signal<{ card: string; control: CardControl } | null>(null);
  /** Others' changes, while the page follows the tasks room. */
  #following: LiveFollowing<BoardView> | null = null;
  /** The tasks room the page follows; `null` before `follow`. */
  #room: string | null = null;
  /** The picker's list is being read again. */
  #boardsReading = false;

  constructor(
    readonly app: App,
    readonly space: string,
    boards: BoardSummary[],
    board: BoardView | null,
    readonly writer: TaskWriter,
    readonly abort: AbortSignal,
  ) {
    this.boards = signal(boards);
    this.board = signal(board);
  }

  /**
   * Follows the tasks room while the page is shown: others' changes to the board's cards and to
   * the board itself are shown once the index has them (a board event, or a new board, reads
   * the list of boards again too). Returns the undoing function.
   */
  follow(live: LiveEvents, roomId: string): () => void {
    this.#room = roomId;
    const board = this.board.value;
    if (!board) return () => undefined;
    const following = new LiveFollowing(
      new BoardFollower(board),
      () => loadBoard(this.app.api, this.space, board.id, this.abort),
      (fresh, changes) => this.#showOthers(fresh, changes),
      { signal: this.abort },
    );
    this.#following = following;
    const unsubscribe = live.subscribe(roomId, (event) => {
      following.hear(event);
      if (event.type === BOARD_EVENT) this.#readBoardsFor(event);
    });
    return () => {
      unsubscribe();
      if (this.#following === following) this.#following = null;
    };
  }

  /** The community's tasks room, once the page follows it: where a card's dialog follows its comments. */
  get room(): string | null {
    return this.#room;
  }

  /** A board event the picker does not show yet (a new board, another name): the list read again, briefly. */
  #readBoardsFor(event: LiveEvent): void {
    const shown = this.boards.value.find((summary) => summary.id === event.state_key);
    if ((shown && boardShows(shown, event.content)) || this.#boardsReading) return;
    this.#boardsReading = true;
    void waitUntil(
      async () => {
        const fresh = await listBoards(this.app.api, this.space, this.abort);
        const now = fresh.find((summary) => summary.id === event.state_key);
        return now && boardShows(now, event.content) ? fresh : undefined;
      },
      { signal: this.abort, timeoutMs: BOARD_WAIT_MS },
    )
      .then((fresh) => {
        if (fresh && !this.abort.aborted) this.boards.value = fresh;
      })
      .finally(() => (this.#boardsReading = false));
  }

  /** The board as the index has it with others' changes: redrawn, the focus kept, the changes told. */
  #showOthers(fresh: BoardView, changes: readonly TaskChange[]): void {
    if (this.abort.aborted) return;
    // A card moved to another column is drawn anew there: the control that had the focus gets it back.
    const focused = focusedControl();
    if (focused && boardCards(fresh).some((card) => card.id === focused.card)) this.refocus.value = focused;
    this.board.value = fresh;
    this.#tell(changes);
  }

  #tell(changes: readonly TaskChange[]): void {
    const message = liveAnnouncement(this.app.t, changes);
    if (message) this.app.announce(message);
  }

  /** A move of a card: shown at once, then written; put back, with the error shown, when refused. */
  async move(cardId: string, move: CardMove | null): Promise<void> {
    const before = this.board.value;
    if (!move || !before || this.writing.value) return;
    const card = boardCards(before).find((candidate) => candidate.id === cardId);
    if (!card) return;
    const after = applyMove(before, cardId, move);
    this.board.value = after;
    const place = placeOf(after, cardId);
    if (place) {
      this.app.announce(
        this.app.t("tasks.moved", { title: card.title, column: place.column.name, position: place.index + 1, count: place.column.cards.length }),
      );
    }
    const written = await this.#write(() => this.writer.moveCard(this.space, before, cardId, move));
    if (!written && !this.abort.aborted) {
      this.board.value = before;
      this.app.announce(this.app.t("tasks.moveUndone", { title: card.title }));
    }
  }

  /** A new card at the end of `column`. */
  async addCard(column: string, title: string): Promise<boolean> {
    const board = this.board.value;
    if (!board || this.writing.value) return false;
    const written = await this.#write(() => this.writer.createCard(this.space, board, { title, column }));
    if (!written) return false;
    const name = board.columns.find((candidate) => candidate.id === column)?.name ?? column;
    this.app.announce(this.app.t("tasks.added", { title: title.trim(), column: name }));
    return true;
  }

  /** The dialog's card saved with the fields it holds; the dialog closes once it is written. */
  async save(cardId: string, input: CardInput): Promise<boolean> {
    const board = this.board.value;
    if (!board || this.writing.value) return false;
    this.dialogError.value = null;
    const written = await this.#write(() => this.writer.editCard(this.space, board, cardId, input), {
      errorSignal: this.dialogError,
      leaves: input.archived === true,
    });
    if (!written) return false;
    this.editing.value = null;
    this.app.announce(this.app.t("tasks.saved", { title: input.title.trim() }));
    return true;
  }

  /** A new board with the three usual columns, in the user's language; then it is shown. */
  async createBoard(name: string): Promise<boolean> {
    if (this.writing.value) return false;
    const { t } = this.app;
    const columns = [{ name: t("tasks.columnTodo") }, { name: t("tasks.columnDoing") }, { name: t("tasks.columnDone"), done: true }];
    this.writing.value = true;
    this.error.value = null;
    try {
      const written = await this.writer.createBoard(this.space, { name, columns });
      const boards = await waitUntil(
        async () => {
          const fresh = await listBoards(this.app.api, this.space, this.abort);
          return fresh.some((board) => board.id === written.id) ? fresh : undefined;
        },
        { signal: this.abort },
      );
      if (this.abort.aborted) return false;
      if (!boards) {
        this.app.announce(this.app.t("edit.pending"));
        return true;
      }
      this.app.announce(t("tasks.boardCreated", { name: name.trim() }));
      this.app.navigate(hashFor(BOARD_ROUTE, { space: this.space }, { board: written.id }));
      return true;
    } catch (error) {
      if (!this.abort.aborted) this.error.value = error;
      return false;
    } finally {
      this.writing.value = false;
    }
  }

  /**
   * One write, then the board re-read until the index shows it (the card's current event is the
   * one sent, or the card gone when it `leaves` the board, archived), its warnings shown; `null`
   * when it failed, its error in `errorSignal`.
   */
  async #write(
    send: () => Promise<Written>,
    { errorSignal = this.error, leaves = false }: { errorSignal?: Signal<unknown>; leaves?: boolean } = {},
  ): Promise<Written | null> {
    this.writing.value = true;
    this.error.value = null;
    this.warnings.value = [];
    const following = this.#following;
    following?.writeStarts();
    try {
      const written = await send();
      following?.wrote(written.event_id);
      if (this.abort.aborted) return null;
      this.warnings.value = written.warnings;
      await this.#reload(written, leaves);
      return written;
    } catch (error) {
      if (!this.abort.aborted) errorSignal.value = error;
      return null;
    } finally {
      this.writing.value = false;
      following?.writeEnds();
    }
  }

  /** The board as the index has it once it holds `written` (at most the usual wait; then as it is). */
  async #reload(written: Written, leaves: boolean): Promise<void> {
    const board = this.board.value;
    if (!board) return;
    const shows = (fresh: BoardView) => {
      const card = boardCards(fresh).find((candidate) => candidate.id === written.id);
      return leaves ? card === undefined : card?.event_id === written.event_id;
    };
    const fresh = await waitUntil(
      async () => {
        const answer = await loadBoard(this.app.api, this.space, board.id, this.abort);
        return shows(answer) ? answer : undefined;
      },
      { signal: this.abort },
    );
    if (this.abort.aborted) return;
    if (!fresh) {
      this.app.announce(this.app.t("edit.pending"));
      return;
    }
    this.board.value = fresh;
    // Others' changes heard meanwhile are in this answer too.
    const others = this.#following?.showing(fresh) ?? [];
    this.#tell(others);
  }
}
