/**
 * The chart's library and its stylesheet, a chunk of their own that the Gantt page loads once
 * its table is shown (`frappe-gantt` 1.2.2, MIT), drawn within the pages' Content-Security-Policy.
 *
 * The CSP (`style-src 'self'`, `appservice/src/web.rs`) refuses a style attribute in parsed
 * markup or set with `setAttribute`, not a style set through the CSSOM (`element.style`), which
 * is how the library places its header, today's mark and its container. In 1.2.2 it writes
 * inline styles in three places only:
 * - on every draw, `make_grid_highlights` adds the hatch pattern of ignored days to the grid
 *   with `innerHTML +=`, its path styled by a `style` attribute: added here without it, its
 *   styles set through the CSSOM;
 * - the rects of ignored days (the `ignore` option) and of holidays (`holidays`, weekends by
 *   default) get theirs with `setAttribute`: the page sets neither (`holidays: {}`), so none
 *   is drawn.
 */
import FrappeGantt from "frappe-gantt";
import "./gantt-chart.css";

/** frappe-gantt, whose markup the CSP lets through. */
export default class Gantt extends FrappeGantt {
  protected override make_grid_highlights(): void {
    const grid = this.layers.grid;
    // The library's `grid.innerHTML += markup` reads the grid's markup as nothing, so that what it
    // writes is the markup it adds, added to the grid's nodes (which stay, not parsed again).
    Object.defineProperty(grid, "innerHTML", {
      configurable: true,
      get: () => "",
      set: (markup: string) => appendMarkup(grid, markup),
    });
    try {
      super.make_grid_highlights();
    } finally {
      Reflect.deleteProperty(grid, "innerHTML");
    }
  }
}

/** Marks an element whose style attribute was taken out of the markup: the index of its styles. */
const STYLED = "data-parvis-style";

/**
 * Adds `markup` at the end of `parent` as the CSP lets it: its style attributes taken out before
 * it is parsed, their declarations then set through the CSSOM.
 */
export function appendMarkup(parent: Element, markup: string): void {
  const styles: string[] = [];
  const unstyled = markup.replace(/\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)')/gi, (_attribute, double?: string, single?: string) => {
    styles.push(double ?? single ?? "");
    return ` ${STYLED}="${styles.length - 1}"`;
  });
  parent.insertAdjacentHTML("beforeend", unstyled);
  for (const element of parent.querySelectorAll<HTMLElement | SVGElement>(`[${STYLED}]`)) {
    const declarations = styles[Number(element.getAttribute(STYLED))] ?? "";
    element.removeAttribute(STYLED);
    for (const declaration of declarations.split(";")) {
      const colon = declaration.indexOf(":");
      if (colon > 0) element.style.setProperty(declaration.slice(0, colon).trim(), declaration.slice(colon + 1).trim());
    }
  }
}
