/**
 * The part of `frappe-gantt` 1.2.2 (MIT, no types of its own) the Gantt page uses: its README's
 * options and methods, as `src/index.js` reads them, and the internals `gantt-chart.ts` extends.
 */
declare module "frappe-gantt" {
  /** A bar. `name` is written as markup: escape it. */
  export interface FrappeTask {
    id: string;
    name: string;
    /** `YYYY-MM-DD` (or with a time). */
    start: string;
    /** `YYYY-MM-DD`: that whole day included. */
    end: string;
    progress?: number;
    /** IDs separated by commas. */
    dependencies?: string;
    /** One class name (added with `classList.add`: no spaces). */
    custom_class?: string;
  }

  /** What a bar's events carry: the task, with its parsed dates. */
  export interface FrappeTaskState extends FrappeTask {
    _start: Date;
    _end: Date;
  }

  export interface FrappeOptions {
    view_mode?: string;
    language?: string;
    readonly?: boolean;
    readonly_dates?: boolean;
    readonly_progress?: boolean;
    move_dependencies?: boolean;
    /** `false`: no popup; a string: its markup. */
    popup?: false | ((context: unknown) => string | false | undefined);
    today_button?: boolean;
    view_mode_select?: boolean;
    scroll_to?: string;
    holidays?: Record<string, unknown>;
    infinite_padding?: boolean;
    container_height?: "auto" | number;
    /** A bar moved or resized: its new first moment and its new last second. */
    on_date_change?: (task: FrappeTaskState, start: Date, end: Date) => void;
    on_click?: (task: FrappeTaskState) => void;
  }

  export default class Gantt {
    constructor(wrapper: HTMLElement | SVGElement | string, tasks: FrappeTask[], options?: FrappeOptions);
    /** The chart's SVG groups, made anew on each draw (`setup_layers`). */
    protected layers: { grid: SVGGElement; arrow: SVGGElement; progress: SVGGElement; bar: SVGGElement };
    /** Draws holidays, ignored days and today over the grid, on each draw (`src/index.js`). */
    protected make_grid_highlights(): void;
    change_view_mode(mode?: string, maintainPosition?: boolean): void;
    refresh(tasks: FrappeTask[]): void;
    scroll_current(): void;
    clear(): void;
  }
}
