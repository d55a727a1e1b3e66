// @vitest-environment happy-dom
/**
 * The Gantt page in a DOM, the chart library mostly replaced by a recorder (it draws SVG a DOM
 * without layout cannot measure): the schedule's table with its critical cards, the undated
 * cards, the bars and scale handed to the chart, a dragged bar sent as the card's new dates, a
 * circle of dependencies shown as the server words it. Then the library itself, as the page
 * loads it, under what the pages' Content-Security-Policy refuses.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { FrappeOptions, FrappeTask } from "frappe-gantt";
import { GanttScreen, GanttState, type ChartLoader } from "./gantt-page";
import { render } from "preact";
import { listBoards } from "./api";
import { settle, TestParvis, testApp, type TasksData } from "./test-parvis";
import type { GanttView } from "./types";
import { ApiTaskWriter } from "./writer";

/** Plan (critical) → Build (critical); Paint has 3 days of slack; Buy has no due date. */
function schedule(cards: TasksData["cards"]): GanttView {
  const dated = cards.filter((card) => card.due);
  const critical = new Set(["c1", "c2"]);
  return {
    cards: dated.map((card) => ({
      id: card.id,
      title: card.title,
      board: card.board,
      column: card.column,
      done: card.column === "done",
      start: card.start ?? (card.due as string),
      due: card.due as string,
      depends_on: card.depends_on ?? [],
      earliest_start: card.start ?? (card.due as string),
      earliest_finish: card.due as string,
      latest_start: card.start ?? (card.due as string),
      latest_finish: card.due as string,
      slack: critical.has(card.id) ? 0 : 3,
      pushed_by: card.id === "c2" ? 1 : 0,
      critical: critical.has(card.id),
    })),
    critical_path: ["c1", "c2"],
    end: "2026-12-20",
    undated: cards.filter((card) => !card.due).map((card) => ({ id: card.id, title: card.title, board: card.board })),
  };
}

function data(): TasksData {
  return {
    boards: [{ id: "b1", name: "Chantier", columns: [{ id: "todo", name: "To do" }, { id: "done", name: "Done", done: true }] }],
    cards: [
      { id: "c1", title: "Plan", board: "b1", column: "done", position: "a0", start: "2026-12-14", due: "2026-12-15" },
      { id: "c2", title: "Build", board: "b1", column: "todo", position: "a0", start: "2026-12-16", due: "2026-12-20", depends_on: ["c1"], labels: ["gros œuvre"] },
      { id: "c3", title: "Paint <b>walls</b>", board: "b1", column: "todo", position: "a1", due: "2026-12-17" },
      { id: "c4", title: "Buy paint", board: "b1", column: "todo", position: "a2" },
    ],
    gantt: schedule,
  };
}

/** A chart that records what it was given. */
function recorder() {
  const charts: { bars: FrappeTask[]; options: FrappeOptions }[] = [];
  const load: ChartLoader = async () =>
    class {
      constructor(_element: HTMLElement, bars: FrappeTask[], options: FrappeOptions) {
        charts.push({ bars, options });
      }
    } as never;
  return { charts, load };
}

async function open(over: Partial<TasksData> = {}, load?: ChartLoader) {
  const parvis = new TestParvis({ ...data(), ...over });
  const harness = testApp(parvis);
  const chart = recorder();
  const state = new GanttState(
    harness.app,
    "!s:hs",
    undefined,
    await listBoards(harness.app.api, "!s:hs"),
    new ApiTaskWriter(harness.app.api),
    harness.controller.signal,
  );
  await state.reload();
  render(<GanttScreen state={state} loadChart={load ?? chart.load} />, harness.main);
  await settle();
  return { parvis, state, charts: chart.charts, ...harness };
}

const text = (element: Element | null | undefined) => element?.textContent?.replace(/\s+/g, " ").trim();
const rows = (main: HTMLElement) =>
  Array.from(main.querySelectorAll("table.tasks-table tbody tr")).map((row) => Array.from(row.children).map((cell) => text(cell)));

afterEach(() => document.body.replaceChildren());

describe("the Gantt page", () => {
  it("lists the schedule in a table, the critical cards marked, and the undated cards apart", async () => {
    const { main } = await open();
    expect(text(main.querySelector("h1"))).toBe("Gantt chart");
    expect(Array.from(main.querySelectorAll("table.tasks-table thead th")).map(text)).toEqual(["Card", "Start", "Due", "Slack (days)", "Critical"]);
    expect(rows(main)).toEqual([
      ["Plan done", "14 Dec 2026", "15 Dec 2026", "0", "Yes"],
      ["Build (pushed 1 day(s) by its dependencies)", "16 Dec 2026", "20 Dec 2026", "0", "Yes"],
      ["Paint <b>walls</b>", "17 Dec 2026", "17 Dec 2026", "3", "No"],
    ]);
    const critical = Array.from(main.querySelectorAll<HTMLElement>("table.tasks-table tbody tr")).map((row) => row.dataset.critical ?? "");
    expect(critical).toEqual(["true", "true", ""]);
    expect(main.querySelector("tbody tr strong.tasks-critical-mark")).not.toBeNull();
    expect(main.querySelector("tbody b")).toBeNull();
    expect(main.querySelector('tbody tr a')?.getAttribute("href")).toBe("#/c/!s:hs/tasks?board=b1&card=c1");
    expect(text(main.querySelector("#tasks-schedule-title ~ p"))).toBe("Critical path: Plan → Build.");
    expect(Array.from(main.querySelectorAll("#tasks-undated-title + ul a")).map(text)).toEqual(["Buy paint"]);
  });

  it("hands the chart its bars, arrows and critical class, escaped, and redraws it by week or month", async () => {
    const { main, charts } = await open();
    await vi.waitFor(() => expect(charts).toHaveLength(1));
    expect(charts[0]?.bars.map((bar) => [bar.id, bar.name, bar.start, bar.end, bar.dependencies, bar.custom_class])).toEqual([
      ["c1", "Plan", "2026-12-14", "2026-12-15", "", "tasks-critical"],
      ["c2", "Build", "2026-12-16", "2026-12-20", "c1", "tasks-critical"],
      ["c3", "Paint &#60;b&#62;walls&#60;/b&#62;", "2026-12-17", "2026-12-17", "", undefined],
    ]);
    expect(charts[0]?.options).toMatchObject({ view_mode: "Day", popup: false, move_dependencies: false, readonly_progress: true });
    const chart = main.querySelector(".tasks-gantt-chart");
    expect(chart?.getAttribute("role")).toBe("img");
    const scales = Array.from(main.querySelectorAll<HTMLButtonElement>(".tasks-scale button"));
    expect(scales.map((button) => [text(button), button.getAttribute("aria-pressed")])).toEqual([
      ["Day", "true"],
      ["Week", "false"],
      ["Month", "false"],
    ]);
    scales[1]?.click();
    await vi.waitFor(() => expect(charts).toHaveLength(2));
    expect(charts[1]?.options.view_mode).toBe("Week");
    expect(scales[1]?.getAttribute("aria-pressed")).toBe("true");
  });

  it("sends a dragged bar's days as the card's dates, with its other fields as they are", async () => {
    const { charts, parvis, announced, main } = await open();
    await vi.waitFor(() => expect(charts).toHaveLength(1));
    const build = charts[0]?.bars.find((bar) => bar.id === "c2");
    charts[0]?.options.on_date_change?.({ ...build!, _start: new Date(), _end: new Date() }, new Date(2026, 11, 17), new Date(2026, 11, 21, 23, 59, 59));
    await vi.waitFor(() => expect(announced).toEqual(["“Build” now runs from 17 Dec 2026 to 21 Dec 2026."]));
    const put = parvis.calls.find((call) => call.method === "PUT");
    expect(put).toEqual({
      method: "PUT",
      url: "/api/v1/communities/!s%3Ahs/tasks/cards/c2",
      body: {
        title: "Build",
        description: "",
        column: "todo",
        assignees: [],
        labels: ["gros œuvre"],
        start: "2026-12-17",
        due: "2026-12-21",
        checklist: [],
        depends_on: ["c1"],
        archived: false,
      },
    });
    await vi.waitFor(() => expect(rows(main)[1]?.slice(1, 3)).toEqual(["17 Dec 2026", "21 Dec 2026"]));
  });

  it("shows the server's refusal of a drag, and draws the bar back", async () => {
    const { charts, parvis, main } = await open();
    await vi.waitFor(() => expect(charts).toHaveLength(1));
    parvis.failNext = { status: 400, errcode: "ORG.PARVIS_ARCHIVED_BOARD", error: "the board “Chantier” is archived" };
    const bar = charts[0]!.bars[2]!;
    charts[0]?.options.on_date_change?.({ ...bar, _start: new Date(), _end: new Date() }, new Date(2026, 11, 18), new Date(2026, 11, 18, 23, 59, 59));
    await vi.waitFor(() => expect(text(main.querySelector('[role="alert"]'))).toBe("the board “Chantier” is archived"));
    await vi.waitFor(() => expect(charts).toHaveLength(2));
    expect(charts[1]?.bars[2]?.start).toBe("2026-12-17");
  });

  it("says why there is no schedule when the cards depend on each other in a circle", async () => {
    const { main, charts } = await open({
      gantt: { status: 409, errcode: "ORG.PARVIS_DEPENDENCY_CYCLE", error: "these cards depend on each other in a circle: Plan, Build" },
    });
    expect(text(main.querySelector('[role="alert"]'))).toBe("these cards depend on each other in a circle: Plan, Build");
    expect(main.querySelector("table")).toBeNull();
    expect(charts).toHaveLength(0);
  });

  it("keeps the table when the chart cannot be drawn", async () => {
    const { main } = await open({}, async () => {
      throw new Error("no SVG here");
    });
    await vi.waitFor(() => expect(text(main.querySelector(".tasks-gantt-chart")?.previousElementSibling)).toBe(
      "The chart could not be drawn; the table below holds the same.",
    ));
    expect(rows(main)).toHaveLength(3);
  });

  it("says when no card has a date yet", async () => {
    const { main } = await open({ cards: [{ id: "c4", title: "Buy paint", board: "b1", column: "todo", position: "a0" }] });
    expect(text(main.querySelector("h1 ~ p, .page-header ~ p"))).toBe("No card has a due date yet: give cards dates on the board to see them here.");
    expect(main.querySelector("table")).toBeNull();
  });
});

/**
 * What the pages' `style-src 'self'` (`appservice/src/web.rs`) refuses, as Chromium does: a style
 * attribute parsed from markup (`innerHTML`, `outerHTML`, `insertAdjacentHTML`) or set with
 * `setAttribute`. Styles set through the CSSOM (`element.style.left`, `style.setProperty`) are
 * allowed; happy-dom writes those as the attribute from inside the CSSOM, which is let through.
 */
function refusedInlineStyles() {
  const refused: string[] = [];
  const restores: (() => void)[] = [];
  let inCssom = 0;
  const wrap = (target: object, name: string, make: (original: PropertyDescriptor) => PropertyDescriptor) => {
    const original = Object.getOwnPropertyDescriptor(target, name);
    if (!original) throw new Error(`no ${name} to watch`);
    Object.defineProperty(target, name, { ...make(original), configurable: true });
    restores.push(() => Object.defineProperty(target, name, original));
  };
  const cssom = (original: PropertyDescriptor): PropertyDescriptor =>
    original.set
      ? {
          ...original,
          set(this: unknown, value: unknown) {
            inCssom += 1;
            try {
              original.set?.call(this, value);
            } finally {
              inCssom -= 1;
            }
          },
        }
      : {
          ...original,
          value(this: unknown, ...args: unknown[]) {
            inCssom += 1;
            try {
              return (original.value as (...args: unknown[]) => unknown).apply(this, args);
            } finally {
              inCssom -= 1;
            }
          },
        };
  for (const name of ["setProperty", "removeProperty", "cssText"]) wrap(CSSStyleDeclaration.prototype, name, cssom);
  wrap(Element.prototype, "setAttribute", (original) => ({
    ...original,
    value(this: Element, name: string, value: string) {
      if (name.toLowerCase() === "style" && inCssom === 0) refused.push(`setAttribute on <${this.localName}>: ${value}`);
      return (original.value as (name: string, value: string) => void).call(this, name, value);
    },
  }));
  const parsed = (how: string, element: Element, markup: string) => {
    const styled = /<[^>]*\sstyle\s*=[^>]*>/i.exec(markup);
    if (styled) refused.push(`${how} of <${element.localName}>: ${styled[0].replace(/\s+/g, " ")}`);
  };
  for (const name of ["innerHTML", "outerHTML"]) {
    wrap(Element.prototype, name, (original) => ({
      ...original,
      set(this: Element, markup: string) {
        parsed(name, this, markup);
        original.set?.call(this, markup);
      },
    }));
  }
  wrap(Element.prototype, "insertAdjacentHTML", (original) => ({
    ...original,
    value(this: Element, position: InsertPosition, markup: string) {
      parsed("insertAdjacentHTML", this, markup);
      return (original.value as (position: InsertPosition, markup: string) => void).call(this, position, markup);
    },
  }));
  return { refused, restore: () => restores.reverse().forEach((restore) => restore()) };
}

describe("the chart, drawn by frappe-gantt as the page loads it", () => {
  const library: ChartLoader = async () => (await import("./gantt-chart")).default;

  it("sets no inline style the pages' CSP refuses, by day, week or month", async () => {
    const csp = refusedInlineStyles();
    try {
      const { main } = await open({}, library);
      const chart = () => main.querySelector(".tasks-gantt-chart");
      await vi.waitFor(() => expect(chart()?.querySelectorAll(".bar-wrapper")).toHaveLength(3));
      for (const scale of ["Week", "Month", "Day"]) {
        const drawn = chart()?.querySelector("svg");
        Array.from(main.querySelectorAll<HTMLButtonElement>(".tasks-scale button")).find((button) => text(button) === scale)?.click();
        await vi.waitFor(() => expect(chart()?.querySelector("svg")).not.toBe(drawn));
        await vi.waitFor(() => expect(chart()?.querySelectorAll(".bar-wrapper")).toHaveLength(3));
      }
      expect(csp.refused).toEqual([]);
      // What the library styled in its markup is styled through the CSSOM instead.
      const hatch = chart()?.querySelector<SVGElement>("pattern#diagonalHatch path");
      expect(hatch?.style.getPropertyValue("stroke")).toBe("grey");
      expect(hatch?.style.getPropertyValue("stroke-width")).toBe("0.3");
      // Each bar over its days, the due day included: "Build", 16 to 20 Dec, by day.
      const container = chart()?.querySelector<HTMLElement>(".gantt-container");
      const column = parseFloat(container?.style.getPropertyValue("--gv-column-width") ?? "");
      const dayAt = (day: string) => parseFloat(chart()?.querySelector<HTMLElement>(`.lower-text.date_${day}`)?.style.left ?? "");
      const build = chart()?.querySelector('.bar-wrapper[data-id="c2"] rect.bar');
      expect(column).toBe(45);
      expect(Number(build?.getAttribute("x"))).toBe(dayAt("2026-12-16"));
      expect(Number(build?.getAttribute("x")) + Number(build?.getAttribute("width"))).toBe(dayAt("2026-12-20") + column);
    } finally {
      csp.restore();
    }
  });
});
