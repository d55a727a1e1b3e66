/**
 * Redrawing part of a page that changed under the user (an edit by someone else arrived), as
 * if it had changed in place: the window keeps its scroll position, and the focus, when it was
 * inside, goes to the same control in the new content.
 */

/** How to find the focused element again in the new content. */
interface FocusMark {
  id: string;
  /** What the control is: its tag, action, link, label and text. */
  signature: string;
  /** Element children indexes from the container down. */
  path: number[];
}

const signatureOf = (element: Element) =>
  [element.tagName, element.getAttribute("data-action"), element.getAttribute("href"), element.getAttribute("aria-label"), element.textContent]
    .map((part) => part ?? "")
    .join("\u0000");

function markOf(container: Element, element: Element): FocusMark {
  const path: number[] = [];
  for (let node: Element = element; node !== container && node.parentElement; node = node.parentElement) {
    path.unshift(Array.prototype.indexOf.call(node.parentElement.children, node));
  }
  return { id: element.id, signature: signatureOf(element), path };
}

/** The element with the same ID; else the same control at the same place; else the first same control. */
function find(container: Element, mark: FocusMark): HTMLElement | null {
  if (mark.id) {
    const byId = container.ownerDocument.getElementById(mark.id);
    if (byId && container.contains(byId)) return byId;
  }
  let node: Element | undefined = container;
  for (const index of mark.path) node = node?.children[index];
  if (node && node !== container && node instanceof HTMLElement && signatureOf(node) === mark.signature) return node;
  const focusable = container.querySelectorAll<HTMLElement>("a[href], button, input, select, textarea, summary, [tabindex]");
  return Array.from(focusable).find((candidate) => signatureOf(candidate) === mark.signature) ?? null;
}

/**
 * Replaces `container`'s children with `children`, keeping the scroll position; focus that was
 * inside moves to the same element of the new content, else to `fallback()` (the heading).
 */
export function redrawInPlace(container: HTMLElement, children: readonly Node[], fallback: () => HTMLElement | null): void {
  const active = container.ownerDocument.activeElement;
  const mark = active && active !== container && container.contains(active) ? markOf(container, active) : null;
  const { scrollX, scrollY } = window;
  container.replaceChildren(...children);
  if (mark) (find(container, mark) ?? fallback())?.focus({ preventScroll: true });
  window.scrollTo(scrollX, scrollY);
}
