/**
 * A few lines of DOM building, instead of a framework: `h("a", { href }, "text")`.
 *
 * Text children become text nodes, so nothing given here is ever parsed as HTML. The only
 * places that set `innerHTML` are `setTrustedHtml` callers, for fields the server sanitized.
 */

/** What `h` accepts as a child. `null`, `undefined` and `false` are skipped. */
export type Child = Node | string | number | null | undefined | false;

/** Attributes and properties of an element built by `h`. */
export type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** Builds an element. `on…` keys add event listeners; boolean `true` sets an empty attribute. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "value" && "value" in element) {
      (element as HTMLInputElement).value = String(value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

/** Appends children (nested arrays allowed) to a node. */
export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/**
 * Sets HTML the Parvis server produced and sanitized (`html` of a publication, `snippet` of a
 * search hit, `html` of a preview). Never call it with anything else.
 */
export function setTrustedHtml(element: Element, sanitizedByServer: string): void {
  element.innerHTML = sanitizedByServer;
}

let idCounter = 0;

/** A document-unique id, for `label for=` and `aria-describedby`. */
export function uniqueId(prefix: string): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}
