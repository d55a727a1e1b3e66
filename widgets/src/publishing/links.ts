/**
 * The server renders `[[links]]` as `#/{tool}/{id}`, to the objects of a tool whose def says
 * they lead there (`PublicationToolDef.linkTarget`), because it does not know the app's routes;
 * the app shows them as `#/c/{space}/{tool}/{id}`.
 */
import { encodeSegment } from "../app/router";
import { linkTargetTools } from "./lookup";

/**
 * The app's link for a server-rendered `href`, or `null` to leave it as it is; `targets`, the
 * names of the tools links lead to (`linkTarget`), are the discovered tools' unless given.
 */
export function rewriteRenderedHref(
  href: string,
  space: string,
  targets: readonly string[] = linkTargetTools().map((tool) => tool.tool),
): string | null {
  const match = /^#\/([^/?#]+)\/([^/?#]+)$/.exec(href);
  if (!match || !targets.includes(match[1] as string)) return null;
  return `#/c/${encodeSegment(space)}/${match[1]}/${match[2]}`;
}

/**
 * Adjusts links inside server-rendered HTML, once it is in the document: `[[links]]` to the
 * app's routes, links to other sites in a new tab (a widget's frame is small, and leaving it
 * would leave the widget).
 */
export function adjustRenderedLinks(container: ParentNode, space: string): void {
  const targets = linkTargetTools().map((tool) => tool.tool);
  for (const anchor of Array.from(container.querySelectorAll<HTMLAnchorElement>("a[href]"))) {
    const href = anchor.getAttribute("href") ?? "";
    const rewritten = rewriteRenderedHref(href, space, targets);
    if (rewritten !== null) {
      anchor.setAttribute("href", rewritten);
    } else if (/^https?:\/\//i.test(href)) {
      anchor.setAttribute("target", "_blank");
      anchor.setAttribute("rel", "noopener noreferrer");
    }
  }
}
