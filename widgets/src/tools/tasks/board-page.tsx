/**
 * `#/c/{space}/tasks?board=`: a board of the community (its first open one without `board`),
 * its columns side by side with their cards, a card's dialog to edit it (`&card=` opens it).
 * Cards move with the pointer (drag and drop) or with each card's "Move" controls, the way for
 * the keyboard and for a single pointer: its column (chosen, then confirmed), up, down. A move
 * shows at once and is announced; the board is then re-read from the index, and what the write
 * warns of (a column over its limit) is shown. Filters narrow the cards by assignee, label and
 * due date. While shown, the page follows the community's tasks room: others' changes appear
 * without a reload, the focus and an open dialog kept, and are told to screen readers. A reader
 * of the community (the board's `may_write` false) is told once that they may read it only, and
 * offered nothing the server would refuse: no new card or board, no moves, a card's dialog to
 * read, without a comment form. The board is a Preact component over the signals of `BoardState`.
 */
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { PageContext } from "../../app/context";
import { ErrorBox } from "../../app/error-box";
import { hashFor } from "../../app/router";
import { downloadCsv, listBoards, loadBoard } from "./api";
import { Assignees } from "./assignees";
import {
  ALL_CARDS,
  boardCards,
  checklistProgress,
  columnMove,
  dropMove,
  filterChoices,
  isFiltering,
  matchesFilter,
  stepMove,
  wipCount,
  type CardFilter,
  type DueFilter,
} from "./board";
import { BoardState, type CardControl } from "./board-state";
import { CardDialog } from "./card-dialog";
import { formatDate, today } from "./dates";
import { dragCard, dropOnColumn, watchDrops } from "./dnd";
import { tasksRoomOf } from "./following";
import { BOARD_ROUTE, GANTT_ROUTE, MINE_ROUTE } from "./tool";
import type { BoardView, CardMove, CardView, ColumnView } from "./types";
import { taskWriterFor } from "./writer";
import "./tasks.css";

export default async function boardPage(context: PageContext): Promise<void | (() => void)> {
  const { app, main, params, query, signal } = context;
  const space = params.space as string;
  const [boards, room] = await Promise.all([listBoards(app.api, space, signal), tasksRoomOf(app, space)]);
  if (signal.aborted) return;
  const chosen = query.get("board") ?? boards.find((board) => !board.archived)?.id ?? boards[0]?.id;
  const board = chosen ? await loadBoard(app.api, space, chosen, signal) : null;
  if (signal.aborted) return;
  app.setTitle(board?.name ?? "", app.t("tasks.name"));
  const state = new BoardState(app, space, boards, board, taskWriterFor(app), signal);
  const card = query.get("card");
  if (card && board && boardCards(board).some((candidate) => candidate.id === card)) state.editing.value = card;
  // Others' changes, from the room (the standalone app's sync, or Element in widget mode).
  const unfollow = room ? state.follow(app.live, room) : () => undefined;
  render(<BoardScreen state={state} />, main);
  return () => {
    unfollow();
    render(null, main);
  };
}

/** The whole page. */
export function BoardScreen({ state }: { state: BoardState }) {
  const { app, space } = state;
  const t = app.t;
  const board = state.board.value;
  const boards = state.boards.value;
  const editing = state.editing.value;
  const card = editing && board ? boardCards(board).find((candidate) => candidate.id === editing) : undefined;
  const exportCsv = () => {
    if (!board) return;
    state.error.value = null;
    downloadCsv(app.api, space, board.id).catch((error: unknown) => (state.error.value = error));
  };
  return (
    <>
      <div class="page-header">
        <h1 tabIndex={-1} id="page-title">
          {board?.name ?? t("tasks.name")}
        </h1>
        <div class="actions">
          <a class="button secondary" href={hashFor(GANTT_ROUTE, { space }, { board: board?.id })}>
            {t("tasks.gantt")}
          </a>
          <a class="button secondary" href={hashFor(MINE_ROUTE)}>
            {t("tasks.mine")}
          </a>
          {board && (
            <button type="button" class="secondary" onClick={exportCsv}>
              {t("tasks.exportCsv")}
            </button>
          )}
        </div>
      </div>
      {board && !board.may_write && (
        <p class="tasks-notice tasks-reader-notice" role="note">
          {t("tasks.readerNotice")}
        </p>
      )}
      {boards.length > 0 && <BoardPicker state={state} />}
      {(!board || board.may_write) && <NewBoardForm state={state} first={boards.length === 0} />}
      <WriteStatus state={state} />
      {board && (
        <>
          {board.archived && <p class="tasks-notice">{t("tasks.archivedNotice")}</p>}
          <Filters state={state} board={board} />
          <Board state={state} board={board} />
          {board.unplaced.length > 0 && (
            <section class="tasks-unplaced" aria-labelledby="tasks-unplaced-title">
              <h2 id="tasks-unplaced-title">{t("tasks.unplaced")}</h2>
              <ol class="tasks-cards">
                {board.unplaced.map((unplaced, index) => (
                  <CardTile key={unplaced.id} state={state} board={board} column={null} card={unplaced} index={index} />
                ))}
              </ol>
            </section>
          )}
        </>
      )}
      {board && card && <CardDialog key={card.id} state={state} board={board} card={card} />}
    </>
  );
}

/** The community's boards; choosing one shows it. */
function BoardPicker({ state }: { state: BoardState }) {
  const { app, space } = state;
  const board = state.board.value;
  return (
    <div class="field tasks-picker">
      <label for="tasks-board">{app.t("tasks.board")}</label>
      <select
        id="tasks-board"
        value={board?.id ?? ""}
        onChange={(event) => app.navigate(hashFor(BOARD_ROUTE, { space }, { board: event.currentTarget.value }))}
      >
        {state.boards.value.map((summary) => (
          <option key={summary.id} value={summary.id}>
            {summary.archived ? app.t("tasks.archived", { name: summary.name }) : summary.name}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A new board: a section of its own while the community has none, else folded away. */
function NewBoardForm({ state, first }: { state: BoardState; first: boolean }) {
  const t = state.app.t;
  const [name, setName] = useState("");
  const form = (
    <form
      class="tasks-new-board"
      onSubmit={async (event) => {
        event.preventDefault();
        if (name.trim() !== "" && (await state.createBoard(name))) setName("");
      }}
    >
      <div class="field">
        <label for="tasks-new-board-name">{t("tasks.boardName")}</label>
        <input id="tasks-new-board-name" required autocomplete="off" value={name} onInput={(event) => setName(event.currentTarget.value)} />
      </div>
      <button type="submit" aria-disabled={state.writing.value ? "true" : undefined}>
        {t("tasks.createBoard")}
      </button>
    </form>
  );
  if (first) {
    return (
      <section aria-labelledby="tasks-new-board-title">
        <h2 id="tasks-new-board-title">{t("tasks.newBoard")}</h2>
        <p>{t("tasks.noBoards")}</p>
        {form}
      </section>
    );
  }
  return (
    <details class="tasks-new-board-fold">
      <summary>{t("tasks.newBoard")}</summary>
      {form}
    </details>
  );
}

/** The last write's failure, or what it warns of. */
function WriteStatus({ state }: { state: BoardState }) {
  const { app } = state;
  const error = state.error.value;
  const warnings = state.warnings.value;
  return (
    <div class="form-status tasks-status" aria-live="polite">
      {error !== null && <ErrorBox app={app} error={error} />}
      {warnings.length > 0 && (
        <div class="tasks-warnings">
          <p>{app.t("tasks.warningsTitle")}</p>
          <ul>
            {warnings.map((warning) => (
              <li key={warning}>{warning}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

/** The filters: assignee, label, due date; how many cards they show. */
function Filters({ state, board }: { state: BoardState; board: BoardView }) {
  const t = state.app.t;
  const filter = state.filter.value;
  const choices = filterChoices(board);
  const set = (patch: Partial<CardFilter>) => (state.filter.value = { ...state.filter.value, ...patch });
  const cards = boardCards(board);
  const day = today();
  const shown = cards.filter((card) => matchesFilter(card, filter, day)).length;
  const dues: [DueFilter, string][] = [
    ["", t("tasks.filterAny")],
    ["late", t("tasks.filterLate")],
    ["week", t("tasks.filterWeek")],
    ["none", t("tasks.filterNone")],
  ];
  return (
    <fieldset class="tasks-filters">
      <legend>{t("tasks.filters")}</legend>
      <div class="field">
        <label for="tasks-filter-assignee">{t("tasks.filterAssignee")}</label>
        <select id="tasks-filter-assignee" value={filter.assignee} onChange={(event) => set({ assignee: event.currentTarget.value })}>
          <option value="">{t("tasks.filterAny")}</option>
          {choices.assignees.map((assignee) => (
            <option key={assignee} value={assignee}>
              {assignee}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="tasks-filter-label">{t("tasks.filterLabel")}</label>
        <select id="tasks-filter-label" value={filter.label} onChange={(event) => set({ label: event.currentTarget.value })}>
          <option value="">{t("tasks.filterAny")}</option>
          {choices.labels.map((label) => (
            <option key={label} value={label}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="tasks-filter-due">{t("tasks.filterDue")}</label>
        <select id="tasks-filter-due" value={filter.due} onChange={(event) => set({ due: event.currentTarget.value as DueFilter })}>
          {dues.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <p class="tasks-filter-count" role="status">
        {isFiltering(filter) && (
          <>
            {t("tasks.filterCount", { shown, total: cards.length })}{" "}
            <button type="button" class="secondary" onClick={() => (state.filter.value = ALL_CARDS)}>
              {t("tasks.filterClear")}
            </button>
          </>
        )}
      </p>
    </fieldset>
  );
}

/** The columns, side by side (scrolling sideways on a narrow screen); drops of cards land here. */
function Board({ state, board }: { state: BoardState; board: BoardView }) {
  useEffect(
    () =>
      watchDrops((cardId, target) => {
        const current = state.board.value;
        if (current && !current.archived && current.may_write) void state.move(cardId, dropMove(current, cardId, target));
      }),
    [state],
  );
  return (
    <div class="tasks-board">
      {board.columns.map((column, index) => (
        <Column key={column.id} state={state} board={board} column={column} index={index} />
      ))}
    </div>
  );
}

/** A column: its name and count ("3/5" under a limit, marked when over), its cards, a new card. */
function Column({ state, board, column, index }: { state: BoardState; board: BoardView; column: ColumnView; index: number }) {
  const t = state.app.t;
  const section = useRef<HTMLElement>(null);
  // Its cards change only on a board that is not archived, and for a member who may write.
  const changeable = !board.archived && board.may_write;
  useEffect(() => (section.current && changeable ? dropOnColumn(section.current, column.id) : undefined), [column.id, changeable]);
  const filter = state.filter.value;
  const day = today();
  const titleId = `tasks-column-${index}`;
  const count = column.cards.length;
  return (
    <section
      ref={section}
      class="tasks-column"
      aria-labelledby={titleId}
      data-column-id={column.id}
      data-over-limit={column.over_limit ? "true" : undefined}
    >
      <h2 id={titleId} class="tasks-column-title">
        <span class="tasks-column-name">{column.name}</span>{" "}
        <span class="tasks-wip">
          <span aria-hidden="true">{wipCount(column)}</span>
          <span class="visually-hidden">
            {column.wip_limit != null ? t("tasks.wipLimit", { count, limit: column.wip_limit }) : t("tasks.wipCount", { count })}
          </span>
        </span>
        {column.over_limit && <span class="badge tasks-over-limit">{t("tasks.overLimit")}</span>}
      </h2>
      <ol class="tasks-cards">
        {column.cards.map((card, at) =>
          matchesFilter(card, filter, day) ? <CardTile key={card.id} state={state} board={board} column={column} card={card} index={at} /> : null,
        )}
      </ol>
      {count === 0 && <p class="tasks-empty">{t("tasks.emptyColumn")}</p>}
      {changeable && <AddCard state={state} column={column} index={index} />}
    </section>
  );
}

/** A card: its title (opening its dialog), labels, assignees, due date, checklist, move controls. */
function CardTile({
  state,
  board,
  column,
  card,
  index,
}: {
  state: BoardState;
  board: BoardView;
  column: ColumnView | null;
  card: CardView;
  index: number;
}) {
  const { app } = state;
  const t = app.t;
  const item = useRef<HTMLLIElement>(null);
  const movable = !board.archived && board.may_write;
  useEffect(() => (item.current && movable && column ? dragCard(item.current, card.id, column.id) : undefined), [card.id, column?.id, movable]);
  const [done, total] = checklistProgress(card);
  const labels = card.labels ?? [];
  const assignees = card.assignees ?? [];
  const title = card.title || t("common.untitled");
  // After a move redrew the card (elsewhere in its column, or in another), the control that had
  // the focus gets it back: the user's move, or another member's.
  const refocus = state.refocus.value;
  useEffect(() => {
    if (refocus?.card !== card.id) return;
    item.current?.querySelector<HTMLElement>(`[data-focus="${refocus.control}"]`)?.focus();
    state.refocus.value = null;
  }, [refocus, card.id]);
  return (
    <li ref={item} class="tasks-card" data-card-id={card.id} data-late={card.late ? "true" : undefined}>
      <h3 class="tasks-card-title">
        <button type="button" class="tasks-open" data-focus="open" onClick={() => (state.editing.value = card.id)}>
          {title}
        </button>
      </h3>
      {labels.length > 0 && (
        <ul class="tags" aria-label={t("tasks.labels")}>
          {labels.map((label) => (
            <li key={label}>{label}</li>
          ))}
        </ul>
      )}
      {assignees.length > 0 && <Assignees state={state} assignees={assignees} />}
      {card.due && (
        <p class="tasks-due">
          <time dateTime={card.due}>{t("tasks.dueOn", { date: formatDate(card.due, app.i18n.lang) })}</time>
          {card.late && (
            <>
              {" "}
              <span class="badge tasks-late">{t("tasks.late")}</span>
            </>
          )}
        </p>
      )}
      {total > 0 && <p class="tasks-checklist-count">{t("tasks.checklistCount", { done, total })}</p>}
      {movable && <MoveControls state={state} board={board} column={column} card={card} index={index} />}
    </li>
  );
}

/**
 * The keyboard's way to move a card: to a column chosen in a list, then confirmed (its button,
 * or Enter in the list); one place up, one place down.
 */
function MoveControls({
  state,
  board,
  column,
  card,
  index,
}: {
  state: BoardState;
  board: BoardView;
  column: ColumnView | null;
  card: CardView;
  index: number;
}) {
  const t = state.app.t;
  const title = card.title || t("common.untitled");
  const busy = state.writing.value;
  const first = !column || index === 0;
  const last = !column || index === column.cards.length - 1;
  const go = (move: CardMove | null, control: CardControl) => {
    if (busy || !move) return;
    state.movesOpen.value = card.id;
    state.refocus.value = { card: card.id, control };
    void state.move(card.id, move);
  };
  // The column chosen in the list, moved to only once confirmed: the arrow keys go through the
  // columns one by one (each a `change`), and the card is not moved to every column on the way.
  // A choice made in another column than the card's (another member moved it) is forgotten.
  const current = column?.id ?? "";
  const [choice, setChoice] = useState({ from: current, to: current });
  const target = choice.from === current ? choice.to : current;
  const targetName = board.columns.find((candidate) => candidate.id === target)?.name ?? "—";
  const unmoved = target === current;
  return (
    <details
      class="tasks-move"
      open={state.movesOpen.value === card.id}
      onToggle={(event) => {
        const open = event.currentTarget.open;
        if (open) state.movesOpen.value = card.id;
        else if (state.movesOpen.value === card.id) state.movesOpen.value = null;
      }}
    >
      <summary data-focus="moves">
        {t("tasks.move")}
        <span class="visually-hidden"> {title}</span>
      </summary>
      <div class="tasks-move-controls">
        <select
          aria-label={t("tasks.moveToColumn", { title })}
          data-move="column"
          data-focus="column"
          value={target}
          onChange={(event) => setChoice({ from: current, to: event.currentTarget.value })}
          onKeyDown={(event) => {
            if (event.key !== "Enter") return;
            // Enter confirms, as the button does (and opens no list).
            event.preventDefault();
            go(columnMove(board, card.id, event.currentTarget.value), "column");
          }}
        >
          {!column && <option value="">—</option>}
          {board.columns.map((candidate) => (
            <option key={candidate.id} value={candidate.id}>
              {candidate.name}
            </option>
          ))}
        </select>
        <button
          type="button"
          data-move="confirm"
          data-focus="confirm"
          aria-label={t("tasks.moveConfirmLabel", { title, column: targetName })}
          aria-disabled={unmoved || busy ? "true" : undefined}
          onClick={() => !unmoved && go(columnMove(board, card.id, target), "confirm")}
        >
          {t("tasks.moveConfirm")}
        </button>
        <button
          type="button"
          class="secondary"
          data-move="up"
          data-focus="up"
          aria-label={t("tasks.moveUpLabel", { title })}
          aria-disabled={first || busy ? "true" : undefined}
          onClick={() => !first && go(stepMove(board, card.id, -1), "up")}
        >
          <span aria-hidden="true">↑ </span>
          {t("tasks.moveUp")}
        </button>
        <button
          type="button"
          class="secondary"
          data-move="down"
          data-focus="down"
          aria-label={t("tasks.moveDownLabel", { title })}
          aria-disabled={last || busy ? "true" : undefined}
          onClick={() => !last && go(stepMove(board, card.id, 1), "down")}
        >
          <span aria-hidden="true">↓ </span>
          {t("tasks.moveDown")}
        </button>
      </div>
    </details>
  );
}

/** A new card at the end of a column: its title, then the dialog for the rest. */
function AddCard({ state, column, index }: { state: BoardState; column: ColumnView; index: number }) {
  const t = state.app.t;
  const [title, setTitle] = useState("");
  const id = `tasks-add-${index}`;
  return (
    <form
      class="tasks-add"
      onSubmit={async (event) => {
        event.preventDefault();
        if (title.trim() !== "" && (await state.addCard(column.id, title))) setTitle("");
      }}
    >
      <label for={id}>{t("tasks.addCard", { column: column.name })}</label>
      <div class="tasks-inline">
        <input id={id} required autocomplete="off" value={title} onInput={(event) => setTitle(event.currentTarget.value)} />
        <button type="submit" class="secondary" aria-disabled={state.writing.value ? "true" : undefined}>
          {t("tasks.add")}
        </button>
      </div>
    </form>
  );
}
