/**
 * How a list page lays out a publishing tool's objects. The shared list page
 * (`pages/publication-list.ts`) lays them out as posts, newest first, unless the tool's folder
 * gives a layout of its own (`PublicationExtras.listLayout`: the wiki's page tree, the FAQ's
 * categories); these are the pieces layouts share. Text only, through `h()`.
 */
import type { Publication } from "../api/types";
import type { App } from "../app/context";
import { h } from "../app/dom";
import { person, tagList, time } from "../app/ui";
import type { PublicationToolDef } from "./tools";
import { links } from "./workflow";

/** The list's content for these objects (never none: the page says when there are none). */
export type ListLayout = (app: App, tool: PublicationToolDef, space: string, items: readonly Publication[]) => Node[];

/** A link to an object's page, its title as text. */
export function itemLink(app: App, tool: PublicationToolDef, space: string, item: Publication): HTMLElement {
  return h("a", { href: links.read(tool, space, item.object_id) }, item.title || app.t("common.untitled"));
}

/** The object's tags, each a link to the list of the objects with that tag. */
export function tagLinks(app: App, tool: PublicationToolDef, space: string, tags: string[]): HTMLElement | null {
  const list = tagList(app, tags);
  list?.querySelectorAll("li").forEach((li) => {
    const tag = li.textContent ?? "";
    li.replaceChildren(h("a", { href: links.list(tool, space, { tag }) }, tag));
  });
  return list;
}

/** The objects newest first, with author, date, draft badge and tags (blog posts, guides). */
export const postsLayout: ListLayout = (app, tool, space, items) => {
  const posts = [...items].sort((a, b) => b.updated_at - a.updated_at);
  return [
    h(
      "ol",
      { class: "plain-list posts" },
      posts.map((post) =>
        h(
          "li",
          null,
          h("h2", null, itemLink(app, tool, space, post)),
          h(
            "p",
            { class: "meta" },
            post.status === "draft" ? h("span", { class: "badge draft" }, app.t("publication.draft")) : null,
            post.status === "draft" ? " " : null,
            person(post.author),
            " · ",
            time(app, post.updated_at),
          ),
          tagLinks(app, tool, space, post.tags),
        ),
      ),
    ),
  ];
};
