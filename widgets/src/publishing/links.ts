/**
 * The server renders wiki links as `#/wiki/{id}` (it does not know the app's routes); the app
 * shows them as `#/c/{space}/wiki/{id}`.
 */
import { encodeSegment } from "../app/router";

/** The app's link for a server-rendered `href`, or `null` to leave it as it is. */
export function rewriteWikiHref(href: string, space: string): string | null {
  const match = /^#\/wiki\/([^/?#]+)$/.exec(href);
  if (!match) return null;
  return `#/c/${encodeSegment(space)}/wiki/${match[1]}`;
}

/**
 * Adjusts links inside server-rendered HTML, once it is in the document: wiki links to the
 * app's routes, links to other sites in a new tab (a widget's frame is small, and leaving it
 * would leave the widget).
 */
export function adjustRenderedLinks(container: ParentNode, space: string): void {
  for (const anchor of Array.from(container.querySelectorAll<HTMLAnchorElement>("a[href]"))) {
    const href = anchor.getAttribute("href") ?? "";
    const rewritten = rewriteWikiHref(href, space);
    if (rewritten !== null) {
      anchor.setAttribute("href", rewritten);
    } else if (/^https?:\/\//i.test(href)) {
      anchor.setAttribute("target", "_blank");
      anchor.setAttribute("rel", "noopener noreferrer");
    }
  }
}
