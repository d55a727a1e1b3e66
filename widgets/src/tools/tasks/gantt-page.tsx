/**
 * `#/c/{space}/tasks/gantt?board=`: the community's dated cards (one board's, or every board's)
 * on a time line, with `frappe-gantt` (loaded after the page, a chunk of its own): a bar per
 * card, arrows from the cards it depends on, the critical path in the error colour, today
 * marked, by day, week or month. Dragging a bar changes the card's start and due dates (the
 * whole card is sent again, read from its board). The chart has no keyboard model, so the same
 * schedule is a table (card, start, due, slack, critical), which is what assistive technologies
 * read; undated cards are listed apart. Dependencies in a circle are the server's 409, shown.
 * While shown, the page follows the community's tasks room: others' changes to the schedule
 * appear without a reload, and are told to screen readers.
 */
import { signal } from "@preact/signals";
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { App, PageContext } from "../../app/context";
import { ErrorBox } from "../../app/error-box";
import { hashFor } from "../../app/router";
import { waitUntil } from "../../publishing/await-index";
import type { LiveEvents } from "../../session/live";
import { listBoards, loadBoard, loadGantt } from "./api";
import { boardCards, cardInputOf } from "./board";
import { formatDate } from "./dates";
import { LiveFollowing, tasksRoomOf } from "./following";
import { chartBars, criticalTitles, draggedDays, rescheduled, SCALES, type Scale } from "./gantt";
import { GanttFollower, liveAnnouncement, type TaskChange } from "./live";
import { BOARD_ROUTE, GANTT_ROUTE } from "./tool";
import type { BoardSummary, GanttView } from "./types";
import { taskWriterFor, type TaskWriter } from "./writer";
import "./tasks.css";

/** The chart's constructor, loaded when the chart is drawn (a fake in tests). */
export type ChartLoader = () => Promise<typeof import("frappe-gantt").default>;

const loadChart: ChartLoader = async () => (await import("./gantt-chart")).default;

export default async function ganttPage(context: PageContext): Promise<void | (() => void)> {
  const { app, main, params, query, signal: abort } = context;
  const space = params.space as string;
  const board = query.get("board") || undefined;
  const [boards, room] = await Promise.all([listBoards(app.api, space, abort), tasksRoomOf(app, space)]);
  if (abort.aborted) return;
  const state = new GanttState(app, space, board, boards, taskWriterFor(app), abort);
  await state.reload();
  if (abort.aborted) return;
  app.setTitle(app.t("tasks.gantt"), boards.find((summary) => summary.id === board)?.name ?? "");
  // Others' changes, from the room (the standalone app's sync, or Element in widget mode).
  const unfollow = room ? state.follow(app.live, room) : () => undefined;
  render(<GanttScreen state={state} loadChart={loadChart} />, main);
  return () => {
    unfollow();
    render(null, main);
  };
}

/** The Gantt page's state: the schedule shown, its scale, and rescheduling a card. */
export class GanttState {
  /** The server's schedule; `null` when it refused one (a circle of dependencies). */
  readonly view = signal<GanttView | null>(null);
  /** Why there is no schedule, or why the last change failed. */
  readonly error = signal<unknown>(null);
  readonly scale = signal<Scale>("Day");
  readonly writing = signal(false);
  readonly warnings = signal<readonly string[]>([]);
  /** Others' changes, while the page follows the tasks room. */
  #following: LiveFollowing<GanttView | null> | null = null;

  constructor(
    readonly app: App,
    readonly space: string,
    /** One board's cards; every board's when absent. */
    readonly board: string | undefined,
    readonly boards: readonly BoardSummary[],
    readonly writer: TaskWriter,
    readonly abort: AbortSignal,
  ) {}

  /** Reads the schedule again; a refusal (409: dependencies in a circle) is shown instead. */
  async reload(): Promise<void> {
    try {
      this.view.value = await loadGantt(this.app.api, this.space, this.board, this.abort);
      this.error.value = null;
    } catch (error) {
      if (this.abort.aborted) return;
      this.view.value = null;
      this.error.value = error;
    }
  }

  /**
   * Follows the tasks room while the page is shown: others' changes to the schedule's cards
   * (and to the boards) are shown once the index has them, and told. Returns the undoing function.
   */
  follow(live: LiveEvents, roomId: string): () => void {
    const following = new LiveFollowing(
      new GanttFollower(this.board, this.view.value, this.boards),
      () => loadGantt(this.app.api, this.space, this.board, this.abort),
      (fresh, changes) => {
        if (this.abort.aborted) return;
        this.view.value = fresh;
        this.error.value = null;
        this.#tell(changes);
      },
      { signal: this.abort },
    );
    this.#following = following;
    const unsubscribe = live.subscribe(roomId, (event) => following.hear(event));
    return () => {
      unsubscribe();
      if (this.#following === following) this.#following = null;
    };
  }

  #tell(changes: readonly TaskChange[], before?: string): void {
    const others = liveAnnouncement(this.app.t, changes);
    const message = [before, others].filter(Boolean).join(" ");
    if (message) this.app.announce(message);
  }

  /**
   * A bar dragged to `days`: the card, read from its board, sent again with those dates; then
   * the schedule re-read until it shows them. A refusal is shown, and the chart redrawn as it was.
   */
  async reschedule(cardId: string, days: { start: string; due: string }): Promise<void> {
    const view = this.view.value;
    const card = view?.cards.find((candidate) => candidate.id === cardId);
    if (!view || !card || this.writing.value) return;
    this.writing.value = true;
    this.error.value = null;
    this.warnings.value = [];
    const following = this.#following;
    following?.writeStarts();
    try {
      const board = await loadBoard(this.app.api, this.space, card.board, this.abort);
      const current = boardCards(board).find((candidate) => candidate.id === cardId);
      if (!current) throw new Error(this.app.t("tasks.problem.noCard"));
      const input = rescheduled(cardInputOf(current), days);
      const written = await this.writer.editCard(this.space, board, cardId, input);
      following?.wrote(written.event_id);
      this.warnings.value = written.warnings;
      const due = input.due as string;
      const start = input.start ?? due;
      const fresh = await waitUntil(
        async () => {
          const answer = await loadGantt(this.app.api, this.space, this.board, this.abort);
          const moved = answer.cards.find((candidate) => candidate.id === cardId);
          return moved?.start === start && moved.due === due ? answer : undefined;
        },
        { signal: this.abort },
      );
      if (this.abort.aborted) return;
      if (fresh) this.view.value = fresh;
      const lang = this.app.i18n.lang;
      // Others' changes heard meanwhile are in this answer too.
      this.#tell(
        fresh ? (following?.showing(fresh) ?? []) : [],
        fresh
          ? this.app.t("tasks.ganttRescheduled", { title: card.title, start: formatDate(start, lang), due: formatDate(due, lang) })
          : this.app.t("edit.pending"),
      );
    } catch (error) {
      if (this.abort.aborted) return;
      this.error.value = error;
      // The chart shows the bar where it was.
      this.view.value = { ...view };
    } finally {
      this.writing.value = false;
      following?.writeEnds();
    }
  }
}

export function GanttScreen({ state, loadChart }: { state: GanttState; loadChart: ChartLoader }) {
  const { app, space } = state;
  const t = app.t;
  const view = state.view.value;
  const error = state.error.value;
  const warnings = state.warnings.value;
  return (
    <>
      <div class="page-header">
        <h1 tabIndex={-1} id="page-title">
          {t("tasks.gantt")}
        </h1>
        <div class="actions">
          <a class="button secondary" href={hashFor(BOARD_ROUTE, { space }, { board: state.board })}>
            {t("tasks.board.back")}
          </a>
        </div>
      </div>
      {state.boards.length > 1 && (
        <div class="field tasks-picker">
          <label for="tasks-gantt-board">{t("tasks.board")}</label>
          <select
            id="tasks-gantt-board"
            value={state.board ?? ""}
            onChange={(event) => app.navigate(hashFor(GANTT_ROUTE, { space }, { board: event.currentTarget.value }))}
          >
            <option value="">{t("tasks.ganttAllBoards")}</option>
            {state.boards.map((summary) => (
              <option key={summary.id} value={summary.id}>
                {summary.archived ? t("tasks.archived", { name: summary.name }) : summary.name}
              </option>
            ))}
          </select>
        </div>
      )}
      <div class="form-status tasks-status" aria-live="polite">
        {error !== null && <ErrorBox app={app} error={error} />}
        {warnings.length > 0 && (
          <div class="tasks-warnings">
            <p>{t("tasks.warningsTitle")}</p>
            <ul>
              {warnings.map((warning) => (
                <li key={warning}>{warning}</li>
              ))}
            </ul>
          </div>
        )}
      </div>
      {view && (
        <>
          {view.cards.length === 0 ? (
            <p>{t("tasks.ganttEmpty")}</p>
          ) : (
            <>
              <ScaleSwitch state={state} />
              <Chart state={state} view={view} loadChart={loadChart} />
              <Schedule state={state} view={view} />
            </>
          )}
          {view.undated.length > 0 && (
            <section aria-labelledby="tasks-undated-title">
              <h2 id="tasks-undated-title">{t("tasks.ganttUndated")}</h2>
              <ul class="plain-list">
                {view.undated.map((card) => (
                  <li key={card.id}>
                    <a href={hashFor(BOARD_ROUTE, { space }, { board: card.board, card: card.id })}>{card.title || t("common.untitled")}</a>
                  </li>
                ))}
              </ul>
            </section>
          )}
        </>
      )}
    </>
  );
}

/** Day, week or month: one pressed button. */
function ScaleSwitch({ state }: { state: GanttState }) {
  const t = state.app.t;
  const labels: Record<Scale, string> = { Day: t("tasks.ganttDay"), Week: t("tasks.ganttWeek"), Month: t("tasks.ganttMonth") };
  return (
    <div class="tasks-scale" role="group" aria-labelledby="tasks-scale-label">
      <span id="tasks-scale-label">{t("tasks.ganttScale")}</span>
      {SCALES.map((scale) => (
        <button
          key={scale}
          type="button"
          class="secondary"
          aria-pressed={state.scale.value === scale ? "true" : "false"}
          onClick={() => (state.scale.value = scale)}
        >
          {labels[scale]}
        </button>
      ))}
    </div>
  );
}

/** The chart, drawn by `frappe-gantt` into its own element (an image to assistive technologies: the table says the same). */
function Chart({ state, view, loadChart }: { state: GanttState; view: GanttView; loadChart: ChartLoader }) {
  const t = state.app.t;
  const host = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);
  const scale = state.scale.value;
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    let gone = false;
    void (async () => {
      try {
        const Gantt = await loadChart();
        if (gone) return;
        element.replaceChildren();
        new Gantt(element, chartBars(view), {
          view_mode: scale,
          language: state.app.i18n.lang,
          readonly_progress: true,
          move_dependencies: false,
          popup: false,
          today_button: false,
          view_mode_select: false,
          // Weekends are painted with inline styles, which the pages' CSP refuses.
          holidays: {},
          scroll_to: "today",
          on_date_change: (task, start, end) => void state.reschedule(task.id, draggedDays(start, end)),
        });
        setFailed(false);
      } catch {
        if (!gone) setFailed(true);
      }
    })();
    return () => {
      gone = true;
      element.replaceChildren();
    };
  }, [view, scale]);
  return (
    <>
      <p class="hint">{failed ? t("tasks.ganttChartFailed") : t("tasks.ganttDragHint")}</p>
      <div ref={host} class="tasks-gantt-chart" role="img" aria-label={t("tasks.ganttChart")} />
    </>
  );
}

/** The schedule as a table: what the chart shows, for every way of reading. */
function Schedule({ state, view }: { state: GanttState; view: GanttView }) {
  const { app, space } = state;
  const t = app.t;
  const lang = app.i18n.lang;
  const critical = criticalTitles(view);
  return (
    <section aria-labelledby="tasks-schedule-title">
      <h2 id="tasks-schedule-title">{t("tasks.ganttTable")}</h2>
      {critical.length > 0 && <p>{t("tasks.ganttCriticalPath", { cards: critical.join(" → ") })}</p>}
      {view.end && <p>{t("tasks.ganttEnd", { date: formatDate(view.end, lang) })}</p>}
      <div class="tasks-table-wrap">
        <table class="tasks-table">
          <thead>
            <tr>
              <th scope="col">{t("tasks.ganttCard")}</th>
              <th scope="col">{t("tasks.ganttStart")}</th>
              <th scope="col">{t("tasks.ganttDue")}</th>
              <th scope="col">{t("tasks.ganttSlack")}</th>
              <th scope="col">{t("tasks.ganttCritical")}</th>
            </tr>
          </thead>
          <tbody>
            {view.cards.map((card) => (
              <tr key={card.id} data-card-id={card.id} data-critical={card.critical ? "true" : undefined}>
                <th scope="row">
                  <a href={hashFor(BOARD_ROUTE, { space }, { board: card.board, card: card.id })}>{card.title || t("common.untitled")}</a>
                  {card.done && (
                    <>
                      {" "}
                      <span class="badge">{t("tasks.ganttDone")}</span>
                    </>
                  )}
                  {card.pushed_by > 0 && <span class="hint"> ({t("tasks.ganttPushed", { days: card.pushed_by })})</span>}
                </th>
                <td>
                  <time dateTime={card.start}>{formatDate(card.start, lang)}</time>
                </td>
                <td>
                  <time dateTime={card.due}>{formatDate(card.due, lang)}</time>
                </td>
                <td class="tasks-number">{card.slack}</td>
                <td>{card.critical ? <strong class="tasks-critical-mark">{t("tasks.ganttYes")}</strong> : t("tasks.ganttNo")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
