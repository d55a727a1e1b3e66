/**
 * The Gantt chart without I/O: the server's schedule (`GET …/tasks/gantt`: dated cards, slack,
 * critical path) as the chart's bars, and a bar dragged to new days as the card's new fields.
 */
import { localDate } from "./dates";
import type { CardInput, GanttCard, GanttView } from "./types";

/** The chart's scales, in the order of their buttons. */
export const SCALES = ["Day", "Week", "Month"] as const;
export type Scale = (typeof SCALES)[number];

/** A bar of `frappe-gantt`: its days (the last one included), arrows from what it depends on, its class. */
export interface ChartBar {
  id: string;
  /** Set as markup by the chart: the card's title escaped (`escapeMarkup`). */
  name: string;
  start: string;
  end: string;
  progress: number;
  /** The IDs of the bars it depends on, separated by commas. */
  dependencies: string;
  /** One class: `tasks-critical` on the critical path, else `tasks-done` in a done column. */
  custom_class?: string;
}

/** Text made safe for `innerHTML`, which is how `frappe-gantt` writes a bar's label. */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The bars of the dated cards, in the server's order (each after those it depends on). */
export function chartBars(view: GanttView): ChartBar[] {
  const ids = new Set(view.cards.map((card) => card.id));
  return view.cards.map((card) => {
    const bar: ChartBar = {
      id: card.id,
      name: escapeMarkup(card.title),
      start: card.start,
      end: card.due,
      progress: card.done ? 100 : 0,
      dependencies: card.depends_on.filter((id) => ids.has(id)).join(", "),
    };
    const custom = card.critical ? "tasks-critical" : card.done ? "tasks-done" : undefined;
    if (custom) bar.custom_class = custom;
    return bar;
  });
}

/** The days of a bar the user dragged: its first day, and its last (the chart's end is the last second of it). */
export function draggedDays(start: Date, end: Date): { start: string; due: string } {
  return { start: localDate(start), due: localDate(end) };
}

/**
 * The card's fields once its bar has moved to `start`..`due`: only the dates change. A card that
 * had no start and still lasts one day keeps none (its bar starts on its due date).
 */
export function rescheduled(input: Required<CardInput>, days: { start: string; due: string }): Required<CardInput> {
  const start = input.start === null && days.start === days.due ? null : days.start;
  return { ...input, start, due: days.due };
}

/** The critical path, by title, in order. */
export function criticalTitles(view: GanttView): string[] {
  const titles = new Map<string, GanttCard>(view.cards.map((card) => [card.id, card]));
  return view.critical_path.map((id) => titles.get(id)?.title ?? id);
}
